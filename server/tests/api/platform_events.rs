//! Events to the booking platform: signed webhooks (checked with the Standard Webhooks
//! reference library), retries and their end, resending, endpoint filters, secret rotation,
//! bad input, the events API, and holds that lapse.

use serde_json::{json, Value};
use slotpay_core::CheckoutStatus;
use slotpay_server::db::{CheckoutRecord, DbError, PlatformEvent};
use slotpay_server::domain::reconcile;
use slotpay_server::model::EventType;

use crate::helpers::{both_backends, register_secret, TestApp};
use crate::receiver::Receiver;

both_backends!(
    a_paid_checkout_reaches_the_platform_signed,
    refunds_disputes_and_failures_are_told,
    deliveries_retry_then_fail_and_can_be_resent,
    endpoints_receive_only_what_they_asked_for,
    a_rotated_secret_signs_beside_the_old_one,
    endpoint_input_is_checked,
    a_lapsed_hold_expires_within_seconds,
    a_lapsed_hold_with_a_payment_started_cancels_it_at_stripe,
    two_instances_send_each_event_once,
    a_key_revoked_at_stripe_is_told_and_stops_payments,
    a_hanging_endpoint_does_not_hold_up_the_others,
    a_checkout_write_the_database_refuses_writes_no_event,
    events_are_kept_thirty_days,
);

/// Adds an endpoint for `receiver` (with `extra` fields); returns its id and secret.
async fn endpoint(app: &TestApp, receiver: &Receiver, extra: Value) -> (String, String) {
    let mut body = json!({ "url": receiver.url });
    if let Value::Object(more) = extra {
        body.as_object_mut().unwrap().extend(more);
    }
    let r = app
        .post("/v1/admin/webhook-endpoints", body)
        .await
        .expect(201);
    let secret = r.json["secret"].as_str().unwrap().to_owned();
    register_secret(&secret);
    receiver.trust(&[&secret]);
    (r.json["id"].as_str().unwrap().to_owned(), secret)
}

async fn paid(app: &TestApp, merchant: &str, card: &str) -> String {
    let token = app
        .checkout(
            merchant,
            json!({"amount": 4500, "currency": "eur", "description": "Cut", "booking_ref": "bk-1"}),
        )
        .await;
    let pm = app.card(card).await;
    app.pay(&token, &pm, "k1").await.expect(200);
    token
}

async fn a_paid_checkout_reaches_the_platform_signed(app: TestApp) {
    let receiver = Receiver::start().await;
    let (id, secret) = endpoint(&app, &receiver, json!({"description": "bookings"})).await;
    assert!(secret.starts_with("whsec_"), "{secret}");
    // The secret is shown once.
    let shown = app
        .get(&format!("/v1/admin/webhook-endpoints/{id}"))
        .await
        .expect(200);
    assert!(shown.json.get("secret").is_none(), "{}", shown.json);
    assert!(!shown.text.contains(&secret));
    let listed = app.get("/v1/admin/webhook-endpoints").await.expect(200);
    assert!(!listed.text.contains(&secret));

    let m = app.pay_merchant(None).await;
    let token = paid(&app, &m.id, "4242424242424242").await;
    let got = receiver.wait_for("checkout.paid", 1).await;
    let e = &got[0];
    assert_eq!(
        e.verified_with,
        vec![true],
        "the reference library verifies it"
    );
    assert_eq!(
        e.id,
        e.body["id"].as_str().unwrap(),
        "webhook-id is the event id"
    );
    assert!(e.id.starts_with("evt_"));
    assert_eq!(e.body["merchant_id"], m.id.as_str());
    let c = &e.body["data"]["checkout"];
    assert_eq!(c["token"], token.as_str());
    assert_eq!(c["status"], "paid");
    assert_eq!(c["amount"], 4500);
    assert_eq!(c["currency"], "eur");
    assert_eq!(c["booking_ref"], "bk-1");
    assert!(e.body["created"].as_i64().unwrap() > 0);

    // The events API lists it, with its delivery and the endpoint's answer.
    let list = app
        .get(&format!("/v1/admin/events?checkout={token}"))
        .await
        .expect(200);
    assert_eq!(list.json["has_more"], false);
    let ids: Vec<&str> = list.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&e.id.as_str()), "{ids:?}");
    // The receiver has the event; the server writes the delivery's outcome once the answer
    // is read, which may be a moment later.
    let mut one = app
        .get(&format!("/v1/admin/events/{}", e.id))
        .await
        .expect(200);
    for _ in 0..50 {
        if one.json["deliveries"][0]["status"] != "pending" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        one = app
            .get(&format!("/v1/admin/events/{}", e.id))
            .await
            .expect(200);
    }
    assert_eq!(one.json["type"], "checkout.paid");
    assert_eq!(
        one.json["payload"]["data"]["checkout"]["token"],
        token.as_str()
    );
    let delivery = &one.json["deliveries"][0];
    assert_eq!(delivery["endpoint_id"], id.as_str());
    assert_eq!(delivery["status"], "succeeded");
    assert_eq!(delivery["attempts"][0]["status_code"], 200);
    // A paid checkout told once, however often it is read again.
    app.post(&format!("/v1/checkouts/{token}/refresh"), json!({}))
        .await
        .expect(200);
    app.settle_webhooks().await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(receiver.of_type("checkout.paid").len(), 1);
    app.get("/v1/admin/events/evt_nope")
        .await
        .expect_error(404, "not_found", None);
    app.get("/v1/admin/events?type=checkout.payed")
        .await
        .expect_error(400, "invalid_request", Some("type"));
    app.get("/v1/admin/events?limit=0")
        .await
        .expect_error(400, "invalid_request", Some("limit"));
}

async fn refunds_disputes_and_failures_are_told(app: TestApp) {
    let receiver = Receiver::start().await;
    endpoint(&app, &receiver, json!({})).await;
    let m = app.pay_merchant(None).await;

    let token = app
        .checkout(
            &m.id,
            json!({"amount": 3000, "currency": "eur", "description": "Cut"}),
        )
        .await;
    let declined = app.card("4000000000000002").await;
    app.pay(&token, &declined, "a1").await.expect(402);
    let failed = receiver.wait_for("checkout.payment_failed", 1).await;
    assert_eq!(failed[0].body["data"]["checkout"]["status"], "failed");
    let good = app.card("4242424242424242").await;
    app.pay(&token, &good, "a2").await.expect(200);
    receiver.wait_for("checkout.paid", 1).await;

    app.request(
        reqwest::Method::POST,
        &format!("/v1/admin/checkouts/{token}/refunds"),
        Some(json!({"amount": 1000})),
        &[("idempotency-key", "r1")],
    )
    .await
    .expect(200);
    let refunded = receiver.wait_for("refund.succeeded", 1).await;
    assert_eq!(refunded[0].body["data"]["refund"]["amount"], 1000);
    assert_eq!(refunded[0].body["data"]["refund"]["status"], "succeeded");
    assert_eq!(
        refunded[0].body["data"]["checkout"]["token"],
        token.as_str()
    );
    // The checkout as it is once the refund is written.
    assert_eq!(
        refunded[0].body["data"]["checkout"]["amount_refunded"],
        1000
    );
    assert_eq!(
        refunded[0].body["data"]["checkout"]["status"],
        "partially_refunded"
    );
    let re = refunded[0].body["data"]["refund"]["stripe_refund_id"]
        .as_str()
        .unwrap_or_default();
    assert!(re.starts_with("re_"), "{}", refunded[0].body);

    // A card that is disputed after paying.
    let disputed = paid(&app, &m.id, "4000000000000259").await;
    app.settle_webhooks().await;
    let d = receiver.wait_for("dispute.created", 1).await;
    assert_eq!(d[0].body["data"]["checkout"]["token"], disputed.as_str());
    assert!(d[0].body["data"]["dispute"]["id"].as_str().is_some());

    // Canceling an unpaid checkout.
    let open = app
        .checkout(
            &m.id,
            json!({"amount": 2000, "currency": "eur", "description": "Cut"}),
        )
        .await;
    app.post(&format!("/v1/admin/checkouts/{open}/cancel"), json!({}))
        .await
        .expect(200);
    let canceled = receiver.wait_for("checkout.canceled", 1).await;
    assert_eq!(canceled[0].body["data"]["checkout"]["token"], open.as_str());
    assert!(receiver
        .received()
        .iter()
        .all(|r| r.verified_with == vec![true]));
}

async fn deliveries_retry_then_fail_and_can_be_resent(app: TestApp) {
    let receiver = Receiver::start().await;
    receiver.answer(500);
    endpoint(&app, &receiver, json!({})).await;
    let m = app.pay_merchant(None).await;
    paid(&app, &m.id, "4242424242424242").await;
    // The test schedule: the first attempt, then two retries a second apart, then failed.
    let tries = receiver.wait_for("checkout.paid", 3).await;
    let id = tries[0].id.clone();
    assert!(
        tries.iter().all(|t| t.id == id),
        "one webhook-id on every retry"
    );
    let mut event = Value::Null;
    for _ in 0..100 {
        event = app
            .get(&format!("/v1/admin/events/{id}"))
            .await
            .expect(200)
            .json;
        if event["deliveries"][0]["status"] == "failed" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let delivery = &event["deliveries"][0];
    assert_eq!(delivery["status"], "failed", "{event}");
    let attempts = delivery["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 3);
    assert!(attempts
        .iter()
        .all(|a| a["status_code"] == 500 && a["error"] == "HTTP 500"));
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(
        receiver.of_type("checkout.paid").len(),
        3,
        "no attempt after failed"
    );

    receiver.answer(204);
    let resent = app
        .post(&format!("/v1/admin/events/{id}/resend"), json!({}))
        .await
        .expect(200);
    assert_eq!(resent.json["id"], id.as_str());
    let all = receiver.wait_for("checkout.paid", 4).await;
    assert_eq!(all[3].id, id);
    for _ in 0..100 {
        event = app
            .get(&format!("/v1/admin/events/{id}"))
            .await
            .expect(200)
            .json;
        if event["deliveries"][0]["status"] == "succeeded" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(event["deliveries"][0]["status"], "succeeded", "{event}");
}

async fn endpoints_receive_only_what_they_asked_for(app: TestApp) {
    let a = app.pay_merchant(None).await;
    let b = app.pay_merchant(None).await;
    let only_a = Receiver::start().await;
    endpoint(&app, &only_a, json!({"merchant_id": a.id})).await;
    let only_paid = Receiver::start().await;
    endpoint(&app, &only_paid, json!({"events": ["checkout.paid"]})).await;
    let disabled = Receiver::start().await;
    let (off, _) = endpoint(&app, &disabled, json!({})).await;
    app.patch(
        &format!("/v1/admin/webhook-endpoints/{off}"),
        json!({"disabled": true}),
    )
    .await
    .expect(200);

    for m in [&a.id, &b.id] {
        let token = app
            .checkout(
                m,
                json!({"amount": 3000, "currency": "eur", "description": "Cut"}),
            )
            .await;
        let declined = app.card("4000000000000002").await;
        app.pay(&token, &declined, "d").await.expect(402);
        let good = app.card("4242424242424242").await;
        app.pay(&token, &good, "g").await.expect(200);
    }
    only_paid.wait_for("checkout.paid", 2).await;
    only_a.wait_for("checkout.paid", 1).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(only_a
        .received()
        .iter()
        .all(|r| r.body["merchant_id"] == a.id.as_str()));
    assert_eq!(only_a.of_type("checkout.payment_failed").len(), 1);
    assert!(only_paid
        .received()
        .iter()
        .all(|r| r.body["type"] == "checkout.paid"));
    assert!(disabled.received().is_empty());
    let deleted = app
        .delete(&format!("/v1/admin/webhook-endpoints/{off}"))
        .await
        .expect(200);
    assert_eq!(deleted.json["deleted"], true);
    app.get(&format!("/v1/admin/webhook-endpoints/{off}"))
        .await
        .expect_error(404, "not_found", None);
}

async fn a_rotated_secret_signs_beside_the_old_one(app: TestApp) {
    let receiver = Receiver::start().await;
    let (id, old) = endpoint(&app, &receiver, json!({})).await;
    let rotated = app
        .post(
            &format!("/v1/admin/webhook-endpoints/{id}/rotate-secret"),
            json!({}),
        )
        .await
        .expect(200);
    let new = rotated.json["secret"].as_str().unwrap().to_owned();
    register_secret(&new);
    assert_ne!(new, old);
    assert!(rotated.json["previous_secret_until"].as_i64().unwrap() > slotpay_server::db::now());
    receiver.trust(&[&old, &new]);
    let m = app.pay_merchant(None).await;
    paid(&app, &m.id, "4242424242424242").await;
    let got = receiver.wait_for("checkout.paid", 1).await;
    assert_eq!(
        got[0].signature.split(' ').count(),
        2,
        "{}",
        got[0].signature
    );
    assert_eq!(got[0].verified_with, vec![true, true]);
    // Revealing shows the secret on purpose: read without the harness's secret scan.
    let revealed: Value = reqwest::Client::new()
        .post(format!(
            "{}/v1/admin/webhook-endpoints/{id}/reveal-secret",
            app.url
        ))
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(revealed["secret"], new.as_str());
}

async fn endpoint_input_is_checked(app: TestApp) {
    for (url, why) in [
        ("ftp://book.example/hooks", "http"),
        ("book.example/hooks", "absolute"),
        ("https://user:pw@book.example/hooks", "password"),
    ] {
        let r = app
            .post("/v1/admin/webhook-endpoints", json!({ "url": url }))
            .await
            .expect_error(400, "invalid_request", Some("url"));
        assert!(r.text.contains(why), "{url}: {}", r.text);
    }
    let long = format!("https://book.example/{}", "a".repeat(3000));
    app.post("/v1/admin/webhook-endpoints", json!({ "url": long }))
        .await
        .expect_error(400, "invalid_request", Some("url"));
    let r = app
        .post(
            "/v1/admin/webhook-endpoints",
            json!({"url": "https://book.example/h", "events": ["checkout.paid", "checkout.payed", "refund.done"]}),
        )
        .await
        .expect_error(400, "invalid_request", Some("events"));
    assert!(r.text.contains("checkout.payed, refund.done"), "{}", r.text);
    app.post(
        "/v1/admin/webhook-endpoints",
        json!({"url": "https://book.example/h", "merchant_id": "m_nope"}),
    )
    .await
    .expect(404);
    app.post(
        "/v1/admin/webhook-endpoints",
        json!({"url": "https://book.example/h", "colour": "red"}),
    )
    .await
    .expect_error(400, "invalid_json", None);
    app.patch(
        "/v1/admin/webhook-endpoints/we_nope",
        json!({"disabled": true}),
    )
    .await
    .expect_error(404, "not_found", None);
    // Nothing was stored by the refusals.
    let list = app.get("/v1/admin/webhook-endpoints").await.expect(200);
    assert_eq!(list.json["data"].as_array().unwrap().len(), 0);
    // Without the admin token, nothing.
    let r = reqwest::Client::new()
        .get(format!("{}/v1/admin/webhook-endpoints", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

/// Moves a checkout's expiry into the past, as if its hold had run out.
async fn lapse(app: &TestApp, token: &str) {
    sqlx::query("UPDATE checkouts SET expires_at = $1 WHERE token = $2")
        .bind(slotpay_server::db::now() - 1)
        .bind(token)
        .execute(app.state.db.pool())
        .await
        .unwrap();
}

async fn a_lapsed_hold_expires_within_seconds(app: TestApp) {
    let receiver = Receiver::start().await;
    endpoint(&app, &receiver, json!({})).await;
    let m = app.pay_merchant(None).await;
    let body = json!({"amount": 3000, "currency": "eur", "description": "Cut", "expires_in": 60});
    let token = app.checkout(&m.id, body.clone()).await;
    app.post(
        &format!("/v1/admin/merchants/{}/checkouts", m.id),
        json!({"amount": 3000, "currency": "eur", "description": "x", "expires_in": 59}),
    )
    .await
    .expect_error(400, "invalid_request", Some("expires_in"));
    lapse(&app, &token).await;
    let got = receiver.wait_for("checkout.expired", 1).await;
    assert_eq!(got[0].body["data"]["checkout"]["token"], token.as_str());
    assert_eq!(got[0].body["data"]["checkout"]["status"], "expired");
    let pm = app.card("4242424242424242").await;
    app.pay(&token, &pm, "late")
        .await
        .expect_error(410, "checkout_expired", None);
    // Told once.
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(receiver.of_type("checkout.expired").len(), 1);
}

async fn a_lapsed_hold_with_a_payment_started_cancels_it_at_stripe(app: TestApp) {
    let receiver = Receiver::start().await;
    endpoint(&app, &receiver, json!({})).await;
    let m = app.pay_merchant(None).await;
    let token = app
        .checkout(
            &m.id,
            json!({"amount": 3000, "currency": "eur", "description": "Cut", "expires_in": 600}),
        )
        .await;
    // 3-D Secure asked and never completed: the PaymentIntent waits at Stripe.
    let pm = app.card("4000002760003184").await;
    let r = app.pay(&token, &pm, "3ds").await.expect(200);
    assert_eq!(r.json["status"], "requires_action");
    lapse(&app, &token).await;
    let got = receiver.wait_for("checkout.expired", 1).await;
    assert_eq!(got[0].body["data"]["checkout"]["status"], "expired");
    let stored = app.stored(&token).await;
    assert_eq!(stored.status.as_str(), "expired");
    let pi = stored.payment_intent_id.unwrap();
    let at_stripe = app
        .stripe_get(
            &app.sandbox.secret_key,
            &format!("/v1/payment_intents/{pi}"),
        )
        .await;
    assert_eq!(at_stripe["status"], "canceled", "{at_stripe}");
    // Completing 3-D Secure now cannot make it paid.
    app.post(&format!("/v1/checkouts/{token}/refresh"), json!({}))
        .await;
    assert_eq!(app.stored(&token).await.status.as_str(), "expired");
    assert!(receiver.of_type("checkout.paid").is_empty());
}

async fn two_instances_send_each_event_once(app: TestApp) {
    let second = app.second_instance().await;
    let receiver = Receiver::start().await;
    endpoint(&app, &receiver, json!({})).await;
    let m = app.pay_merchant(None).await;
    let mut tokens = Vec::new();
    for i in 0..8 {
        let token = app
            .checkout(
                &m.id,
                json!({"amount": 3000, "currency": "eur", "description": "Cut"}),
            )
            .await;
        let pm = app.card("4242424242424242").await;
        let base = (i % 2 == 1).then_some(second.as_str());
        app.pay_at(base, &token, &pm, "k", false).await.expect(200);
        tokens.push(token);
    }
    let got = receiver.wait_for("checkout.paid", 8).await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let got_now = receiver.of_type("checkout.paid");
    assert_eq!(got_now.len(), 8, "each event sent once: {got:?}");
    let mut seen: Vec<&str> = got_now
        .iter()
        .map(|r| r.body["data"]["checkout"]["token"].as_str().unwrap())
        .collect();
    seen.sort_unstable();
    tokens.sort_unstable();
    assert_eq!(seen, tokens);
}

async fn a_key_revoked_at_stripe_is_told_and_stops_payments(app: TestApp) {
    let receiver = Receiver::start().await;
    endpoint(&app, &receiver, json!({})).await;
    let m = app.pay_merchant(None).await;
    let token = app
        .checkout(
            &m.id,
            json!({"amount": 3000, "currency": "eur", "description": "Cut"}),
        )
        .await;
    let pm = app.card("4242424242424242").await;
    app.sandbox.revoke_key(&app.sandbox.secret_key).unwrap();
    app.pay(&token, &pm, "k1")
        .await
        .expect_error(409, "payments_unavailable", None);
    let told = receiver.wait_for("integration.error", 1).await;
    assert_eq!(told[0].body["merchant_id"], m.id.as_str());
    assert_eq!(told[0].body["data"]["integration"]["status"], "error");
    assert_eq!(
        told[0].body["data"]["integration"]["reason"]["code"],
        "invalid_secret_key"
    );
    let integration = app
        .get(&format!("/v1/admin/merchants/{}/integration", m.id))
        .await
        .expect(200);
    assert_eq!(integration.json["status"], "error", "{}", integration.text);
    // The checkout is payable again once the key works; meanwhile no call reaches Stripe.
    assert_eq!(app.stored(&token).await.status.as_str(), "open");
    let pm = app.card("4242424242424242").await;
    app.pay(&token, &pm, "k2")
        .await
        .expect_error(409, "payments_unavailable", None);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(receiver.of_type("integration.error").len(), 1, "told once");
}

async fn a_hanging_endpoint_does_not_hold_up_the_others(app: TestApp) {
    let hanging = Receiver::start().await;
    hanging.delay(std::time::Duration::from_secs(30));
    endpoint(&app, &hanging, json!({})).await;
    let quick = Receiver::start().await;
    endpoint(&app, &quick, json!({})).await;
    let m = app.pay_merchant(None).await;
    // The first event: the hanging endpoint holds its request until the 2 s timeout.
    paid(&app, &m.id, "4242424242424242").await;
    quick.wait_for("checkout.paid", 1).await;
    hanging.wait_for("checkout.paid", 1).await;
    // A second event while that request hangs reaches the other endpoint at once.
    let open = app
        .checkout(
            &m.id,
            json!({"amount": 2000, "currency": "eur", "description": "Cut"}),
        )
        .await;
    let asked = std::time::Instant::now();
    app.post(&format!("/v1/admin/checkouts/{open}/cancel"), json!({}))
        .await
        .expect(200);
    quick.wait_for("checkout.canceled", 1).await;
    assert!(
        asked.elapsed() < std::time::Duration::from_millis(1500),
        "waited {:?} behind the hanging endpoint",
        asked.elapsed()
    );
}

/// An event `id` that `r` was paid, as storage is given it.
fn paid_event(id: &str, r: &CheckoutRecord) -> PlatformEvent {
    PlatformEvent {
        id: id.into(),
        merchant_id: r.merchant_id.clone(),
        kind: EventType::CheckoutPaid,
        checkout_token: Some(r.token.clone()),
        created_at: r.created_at,
        payload: "{}".into(),
    }
}

/// The checkout's row and its event are written in one round trip, as one transaction: a
/// write the database refuses (a PaymentIntent that belongs to another checkout) leaves
/// neither, and no connection is left inside the failed transaction (every write after it,
/// more than the pool has connections, is committed and seen from the others).
async fn a_checkout_write_the_database_refuses_writes_no_event(app: TestApp) {
    let m = app.pay_merchant(None).await;
    let body = json!({"amount": 2500, "currency": "eur", "description": "Cut"});
    let (a, b) = (
        app.checkout(&m.id, body.clone()).await,
        app.checkout(&m.id, body).await,
    );
    let db = &app.state.db;
    let mut first = db.get_checkout(&a).await.unwrap().unwrap();
    first.payment_intent_id = Some("pi_taken".into());
    assert!(db.update_checkout(&first, None).await.unwrap());

    let mut second = db.get_checkout(&b).await.unwrap().unwrap();
    second.payment_intent_id = Some("pi_taken".into());
    second.status = CheckoutStatus::Paid;
    let refused = paid_event("evt_refused", &second);
    let e = db
        .update_checkout(&second, Some(&refused))
        .await
        .unwrap_err();
    assert!(matches!(e, DbError::Conflict(_)), "{e}");
    assert_eq!(db.get_platform_event(&refused.id).await.unwrap(), None);
    let stored = db.get_checkout(&b).await.unwrap().unwrap();
    assert_eq!(
        (stored.status, stored.version),
        (CheckoutStatus::Open, second.version)
    );

    for i in 0..8 {
        let mut r = db.get_checkout(&b).await.unwrap().unwrap();
        r.description = format!("Cut {i}");
        let event = paid_event(&format!("evt_written{i}"), &r);
        assert!(
            db.update_checkout(&r, Some(&event)).await.unwrap(),
            "write {i}"
        );
        assert!(
            db.get_platform_event(&event.id).await.unwrap().is_some(),
            "event {i}"
        );
        let seen = db.get_checkout(&b).await.unwrap().unwrap();
        assert_eq!(seen.description, format!("Cut {i}"));
    }
    // A write at a version that is gone writes nothing, its event neither.
    let late = paid_event("evt_late", &second);
    assert!(!db.update_checkout(&second, Some(&late)).await.unwrap());
    assert_eq!(db.get_platform_event(&late.id).await.unwrap(), None);
}

/// Events (and their deliveries) are kept 30 days: the reconciler deletes older ones only.
async fn events_are_kept_thirty_days(app: TestApp) {
    let m = app.pay_merchant(None).await;
    let receiver = Receiver::start().await;
    endpoint(&app, &receiver, json!({})).await;
    let token = app
        .checkout(
            &m.id,
            json!({"amount": 2500, "currency": "eur", "description": "Cut"}),
        )
        .await;
    let db = &app.state.db;
    let r = db.get_checkout(&token).await.unwrap().unwrap();
    let now = slotpay_server::db::now();
    let mut old = paid_event("evt_month_old", &r);
    let thirty_days = 30 * 86_400;
    old.created_at = now - thirty_days - 60;
    let mut kept = paid_event("evt_almost_month_old", &r);
    kept.created_at = now - thirty_days + 3_600;
    db.insert_events(&[old.clone(), kept.clone()])
        .await
        .unwrap();
    assert_eq!(db.deliveries_of_event(&old.id).await.unwrap().len(), 1);

    reconcile::reconcile(&app.state, now).await;
    assert_eq!(db.get_platform_event(&old.id).await.unwrap(), None);
    assert!(db.deliveries_of_event(&old.id).await.unwrap().is_empty());
    assert_eq!(
        db.get_platform_event(&kept.id).await.unwrap(),
        Some(kept.clone())
    );
    assert_eq!(db.deliveries_of_event(&kept.id).await.unwrap().len(), 1);
}
