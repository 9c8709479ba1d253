//! PaymentIntent state transitions: success, every decline card, 3-D Secure passed and failed
//! through the control endpoints, manual capture (full and partial), cancel, the 7-day expiry,
//! Stripe.js's confirm with the client secret, off-session payments, and SetupIntents.

mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn success_creates_a_captured_charge_with_card_details() {
    let env = start().await;
    let r = env.pay("pm_card_visa", "2000", &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "succeeded");
    assert_eq!(r.body["amount_received"], 2000);
    let charge = r.body["latest_charge"].as_str().unwrap().to_string();
    assert!(charge.starts_with("ch_") && charge.len() == 27, "{charge}");
    let pm = r.body["payment_method"].as_str().unwrap();
    assert!(
        pm.starts_with("pm_") && pm != "pm_card_visa",
        "a test id becomes a new PaymentMethod"
    );
    let c = env.get(env.sk(), &format!("/v1/charges/{charge}")).await;
    assert_eq!(c.body["status"], "succeeded");
    assert_eq!(c.body["captured"], true);
    assert_eq!(c.body["paid"], true);
    assert_eq!(c.body["payment_method_details"]["card"]["last4"], "4242");
    assert_eq!(c.body["payment_method_details"]["card"]["brand"], "visa");
    assert!(c.body["balance_transaction"]
        .as_str()
        .unwrap()
        .starts_with("txn_"));
    // expand[]=latest_charge (and nested) replaces the id with the object.
    let id = r.id();
    let e = env
        .get(env.sk(), &format!("/v1/payment_intents/{id}?expand[]=latest_charge.balance_transaction&expand[]=payment_method"))
        .await;
    assert_eq!(e.body["latest_charge"]["id"], charge);
    assert_eq!(
        e.body["latest_charge"]["balance_transaction"]["object"],
        "balance_transaction"
    );
    assert_eq!(e.body["latest_charge"]["balance_transaction"]["fee"], 88); // 2.9% of 2000 + 30
    assert_eq!(e.body["payment_method"]["object"], "payment_method");
    assert_eq!(env.sb.counter("charges_succeeded"), 1);
}

#[tokio::test]
async fn card_details_derive_from_the_number() {
    let env = start().await;
    for (number, brand, funding, country) in [
        ("4000056655665556", "visa", "debit", "US"),
        ("5555555555554444", "mastercard", "credit", "US"),
        ("378282246310005", "amex", "credit", "US"),
        ("6011111111111117", "discover", "credit", "US"),
        ("3566002020360505", "jcb", "credit", "JP"),
    ] {
        let cvc = if brand == "amex" { "1234" } else { "123" };
        let r = env
            .post(
                &env.sb.publishable_key,
                "/v1/payment_methods",
                &[
                    ("type", "card"),
                    ("card[number]", number),
                    ("card[exp_month]", "4"),
                    ("card[exp_year]", "41"),
                    ("card[cvc]", cvc),
                ],
            )
            .await;
        assert_eq!(r.status, 200, "{number}: {}", r.body);
        let card = &r.body["card"];
        assert_eq!(card["brand"], brand);
        assert_eq!(card["funding"], funding);
        assert_eq!(card["country"], country);
        assert_eq!(card["last4"], &number[number.len() - 4..]);
        assert_eq!(card["exp_year"], 2041);
        let again = env.card(number).await;
        let fp2 = env
            .get(env.sk(), &format!("/v1/payment_methods/{again}"))
            .await
            .body["card"]["fingerprint"]
            .clone();
        assert_eq!(card["fingerprint"], fp2, "fingerprint is stable per number");
        let paid = env.pay(&again, "1000", &[]).await;
        assert_eq!(paid.body["status"], "succeeded", "{number}");
    }
    // Card errors at creation.
    let bad = env
        .post(
            &env.sb.publishable_key,
            "/v1/payment_methods",
            &[
                ("type", "card"),
                ("card[number]", "4242424242424241"),
                ("card[exp_month]", "1"),
                ("card[exp_year]", "2040"),
            ],
        )
        .await;
    assert_eq!(
        (bad.status, bad.error_code()),
        (402, Some("incorrect_number"))
    );
    assert_eq!(bad.error_message(), "Your card number is incorrect.");
    let month = env
        .post(
            &env.sb.publishable_key,
            "/v1/payment_methods",
            &[
                ("type", "card"),
                ("card[number]", "4242424242424242"),
                ("card[exp_month]", "13"),
                ("card[exp_year]", "2040"),
            ],
        )
        .await;
    assert_eq!(month.error_code(), Some("invalid_expiry_month"));
    let year = env
        .post(
            &env.sb.publishable_key,
            "/v1/payment_methods",
            &[
                ("type", "card"),
                ("card[number]", "4242424242424242"),
                ("card[exp_month]", "1"),
                ("card[exp_year]", "2001"),
            ],
        )
        .await;
    assert_eq!(year.error_code(), Some("invalid_expiry_year"));
}

#[tokio::test]
async fn every_decline_card_answers_402_and_leaves_requires_payment_method() {
    let env = start().await;
    let cases = [
        (
            "4000000000000002",
            "card_declined",
            "generic_decline",
            "Your card was declined.",
        ),
        (
            "4000000000009995",
            "card_declined",
            "insufficient_funds",
            "Your card has insufficient funds.",
        ),
        (
            "4000000000009987",
            "card_declined",
            "lost_card",
            "Your card was declined.",
        ),
        (
            "4000000000009979",
            "card_declined",
            "stolen_card",
            "Your card was declined.",
        ),
        (
            "4000000000000069",
            "expired_card",
            "expired_card",
            "Your card has expired.",
        ),
        (
            "4000000000000127",
            "incorrect_cvc",
            "incorrect_cvc",
            "Your card's security code is incorrect.",
        ),
        (
            "4000000000000119",
            "processing_error",
            "processing_error",
            "An error occurred while processing your card. Try again in a little bit.",
        ),
        (
            "4000000000000341",
            "card_declined",
            "generic_decline",
            "Your card was declined.",
        ),
        (
            "4111111111111111",
            "card_declined",
            "test_mode_live_card",
            "",
        ),
    ];
    for (number, code, decline, message) in cases {
        let pm = env.card(number).await;
        let r = env.pay(&pm, "1500", &[]).await;
        assert_eq!(r.status, 402, "{number}: {}", r.body);
        let e = &r.body["error"];
        assert_eq!(e["type"], "card_error", "{number}");
        assert_eq!(e["code"], code, "{number}");
        assert_eq!(e["decline_code"], decline, "{number}");
        if !message.is_empty() {
            assert_eq!(e["message"], message, "{number}");
        }
        assert!(e["charge"].as_str().unwrap().starts_with("ch_"));
        let pi = &e["payment_intent"];
        assert_eq!(pi["status"], "requires_payment_method", "{number}");
        assert_eq!(pi["last_payment_error"]["decline_code"], decline);
        assert_eq!(
            pi["last_payment_error"]["payment_method"]["id"],
            pm.as_str()
        );
        let charge = env
            .get(
                env.sk(),
                &format!("/v1/charges/{}", e["charge"].as_str().unwrap()),
            )
            .await;
        assert_eq!(charge.body["status"], "failed");
        assert_eq!(charge.body["failure_code"], code);
        assert_eq!(charge.body["outcome"]["reason"], decline);
        // The declined card, never attached to a customer, may not be used again.
        let again = env.pay(&pm, "1500", &[]).await;
        assert_eq!(again.status, 400, "{number}");
        assert!(
            again
                .error_message()
                .starts_with("The provided PaymentMethod was previously used"),
            "{}",
            again.body
        );
    }
    assert_eq!(env.sb.counter("charges_failed"), cases.len() as u64);
    assert_eq!(env.sb.counter("charges_succeeded"), 0);
    // The test PaymentMethods decline the same way.
    let r = env
        .pay("pm_card_chargeDeclinedInsufficientFunds", "1500", &[])
        .await;
    assert_eq!(r.body["error"]["decline_code"], "insufficient_funds");
}

#[tokio::test]
async fn three_d_secure_complete_and_fail_through_the_control_endpoints() {
    let env = start().await;
    for number in ["4000002500003155", "4000002760003184", "4000000000003220"] {
        let pm = env.card(number).await;
        let r = env.pay(&pm, "3000", &[]).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body["status"], "requires_action", "{number}");
        let na = &r.body["next_action"];
        assert_eq!(na["type"], "use_stripe_sdk");
        assert_eq!(na["use_stripe_sdk"]["type"], "three_d_secure_redirect");
        let id = r.id();
        let secret = r.body["client_secret"].as_str().unwrap().to_string();
        assert!(secret.starts_with(&format!("{id}_secret_")));
        assert_eq!(
            na["use_stripe_sdk"]["stripe_js"],
            format!(
                "{}/v3/3ds/challenge.html?intent={id}&client_secret={secret}",
                env.sb.url
            )
        );
        assert!(na["use_stripe_sdk"]["source"]
            .as_str()
            .unwrap()
            .starts_with("src_"));
        // A wrong client secret is refused.
        let wrong = env
            .control(
                &format!("/_sandbox/3ds/{id}/complete"),
                json!({"client_secret": "nope"}),
            )
            .await;
        assert_eq!(wrong.status, 401);
        // Form body works as well as JSON.
        let done = env
            .http
            .post(format!("{}/_sandbox/3ds/{id}/complete", env.sb.url))
            .form(&[("client_secret", secret.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(done.status(), 200);
        let pi = env
            .get(env.sk(), &format!("/v1/payment_intents/{id}"))
            .await;
        assert_eq!(pi.body["status"], "succeeded", "{number}");
        let ch = env
            .get(
                env.sk(),
                &format!("/v1/charges/{}", pi.body["latest_charge"].as_str().unwrap()),
            )
            .await;
        assert_eq!(
            ch.body["payment_method_details"]["card"]["three_d_secure"]["result"],
            "authenticated"
        );
        // Completing twice is refused: it is no longer waiting.
        let twice = env
            .control(
                &format!("/_sandbox/3ds/{id}/complete"),
                json!({"client_secret": secret}),
            )
            .await;
        assert_eq!(twice.status, 400);
    }
    // Failing the challenge.
    let pm = env.card("4000002760003184").await;
    let r = env.pay(&pm, "3000", &[]).await;
    let id = r.id();
    let secret = r.body["client_secret"].as_str().unwrap();
    let failed = env
        .control(
            &format!("/_sandbox/3ds/{id}/fail"),
            json!({"client_secret": secret}),
        )
        .await;
    assert_eq!(failed.status, 200);
    assert_eq!(failed.body["status"], "requires_payment_method");
    let pi = env
        .get(env.sk(), &format!("/v1/payment_intents/{id}"))
        .await;
    let err = &pi.body["last_payment_error"];
    assert_eq!(err["type"], "invalid_request_error");
    assert_eq!(err["code"], "payment_intent_authentication_failure");
    assert_eq!(
        err["message"],
        "We are unable to authenticate your payment method. Please choose a different payment method and try again."
    );
    assert_eq!(err["payment_method"]["id"], pm.as_str());
    assert!(
        pi.body["latest_charge"].is_null(),
        "no charge when authentication fails"
    );
}

#[tokio::test]
async fn manual_capture_full_partial_and_over() {
    let env = start().await;
    let r = env
        .pay("pm_card_visa", "5000", &[("capture_method", "manual")])
        .await;
    assert_eq!(r.body["status"], "requires_capture");
    assert_eq!(r.body["amount_capturable"], 5000);
    let id = r.id();
    let charge = r.body["latest_charge"].as_str().unwrap().to_string();
    let c = env.get(env.sk(), &format!("/v1/charges/{charge}")).await;
    assert_eq!(
        (
            c.body["captured"].clone(),
            c.body["amount_captured"].clone()
        ),
        (json!(false), json!(0))
    );
    let over = env
        .post(
            env.sk(),
            &format!("/v1/payment_intents/{id}/capture"),
            &[("amount_to_capture", "6000")],
        )
        .await;
    assert_eq!(over.status, 400);
    let part = env
        .post(
            env.sk(),
            &format!("/v1/payment_intents/{id}/capture"),
            &[("amount_to_capture", "3000")],
        )
        .await;
    assert_eq!(part.status, 200, "{}", part.body);
    assert_eq!(part.body["status"], "succeeded");
    assert_eq!(part.body["amount_received"], 3000);
    assert_eq!(part.body["amount_capturable"], 0);
    let c = env.get(env.sk(), &format!("/v1/charges/{charge}")).await;
    assert_eq!(c.body["captured"], true);
    assert_eq!(c.body["amount_captured"], 3000);
    assert_eq!(
        c.body["amount_refunded"], 2000,
        "Stripe shows the released remainder as refunded"
    );
    assert_eq!(c.body["refunded"], false);
    let again = env
        .post(env.sk(), &format!("/v1/payment_intents/{id}/capture"), &[])
        .await;
    assert_eq!(again.error_code(), Some("payment_intent_unexpected_state"));
    // Full capture.
    let r = env
        .pay(
            "pm_card_mastercard",
            "4000",
            &[("capture_method", "manual")],
        )
        .await;
    let full = env
        .post(
            env.sk(),
            &format!("/v1/payment_intents/{}/capture", r.id()),
            &[],
        )
        .await;
    assert_eq!(full.body["amount_received"], 4000);
    assert_eq!(env.sb.counter("captures"), 2);
}

#[tokio::test]
async fn cancel_releases_the_authorisation() {
    let env = start().await;
    let r = env
        .pay("pm_card_visa", "5000", &[("capture_method", "manual")])
        .await;
    let id = r.id();
    let c = env
        .post(
            env.sk(),
            &format!("/v1/payment_intents/{id}/cancel"),
            &[("cancellation_reason", "requested_by_customer")],
        )
        .await;
    assert_eq!(c.body["status"], "canceled");
    assert_eq!(c.body["cancellation_reason"], "requested_by_customer");
    assert!(c.body["canceled_at"].as_i64().is_some());
    let ch = env
        .get(
            env.sk(),
            &format!("/v1/charges/{}", r.body["latest_charge"].as_str().unwrap()),
        )
        .await;
    assert_eq!(ch.body["refunded"], true);
    let again = env
        .post(env.sk(), &format!("/v1/payment_intents/{id}/cancel"), &[])
        .await;
    assert_eq!(again.error_code(), Some("payment_intent_unexpected_state"));
    // A succeeded PaymentIntent cannot be canceled; an unconfirmed one can.
    let done = env.pay("pm_card_visa", "5000", &[]).await;
    let refused = env
        .post(
            env.sk(),
            &format!("/v1/payment_intents/{}/cancel", done.id()),
            &[],
        )
        .await;
    assert_eq!(refused.status, 400);
    let open = env
        .post(
            env.sk(),
            "/v1/payment_intents",
            &[("amount", "700"), ("currency", "usd")],
        )
        .await;
    assert_eq!(open.body["status"], "requires_payment_method");
    let c = env
        .post(
            env.sk(),
            &format!("/v1/payment_intents/{}/cancel", open.id()),
            &[],
        )
        .await;
    assert_eq!(c.body["status"], "canceled");
}

#[tokio::test]
async fn uncaptured_payment_intents_expire_after_seven_days_of_sandbox_clock() {
    let env = start().await;
    let hook = receiver(&[]).await;
    endpoint(
        &env,
        &hook.url,
        &["charge.expired", "payment_intent.canceled"],
    )
    .await;
    let r = env
        .pay("pm_card_visa", "5000", &[("capture_method", "manual")])
        .await;
    let id = r.id();
    assert_eq!(
        env.sb.advance_clock(6 * 86_400).unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(
        env.get(env.sk(), &format!("/v1/payment_intents/{id}"))
            .await
            .body["status"],
        "requires_capture"
    );
    let adv = env
        .control("/_sandbox/clock/advance", json!({"seconds": 86_400}))
        .await;
    assert_eq!(adv.body["expired"], json!([id]));
    let pi = env
        .get(env.sk(), &format!("/v1/payment_intents/{id}"))
        .await;
    assert_eq!(pi.body["status"], "canceled");
    assert_eq!(pi.body["cancellation_reason"], "automatic");
    let hits = hook.wait_until(5, |h| h.len() >= 2).await;
    let types: Vec<_> = hits
        .iter()
        .map(|h| h.json()["type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(types, ["charge.expired", "payment_intent.canceled"]);
    assert!(
        hits[0].json()["request"]["id"].is_null(),
        "automatic events have no request"
    );
    let capture = env
        .post(env.sk(), &format!("/v1/payment_intents/{id}/capture"), &[])
        .await;
    assert_eq!(capture.status, 400);
}

#[tokio::test]
async fn stripe_js_flow_with_the_publishable_key_and_client_secret() {
    let env = start().await;
    let pk = env.sb.publishable_key.clone();
    let created = env
        .post(
            env.sk(),
            "/v1/payment_intents",
            &[
                ("amount", "1200"),
                ("currency", "eur"),
                ("payment_method_types[]", "card"),
                ("metadata[booking]", "b1"),
            ],
        )
        .await;
    let id = created.id();
    let secret = created.body["client_secret"].as_str().unwrap().to_string();
    // Without the client secret a publishable key is refused; with a wrong one too.
    let no_secret = env.get(&pk, &format!("/v1/payment_intents/{id}")).await;
    assert_eq!(no_secret.status, 401);
    let wrong = env
        .get(
            &pk,
            &format!("/v1/payment_intents/{id}?client_secret={id}_secret_x"),
        )
        .await;
    assert_eq!(wrong.status, 400);
    let seen = env
        .get(
            &pk,
            &format!("/v1/payment_intents/{id}?client_secret={secret}"),
        )
        .await;
    assert_eq!(seen.status, 200);
    assert!(
        seen.body.get("metadata").is_none() && seen.body.get("customer").is_none(),
        "publishable keys see less"
    );
    // Confirm with payment_method_data (a card element) and the key as Stripe.js sends it.
    let r = env
        .http
        .post(format!("{}/v1/payment_intents/{id}/confirm", env.sb.url))
        .form(&[
            ("key", pk.as_str()),
            ("client_secret", secret.as_str()),
            ("payment_method_data[type]", "card"),
            ("payment_method_data[card][number]", "4242424242424242"),
            ("payment_method_data[card][exp_month]", "12"),
            ("payment_method_data[card][exp_year]", "2039"),
            ("payment_method_data[card][cvc]", "123"),
            (
                "payment_method_data[billing_details][email]",
                "a@example.com",
            ),
            ("payment_user_agent", "stripe.js/sandbox"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let pi = env
        .get(
            env.sk(),
            &format!("/v1/payment_intents/{id}?expand[]=payment_method"),
        )
        .await;
    assert_eq!(pi.body["status"], "succeeded");
    assert_eq!(
        pi.body["payment_method"]["billing_details"]["email"],
        "a@example.com"
    );
    // A publishable key cannot capture, list or create PaymentIntents.
    assert_eq!(
        env.post(
            &pk,
            "/v1/payment_intents",
            &[("amount", "100"), ("currency", "usd")]
        )
        .await
        .status,
        401
    );
}

#[tokio::test]
async fn saved_cards_and_off_session_payments() {
    let env = start().await;
    let cus = env
        .post(
            env.sk(),
            "/v1/customers",
            &[("email", "client@example.com")],
        )
        .await
        .id();
    // 3155: authenticate on session while saving it; then off-session works.
    let pm = env.card("4000002500003155").await;
    let r = env
        .pay(
            &pm,
            "2500",
            &[("customer", &cus), ("setup_future_usage", "off_session")],
        )
        .await;
    assert_eq!(r.body["status"], "requires_action");
    env.sb
        .three_ds(&r.id(), r.body["client_secret"].as_str().unwrap(), true)
        .unwrap();
    let listed = env
        .get(
            env.sk(),
            &format!("/v1/payment_methods?customer={cus}&type=card"),
        )
        .await;
    assert_eq!(
        listed.body["data"][0]["id"],
        pm.as_str(),
        "saved to the customer"
    );
    let off = env
        .pay(&pm, "800", &[("customer", &cus), ("off_session", "true")])
        .await;
    assert_eq!(off.body["status"], "succeeded", "{}", off.body);
    // 3184 always needs authentication: off-session it is declined authentication_required.
    let pm2 = env.card("4000002760003184").await;
    env.post(
        env.sk(),
        &format!("/v1/payment_methods/{pm2}/attach"),
        &[("customer", &cus)],
    )
    .await;
    let off = env
        .pay(&pm2, "800", &[("customer", &cus), ("off_session", "true")])
        .await;
    assert_eq!(off.status, 402);
    assert_eq!(off.body["error"]["code"], "authentication_required");
    assert_eq!(off.body["error"]["decline_code"], "authentication_required");
    assert_eq!(
        off.body["error"]["payment_intent"]["status"],
        "requires_payment_method"
    );
    // 0341 attaches, then charges fail; a generic decline card does not even attach.
    let pm3 = env.card("4000000000000341").await;
    let att = env
        .post(
            env.sk(),
            &format!("/v1/payment_methods/{pm3}/attach"),
            &[("customer", &cus)],
        )
        .await;
    assert_eq!(att.body["customer"], cus.as_str());
    assert_eq!(
        env.pay(&pm3, "800", &[("customer", &cus)]).await.status,
        402
    );
    let pm4 = env.card("4000000000000002").await;
    let att = env
        .post(
            env.sk(),
            &format!("/v1/payment_methods/{pm4}/attach"),
            &[("customer", &cus)],
        )
        .await;
    assert_eq!(
        (att.status, att.body["error"]["decline_code"].as_str()),
        (402, Some("generic_decline"))
    );
    // An attached card cannot be used without its customer; a detached one not at all.
    let wrong = env.pay(&pm, "800", &[]).await;
    assert_eq!(wrong.status, 400);
    env.post(env.sk(), &format!("/v1/payment_methods/{pm}/detach"), &[])
        .await;
    assert_eq!(env.pay(&pm, "800", &[]).await.status, 400);
}

#[tokio::test]
async fn setup_intents_save_a_card_with_and_without_3ds() {
    let env = start().await;
    let cus = env
        .post(env.sk(), "/v1/customers", &[("email", "x@example.com")])
        .await
        .id();
    let si = env
        .post(
            env.sk(),
            "/v1/setup_intents",
            &[
                ("customer", &cus),
                ("payment_method", "pm_card_visa"),
                ("confirm", "true"),
            ],
        )
        .await;
    assert_eq!(si.body["status"], "succeeded", "{}", si.body);
    assert_eq!(si.body["usage"], "off_session");
    let pm = si.body["payment_method"].as_str().unwrap().to_string();
    assert_eq!(
        env.get(env.sk(), &format!("/v1/payment_methods/{pm}"))
            .await
            .body["customer"],
        cus.as_str()
    );
    // 3155 set up through a SetupIntent with 3-D Secure, then charged off-session.
    let card = env.card("4000002500003155").await;
    let si = env
        .post(env.sk(), "/v1/setup_intents", &[("customer", &cus)])
        .await;
    let secret = si.body["client_secret"].as_str().unwrap().to_string();
    let pk = env.sb.publishable_key.clone();
    let c = env
        .post(
            &pk,
            &format!("/v1/setup_intents/{}/confirm", si.id()),
            &[("client_secret", &secret), ("payment_method", &card)],
        )
        .await;
    assert_eq!(c.body["status"], "requires_action", "{}", c.body);
    assert!(c.body["next_action"]["use_stripe_sdk"]["stripe_js"]
        .as_str()
        .unwrap()
        .contains(&si.id()));
    let done = env
        .control(
            &format!("/_sandbox/3ds/{}/complete", si.id()),
            json!({"client_secret": secret}),
        )
        .await;
    assert_eq!(done.body["status"], "succeeded");
    let off = env
        .pay(&card, "900", &[("customer", &cus), ("off_session", "true")])
        .await;
    assert_eq!(off.body["status"], "succeeded");
    // Failing a SetupIntent's challenge.
    let card = env.card("4000002760003184").await;
    let si = env
        .post(
            env.sk(),
            "/v1/setup_intents",
            &[
                ("customer", &cus),
                ("payment_method", &card),
                ("confirm", "true"),
            ],
        )
        .await;
    let failed = env
        .sb
        .three_ds(&si.id(), si.body["client_secret"].as_str().unwrap(), false)
        .unwrap();
    assert_eq!(failed["status"], "requires_payment_method");
    let got = env
        .get(env.sk(), &format!("/v1/setup_intents/{}", si.id()))
        .await;
    assert_eq!(
        got.body["last_setup_error"]["code"],
        "setup_intent_authentication_failure"
    );
    // A declining card fails the setup with a 402 carrying the SetupIntent.
    let card = env.card("4000000000009995").await;
    let si = env
        .post(
            env.sk(),
            "/v1/setup_intents",
            &[
                ("customer", &cus),
                ("payment_method", &card),
                ("confirm", "true"),
            ],
        )
        .await;
    assert_eq!(si.status, 402);
    assert_eq!(
        si.body["error"]["setup_intent"]["status"],
        "requires_payment_method"
    );
}

#[tokio::test]
async fn update_list_and_unexpected_states() {
    let env = start().await;
    let r = env
        .post(
            env.sk(),
            "/v1/payment_intents",
            &[
                ("amount", "1000"),
                ("currency", "usd"),
                ("payment_method_types[]", "card"),
                ("description", "Cut"),
            ],
        )
        .await;
    let id = r.id();
    let u = env
        .post(
            env.sk(),
            &format!("/v1/payment_intents/{id}"),
            &[
                ("amount", "1500"),
                ("metadata[k]", "v"),
                ("payment_method", "pm_card_visa"),
            ],
        )
        .await;
    assert_eq!(u.body["amount"], 1500);
    assert_eq!(u.body["status"], "requires_confirmation");
    assert_eq!(u.body["metadata"]["k"], "v");
    let c = env
        .post(env.sk(), &format!("/v1/payment_intents/{id}/confirm"), &[])
        .await;
    assert_eq!(c.body["status"], "succeeded");
    let again = env
        .post(env.sk(), &format!("/v1/payment_intents/{id}/confirm"), &[])
        .await;
    assert_eq!(again.error_code(), Some("payment_intent_unexpected_state"));
    let amount = env
        .post(
            env.sk(),
            &format!("/v1/payment_intents/{id}"),
            &[("amount", "2000")],
        )
        .await;
    assert_eq!(amount.error_code(), Some("payment_intent_unexpected_state"));
    let meta = env
        .post(
            env.sk(),
            &format!("/v1/payment_intents/{id}"),
            &[("metadata[k]", "")],
        )
        .await;
    assert_eq!(meta.body["metadata"], json!({}));
    let missing = env
        .post(
            env.sk(),
            "/v1/payment_intents",
            &[
                ("amount", "1000"),
                ("currency", "usd"),
                ("payment_method_types[]", "card"),
                ("confirm", "true"),
            ],
        )
        .await;
    assert_eq!(
        missing.error_code(),
        Some("payment_intent_unexpected_state")
    );
    let list = env.get(env.sk(), "/v1/payment_intents?limit=1").await;
    assert_eq!(list.body["object"], "list");
    assert_eq!(list.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(list.body["has_more"], true);
    let next = env
        .get(
            env.sk(),
            &format!(
                "/v1/payment_intents?limit=5&starting_after={}",
                list.body["data"][0]["id"].as_str().unwrap()
            ),
        )
        .await;
    assert_eq!(next.body["data"].as_array().unwrap().len(), 1);
    let by_pi = env
        .get(env.sk(), &format!("/v1/charges?payment_intent={id}"))
        .await;
    assert_eq!(by_pi.body["data"].as_array().unwrap().len(), 1);
    let unknown = env
        .post(
            env.sk(),
            "/v1/payment_intents",
            &[("amount", "1000"), ("currency", "usd"), ("amout", "1")],
        )
        .await;
    assert_eq!(
        (unknown.status, unknown.error_message()),
        (400, "Received unknown parameter: amout")
    );
    let nope = env.get(env.sk(), "/v1/payment_intents/pi_nope").await;
    assert_eq!(
        (nope.status, nope.error_code()),
        (404, Some("resource_missing"))
    );
    assert_eq!(nope.error_message(), "No such payment_intent: 'pi_nope'");
    assert!(nope.header("request-id").unwrap().starts_with("req_"));
}
