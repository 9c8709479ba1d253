//! PaymentMethods: the `pm_card_*` test ids retrieved as Stripe answers them (a PaymentMethod
//! of the test card under a fresh `pm_...` id), so a server that checks the brand before
//! charging works with them; and the Tokens API Stripe.js's `createToken` calls.

mod common;

use common::*;
use serde_json::{json, Value};

#[tokio::test]
async fn test_payment_method_ids_can_be_retrieved() {
    let env = start().await;
    for (id, brand, last4, funding) in [
        ("pm_card_visa", "visa", "4242", "credit"),
        ("pm_card_visa_debit", "visa", "5556", "debit"),
        ("pm_card_mastercard", "mastercard", "4444", "credit"),
        ("pm_card_amex", "amex", "0005", "credit"),
        ("pm_card_discover", "discover", "1117", "credit"),
        ("pm_card_jcb", "jcb", "0505", "credit"),
        ("pm_card_chargeDeclined", "visa", "0002", "credit"),
        ("pm_card_authenticationRequired", "visa", "3184", "credit"),
    ] {
        let r = env
            .get(env.sk(), &format!("/v1/payment_methods/{id}"))
            .await;
        assert_eq!(r.status, 200, "{id}: {}", r.body);
        assert_eq!(r.body["object"], "payment_method");
        assert_eq!(r.body["type"], "card");
        assert_eq!(r.body["card"]["brand"], brand, "{id}");
        assert_eq!(r.body["card"]["last4"], last4, "{id}");
        assert_eq!(r.body["card"]["funding"], funding, "{id}");
        assert_eq!(r.body["customer"], serde_json::Value::Null);
        let fresh = r.id();
        assert!(
            fresh.starts_with("pm_") && fresh != id && fresh.len() == 27,
            "a test id is a template: Stripe answers a new PaymentMethod ({fresh})"
        );
        // The fresh id is a real object of the account from then on.
        let again = env
            .get(env.sk(), &format!("/v1/payment_methods/{fresh}"))
            .await;
        assert_eq!(again.status, 200, "{}", again.body);
        assert_eq!(again.body["card"]["last4"], last4);
    }
    // Each retrieve is a new PaymentMethod, as each use of the test id is.
    let a = env.get(env.sk(), "/v1/payment_methods/pm_card_visa").await;
    let b = env.get(env.sk(), "/v1/payment_methods/pm_card_visa").await;
    assert_ne!(a.id(), b.id());
    // Names that are not test ids stay unknown.
    let nope = env.get(env.sk(), "/v1/payment_methods/pm_card_nope").await;
    assert_eq!(nope.status, 404, "{}", nope.body);
    assert_eq!(nope.error_code(), Some("resource_missing"));
    // A restricted key with slotpay's permissions (payment_method read) retrieves them too; a
    // publishable key may not retrieve PaymentMethods at all.
    let rk = env
        .get(
            &env.sb.restricted_key,
            "/v1/payment_methods/pm_card_mastercard",
        )
        .await;
    assert_eq!(rk.status, 200, "{}", rk.body);
    let pk = env
        .get(&env.sb.publishable_key, "/v1/payment_methods/pm_card_visa")
        .await;
    assert_ne!(pk.status, 200, "{}", pk.body);
}

/// What slotpay's pay endpoint does: retrieve the PaymentMethod to check its brand, then create
/// and confirm a PaymentIntent with the id the browser sent.
#[tokio::test]
async fn brand_check_then_charge_with_the_same_test_id() {
    let env = start().await;
    let pm = env.get(env.sk(), "/v1/payment_methods/pm_card_amex").await;
    assert_eq!(pm.status, 200, "{}", pm.body);
    assert_eq!(pm.body["card"]["brand"], "amex");
    let paid = env.pay("pm_card_amex", "2500", &[]).await;
    assert_eq!(paid.status, 200, "{}", paid.body);
    assert_eq!(paid.body["status"], "succeeded");
    let declined = env
        .get(env.sk(), "/v1/payment_methods/pm_card_chargeDeclined")
        .await;
    assert_eq!(declined.status, 200);
    let r = env.pay("pm_card_chargeDeclined", "2500", &[]).await;
    assert_eq!(r.status, 402, "{}", r.body);
    assert_eq!(r.body["error"]["decline_code"], "generic_decline");
}

async fn token(env: &Env, number: &str, extra: &[(&str, &str)]) -> Resp {
    let mut form = vec![
        ("card[number]", number),
        ("card[exp_month]", "12"),
        ("card[exp_year]", "2040"),
    ];
    form.extend_from_slice(extra);
    env.post(&env.sb.publishable_key, "/v1/tokens", &form).await
}

#[tokio::test]
async fn card_tokens_as_stripe_js_creates_them() {
    let env = start().await;
    let t = token(
        &env,
        "4242424242424242",
        &[
            ("card[cvc]", "123"),
            ("card[name]", "Jenny Rosen"),
            ("card[address_zip]", "94107"),
        ],
    )
    .await;
    assert_eq!(t.status, 200, "{}", t.body);
    let id = t.id();
    assert!(id.starts_with("tok_") && id.len() == 28, "{id}");
    assert_eq!(t.body["object"], "token");
    assert_eq!(t.body["type"], "card");
    assert_eq!(t.body["used"], false);
    assert_eq!(t.body["livemode"], false);
    let card = &t.body["card"];
    assert!(card["id"].as_str().unwrap().starts_with("card_"));
    assert_eq!(card["object"], "card");
    // The card object spells brands as Stripe's card object does, not as PaymentMethods do.
    assert_eq!(card["brand"], "Visa");
    assert_eq!(card["last4"], "4242");
    assert_eq!(
        (card["exp_month"].clone(), card["exp_year"].clone()),
        (12.into(), 2040.into())
    );
    assert_eq!(card["funding"], "credit");
    assert_eq!(card["country"], "US");
    assert_eq!(card["name"], "Jenny Rosen");
    assert_eq!(card["address_zip"], "94107");
    assert_eq!(card["address_zip_check"], "unchecked");
    assert_eq!(card["address_line1_check"], serde_json::Value::Null);
    assert_eq!(card["cvc_check"], "pass");
    // The number never comes back.
    assert!(!t.body.to_string().contains("4242424242424242"));
    for (number, brand) in [
        ("5555555555554444", "MasterCard"),
        ("378282246310005", "American Express"),
        ("6011111111111117", "Discover"),
        ("3566002020360505", "JCB"),
    ] {
        let t = token(&env, number, &[]).await;
        assert_eq!(t.status, 200, "{}", t.body);
        assert_eq!(t.body["card"]["brand"], brand);
        assert_eq!(t.body["card"]["cvc_check"], serde_json::Value::Null);
    }
    // Card errors as when creating a PaymentMethod.
    let bad = token(&env, "4242424242424241", &[]).await;
    assert_eq!(bad.status, 402, "{}", bad.body);
    assert_eq!(bad.body["error"]["type"], "card_error");
    assert_eq!(bad.error_code(), Some("incorrect_number"));
    let none = env.post(&env.sb.publishable_key, "/v1/tokens", &[]).await;
    assert_eq!(none.status, 400);
    assert_eq!(none.error_code(), Some("parameter_missing"));
    let bank = env
        .post(
            &env.sb.publishable_key,
            "/v1/tokens",
            &[("bank_account[country]", "US")],
        )
        .await;
    assert_eq!(bank.status, 400, "{}", bank.body);
    // The secret key retrieves a token; the publishable key may not.
    let got = env.get(env.sk(), &format!("/v1/tokens/{id}")).await;
    assert_eq!(got.status, 200, "{}", got.body);
    assert_eq!(got.body["card"]["id"], t.body["card"]["id"]);
    let refused = env
        .get(&env.sb.publishable_key, &format!("/v1/tokens/{id}"))
        .await;
    assert_ne!(refused.status, 200);
}

#[tokio::test]
async fn a_token_makes_one_payment_method() {
    let env = start().await;
    let t = token(
        &env,
        "5555555555554444",
        &[
            ("card[cvc]", "123"),
            ("card[name]", "Ada Lovelace"),
            ("card[address_country]", "GB"),
        ],
    )
    .await;
    let tok = t.id();
    let pm = env
        .post(
            &env.sb.publishable_key,
            "/v1/payment_methods",
            &[("type", "card"), ("card[token]", tok.as_str())],
        )
        .await;
    assert_eq!(pm.status, 200, "{}", pm.body);
    assert_eq!(pm.body["card"]["brand"], "mastercard");
    assert_eq!(pm.body["card"]["last4"], "4444");
    assert_eq!(
        pm.body["card"]["fingerprint"],
        t.body["card"]["fingerprint"]
    );
    assert_eq!(pm.body["billing_details"]["name"], "Ada Lovelace");
    assert_eq!(pm.body["billing_details"]["address"]["country"], "GB");
    let used = env.get(env.sk(), &format!("/v1/tokens/{tok}")).await;
    assert_eq!(used.body["used"], true);
    let again = env
        .post(
            &env.sb.publishable_key,
            "/v1/payment_methods",
            &[("type", "card"), ("card[token]", tok.as_str())],
        )
        .await;
    assert_eq!(again.status, 400, "{}", again.body);
    assert_eq!(
        again.error_message(),
        format!("You cannot use a Stripe token more than once: {tok}.")
    );
    let paid = env.pay(&pm.id(), "1500", &[]).await;
    assert_eq!(paid.status, 200, "{}", paid.body);
    assert_eq!(paid.body["status"], "succeeded");
}

/// iDEAL, Bancontact and SEPA Debit PaymentMethods are made from their details as Stripe checks
/// them, and render their type's hash.
#[tokio::test]
async fn bank_payment_methods_are_made_and_checked() {
    let env = start().await;
    let pk = env.sb.publishable_key.clone();
    let ideal = env
        .post(
            &pk,
            "/v1/payment_methods",
            &[("type", "ideal"), ("ideal[bank]", "ing")],
        )
        .await;
    assert_eq!(ideal.status, 200, "{}", ideal.body);
    assert_eq!(ideal.body["type"], "ideal");
    assert_eq!(ideal.body["ideal"]["bank"], "ing");
    assert_eq!(ideal.body["ideal"]["bic"], "INGBNL2A");
    assert!(ideal.body.get("card").is_none(), "{}", ideal.body);
    let bad_bank = env
        .post(
            &pk,
            "/v1/payment_methods",
            &[("type", "ideal"), ("ideal[bank]", "bank_of_nowhere")],
        )
        .await;
    assert_eq!(bad_bank.status, 400, "{}", bad_bank.body);
    assert_eq!(bad_bank.body["error"]["param"], "ideal[bank]");

    let no_name = env
        .post(&pk, "/v1/payment_methods", &[("type", "bancontact")])
        .await;
    assert_eq!(no_name.status, 400, "{}", no_name.body);
    assert_eq!(no_name.body["error"]["param"], "billing_details[name]");
    let bancontact = env
        .post(
            &pk,
            "/v1/payment_methods",
            &[
                ("type", "bancontact"),
                ("billing_details[name]", "Jan Peeters"),
            ],
        )
        .await;
    assert_eq!(bancontact.status, 200, "{}", bancontact.body);
    assert_eq!(bancontact.body["bancontact"], serde_json::json!({}));

    let sepa = |iban: &'static str| {
        [
            ("type", "sepa_debit"),
            ("sepa_debit[iban]", iban),
            ("billing_details[name]", "Jenny Rosen"),
            ("billing_details[email]", "jenny@example.com"),
        ]
    };
    let good = env
        .post(
            &pk,
            "/v1/payment_methods",
            &sepa("DE89 3704 0044 0532 0130 00"),
        )
        .await;
    assert_eq!(good.status, 200, "{}", good.body);
    assert_eq!(good.body["sepa_debit"]["last4"], "3000");
    assert_eq!(good.body["sepa_debit"]["country"], "DE");
    assert_eq!(good.body["sepa_debit"]["bank_code"], "37040044");
    // One digit changed: the checksum fails.
    let typo = env
        .post(&pk, "/v1/payment_methods", &sepa("DE89370400440532013001"))
        .await;
    assert_eq!(typo.status, 400, "{}", typo.body);
    assert_eq!(typo.error_code(), Some("invalid_bank_account_iban"));
    let no_email = env
        .post(
            &pk,
            "/v1/payment_methods",
            &[
                ("type", "sepa_debit"),
                ("sepa_debit[iban]", "NL39RABO0300065264"),
                ("billing_details[name]", "Jenny Rosen"),
            ],
        )
        .await;
    assert_eq!(no_email.status, 400, "{}", no_email.body);
    assert_eq!(no_email.body["error"]["param"], "billing_details[email]");
    let paypal = env
        .post(&pk, "/v1/payment_methods", &[("type", "paypal")])
        .await;
    assert_eq!(paypal.status, 400, "{}", paypal.body);
    assert_eq!(paypal.body["error"]["param"], "type");
}

/// A card from a wallet carries `card.wallet`; a PaymentIntent takes only the types it allows,
/// the euro-only types only in euros, and a bank PaymentMethod needs its return URL or mandate.
#[tokio::test]
async fn wallets_and_the_types_an_intent_allows() {
    let env = start().await;
    let path = format!(
        "/_sandbox/accounts/{}/wallet_payment_methods",
        env.sb.account_id
    );
    let wallet = env
        .control(&path, serde_json::json!({"wallet": "apple_pay"}))
        .await;
    assert_eq!(wallet.status, 200, "{}", wallet.body);
    assert_eq!(wallet.body["card"]["wallet"]["type"], "apple_pay");
    assert_eq!(wallet.body["card"]["brand"], "visa");
    let nope = env
        .control(&path, serde_json::json!({"wallet": "paypal"}))
        .await;
    assert_eq!(nope.status, 400, "{}", nope.body);
    // A wallet's card pays like any card.
    let paid = env.pay(&wallet.id(), "1500", &[]).await;
    assert_eq!(paid.body["status"], "succeeded", "{}", paid.body);

    let gbp_ideal = env
        .post(
            env.sk(),
            "/v1/payment_intents",
            &[
                ("amount", "1500"),
                ("currency", "gbp"),
                ("payment_method_types[]", "ideal"),
            ],
        )
        .await;
    assert_eq!(gbp_ideal.status, 400, "{}", gbp_ideal.body);
    assert_eq!(gbp_ideal.body["error"]["param"], "payment_method_types");

    let pk = env.sb.publishable_key.clone();
    let ideal = env
        .post(&pk, "/v1/payment_methods", &[("type", "ideal")])
        .await
        .id();
    // A card-only intent refuses it.
    let card_only = env.pay(&ideal, "1500", &[]).await;
    assert_eq!(card_only.status, 400, "{}", card_only.body);
    assert!(
        card_only.error_message().contains("(ideal) is not allowed"),
        "{}",
        card_only.body
    );
    // An intent that allows it wants the page to come back to.
    let form = [
        ("amount", "1500"),
        ("currency", "eur"),
        ("payment_method_types[]", "card"),
        ("payment_method_types[]", "ideal"),
        ("payment_method", ideal.as_str()),
        ("confirm", "true"),
    ];
    let no_return = env.post(env.sk(), "/v1/payment_intents", &form).await;
    assert_eq!(no_return.status, 400, "{}", no_return.body);
    assert_eq!(no_return.body["error"]["param"], "return_url");
}

/// A new PaymentIntent with `form` (secret key).
async fn intent(env: &Env, form: &[(&str, &str)]) -> Resp {
    env.post(env.sk(), "/v1/payment_intents", form).await
}

/// Automatic payment methods, Stripe's default without `payment_method_types`: the intent's
/// types are the account's that suit its currency and capture method (and are derived again
/// when those change), less the redirect-based ones with `allow_redirects=never`; every
/// confirmation needs a `return_url` unless redirects are refused, a card's too; the parameter
/// excludes `payment_method_types` and manual confirmation.
#[tokio::test]
async fn automatic_payment_methods_follow_the_currency_and_the_redirects_allowed() {
    let env = start().await;
    let always = json!({"allow_redirects": "always", "enabled": true});
    let never = json!({"allow_redirects": "never", "enabled": true});
    let all = json!(["card", "ideal", "bancontact", "sepa_debit"]);
    for (form, automatic, types) in [
        (vec![("currency", "usd")], &always, json!(["card"])),
        (vec![("currency", "eur")], &always, all.clone()),
        (
            vec![("currency", "eur"), ("capture_method", "manual")],
            &always,
            json!(["card"]),
        ),
        (
            vec![
                ("currency", "eur"),
                ("automatic_payment_methods[enabled]", "true"),
            ],
            &always,
            all.clone(),
        ),
        (
            vec![
                ("currency", "eur"),
                ("automatic_payment_methods[enabled]", "true"),
                ("automatic_payment_methods[allow_redirects]", "never"),
            ],
            &never,
            json!(["card", "sepa_debit"]),
        ),
        (
            vec![
                ("currency", "eur"),
                ("automatic_payment_methods[enabled]", "false"),
            ],
            &Value::Null,
            json!(["card"]),
        ),
        (
            vec![("currency", "eur"), ("payment_method_types[]", "ideal")],
            &Value::Null,
            json!(["ideal"]),
        ),
    ] {
        let r = intent(&env, &[vec![("amount", "2500")], form.clone()].concat()).await;
        assert_eq!(r.status, 200, "{form:?}: {}", r.body);
        // Present on every PaymentIntent, null when not enabled.
        assert_eq!(
            r.body.get("automatic_payment_methods"),
            Some(automatic),
            "{form:?}"
        );
        assert_eq!(r.body["payment_method_types"], types, "{form:?}");
    }

    // The types follow a new currency or capture method.
    let usd = intent(&env, &[("amount", "2500"), ("currency", "usd")]).await;
    let path = format!("/v1/payment_intents/{}", usd.id());
    let eur = env.post(env.sk(), &path, &[("currency", "eur")]).await;
    assert_eq!(eur.body["payment_method_types"], all, "{}", eur.body);
    let manual = env
        .post(env.sk(), &path, &[("capture_method", "manual")])
        .await;
    assert_eq!(manual.body["payment_method_types"], json!(["card"]));

    // Refused parameters.
    for (form, message, param) in [
        (
            vec![
                ("automatic_payment_methods[enabled]", "true"),
                ("payment_method_types[]", "card"),
            ],
            "You may only specify one of these parameters: automatic_payment_methods, \
             payment_method_types.",
            "automatic_payment_methods",
        ),
        (
            vec![
                ("automatic_payment_methods[enabled]", "false"),
                ("payment_method_types[]", "card"),
            ],
            "You may only specify one of these parameters: automatic_payment_methods, \
             payment_method_types.",
            "automatic_payment_methods",
        ),
        (
            vec![("confirmation_method", "manual")],
            "You may only specify one of these parameters: automatic_payment_methods, \
             confirmation_method.",
            "automatic_payment_methods",
        ),
        (
            vec![("automatic_payment_methods[allow_redirects]", "never")],
            "Missing required param: automatic_payment_methods[enabled].",
            "automatic_payment_methods[enabled]",
        ),
        (
            vec![
                ("automatic_payment_methods[enabled]", "true"),
                ("automatic_payment_methods[allow_redirects]", "sometimes"),
            ],
            "Invalid automatic_payment_methods[allow_redirects] 'sometimes': must be one of \
             always, never",
            "automatic_payment_methods[allow_redirects]",
        ),
    ] {
        let r = intent(
            &env,
            &[vec![("amount", "2500"), ("currency", "eur")], form.clone()].concat(),
        )
        .await;
        assert_eq!(
            (r.status, r.error_message(), &r.body["error"]["param"]),
            (400, message, &json!(param)),
            "{form:?}"
        );
    }
    // Manual confirmation goes with payment_method_types.
    let manual = intent(
        &env,
        &[
            ("amount", "2500"),
            ("currency", "eur"),
            ("payment_method_types[]", "card"),
            ("confirmation_method", "manual"),
        ],
    )
    .await;
    assert_eq!(manual.status, 200, "{}", manual.body);

    // Redirects allowed: no confirmation without a return_url, a card's neither; the error
    // carries the PaymentIntent, unpaid.
    let card = intent(
        &env,
        &[
            ("amount", "2500"),
            ("currency", "eur"),
            ("payment_method", "pm_card_visa"),
            ("confirm", "true"),
        ],
    )
    .await;
    assert_eq!(card.status, 400, "{}", card.body);
    assert!(
        card.error_message().starts_with(
            "This PaymentIntent is configured to accept payment methods enabled in your \
             Dashboard. Because some of these payment methods might redirect your customer off \
             of your page, you must provide a `return_url`."
        ),
        "{}",
        card.body
    );
    assert_eq!(card.body["error"]["type"], "invalid_request_error");
    let unpaid = &card.body["error"]["payment_intent"];
    assert_eq!(unpaid["status"], "requires_confirmation", "{}", card.body);
    assert_eq!(unpaid["automatic_payment_methods"], always);
    assert_eq!(env.sb.counter("charges_succeeded"), 0);
    let id = unpaid["id"].as_str().unwrap();
    let paid = env
        .post(
            env.sk(),
            &format!("/v1/payment_intents/{id}/confirm"),
            &[("return_url", "https://salon.example/book")],
        )
        .await;
    assert_eq!(paid.body["status"], "succeeded", "{}", paid.body);
    // A bank's redirect is among the ways.
    let ideal = env
        .post(
            &env.sb.publishable_key,
            "/v1/payment_methods",
            &[("type", "ideal")],
        )
        .await
        .id();
    let bank = intent(
        &env,
        &[
            ("amount", "2500"),
            ("currency", "eur"),
            ("payment_method", ideal.as_str()),
            ("return_url", "https://salon.example/book"),
            ("confirm", "true"),
        ],
    )
    .await;
    assert_eq!(bank.body["status"], "requires_action", "{}", bank.body);
    assert_eq!(bank.body["next_action"]["type"], "redirect_to_url");

    // Redirects refused: a card needs no return_url; a bank's redirect is not among the ways.
    let refused = [
        ("amount", "2500"),
        ("currency", "eur"),
        ("automatic_payment_methods[enabled]", "true"),
        ("automatic_payment_methods[allow_redirects]", "never"),
        ("confirm", "true"),
    ];
    let card = intent(
        &env,
        &[&refused[..], &[("payment_method", "pm_card_visa")]].concat(),
    )
    .await;
    assert_eq!(card.body["status"], "succeeded", "{}", card.body);
    let ideal = env
        .post(
            &env.sb.publishable_key,
            "/v1/payment_methods",
            &[("type", "ideal")],
        )
        .await
        .id();
    let bank = intent(
        &env,
        &[
            &refused[..],
            &[
                ("payment_method", ideal.as_str()),
                ("return_url", "https://salon.example/book"),
            ],
        ]
        .concat(),
    )
    .await;
    assert_eq!(bank.status, 400, "{}", bank.body);
    assert_eq!(bank.body["error"]["param"], "payment_method");
    assert!(
        bank.error_message()
            .contains("(ideal) is not allowed for this PaymentIntent")
            && bank.error_message().contains("types: card, sepa_debit."),
        "{}",
        bank.body
    );
}

/// An iDEAL payment goes to the sandbox's bank page and back: authorised it succeeds with an
/// iDEAL charge, failed it asks for another PaymentMethod; the return URL gets Stripe's
/// parameters.
#[tokio::test]
async fn ideal_redirects_to_the_bank_and_back() {
    let env = start().await;
    let no_follow = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for authorize in [true, false] {
        let pm = env
            .post(
                &env.sb.publishable_key,
                "/v1/payment_methods",
                &[("type", "ideal"), ("ideal[bank]", "ing")],
            )
            .await
            .id();
        let pi = env
            .post(
                env.sk(),
                "/v1/payment_intents",
                &[
                    ("amount", "2500"),
                    ("currency", "eur"),
                    ("payment_method_types[]", "ideal"),
                    ("payment_method", pm.as_str()),
                    ("return_url", "https://salon.example/book?slot=9"),
                    ("confirm", "true"),
                ],
            )
            .await;
        assert_eq!(pi.body["status"], "requires_action", "{}", pi.body);
        let action = &pi.body["next_action"];
        assert_eq!(action["type"], "redirect_to_url");
        assert_eq!(
            action["redirect_to_url"]["return_url"],
            "https://salon.example/book?slot=9"
        );
        let bank = action["redirect_to_url"]["url"]
            .as_str()
            .unwrap()
            .to_owned();
        let page = no_follow.get(&bank).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        assert!(
            html.contains("25.00 EUR") && html.contains("Authorize test payment"),
            "{html}"
        );
        let secret = pi.body["client_secret"].as_str().unwrap().to_owned();
        let id = pi.id();
        let action = if authorize { "authorize" } else { "fail" };
        let back = no_follow
            .post(format!("{}/_sandbox/bank/{id}/{action}", env.sb.url))
            .form(&[("client_secret", secret.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(back.status(), 303);
        let status = if authorize { "succeeded" } else { "failed" };
        assert_eq!(
            back.headers()["location"].to_str().unwrap(),
            format!(
                "https://salon.example/book?slot=9&payment_intent={id}\
                 &payment_intent_client_secret={secret}&redirect_status={status}"
            )
        );
        let now = env
            .get(
                env.sk(),
                &format!("/v1/payment_intents/{id}?expand[]=latest_charge"),
            )
            .await;
        if authorize {
            assert_eq!(now.body["status"], "succeeded", "{}", now.body);
            let details = &now.body["latest_charge"]["payment_method_details"];
            assert_eq!(details["type"], "ideal", "{details}");
            assert_eq!(details["ideal"]["bank"], "ing");
        } else {
            assert_eq!(
                now.body["status"], "requires_payment_method",
                "{}",
                now.body
            );
            assert_eq!(
                now.body["last_payment_error"]["code"],
                "payment_intent_payment_attempt_failed"
            );
        }
        // The bank answers once.
        let again = no_follow
            .post(format!("{}/_sandbox/bank/{id}/authorize", env.sb.url))
            .form(&[("client_secret", secret.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 400);
    }
}

/// A confirmed SEPA Debit PaymentIntent for `iban`, after checking that one without a mandate
/// is refused.
async fn debit(env: &Env, iban: &str) -> String {
    let pm = env
        .post(
            &env.sb.publishable_key,
            "/v1/payment_methods",
            &[
                ("type", "sepa_debit"),
                ("sepa_debit[iban]", iban),
                ("billing_details[name]", "Jenny Rosen"),
                ("billing_details[email]", "jenny@example.com"),
            ],
        )
        .await
        .id();
    let mut form = vec![
        ("amount", "4000"),
        ("currency", "eur"),
        ("payment_method_types[]", "sepa_debit"),
        ("confirm", "true"),
    ];
    let no_mandate = env
        .post(
            env.sk(),
            "/v1/payment_intents",
            &[form.clone(), vec![("payment_method", pm.as_str())]].concat(),
        )
        .await;
    assert_eq!(no_mandate.status, 400, "{}", no_mandate.body);
    assert_eq!(no_mandate.body["error"]["param"], "mandate_data");
    form.extend([
        ("payment_method", pm.as_str()),
        ("mandate_data[customer_acceptance][type]", "online"),
        (
            "mandate_data[customer_acceptance][online][ip_address]",
            "203.0.113.9",
        ),
        (
            "mandate_data[customer_acceptance][online][user_agent]",
            "Mozilla/5.0",
        ),
    ]);
    let pi = env.post(env.sk(), "/v1/payment_intents", &form).await;
    // The first attempt's PaymentIntent was left unconfirmed; this one is processing.
    assert_eq!(pi.body["status"], "processing", "{}", pi.body);
    pi.id()
}

/// A SEPA Debit needs a mandate, waits in `processing` with a pending charge, and settles
/// when it falls due (or at once through the control API): Stripe's failing test IBAN fails.
#[tokio::test]
async fn sepa_debit_processes_then_settles() {
    let env = start().await;
    let good = debit(&env, "DE89370400440532013000").await;
    let charge = env
        .get(
            env.sk(),
            &format!("/v1/payment_intents/{good}?expand[]=latest_charge"),
        )
        .await;
    assert_eq!(charge.body["latest_charge"]["status"], "pending");
    assert_eq!(
        charge.body["latest_charge"]["payment_method_details"]["sepa_debit"]["last4"],
        "3000"
    );
    // Due a minute later: the clock settles it.
    env.control(
        "/_sandbox/clock/advance",
        serde_json::json!({"seconds": 61}),
    )
    .await;
    let settled = env
        .get(env.sk(), &format!("/v1/payment_intents/{good}"))
        .await;
    assert_eq!(settled.body["status"], "succeeded", "{}", settled.body);
    assert_eq!(settled.body["amount_received"], 4000);

    let bad = debit(&env, "DE62370400440532013001").await;
    let now = env
        .control(
            &format!("/_sandbox/payment_intents/{bad}/settle"),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(now.status, 200, "{}", now.body);
    assert_eq!(now.body["status"], "requires_payment_method");
    assert_eq!(now.body["last_payment_error"]["code"], "insufficient_funds");
    // Settled once: a second settle is refused.
    let again = env
        .control(
            &format!("/_sandbox/payment_intents/{bad}/settle"),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(again.status, 400, "{}", again.body);
    let types: Vec<String> = env.get(env.sk(), "/v1/events?limit=100").await.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect();
    for t in [
        "payment_intent.processing",
        "charge.pending",
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "charge.failed",
    ] {
        assert!(types.iter().any(|x| x == t), "{t} in {types:?}");
    }
}

/// Payment method domains: registered once per account and name, listed by name, enabled or
/// not, validated; Apple Pay inactive where it cannot run; a restricted key needs its permission.
#[tokio::test]
async fn payment_method_domains_are_registered_and_listed() {
    let env = start().await;
    let sk = env.sk().to_owned();
    let made = env
        .post(
            &sk,
            "/v1/payment_method_domains",
            &[("domain_name", "Salon.Example")],
        )
        .await;
    assert_eq!(made.status, 200, "{}", made.body);
    assert!(made.id().starts_with("pmd_"));
    assert_eq!(made.body["domain_name"], "salon.example");
    assert_eq!(made.body["enabled"], true);
    assert_eq!(made.body["apple_pay"]["status"], "active");
    assert_eq!(made.body["google_pay"]["status"], "active");
    let twice = env
        .post(
            &sk,
            "/v1/payment_method_domains",
            &[("domain_name", "salon.example")],
        )
        .await;
    assert_eq!(twice.status, 400, "{}", twice.body);
    for bad in [
        "https://salon.example",
        "salon.example/book",
        "",
        "-x.example",
    ] {
        let r = env
            .post(&sk, "/v1/payment_method_domains", &[("domain_name", bad)])
            .await;
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
        assert_eq!(r.body["error"]["param"], "domain_name", "{bad}");
    }
    let local = env
        .post(
            &sk,
            "/v1/payment_method_domains",
            &[("domain_name", "127.0.0.1")],
        )
        .await;
    assert_eq!(
        local.body["apple_pay"]["status"], "inactive",
        "{}",
        local.body
    );
    assert_eq!(local.body["google_pay"]["status"], "active");

    let listed = env
        .get(&sk, "/v1/payment_method_domains?domain_name=salon.example")
        .await;
    let data = listed.body["data"].as_array().unwrap();
    assert_eq!(data.len(), 1, "{}", listed.body);
    assert_eq!(data[0]["id"], made.body["id"]);
    let off = env
        .post(
            &sk,
            &format!("/v1/payment_method_domains/{}", made.id()),
            &[("enabled", "false")],
        )
        .await;
    assert_eq!(off.body["enabled"], false);
    let enabled_only = env
        .get(&sk, "/v1/payment_method_domains?enabled=true")
        .await;
    assert_eq!(enabled_only.body["data"].as_array().unwrap().len(), 1);
    let checked = env
        .post(
            &sk,
            &format!("/v1/payment_method_domains/{}/validate", made.id()),
            &[],
        )
        .await;
    assert_eq!(checked.status, 200, "{}", checked.body);

    // A restricted key without the permission is refused, naming it.
    let rk = env
        .control(
            "/_sandbox/keys",
            serde_json::json!({"type": "restricted", "permissions": ["payment_intents:write"]}),
        )
        .await;
    let key = rk.body["key"].as_str().unwrap().to_owned();
    let refused = env
        .post(
            &key,
            "/v1/payment_method_domains",
            &[("domain_name", "other.example")],
        )
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(
        refused
            .error_message()
            .contains("rak_payment_method_domain_write"),
        "{}",
        refused.body
    );
}

/// The Elements session tells Stripe.js the key's account and which wallets a page's domain may
/// show: Google Pay on a registered, enabled domain, Apple Pay only on a real domain name, none
/// elsewhere; a secret key or an unknown one is refused.
#[tokio::test]
async fn the_elements_session_shows_wallets_on_registered_domains_only() {
    let env = start().await;
    let sk = env.sk().to_owned();
    let pk = env.sb.publishable_key.clone();
    let session = |domain: &'static str, key: String| {
        let env = &env;
        async move {
            env.get(&key, &format!("/_sandbox/elements/session?domain={domain}"))
                .await
        }
    };
    let none = session("salon.example", pk.clone()).await;
    assert_eq!(none.status, 200, "{}", none.body);
    assert_eq!(none.body["google_pay"], false);
    assert_eq!(none.body["apple_pay"], false);
    assert!(none.body["account"].as_str().unwrap().starts_with("acct_"));

    let made = env
        .post(
            &sk,
            "/v1/payment_method_domains",
            &[("domain_name", "salon.example")],
        )
        .await;
    env.post(
        &sk,
        "/v1/payment_method_domains",
        &[("domain_name", "127.0.0.1")],
    )
    .await;
    let named = session("salon.example", pk.clone()).await;
    assert_eq!(named.body["google_pay"], true, "{}", named.body);
    assert_eq!(named.body["apple_pay"], true);
    let address = session("127.0.0.1", pk.clone()).await;
    assert_eq!(address.body["google_pay"], true);
    assert_eq!(address.body["apple_pay"], false);

    env.post(
        &sk,
        &format!("/v1/payment_method_domains/{}", made.id()),
        &[("enabled", "false")],
    )
    .await;
    let disabled = session("salon.example", pk.clone()).await;
    assert_eq!(disabled.body["google_pay"], false);

    assert_eq!(session("salon.example", sk.clone()).await.status, 400);
    assert_eq!(
        session("salon.example", "pk_test_unknown".into())
            .await
            .status,
        400
    );
}
