//! Stripe webhooks in: forged, stale, future, v0-only, unsigned and wrong-merchant
//! signatures are refused with nothing stored; a duplicate changes nothing; the events of a
//! whole scenario delivered newest first, each twice, end in the state Stripe ended in.

use reqwest::Method;
use serde_json::{json, Value};
use slotpay_core::webhook_signature::{sign, signature_header};
use stripe_sandbox::Knobs;

use crate::helpers::{both_backends, TestApp};

both_backends!(
    signatures_are_checked,
    shuffled_duplicated_events_converge,
    secret_changes_reach_cached_secrets,
    concurrent_deliveries_store_one_row,
    a_shared_account_reaches_each_merchant,
);

async fn stored_events(app: &TestApp) -> i64 {
    use sqlx::Row;
    let row = sqlx::query("SELECT COUNT(*) AS n FROM stripe_events")
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
    row.try_get::<i64, _>("n").unwrap()
}

async fn post_webhook(
    app: &TestApp,
    merchant: &str,
    body: &str,
    signature: Option<&str>,
) -> crate::helpers::Resp {
    post_webhook_to(&app.url, merchant, body, signature).await
}

async fn post_webhook_to(
    base_url: &str,
    merchant: &str,
    body: &str,
    signature: Option<&str>,
) -> crate::helpers::Resp {
    let mut headers = vec![("content-type", "application/json")];
    if let Some(s) = signature {
        headers.push(("stripe-signature", s));
    }
    let req = reqwest::Client::new()
        .post(format!("{base_url}/v1/webhooks/stripe/{merchant}"))
        .body(body.to_owned());
    let req = headers.iter().fold(req, |r, (h, v)| r.header(*h, *v));
    crate::helpers::into_resp(req.send().await.unwrap()).await
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

async fn signatures_are_checked(app: TestApp) {
    // Stop the sandbox from delivering, so only this test's posts arrive.
    app.sandbox.set_webhook_knobs(Knobs {
        drop_all: true,
        ..Knobs::default()
    });
    let a = app.pay_merchant(None).await;
    let b = app.pay_merchant(None).await;
    let body = json!({"id": "evt_test_1", "object": "event", "type": "charge.updated",
        "created": now(), "data": {"object": {"id": "ch_1", "object": "charge"}}})
    .to_string();
    let t = now();
    let good = signature_header(t, &[&a.webhook_secret], body.as_bytes());
    let before = stored_events(&app).await;
    let refused: Vec<(String, String)> = vec![
        (
            "forged".into(),
            signature_header(t, &["whsec_not_the_right_secret_at_all"], body.as_bytes()),
        ),
        (
            "stale".into(),
            signature_header(t - 301, &[&a.webhook_secret], body.as_bytes()),
        ),
        // Well past the 300 s tolerance: a second that ticks before the server reads its
        // clock must not bring it back within.
        (
            "future".into(),
            signature_header(t + 330, &[&a.webhook_secret], body.as_bytes()),
        ),
        (
            "v0 only".into(),
            format!("t={t},v0={}", sign(&a.webhook_secret, t, body.as_bytes())),
        ),
        ("malformed".into(), "nonsense".into()),
    ];
    for (what, header) in &refused {
        let r = post_webhook(&app, &a.id, &body, Some(header)).await;
        assert_eq!(r.status.as_u16(), 400, "{what}: {}", r.text);
        assert_eq!(r.code(), "invalid_signature", "{what}");
    }
    let r = post_webhook(&app, &a.id, &body, None).await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "invalid_signature"));
    // Signed for merchant A, sent to merchant B's endpoint or to no merchant.
    let r = post_webhook(&app, &b.id, &body, Some(&good)).await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "invalid_signature"));
    let r = post_webhook(&app, "mer_unknown", &body, Some(&good)).await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "invalid_signature"));
    // A tampered body with a signature of the original.
    let tampered = body.replace("charge.updated", "charge.refunded");
    let r = post_webhook(&app, &a.id, &tampered, Some(&good)).await;
    assert_eq!(r.status.as_u16(), 400);
    assert_eq!(stored_events(&app).await, before, "nothing stored");

    let ok = post_webhook(&app, &a.id, &body, Some(&good)).await;
    assert_eq!(ok.status.as_u16(), 200, "{}", ok.text);
    let dup = post_webhook(&app, &a.id, &body, Some(&good)).await;
    assert_eq!(dup.status.as_u16(), 200);
    assert_eq!(dup.json["duplicate"], true);
    assert_eq!(stored_events(&app).await, before + 1);
    // During a secret roll, the previous secret still verifies until it expires.
    app.put(
        &format!("/v1/admin/merchants/{}/integration", a.id),
        json!({"webhook_secret": "whsec_rolled_secret_for_the_test_1234"}),
    )
    .await
    .expect(200);
    crate::helpers::register_secret("whsec_rolled_secret_for_the_test_1234");
    let body2 = body.replace("evt_test_1", "evt_test_2");
    let old = signature_header(now(), &[&a.webhook_secret], body2.as_bytes());
    post_webhook(&app, &a.id, &body2, Some(&old))
        .await
        .expect(200);
    let body3 = body.replace("evt_test_1", "evt_test_3");
    let new = signature_header(
        now(),
        &["whsec_rolled_secret_for_the_test_1234"],
        body3.as_bytes(),
    );
    post_webhook(&app, &a.id, &body3, Some(&new))
        .await
        .expect(200);
    let metrics = app.get("/metrics").await.text;
    assert!(
        metrics.contains("slotpay_webhooks_total{outcome=\"rejected\"} 9"),
        "{metrics}"
    );
    assert!(
        metrics.contains("slotpay_webhooks_total{outcome=\"duplicate\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("slotpay_webhooks_total{outcome=\"verified\"} 4"),
        "{metrics}"
    );
}

fn charge_event(id: &str) -> String {
    json!({"id": id, "object": "event", "type": "charge.updated", "created": now(),
        "data": {"object": {"id": "ch_1", "object": "charge"}}})
    .to_string()
}

/// Each instance keeps merchants' decrypted signing secrets for a few seconds. A secret set
/// through another instance verifies at once there (what the cache refuses is checked against
/// the database), and a change through an instance is seen by that instance at once.
async fn secret_changes_reach_cached_secrets(app: TestApp) {
    app.sandbox.set_webhook_knobs(Knobs {
        drop_all: true,
        ..Knobs::default()
    });
    let a = app.pay_merchant(None).await;
    let second = app.second_instance().await;
    let signed = |id: &str, secret: &str| {
        let body = charge_event(id);
        let header = signature_header(now(), &[secret], body.as_bytes());
        (body, header)
    };
    // Both instances read (and keep) the first secret.
    for (id, url) in [("evt_cache_1", &app.url), ("evt_cache_2", &second)] {
        let (body, header) = signed(id, &a.webhook_secret);
        post_webhook_to(url, &a.id, &body, Some(&header))
            .await
            .expect(200);
    }
    // A new secret pasted through the first instance verifies on the second at once.
    let pasted = "whsec_pasted_on_the_first_instance_5678";
    crate::helpers::register_secret(pasted);
    app.put(
        &format!("/v1/admin/merchants/{}/integration", a.id),
        json!({"webhook_secret": pasted}),
    )
    .await
    .expect(200);
    for (id, url) in [("evt_cache_3", &second), ("evt_cache_4", &app.url)] {
        let (body, header) = signed(id, pasted);
        post_webhook_to(url, &a.id, &body, Some(&header))
            .await
            .expect(200);
    }
    // The integration deleted through the first instance: it refuses the secret it just
    // used, without waiting for its cache to expire.
    app.delete(&format!("/v1/admin/merchants/{}/integration", a.id))
        .await
        .expect(200);
    let before = stored_events(&app).await;
    let (body, header) = signed("evt_cache_5", pasted);
    let r = post_webhook(&app, &a.id, &body, Some(&header)).await;
    assert_eq!((r.status.as_u16(), r.code()), (400, "invalid_signature"));
    assert_eq!(stored_events(&app).await, before, "nothing stored");
}

/// Deliveries of one event arriving together (Stripe's retry racing the first try, two
/// instances) store one row: one answer says stored, the others say duplicate.
async fn concurrent_deliveries_store_one_row(app: TestApp) {
    app.sandbox.set_webhook_knobs(Knobs {
        drop_all: true,
        ..Knobs::default()
    });
    let a = app.pay_merchant(None).await;
    let before = stored_events(&app).await;
    let mut bodies: Vec<String> = (0..8)
        .map(|i| charge_event(&format!("evt_race_{i}")))
        .collect();
    // Each event three times, interleaved.
    bodies = (0..3).flat_map(|_| bodies.clone()).collect();
    let posts = bodies.iter().map(|body| {
        let header = signature_header(now(), &[&a.webhook_secret], body.as_bytes());
        let (app, merchant) = (&app, &a.id);
        async move { post_webhook(app, merchant, body, Some(&header)).await }
    });
    let answers = futures::future::join_all(posts).await;
    let mut stored = 0;
    for r in &answers {
        assert_eq!(r.status.as_u16(), 200, "{}", r.text);
        if r.json.get("duplicate").is_none() {
            stored += 1;
        }
    }
    assert_eq!(
        (stored, answers.len()),
        (8, 24),
        "one stored answer per event"
    );
    assert_eq!(stored_events(&app).await, before + 8);
}

/// Two merchants connected to one Stripe account (a salon chain, a platform's test
/// account): every event of the account reaches both endpoints, and each merchant keeps the
/// events of its own payments (an event id is stored once per merchant, not once in all).
async fn a_shared_account_reaches_each_merchant(app: TestApp) {
    let a = app.pay_merchant(None).await;
    let b = app.pay_merchant(None).await;
    let mut tokens = Vec::new();
    for m in [&a, &b] {
        let token = app
            .checkout(
                &m.id,
                json!({"amount": 4000, "currency": "eur", "description": "x"}),
            )
            .await;
        let pm = app.card("4242424242424242").await;
        app.pay(&token, &pm, "pay").await.expect(200);
        app.request(
            Method::POST,
            &format!("/v1/admin/checkouts/{token}/refunds"),
            Some(json!({"amount": 1000})),
            &[("idempotency-key", "refund")],
        )
        .await
        .expect(200);
        tokens.push(token);
    }
    app.settle_webhooks().await;
    for token in &tokens {
        let detail = app
            .get(&format!("/v1/admin/checkouts/{token}"))
            .await
            .expect(200);
        let kinds: Vec<&str> = detail.json["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["type"].as_str().unwrap())
            .collect();
        for want in ["payment_intent.succeeded", "charge.refunded"] {
            assert!(
                kinds.contains(&want),
                "{token}: {want} missing from {kinds:?}"
            );
        }
        assert!(
            detail.json["stripe_fee"].is_i64(),
            "{token}: no Stripe fee: {}",
            detail.text
        );
    }
    // Each merchant's integration says which other merchant shares its account.
    for (m, other) in [(&a, &b), (&b, &a)] {
        let i = app
            .get(&format!("/v1/admin/merchants/{}/integration", m.id))
            .await
            .expect(200);
        assert_eq!(
            i.json["account"]["shared_with"],
            json!([other.id]),
            "{}",
            i.text
        );
    }
}

/// The sandbox's events of the account, oldest first.
async fn all_events(app: &TestApp) -> Vec<Value> {
    let list = app
        .stripe_get(&app.sandbox.secret_key, "/v1/events?limit=100")
        .await;
    let mut events: Vec<Value> = list["data"].as_array().unwrap().clone();
    events.reverse();
    events
}

async fn shuffled_duplicated_events_converge(app: TestApp) {
    app.sandbox.set_webhook_knobs(Knobs {
        drop_all: true,
        ..Knobs::default()
    });
    let m = app.pay_merchant(None).await;
    let sk = app.sandbox.secret_key.clone();
    // A: 3-D Secure completed at Stripe (no refresh), then refunded in part in the
    // Dashboard, then disputed and lost: only events tell slotpay.
    let a = app
        .checkout(
            &m.id,
            json!({"amount": 5000, "currency": "eur", "description": "A"}),
        )
        .await;
    let pm = app.card("4000002760003184").await;
    let r = app.pay(&a, &pm, "a").await.expect(200);
    let secret = r.json["client_secret"].as_str().unwrap().to_owned();
    let a_pi = app.stored(&a).await.payment_intent_id.unwrap();
    app.sandbox.three_ds(&a_pi, &secret, true).unwrap();
    let refund = app
        .stripe_post(
            &sk,
            "/v1/refunds",
            &[("payment_intent", a_pi.as_str()), ("amount", "1500")],
        )
        .await;
    assert_eq!(refund["status"], "succeeded", "{refund}");
    let pi = app
        .stripe_get(&sk, &format!("/v1/payment_intents/{a_pi}"))
        .await;
    let charge = pi["latest_charge"].as_str().unwrap().to_owned();
    let dispute = app.sandbox.open_dispute(&charge, None).unwrap();
    app.sandbox
        .close_dispute(dispute["id"].as_str().unwrap(), "lost")
        .unwrap();
    // B: declined.
    let b = app
        .checkout(
            &m.id,
            json!({"amount": 2000, "currency": "eur", "description": "B"}),
        )
        .await;
    let pm = app.card("4000000000009995").await;
    app.pay(&b, &pm, "b").await.expect(402);
    // C: authorised, then captured in part at Stripe.
    let c = app
        .checkout(
            &m.id,
            json!({"amount": 8000, "currency": "eur", "description": "C", "capture": true}),
        )
        .await;
    let pm = app.card("4242424242424242").await;
    let r = app.pay(&c, &pm, "c").await.expect(200);
    assert_eq!(r.json["status"], "succeeded");
    assert_eq!(app.stored(&c).await.status.as_str(), "authorized");
    let c_pi = app.stored(&c).await.payment_intent_id.unwrap();
    let captured = app
        .stripe_post(
            &sk,
            &format!("/v1/payment_intents/{c_pi}/capture"),
            &[("amount_to_capture", "6000")],
        )
        .await;
    assert_eq!(captured["status"], "succeeded");
    assert_eq!(app.stored(&a).await.status.as_str(), "requires_action");

    // Deliver everything newest first, each event twice.
    let events = all_events(&app).await;
    assert!(events.len() > 10, "{}", events.len());
    for e in events.iter().rev() {
        let body = e.to_string();
        let header = signature_header(now(), &[&m.webhook_secret], body.as_bytes());
        for _ in 0..2 {
            let r = post_webhook(&app, &m.id, &body, Some(&header)).await;
            assert_eq!(r.status.as_u16(), 200, "{}", r.text);
        }
    }
    app.settle_webhooks().await;
    check_final(&app, &a, &b, &c).await;
    // Delivered again, in order this time: nothing changes.
    for e in &events {
        let body = e.to_string();
        let header = signature_header(now(), &[&m.webhook_secret], body.as_bytes());
        let r = post_webhook(&app, &m.id, &body, Some(&header)).await;
        assert_eq!(r.json["duplicate"], true);
    }
    check_final(&app, &a, &b, &c).await;
    let _ = Method::GET;
}

async fn check_final(app: &TestApp, a: &str, b: &str, c: &str) {
    let a = app
        .get(&format!("/v1/admin/checkouts/{a}"))
        .await
        .expect(200)
        .json;
    assert_eq!(a["status"], "partially_refunded", "{a}");
    assert_eq!(a["amount_captured"], 5000);
    assert_eq!(a["amount_refunded"], 1500);
    assert_eq!(a["refunds"][0]["external"], true);
    assert_eq!(a["disputes"][0]["status"], "lost");
    assert_eq!(a["card"]["last4"], "3184");
    let b = app
        .get(&format!("/v1/admin/checkouts/{b}"))
        .await
        .expect(200)
        .json;
    assert_eq!(b["status"], "failed");
    assert_eq!(b["last_error"]["decline_code"], "insufficient_funds");
    let c = app
        .get(&format!("/v1/admin/checkouts/{c}"))
        .await
        .expect(200)
        .json;
    assert_eq!(c["status"], "paid", "{c}");
    assert_eq!(c["amount_captured"], 6000);
}
