//! Ways to pay: the merchant's choice on the integration (card always among them, wallets on
//! or off), what each checkout offers by core's rules (euro-only methods, their amount limits,
//! card only for a later capture), and the pay request refusing, before any PaymentIntent, a
//! PaymentMethod of a type the checkout does not offer, a wallet where wallets are off, a
//! brand the merchant does not take in a wallet too, and saving a method that cannot be
//! charged again. Then the methods' own ways: iDEAL goes to the bank with a return URL of the
//! merchant's (or is refused without one), fails or succeeds there, and the refresh after the
//! return tells which; a SEPA Debit waits in `processing` until Stripe's webhook settles it.
//! And the web domains the wallets need, registered at activation, at each verification and
//! when the allowed origins change.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{both_backends, TestApp};

both_backends!(
    the_merchant_chooses_the_ways_to_pay,
    each_checkout_offers_what_its_payment_allows,
    pay_refuses_a_way_not_offered,
    ideal_goes_to_the_bank_and_back,
    sepa_debit_waits_for_the_webhook,
    wallet_domains_are_registered_and_checked_again,
    a_key_that_may_not_register_domains_still_activates,
);

fn integration(merchant: &str) -> String {
    format!("/v1/admin/merchants/{merchant}/integration")
}

/// The merchant offers these ways to pay.
pub(crate) async fn choose(app: &TestApp, merchant: &str, methods: Value) {
    app.put(&integration(merchant), json!({"payment_methods": methods}))
        .await
        .expect(200);
}

async fn view(app: &TestApp, token: &str) -> Value {
    app.get(&format!("/v1/checkouts/{token}"))
        .await
        .expect(200)
        .json
}

async fn the_merchant_chooses_the_ways_to_pay(app: TestApp) {
    let m = app.pay_merchant(None).await;
    let shown = app.get(&integration(&m.id)).await.expect(200);
    assert_eq!(shown.json["payment_methods"], json!(["card"]));
    assert_eq!(shown.json["wallets"], true);

    app.put(&integration(&m.id), json!({"payment_methods": ["ideal"]}))
        .await
        .expect_error(400, "invalid_request", Some("payment_methods"));
    app.put(
        &integration(&m.id),
        json!({"payment_methods": ["card", "paypal"]}),
    )
    .await
    .expect_error(400, "invalid_request", Some("payment_methods[1]"));
    // Nothing of a refused request was saved.
    let shown = app.get(&integration(&m.id)).await.expect(200);
    assert_eq!(shown.json["payment_methods"], json!(["card"]));

    let saved = app
        .put(
            &integration(&m.id),
            json!({"payment_methods": ["sepa_debit", "card", "ideal", "card"], "wallets": false}),
        )
        .await
        .expect(200);
    assert_eq!(
        saved.json["payment_methods"],
        json!(["card", "ideal", "sepa_debit"])
    );
    assert_eq!(saved.json["wallets"], false);
    // Changing the ways to pay leaves the integration active.
    assert_eq!(saved.json["payments_available"], true);
    // Another edit that leaves them out keeps them.
    let renamed = app
        .put(&integration(&m.id), json!({"name": "Stripe NL"}))
        .await
        .expect(200);
    assert_eq!(
        renamed.json["payment_methods"],
        json!(["card", "ideal", "sepa_debit"])
    );
    assert_eq!(renamed.json["wallets"], false);
}

async fn each_checkout_offers_what_its_payment_allows(app: TestApp) {
    let m = app.pay_merchant(None).await;
    let token = app
        .checkout(
            &m.id,
            json!({"amount": 2500, "currency": "eur", "description": "Haircut"}),
        )
        .await;
    // The default: card, with wallets.
    let v = view(&app, &token).await;
    assert_eq!(v["payment_methods"], json!(["card"]));
    assert_eq!(v["wallets"], true);

    choose(
        &app,
        &m.id,
        json!(["card", "ideal", "bancontact", "sepa_debit"]),
    )
    .await;
    for (body, offered) in [
        (
            json!({"amount": 2500, "currency": "eur", "description": "Haircut"}),
            json!(["card", "ideal", "bancontact", "sepa_debit"]),
        ),
        (
            json!({"amount": 2500, "currency": "gbp", "description": "Haircut"}),
            json!(["card"]),
        ),
        (
            json!({"amount": 2500, "currency": "eur", "description": "Deposit", "capture": true}),
            json!(["card"]),
        ),
        // Above SEPA Debit's €10,000 per debit.
        (
            json!({"amount": 1_200_000, "currency": "eur", "description": "Bridal package"}),
            json!(["card", "ideal", "bancontact"]),
        ),
    ] {
        let token = app.checkout(&m.id, body.clone()).await;
        assert_eq!(
            view(&app, &token).await["payment_methods"],
            offered,
            "{body}"
        );
    }
    // The first checkout follows the merchant's choice as it is now.
    assert_eq!(
        view(&app, &token).await["payment_methods"],
        json!(["card", "ideal", "bancontact", "sepa_debit"])
    );
}

/// A PaymentMethod from a wallet on the sandbox account.
async fn wallet_card(app: &TestApp, wallet: &str, number: &str) -> String {
    let v: Value = app
        .client
        .post(format!(
            "{}/_sandbox/accounts/{}/wallet_payment_methods",
            app.sandbox.url, app.sandbox.account_id
        ))
        .json(&json!({"wallet": wallet, "number": number}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["id"].as_str().unwrap_or_else(|| panic!("{v}")).to_owned()
}

/// An iDEAL PaymentMethod, made with the publishable key as Stripe.js does.
pub(crate) async fn ideal(app: &TestApp) -> String {
    let v = app
        .stripe_post(
            &app.sandbox.publishable_key,
            "/v1/payment_methods",
            &[("type", "ideal"), ("ideal[bank]", "rabobank")],
        )
        .await;
    v["id"].as_str().unwrap_or_else(|| panic!("{v}")).to_owned()
}

async fn pay_refuses_a_way_not_offered(app: TestApp) {
    let m = app.pay_merchant(Some(&["visa", "mastercard"])).await;
    let eur = json!({"amount": 2500, "currency": "eur", "description": "Haircut"});
    let token = app.checkout(&m.id, eur.clone()).await;
    let not_offered = |r: crate::helpers::Resp| {
        r.expect_error(402, "payment_method_not_offered", Some("payment_method"))
    };

    // Card only: an iDEAL PaymentMethod is refused, naming what is offered.
    let r = not_offered(app.pay(&token, &ideal(&app).await, "k1").await);
    let message = r.json["error"]["message"].as_str().unwrap().to_owned();
    assert!(
        message.contains("iDEAL") && message.contains("Card"),
        "{message}"
    );

    // Wallets off: an Apple Pay card is refused; on, it pays, and a brand the merchant does not
    // take is refused from a wallet too.
    app.put(&integration(&m.id), json!({"wallets": false}))
        .await
        .expect(200);
    not_offered(
        app.pay(
            &token,
            &wallet_card(&app, "apple_pay", "4242424242424242").await,
            "k2",
        )
        .await,
    );
    app.put(&integration(&m.id), json!({"wallets": true}))
        .await
        .expect(200);
    app.pay(
        &token,
        &wallet_card(&app, "google_pay", "378282246310005").await,
        "k3",
    )
    .await
    .expect_error(402, "card_brand_not_accepted", Some("payment_method"));
    assert_eq!(app.sandbox.counter("payment_intents_created"), 0);
    assert_eq!(app.stored(&token).await.status.as_str(), "open");

    // iDEAL chosen: still refused for a payment in pounds.
    choose(&app, &m.id, json!(["card", "ideal"])).await;
    let gbp = app
        .checkout(
            &m.id,
            json!({"amount": 2500, "currency": "gbp", "description": "Haircut"}),
        )
        .await;
    not_offered(app.pay(&gbp, &ideal(&app).await, "k4").await);

    // Saving iDEAL for a cancellation fee is refused: it cannot be charged again.
    let svc = app
        .service(
            &m.id,
            json!({"name": "Balayage", "price": "120.00", "currency": "eur",
                   "prepayment": {"type": "full"}, "cancellation_fee": "30.00"}),
        )
        .await;
    let created = app
        .request(
            Method::POST,
            &format!("/v1/merchants/{}/checkouts", m.id),
            Some(json!({"service_id": svc})),
            &[("origin", "https://salon.example")],
        )
        .await
        .expect(201);
    let fee_token = created.json["token"].as_str().unwrap().to_owned();
    app.pay_at(None, &fee_token, &ideal(&app).await, "k5", true)
        .await
        .expect_error(402, "payment_method_not_offered", Some("save_card"));
    assert_eq!(app.sandbox.counter("payment_intents_created"), 0);

    // A PaymentMethod made with another Stripe account's key (another merchant's page, or a
    // forged request): Stripe does not know it on this account; refused, no PaymentIntent.
    let other = app
        .sandbox
        .create_account(stripe_sandbox::AccountParams {
            country: Some("NL".into()),
            default_currency: Some("eur".into()),
            business_name: None,
        })
        .unwrap();
    let foreign = app
        .stripe_post(
            &other.publishable_key,
            "/v1/payment_methods",
            &[("type", "ideal"), ("ideal[bank]", "ing")],
        )
        .await;
    let foreign = foreign["id"].as_str().unwrap();
    app.pay(&token, foreign, "k7").await.expect_error(
        400,
        "invalid_payment_method",
        Some("payment_method"),
    );
    assert_eq!(app.sandbox.counter("payment_intents_created"), 0);

    // A wallet card the merchant takes pays, with the checkout's ways to pay on its intent.
    let paid = app
        .pay(
            &token,
            &wallet_card(&app, "apple_pay", "4242424242424242").await,
            "k6",
        )
        .await
        .expect(200);
    assert_eq!(paid.json["status"], "succeeded", "{}", paid.text);
    assert_eq!(paid.json["receipt"]["last4"], "4242");
    assert_eq!(
        admin_view(&app, &token).await["payment_method_type"],
        "card"
    );
    let pi = app.stored(&token).await.payment_intent_id.unwrap();
    let intent = app
        .stripe_get(
            &app.sandbox.secret_key,
            &format!("/v1/payment_intents/{pi}"),
        )
        .await;
    assert_eq!(intent["payment_method_types"], json!(["card", "ideal"]));
}

/// `POST .../pay` with a return URL (or none).
async fn pay_returning(
    app: &TestApp,
    token: &str,
    payment_method: &str,
    key: &str,
    return_url: Option<&str>,
) -> crate::helpers::Resp {
    pay_as(
        app,
        token,
        payment_method,
        key,
        "lea@example.com",
        return_url,
    )
    .await
}

/// `POST .../pay` as the client `email`, with the page to come back to from a bank.
pub(crate) async fn pay_as(
    app: &TestApp,
    token: &str,
    payment_method: &str,
    key: &str,
    email: &str,
    return_url: Option<&str>,
) -> crate::helpers::Resp {
    let mut body = json!({"payment_method": payment_method, "email": email});
    if let Some(url) = return_url {
        body["return_url"] = json!(url);
    }
    app.request(
        Method::POST,
        &format!("/v1/checkouts/{token}/pay"),
        Some(body),
        &[
            ("idempotency-key", key),
            ("user-agent", "Mozilla/5.0 (test)"),
        ],
    )
    .await
}

/// The client's answer at the sandbox's bank: where the bank sends them back.
pub(crate) async fn at_the_bank(app: &TestApp, token: &str, authorize: bool) -> String {
    let r = app.stored(token).await;
    let pi = r.payment_intent_id.unwrap();
    let intent = app
        .stripe_get(
            &app.sandbox.secret_key,
            &format!("/v1/payment_intents/{pi}"),
        )
        .await;
    let secret = intent["client_secret"].as_str().unwrap().to_owned();
    let no_follow = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let action = if authorize { "authorize" } else { "fail" };
    let back = no_follow
        .post(format!("{}/_sandbox/bank/{pi}/{action}", app.sandbox.url))
        .form(&[("client_secret", secret.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(back.status(), 303);
    back.headers()["location"].to_str().unwrap().to_owned()
}

/// `POST .../refresh`: the client back on the page, slotpay reads the PaymentIntent again.
pub(crate) async fn refresh(app: &TestApp, token: &str) -> crate::helpers::Resp {
    app.post(&format!("/v1/checkouts/{token}/refresh"), json!({}))
        .await
}

async fn ideal_goes_to_the_bank_and_back(app: TestApp) {
    let m = app.pay_merchant(None).await;
    choose(&app, &m.id, json!(["card", "ideal"])).await;
    let token = app
        .checkout(
            &m.id,
            json!({"amount": 2500, "currency": "eur", "description": "Haircut"}),
        )
        .await;
    // No page to come back to, or another site's: refused before any PaymentIntent.
    pay_returning(&app, &token, &ideal(&app).await, "k1", None)
        .await
        .expect_error(400, "invalid_request", Some("return_url"));
    pay_returning(
        &app,
        &token,
        &ideal(&app).await,
        "k2",
        Some("https://evil.example/book"),
    )
    .await
    .expect_error(400, "invalid_request", Some("return_url"));
    let not_a_page = pay_returning(&app, &token, &ideal(&app).await, "k3", Some("javascript:x"))
        .await
        .expect_error(400, "invalid_json", None);
    assert!(
        not_a_page.text.contains("return_url"),
        "{}",
        not_a_page.text
    );
    assert_eq!(app.sandbox.counter("payment_intents_created"), 0);

    let back_to = "https://salon.example/book?slot=9";
    let r = pay_returning(&app, &token, &ideal(&app).await, "k4", Some(back_to))
        .await
        .expect(200);
    assert_eq!(r.json["status"], "requires_action", "{}", r.text);
    assert!(r.json["client_secret"].as_str().is_some());
    assert_eq!(app.stored(&token).await.status.as_str(), "requires_action");
    // Back before the bank answered: nothing changes.
    assert_eq!(
        refresh(&app, &token).await.expect(200).json["status"],
        "requires_action"
    );

    // Failed at the bank: the client may pay again.
    let location = at_the_bank(&app, &token, false).await;
    // Back to the page paid on, naming the checkout (a page that makes its checkout as it
    // loads shows this one again).
    assert!(
        location.starts_with(&format!("{back_to}&slotpay_checkout={token}&"))
            && location.ends_with("redirect_status=failed"),
        "{location}"
    );
    refresh(&app, &token)
        .await
        .expect_error(402, "authentication_required", None);
    assert_eq!(app.stored(&token).await.status.as_str(), "failed");

    // Approved: paid, with the one PaymentIntent of the checkout. Paid again from the page the
    // bank sent the client back to: that return's parameters do not pile up.
    let returned = format!("{location}#form");
    let again = pay_returning(&app, &token, &ideal(&app).await, "k5", Some(&returned))
        .await
        .expect(200);
    assert_eq!(again.json["status"], "requires_action", "{}", again.text);
    let location = at_the_bank(&app, &token, true).await;
    assert!(
        location.starts_with(&format!("{back_to}&slotpay_checkout={token}&"))
            && location.ends_with("redirect_status=succeeded")
            && location.matches("redirect_status").count() == 1
            && location.matches("slotpay_checkout").count() == 1,
        "{location}"
    );
    let paid = refresh(&app, &token).await.expect(200);
    assert_eq!(paid.json["status"], "succeeded", "{}", paid.text);
    // The receipt names the method; no card paid.
    assert_eq!(
        paid.json["receipt"],
        json!({"method": "ideal", "amount": 2500, "currency": "eur"})
    );
    assert_eq!(view(&app, &token).await["status"], "paid");
    assert_eq!(app.sandbox.counter("payment_intents_created"), 1);
    // The platform and the merchant see how it was paid.
    let admin = admin_view(&app, &token).await;
    assert_eq!(admin["payment_method_type"], "ideal", "{admin}");
    assert!(admin["card"].is_null(), "{admin}");
}

async fn admin_view(app: &TestApp, token: &str) -> Value {
    app.get(&format!("/v1/admin/checkouts/{token}"))
        .await
        .expect(200)
        .json
}

/// A SEPA Debit PaymentMethod of `iban`.
pub(crate) async fn sepa(app: &TestApp, iban: &str) -> String {
    let v = app
        .stripe_post(
            &app.sandbox.publishable_key,
            "/v1/payment_methods",
            &[
                ("type", "sepa_debit"),
                ("sepa_debit[iban]", iban),
                ("billing_details[name]", "Lea Martin"),
                ("billing_details[email]", "lea@example.com"),
            ],
        )
        .await;
    v["id"].as_str().unwrap_or_else(|| panic!("{v}")).to_owned()
}

/// Settles the checkout's pending debit at once (the sandbox's control API) and waits for the
/// webhooks it sends.
pub(crate) async fn settle_debit(app: &TestApp, token: &str) {
    let pi = app.stored(token).await.payment_intent_id.unwrap();
    let r = app
        .client
        .post(format!(
            "{}/_sandbox/payment_intents/{pi}/settle",
            app.sandbox.url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    app.settle_webhooks().await;
}

async fn sepa_debit_waits_for_the_webhook(app: TestApp) {
    let m = app.pay_merchant(None).await;
    choose(&app, &m.id, json!(["card", "sepa_debit"])).await;
    for (iban, outcome) in [
        ("DE89370400440532013000", "paid"),
        ("DE62370400440532013001", "failed"),
    ] {
        let token = app
            .checkout(
                &m.id,
                json!({"amount": 4000, "currency": "eur", "description": "Colour"}),
            )
            .await;
        let r = app
            .pay(&token, &sepa(&app, iban).await, "k1")
            .await
            .expect(200);
        assert_eq!(r.json["status"], "processing", "{}", r.text);
        let stored = app.stored(&token).await;
        assert_eq!(stored.status.as_str(), "processing");
        assert!(
            stored.lease.is_none(),
            "no attempt holds a debit that waits"
        );
        assert_eq!(view(&app, &token).await["status"], "processing");
        assert_eq!(
            admin_view(&app, &token).await["payment_method_type"],
            "sepa_debit"
        );
        settle_debit(&app, &token).await;
        assert_eq!(app.stored(&token).await.status.as_str(), outcome, "{iban}");
        // The booking platform heard that the debit is under way, then how it ended.
        let events = app
            .get(&format!("/v1/admin/events?checkout={token}"))
            .await
            .expect(200)
            .json;
        let data = events["data"].as_array().unwrap();
        let mut kinds: Vec<&str> = data.iter().map(|e| e["type"].as_str().unwrap()).collect();
        kinds.sort();
        let ended = if outcome == "paid" {
            "paid"
        } else {
            "payment_failed"
        };
        let mut want = [
            "checkout.processing".to_owned(),
            format!("checkout.{ended}"),
        ];
        want.sort();
        assert_eq!(kinds, want, "{events}");
        for e in data {
            let checkout = &e["payload"]["data"]["checkout"];
            assert_eq!(checkout["payment_method_type"], "sepa_debit", "{checkout}");
            // Money is in only once a debit succeeded.
            let paid = checkout["status"] == "paid";
            let captured = if paid { 4000 } else { 0 };
            assert_eq!(checkout["amount_captured"], captured, "{checkout}");
            assert_eq!(checkout["amount_refundable"], captured, "{checkout}");
        }
        if outcome == "failed" {
            // A failed debit leaves the checkout payable, by card this time.
            let card = app.card("4242424242424242").await;
            let paid = app.pay(&token, &card, "k2").await.expect(200);
            assert_eq!(paid.json["status"], "succeeded", "{}", paid.text);
        }
    }
}

fn domain<'a>(integration: &'a Value, name: &str) -> &'a Value {
    integration["wallet_domains"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["domain"] == name)
        .unwrap_or_else(|| panic!("no {name} in {integration}"))
}

async fn wallet_domains_are_registered_and_checked_again(app: TestApp) {
    let m = app.pay_merchant(None).await;
    let v = app.get(&integration(&m.id)).await.expect(200).json;
    // The merchant's origin and slotpay's own host (its payment-link pages).
    assert_eq!(v["wallet_domains"].as_array().unwrap().len(), 2, "{v}");
    let salon = domain(&v, "salon.example");
    assert!(salon["id"].as_str().unwrap().starts_with("pmd_"), "{salon}");
    assert_eq!(salon["apple_pay"], "active");
    assert_eq!(salon["google_pay"], "active");
    assert_eq!(salon["link"], "active");
    assert!(salon.get("problem").is_none(), "{salon}");
    let own = domain(&v, "127.0.0.1");
    assert_eq!(own["apple_pay"], "inactive");
    assert_eq!(own["google_pay"], "active");
    assert!(
        own["problem"].as_str().unwrap().contains("Apple Pay"),
        "{own}"
    );
    assert_eq!(app.sandbox.counter("payment_method_domains_created"), 2);
    assert_eq!(app.sandbox.counter("payment_method_domains_validated"), 0);

    // Verify now checks them again and makes none.
    app.post(&format!("{}/verify", integration(&m.id)), json!({}))
        .await
        .expect(200);
    assert_eq!(app.sandbox.counter("payment_method_domains_created"), 2);
    assert_eq!(app.sandbox.counter("payment_method_domains_validated"), 2);

    // A new origin is registered as it is added.
    app.patch(
        &format!("/v1/admin/merchants/{}", m.id),
        json!({"allowed_origins": ["https://salon.example", "https://book.salon.example"]}),
    )
    .await
    .expect(200);
    let v = app.get(&integration(&m.id)).await.expect(200).json;
    assert_eq!(domain(&v, "book.salon.example")["google_pay"], "active");
    assert_eq!(app.sandbox.counter("payment_method_domains_created"), 3);
}

async fn a_key_that_may_not_register_domains_still_activates(app: TestApp) {
    let id = app.merchant(&["https://salon.example"]).await;
    let permissions = [
        "charges",
        "customers",
        "payment_intents",
        "payment_methods",
        "setup_intents",
        "webhook_endpoints",
        "refunds",
        "events",
    ]
    .map(|r| format!("{r}:write"));
    let made: Value = app
        .client
        .post(format!("{}/_sandbox/keys", app.sandbox.url))
        .json(&json!({"type": "restricted", "permissions": permissions}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let rk = made["key"].as_str().unwrap().to_owned();
    crate::helpers::register_secret(&rk);
    app.put(
        &integration(&id),
        json!({"publishable_key": app.sandbox.publishable_key, "secret_key": rk, "mode": "sandbox"}),
    )
    .await
    .expect(200);
    let on = app
        .post(&format!("{}/activate", integration(&id)), json!({}))
        .await
        .expect(200);
    assert_eq!(on.json["payments_available"], true, "{}", on.text);
    let warned = on.json["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w["code"] == "wallet_domains");
    assert!(warned, "{}", on.text);
    let salon = domain(&on.json, "salon.example");
    assert!(salon["id"].is_null(), "{salon}");
    assert_eq!(salon["apple_pay"], "inactive");
    assert!(
        salon["problem"]
            .as_str()
            .unwrap()
            .contains("rak_payment_method_domain_write"),
        "{salon}"
    );
}
