//! Paying a checkout against stripe-sandbox: success and replay, each decline card then a
//! good card, 3-D Secure passed and failed, amounts refused before Stripe is called, an
//! expired link, a disabled brand, idempotency keys, the catalogue checkout of the
//! script-tag embed and its save-card offer, and a merchant that does not take payments.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{both_backends, TestApp};

both_backends!(
    pay_succeeds_and_replays,
    each_decline_then_a_good_card,
    three_d_secure_fail_then_pass,
    amounts_refused_before_stripe,
    expired_link_and_resend,
    disabled_brand_is_refused,
    idempotency_keys_are_required_and_bound,
    catalogue_checkout_offers_to_save_the_card,
    payments_unavailable_when_off,
);

async fn pay_succeeds_and_replays(app: TestApp) {
    let m = app.pay_merchant(None).await;
    let token = app
        .checkout(
            &m.id,
            json!({"amount": 2500, "currency": "eur", "description": "Haircut, Tue 14:00",
                   "booking_ref": "BK-1042", "link": true}),
        )
        .await;
    let view = app.get(&format!("/v1/checkouts/{token}")).await.expect(200);
    assert_eq!(view.json["status"], "open");
    assert_eq!(view.json["amount"], 2500);
    assert_eq!(view.json["currency"], "eur");
    assert_eq!(view.json["merchant_name"], "Salon Léa");
    assert_eq!(view.json["minimum_amount"], 50);
    assert_eq!(view.json["mode"], "sandbox");
    assert_eq!(view.json["publishable_key"], app.sandbox.publishable_key);
    assert!(view.json.get("save_card").is_none());

    let pm = app.card("4242424242424242").await;
    let paid = app.pay(&token, &pm, "attempt-1").await.expect(200);
    assert_eq!(paid.json["status"], "succeeded", "{}", paid.text);
    assert_eq!(
        paid.json["receipt"],
        json!({"method": "card", "brand": "visa", "last4": "4242", "amount": 2500, "currency": "eur",
               "reference": "BK-1042"})
    );
    // The same key replays the same answer; another key finds it paid.
    let again = app.pay(&token, &pm, "attempt-1").await.expect(200);
    assert_eq!(again.text, paid.text);
    let pm2 = app.card("4242424242424242").await;
    app.pay(&token, &pm2, "attempt-2")
        .await
        .expect_error(409, "checkout_already_paid", None);
    let view = app.get(&format!("/v1/checkouts/{token}")).await.expect(200);
    assert_eq!(view.json["status"], "paid");
    assert_eq!(view.json["receipt"]["last4"], "4242");
    assert_eq!(app.sandbox.counter("payment_intents_created"), 1);
    assert_eq!(app.sandbox.counter("charges_succeeded"), 1);
    let stored = app.stored(&token).await;
    assert_eq!(stored.customer_email.as_deref(), Some("lea@example.com"));
    assert_eq!(stored.amount_captured, 2500);
    // The PaymentIntent carries the receipt address and the checkout's metadata.
    let pi = app
        .stripe_get(
            &app.sandbox.secret_key,
            &format!("/v1/payment_intents/{}", stored.payment_intent_id.unwrap()),
        )
        .await;
    assert_eq!(pi["receipt_email"], "lea@example.com");
    assert_eq!(pi["metadata"]["slotpay_checkout"], token.as_str());
    // The webhooks that follow change nothing.
    app.settle_webhooks().await;
    let after = app.stored(&token).await;
    assert_eq!(after.status.as_str(), "paid");
    let detail = app
        .get(&format!("/v1/admin/checkouts/{token}"))
        .await
        .expect(200);
    let types: Vec<&str> = detail.json["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert!(types.contains(&"payment_intent.succeeded"), "{types:?}");
    assert!(types.contains(&"charge.succeeded"), "{types:?}");
}

async fn each_decline_then_a_good_card(app: TestApp) {
    let m = app.pay_merchant(None).await;
    let token = app
        .checkout(
            &m.id,
            json!({"amount": 1000, "currency": "usd", "description": "Nails"}),
        )
        .await;
    let cases = [
        ("4000000000000002", "generic_decline"),
        ("4000000000009995", "insufficient_funds"),
        ("4000000000009987", "lost_card"),
        ("4000000000009979", "stolen_card"),
        ("4000000000000069", "expired_card"),
        ("4000000000000127", "incorrect_cvc"),
        ("4000000000000119", "processing_error"),
    ];
    for (i, (number, decline)) in cases.iter().enumerate() {
        let pm = app.card(number).await;
        let r = app.pay(&token, &pm, &format!("k{i}")).await.expect(402);
        assert_eq!(r.json["status"], "failed", "{number}: {}", r.text);
        assert_eq!(r.json["error"]["code"], "card_declined", "{number}");
        assert_eq!(r.json["error"]["decline_code"], *decline, "{number}");
        assert!(!r.json["error"]["message"].as_str().unwrap().is_empty());
        assert_eq!(app.stored(&token).await.status.as_str(), "failed");
        // Replayed for the same key.
        let again = app.pay(&token, &pm, &format!("k{i}")).await.expect(402);
        assert_eq!(again.text, r.text);
    }
    let pm = app.card("4242424242424242").await;
    let ok = app.pay(&token, &pm, "good").await.expect(200);
    assert_eq!(ok.json["status"], "succeeded");
    assert_eq!(app.sandbox.counter("payment_intents_created"), 1);
    assert_eq!(app.sandbox.counter("charges_succeeded"), 1);
    assert_eq!(app.sandbox.counter("charges_failed"), cases.len() as u64);
}

async fn three_d_secure_fail_then_pass(app: TestApp) {
    let m = app.pay_merchant(None).await;
    let token = app
        .checkout(
            &m.id,
            json!({"amount": 3000, "currency": "eur", "description": "Colour"}),
        )
        .await;
    let pm = app.card("4000002760003184").await;
    let r = app.pay(&token, &pm, "a1").await.expect(200);
    assert_eq!(r.json["status"], "requires_action", "{}", r.text);
    let secret = r.json["client_secret"].as_str().unwrap().to_owned();
    let pi = app.stored(&token).await.payment_intent_id.unwrap();
    assert!(secret.starts_with(&pi));
    assert_eq!(app.stored(&token).await.status.as_str(), "requires_action");
    app.sandbox.three_ds(&pi, &secret, false).unwrap();
    let failed = app
        .request(
            Method::POST,
            &format!("/v1/checkouts/{token}/refresh"),
            None,
            &[],
        )
        .await
        .expect(402);
    assert_eq!(failed.json["status"], "failed");
    assert_eq!(failed.json["error"]["code"], "authentication_required");
    // Another try passes the challenge.
    let pm = app.card("4000002760003184").await;
    let r = app.pay(&token, &pm, "a2").await.expect(200);
    assert_eq!(r.json["status"], "requires_action");
    let secret = r.json["client_secret"].as_str().unwrap().to_owned();
    app.sandbox.three_ds(&pi, &secret, true).unwrap();
    let ok = app
        .request(
            Method::POST,
            &format!("/v1/checkouts/{token}/refresh"),
            None,
            &[],
        )
        .await
        .expect(200);
    assert_eq!(ok.json["status"], "succeeded", "{}", ok.text);
    assert_eq!(ok.json["receipt"]["last4"], "3184");
    assert_eq!(app.sandbox.counter("payment_intents_created"), 1);
    assert_eq!(app.sandbox.counter("charges_succeeded"), 1);
}

async fn amounts_refused_before_stripe(app: TestApp) {
    let m = app.pay_merchant(None).await;
    let path = format!("/v1/admin/merchants/{}/checkouts", m.id);
    for (amount, currency, message) in [
        (49, "usd", "Your payment must be no less than 0.50 USD"),
        (29, "gbp", "Your payment must be no less than 0.30 GBP"),
        (49, "jpy", "Your payment must be no less than 50 JPY"),
    ] {
        let r = app
            .post(
                &path,
                json!({"amount": amount, "currency": currency, "description": "x"}),
            )
            .await
            .expect_error(400, "amount_too_small", Some("amount"));
        assert_eq!(r.json["error"]["message"], message);
    }
    app.post(
        &path,
        json!({"amount": "5.125", "currency": "kwd", "description": "x"}),
    )
    .await
    .expect_error(400, "invalid_amount_step", Some("amount"));
    // Refused again when paying (a checkout whose amount became unchargeable), before any
    // call to Stripe.
    let token = app
        .checkout(
            &m.id,
            json!({"amount": 500, "currency": "usd", "description": "x"}),
        )
        .await;
    sqlx::query("UPDATE checkouts SET amount = 49 WHERE token = $1")
        .bind(&token)
        .execute(app.state.db.pool())
        .await
        .unwrap();
    let pm = app.card("4242424242424242").await;
    let r = app
        .pay(&token, &pm, "k")
        .await
        .expect_error(400, "amount_too_small", Some("amount"));
    assert_eq!(
        r.json["error"]["message"],
        "Your payment must be no less than 0.50 USD"
    );
    assert_eq!(app.sandbox.counter("payment_intents_created"), 0);
    // Three decimals ending in 0 are fine and reach Stripe in fils.
    let kwd = app
        .checkout(
            &m.id,
            json!({"amount": "5.120", "currency": "kwd", "description": "x"}),
        )
        .await;
    assert_eq!(app.stored(&kwd).await.amount.minor(), 5120);
    let pm = app.card("4242424242424242").await;
    let r = app.pay(&kwd, &pm, "k").await.expect(200);
    assert_eq!(r.json["receipt"]["amount"], 5120);
    // A currency outside core's table: Stripe's amount_too_small in core's words.
    let php = app
        .checkout(
            &m.id,
            json!({"amount": 100, "currency": "php", "description": "x"}),
        )
        .await;
    let pm = app.card("4242424242424242").await;
    let r = app
        .pay(&php, &pm, "k")
        .await
        .expect_error(400, "amount_too_small", Some("amount"));
    assert!(
        r.json["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Your payment must be no less than 0.50 USD"),
        "{}",
        r.text
    );
    assert_eq!(app.stored(&php).await.status.as_str(), "open");
}

async fn expired_link_and_resend(app: TestApp) {
    let m = app.pay_merchant(None).await;
    let token = app
        .checkout(
            &m.id,
            json!({"amount": 1500, "currency": "eur", "description": "Cut", "link": true}),
        )
        .await;
    let created = app
        .get(&format!("/v1/admin/checkouts/{token}"))
        .await
        .expect(200);
    assert_eq!(
        created.json["url"].as_str().unwrap(),
        format!("{}/pay/{token}", app.url)
    );
    let week =
        created.json["expires_at"].as_i64().unwrap() - created.json["created_at"].as_i64().unwrap();
    assert_eq!(week, 7 * 86_400);
    sqlx::query("UPDATE checkouts SET expires_at = 1000 WHERE token = $1")
        .bind(&token)
        .execute(app.state.db.pool())
        .await
        .unwrap();
    app.get(&format!("/v1/checkouts/{token}"))
        .await
        .expect_error(410, "checkout_expired", None);
    let pm = app.card("4242424242424242").await;
    app.pay(&token, &pm, "k")
        .await
        .expect_error(410, "checkout_expired", None);
    let page = app.get(&format!("/pay/{token}")).await.expect(410);
    assert!(
        page.text.contains("This payment link has expired"),
        "{}",
        page.text
    );
    let listed = app
        .get(&format!(
            "/v1/admin/merchants/{}/checkouts?status=expired",
            m.id
        ))
        .await
        .expect(200);
    assert_eq!(listed.json["data"][0]["token"], token.as_str());
    // Resent with a new expiry, it can be paid.
    let r = app
        .post(
            &format!("/v1/admin/checkouts/{token}/resend"),
            json!({"expires_in": 3600}),
        )
        .await
        .expect(200);
    assert_eq!(r.json["status"], "open");
    app.pay(&token, &pm, "k2").await.expect(200);
    assert_eq!(app.sandbox.counter("payment_intents_created"), 1);
}

async fn disabled_brand_is_refused(app: TestApp) {
    let m = app.pay_merchant(Some(&["visa", "mastercard"])).await;
    let token = app
        .checkout(
            &m.id,
            json!({"amount": 2000, "currency": "usd", "description": "x"}),
        )
        .await;
    let view = app.get(&format!("/v1/checkouts/{token}")).await.expect(200);
    assert_eq!(view.json["card_brands"], json!(["visa", "mastercard"]));
    let amex = app.card("378282246310005").await;
    let r = app.pay(&token, &amex, "k1").await.expect_error(
        402,
        "card_brand_not_accepted",
        Some("payment_method"),
    );
    assert!(r.json["error"]["message"]
        .as_str()
        .unwrap()
        .contains("American Express"));
    assert_eq!(app.sandbox.counter("payment_intents_created"), 0);
    assert_eq!(app.stored(&token).await.status.as_str(), "open");
    let mc = app.card("5555555555554444").await;
    let ok = app.pay(&token, &mc, "k2").await.expect(200);
    assert_eq!(ok.json["receipt"]["brand"], "mastercard");
}

async fn idempotency_keys_are_required_and_bound(app: TestApp) {
    let m = app.pay_merchant(None).await;
    let token = app
        .checkout(
            &m.id,
            json!({"amount": 2000, "currency": "usd", "description": "x"}),
        )
        .await;
    let pm = app.card("4000000000000002").await;
    app.pay(&token, &pm, "")
        .await
        .expect_error(400, "missing_idempotency_key", None);
    app.pay(&token, &pm, "same").await.expect(402);
    let other = app.card("4242424242424242").await;
    app.pay(&token, &other, "same")
        .await
        .expect_error(409, "idempotency_conflict", None);
    app.pay("cs_doesnotexistdoesnotexistxx", &other, "k")
        .await
        .expect_error(404, "checkout_not_found", None);
    app.get("/v1/checkouts/not-a-token")
        .await
        .expect_error(404, "checkout_not_found", None);
    let r = app
        .request(
            Method::POST,
            &format!("/v1/checkouts/{token}/pay"),
            Some(json!({"payment_method": "tok_visa", "email": "a@b.co"})),
            &[("idempotency-key", "k9")],
        )
        .await;
    r.expect(400);
}

async fn catalogue_checkout_offers_to_save_the_card(app: TestApp) {
    let m = app.pay_merchant(None).await;
    let svc = app
        .service(
            &m.id,
            json!({"name": "Balayage", "price": "120.00", "currency": "eur",
                   "prepayment": {"type": "percent", "percent": 25}, "cancellation_fee": "30.00"}),
        )
        .await;
    let path = format!("/v1/merchants/{}/checkouts", m.id);
    let r = app
        .request(
            Method::POST,
            &path,
            Some(json!({"service_id": svc})),
            &[("origin", "https://salon.example")],
        )
        .await
        .expect(201);
    assert_eq!(
        r.headers["access-control-allow-origin"],
        "https://salon.example"
    );
    assert_eq!(r.json["amount"], 3000);
    assert_eq!(r.json["description"], "Balayage");
    let consent = r.json["save_card"]["consent_text"].as_str().unwrap();
    assert!(
        consent.contains("€30.00") && consent.contains("Salon Léa"),
        "{consent}"
    );
    let token = r.json["token"].as_str().unwrap().to_owned();
    // Another origin is refused, for the checkout's own routes too.
    app.request(
        Method::POST,
        &path,
        Some(json!({"service_id": svc})),
        &[("origin", "https://evil.example")],
    )
    .await
    .expect_error(403, "forbidden_origin", None);
    app.request(
        Method::GET,
        &format!("/v1/checkouts/{token}"),
        None,
        &[("origin", "https://evil.example")],
    )
    .await
    .expect_error(403, "forbidden_origin", None);
    let ok = app
        .request(
            Method::GET,
            &format!("/v1/checkouts/{token}"),
            None,
            &[("origin", "https://salon.example")],
        )
        .await
        .expect(200);
    assert_eq!(
        ok.headers["access-control-allow-origin"],
        "https://salon.example"
    );
    app.request(
        Method::POST,
        &path,
        Some(json!({"service_id": "svc_nope"})),
        &[],
    )
    .await
    .expect_error(404, "not_found", None);
    // Paying with consent saves the card on a Customer.
    let pm = app.card("4242424242424242").await;
    let paid = app.pay_at(None, &token, &pm, "k", true).await.expect(200);
    assert_eq!(paid.json["status"], "succeeded");
    let stored = app.stored(&token).await;
    assert!(stored.saved_card.is_some());
    // Without an offer, save_card is refused.
    let plain = app
        .checkout(
            &m.id,
            json!({"amount": 2000, "currency": "eur", "description": "x"}),
        )
        .await;
    let pm = app.card("4242424242424242").await;
    app.pay_at(None, &plain, &pm, "k", true).await.expect_error(
        400,
        "invalid_request",
        Some("save_card"),
    );
}

async fn payments_unavailable_when_off(app: TestApp) {
    let m = app.pay_merchant(None).await;
    let token = app
        .checkout(
            &m.id,
            json!({"amount": 2000, "currency": "eur", "description": "x"}),
        )
        .await;
    app.post(
        &format!("/v1/admin/merchants/{}/integration/deactivate", m.id),
        json!({}),
    )
    .await
    .expect(200);
    app.get(&format!("/v1/checkouts/{token}"))
        .await
        .expect_error(409, "payments_unavailable", None);
    let pm = app.card("4242424242424242").await;
    app.pay(&token, &pm, "k")
        .await
        .expect_error(409, "payments_unavailable", None);
    assert_eq!(app.sandbox.counter("payment_intents_created"), 0);
}
