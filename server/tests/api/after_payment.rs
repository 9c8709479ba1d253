//! After the payment: refunds (more than remains refused, partial then full), manual
//! capture (full, partial) and cancel, canceling an unpaid checkout, cancellation fees
//! (charged, declined, authentication required), and the reconciler (a payment finished at
//! Stripe while webhooks were lost; authorisations lapsing after 7 days).

use reqwest::Method;
use serde_json::{json, Value};
use slotpay_server::domain::reconcile;
use stripe_sandbox::Knobs;

use crate::helpers::{both_backends, TestApp};

both_backends!(
    refunds_partial_then_full,
    capture_and_cancel,
    cancel_an_unpaid_checkout,
    cancellation_fees,
    reconciler_settles_and_expires,
);

fn now() -> i64 {
    slotpay_server::db::now()
}

async fn refund(
    app: &TestApp,
    token: &str,
    amount: Option<i64>,
    key: &str,
) -> crate::helpers::Resp {
    let body = match amount {
        Some(a) => json!({"amount": a}),
        None => json!({}),
    };
    app.request(
        Method::POST,
        &format!("/v1/admin/checkouts/{token}/refunds"),
        Some(body),
        &[("idempotency-key", key)],
    )
    .await
}

async fn paid_checkout(app: &TestApp, merchant: &str, body: Value, card: &str) -> String {
    let token = app.checkout(merchant, body).await;
    let pm = app.card(card).await;
    app.pay(&token, &pm, "pay").await.expect(200);
    token
}

async fn refunds_partial_then_full(app: TestApp) {
    let m = app.pay_merchant(None).await;
    let token = paid_checkout(
        &app,
        &m.id,
        json!({"amount": 10000, "currency": "eur", "description": "x"}),
        "4242424242424242",
    )
    .await;
    app.request(
        Method::POST,
        &format!("/v1/admin/checkouts/{token}/refunds"),
        Some(json!({"amount": 100})),
        &[],
    )
    .await
    .expect_error(400, "missing_idempotency_key", None);
    let r = refund(&app, &token, Some(10001), "too-much").await;
    let r = r.expect_error(409, "refund_exceeds_remaining", Some("amount"));
    assert!(
        r.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("100.00 EUR"),
        "{}",
        r.text
    );
    // Stripe's reason: one of its three, passed to Stripe and recorded.
    app.request(
        Method::POST,
        &format!("/v1/admin/checkouts/{token}/refunds"),
        Some(json!({"amount": 100, "reason": "changed_my_mind"})),
        &[("idempotency-key", "odd-reason")],
    )
    .await
    .expect_error(400, "invalid_request", Some("reason"));
    let part = app
        .request(
            Method::POST,
            &format!("/v1/admin/checkouts/{token}/refunds"),
            Some(json!({"amount": 2500, "reason": "requested_by_customer"})),
            &[("idempotency-key", "r1")],
        )
        .await
        .expect(200);
    assert_eq!(part.json["refunds"][0]["reason"], "requested_by_customer");
    let stripe_id = part.json["refunds"][0]["stripe_refund_id"]
        .as_str()
        .unwrap();
    let at_stripe = app
        .stripe_get(&app.sandbox.secret_key, &format!("/v1/refunds/{stripe_id}"))
        .await;
    assert_eq!(at_stripe["reason"], "requested_by_customer", "{at_stripe}");
    assert_eq!(part.json["status"], "partially_refunded");
    assert_eq!(part.json["amount_refunded"], 2500);
    assert_eq!(part.json["amount_refundable"], 7500);
    // The same key again: the same refund, not a second one.
    let again = refund(&app, &token, Some(2500), "r1").await.expect(200);
    assert_eq!(again.json["amount_refunded"], 2500);
    refund(&app, &token, Some(3000), "r1")
        .await
        .expect_error(409, "idempotency_conflict", None);
    app.request(
        Method::POST,
        &format!("/v1/admin/checkouts/{token}/refunds"),
        Some(json!({"amount": 2500, "reason": "fraudulent"})),
        &[("idempotency-key", "r1")],
    )
    .await
    .expect_error(409, "idempotency_conflict", None);
    let r = refund(&app, &token, Some(8000), "r2").await.expect_error(
        409,
        "refund_exceeds_remaining",
        Some("amount"),
    );
    assert!(r.json["error"]["message"]
        .as_str()
        .unwrap()
        .contains("75.00 EUR"));
    let full = refund(&app, &token, None, "r3").await.expect(200);
    assert_eq!(full.json["status"], "refunded");
    assert_eq!(full.json["amount_refunded"], 10000);
    let refunds = full.json["refunds"].as_array().unwrap();
    assert_eq!(refunds.len(), 2);
    assert!(refunds
        .iter()
        .all(|r| r["status"] == "succeeded" && r["stripe_refund_id"].is_string()));
    let reasons: Vec<&Value> = refunds.iter().map(|r| &r["reason"]).collect();
    assert!(
        reasons.contains(&&json!("requested_by_customer")) && reasons.contains(&&Value::Null),
        "the second refund gave no reason: {reasons:?}"
    );
    refund(&app, &token, Some(1), "r4").await.expect_error(
        409,
        "refund_exceeds_remaining",
        Some("amount"),
    );
    assert_eq!(app.sandbox.counter("refunds"), 2);
    // Two refunds racing for what remains cannot both pass.
    let t2 = paid_checkout(
        &app,
        &m.id,
        json!({"amount": 5000, "currency": "eur", "description": "y"}),
        "4242424242424242",
    )
    .await;
    let (a, b) = tokio::join!(
        refund(&app, &t2, Some(4000), "ra"),
        refund(&app, &t2, Some(4000), "rb")
    );
    let ok = [a.status.as_u16(), b.status.as_u16()];
    assert!(ok.contains(&200) && ok.contains(&409), "{ok:?}");
    assert_eq!(app.stored(&t2).await.amount_refunded, 4000);
    assert_eq!(app.sandbox.counter("refunds"), 3);
    // An unpaid checkout cannot be refunded.
    let open = app
        .checkout(
            &m.id,
            json!({"amount": 5000, "currency": "eur", "description": "z"}),
        )
        .await;
    refund(&app, &open, None, "x")
        .await
        .expect_error(409, "conflict", None);
}

async fn capture_and_cancel(app: TestApp) {
    let m = app.pay_merchant(None).await;
    let body = json!({"amount": 8000, "currency": "eur", "description": "x", "capture": true});
    // Full capture.
    let full = paid_checkout(&app, &m.id, body.clone(), "4242424242424242").await;
    let v = app
        .get(&format!("/v1/admin/checkouts/{full}"))
        .await
        .expect(200);
    assert_eq!(v.json["status"], "authorized");
    assert_eq!(v.json["amount_authorized"], 8000);
    assert_eq!(v.json["capture_method"], "manual");
    refund(&app, &full, None, "early")
        .await
        .expect_error(409, "conflict", None);
    let c = app
        .post(&format!("/v1/admin/checkouts/{full}/capture"), json!({}))
        .await
        .expect(200);
    assert_eq!(c.json["status"], "paid");
    assert_eq!(c.json["amount_captured"], 8000);
    app.post(&format!("/v1/admin/checkouts/{full}/capture"), json!({}))
        .await
        .expect_error(409, "nothing_to_capture", None);
    // Partial capture; then a refund of what was captured, not more.
    let part = paid_checkout(&app, &m.id, body.clone(), "4242424242424242").await;
    app.post(
        &format!("/v1/admin/checkouts/{part}/capture"),
        json!({"amount": 9000}),
    )
    .await
    .expect_error(400, "invalid_amount", Some("amount"));
    let c = app
        .post(
            &format!("/v1/admin/checkouts/{part}/capture"),
            json!({"amount": 5000}),
        )
        .await
        .expect(200);
    assert_eq!(
        (
            c.json["status"].as_str(),
            c.json["amount_captured"].as_i64()
        ),
        (Some("paid"), Some(5000))
    );
    refund(&app, &part, Some(5001), "r").await.expect_error(
        409,
        "refund_exceeds_remaining",
        Some("amount"),
    );
    refund(&app, &part, None, "r2").await.expect(200);
    assert_eq!(app.stored(&part).await.status.as_str(), "refunded");
    // Cancel an authorisation: released at Stripe.
    let held = paid_checkout(&app, &m.id, body, "4242424242424242").await;
    let c = app
        .post(&format!("/v1/admin/checkouts/{held}/cancel"), json!({}))
        .await
        .expect(200);
    assert_eq!(c.json["status"], "canceled");
    let pi = app
        .stripe_get(
            &app.sandbox.secret_key,
            &format!(
                "/v1/payment_intents/{}",
                c.json["payment_intent_id"].as_str().unwrap()
            ),
        )
        .await;
    assert_eq!(pi["status"], "canceled");
    app.post(&format!("/v1/admin/checkouts/{held}/capture"), json!({}))
        .await
        .expect_error(409, "nothing_to_capture", None);
    // A paid checkout is refunded, not canceled.
    app.post(&format!("/v1/admin/checkouts/{full}/cancel"), json!({}))
        .await
        .expect_error(409, "conflict", None);
    assert_eq!(app.sandbox.counter("captures"), 2);
}

async fn cancel_an_unpaid_checkout(app: TestApp) {
    let m = app.pay_merchant(None).await;
    let token = app
        .checkout(
            &m.id,
            json!({"amount": 3000, "currency": "eur", "description": "x", "link": true}),
        )
        .await;
    // A declined attempt made a PaymentIntent; canceling cancels it too.
    let pm = app.card("4000000000000002").await;
    app.pay(&token, &pm, "k").await.expect(402);
    let c = app
        .post(&format!("/v1/admin/checkouts/{token}/cancel"), json!({}))
        .await
        .expect(200);
    assert_eq!(c.json["status"], "canceled");
    let pi = app
        .stripe_get(
            &app.sandbox.secret_key,
            &format!(
                "/v1/payment_intents/{}",
                c.json["payment_intent_id"].as_str().unwrap()
            ),
        )
        .await;
    assert_eq!(pi["status"], "canceled");
    let pm = app.card("4242424242424242").await;
    app.pay(&token, &pm, "k2")
        .await
        .expect_error(410, "checkout_canceled", None);
    app.get(&format!("/v1/checkouts/{token}"))
        .await
        .expect_error(410, "checkout_canceled", None);
    let page = app.get(&format!("/pay/{token}")).await.expect(410);
    assert!(page.text.contains("This payment was canceled"));
    // Without any attempt: nothing at Stripe.
    let fresh = app
        .checkout(
            &m.id,
            json!({"amount": 3000, "currency": "eur", "description": "y"}),
        )
        .await;
    app.post(&format!("/v1/admin/checkouts/{fresh}/cancel"), json!({}))
        .await
        .expect(200);
    assert_eq!(app.stored(&fresh).await.status.as_str(), "canceled");
    app.post(&format!("/v1/admin/checkouts/{fresh}/resend"), json!({}))
        .await
        .expect_error(410, "checkout_canceled", None);
    assert_eq!(app.sandbox.counter("charges_succeeded"), 0);
}

async fn fee(app: &TestApp, token: &str, amount: i64, key: &str) -> crate::helpers::Resp {
    app.request(
        Method::POST,
        &format!("/v1/admin/checkouts/{token}/cancellation-fee"),
        Some(json!({"amount": amount})),
        &[("idempotency-key", key)],
    )
    .await
}

async fn cancellation_fees(app: TestApp) {
    let m = app.pay_merchant(None).await;
    let svc = app
        .service(
            &m.id,
            json!({"name": "Cut", "price": "40.00", "currency": "eur", "cancellation_fee": "20.00",
                   "prepayment": {"type": "fixed", "amount": 1000}}),
        )
        .await;
    let with_card = |card: &'static str| {
        let app = app.clone();
        let svc = svc.clone();
        let merchant = m.id.clone();
        async move {
            let token = app
                .checkout(&merchant, json!({"service_id": svc, "link": true}))
                .await;
            let view = app.get(&format!("/v1/checkouts/{token}")).await.expect(200);
            assert_eq!(view.json["amount"], 1000);
            assert!(view.json["save_card"]["consent_text"]
                .as_str()
                .unwrap()
                .contains("€20.00"));
            let pm = app.card(card).await;
            let r = app.pay_at(None, &token, &pm, "pay", true).await.expect(200);
            (token, r)
        }
    };
    // Charged.
    let (token, _) = with_card("4242424242424242").await;
    let detail = app
        .get(&format!("/v1/admin/checkouts/{token}"))
        .await
        .expect(200);
    assert_eq!(detail.json["card_saved"], true);
    fee(&app, &token, 49, "tiny")
        .await
        .expect_error(400, "amount_too_small", Some("amount"));
    // Half the offer now, half later: together they are what the client agreed to.
    let ok = fee(&app, &token, 1000, "f1").await.expect(200);
    assert_eq!(ok.json["status"], "succeeded");
    assert!(ok.json["payment_intent_id"]
        .as_str()
        .unwrap()
        .starts_with("pi_"));
    let again = fee(&app, &token, 1000, "f1").await.expect(200);
    assert_eq!(again.json["id"], ok.json["id"]);
    let detail = app
        .get(&format!("/v1/admin/checkouts/{token}"))
        .await
        .expect(200);
    assert_eq!(detail.json["cancellation_fees"][0]["status"], "succeeded");

    // Declined: the saved card is one whose charges fail.
    let customer = app.stored(&token).await.saved_card.unwrap().customer;
    let bad = app.card("4000000000000341").await;
    let attached = app
        .stripe_post(
            &app.sandbox.secret_key,
            &format!("/v1/payment_methods/{bad}/attach"),
            &[("customer", customer.as_str())],
        )
        .await;
    assert_eq!(attached["customer"], customer.as_str(), "{attached}");
    sqlx::query("UPDATE checkouts SET saved_payment_method = $1 WHERE token = $2")
        .bind(&bad)
        .bind(&token)
        .execute(app.state.db.pool())
        .await
        .unwrap();
    let declined = fee(&app, &token, 1000, "f2")
        .await
        .expect_error(402, "card_declined", None);
    assert_eq!(declined.json["error"]["decline_code"], "generic_decline");
    // The payments report counts the fee that was charged, not the declined one.
    let report = app
        .get(&format!("/v1/admin/merchants/{}/payments", m.id))
        .await
        .expect(200);
    let row = report.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["token"] == token.as_str())
        .unwrap()
        .clone();
    assert_eq!(row["cancellation_fees"], 1000, "{row}");

    // Authentication required: staff are told to send a payment link.
    let token = app.checkout(&m.id, json!({"service_id": svc})).await;
    let pm = app.card("4000002760003184").await;
    let r = app.pay_at(None, &token, &pm, "pay", true).await.expect(200);
    assert_eq!(r.json["status"], "requires_action");
    let pi = app.stored(&token).await.payment_intent_id.unwrap();
    app.sandbox
        .three_ds(&pi, r.json["client_secret"].as_str().unwrap(), true)
        .unwrap();
    app.request(
        Method::POST,
        &format!("/v1/checkouts/{token}/refresh"),
        None,
        &[],
    )
    .await
    .expect(200);
    let r = fee(&app, &token, 2000, "f3")
        .await
        .expect_error(402, "authentication_required", None);
    assert!(r.json["error"]["message"]
        .as_str()
        .unwrap()
        .contains("payment link"));
    // No card saved: refused before Stripe.
    let plain = app
        .checkout(
            &m.id,
            json!({"amount": 2000, "currency": "eur", "description": "x"}),
        )
        .await;
    fee(&app, &plain, 2000, "f")
        .await
        .expect_error(409, "conflict", None);
}

async fn reconciler_settles_and_expires(app: TestApp) {
    app.sandbox.set_webhook_knobs(Knobs {
        drop_all: true,
        ..Knobs::default()
    });
    let m = app.pay_merchant(None).await;
    // 3-D Secure finished at Stripe; no refresh, no webhook: the reconciler reads it.
    let token = app
        .checkout(
            &m.id,
            json!({"amount": 2500, "currency": "eur", "description": "x"}),
        )
        .await;
    let pm = app.card("4000002760003184").await;
    let r = app.pay(&token, &pm, "k").await.expect(200);
    let pi = app.stored(&token).await.payment_intent_id.unwrap();
    app.sandbox
        .three_ds(&pi, r.json["client_secret"].as_str().unwrap(), true)
        .unwrap();
    let early = reconcile::reconcile(&app.state, now()).await;
    assert_eq!(early.settled, 0, "left alone for a minute");
    let report = reconcile::reconcile(&app.state, now() + 120).await;
    assert_eq!(report.settled, 1);
    assert_eq!(app.stored(&token).await.status.as_str(), "paid");

    // Authorisations: one Stripe still holds, one Stripe let lapse.
    let body = json!({"amount": 5000, "currency": "eur", "description": "x", "capture": true});
    let held = paid_checkout(&app, &m.id, body.clone(), "4242424242424242").await;
    let report = reconcile::reconcile(&app.state, now() + 6 * 86_400).await;
    assert_eq!(report.expired, 0);
    let report = reconcile::reconcile(&app.state, now() + 8 * 86_400).await;
    assert_eq!(report.expired, 1);
    let stored = app.stored(&held).await;
    assert_eq!(stored.status.as_str(), "expired");
    let pi = app
        .stripe_get(
            &app.sandbox.secret_key,
            &format!("/v1/payment_intents/{}", stored.payment_intent_id.unwrap()),
        )
        .await;
    assert_eq!(pi["status"], "canceled", "the hold is released");
    let lapsed = paid_checkout(&app, &m.id, body, "4242424242424242").await;
    app.sandbox.advance_clock(7 * 86_400 + 60).unwrap();
    let report = reconcile::reconcile(&app.state, now() + 8 * 86_400).await;
    assert_eq!(report.expired, 1);
    assert_eq!(app.stored(&lapsed).await.status.as_str(), "expired");
    app.post(&format!("/v1/admin/checkouts/{lapsed}/capture"), json!({}))
        .await
        .expect_error(409, "nothing_to_capture", None);
}
