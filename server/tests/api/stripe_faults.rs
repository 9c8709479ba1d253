//! The Stripe client against injected faults: retries keep the idempotency key (a request
//! applied at Stripe whose answer was lost is not applied twice), a Stripe that does not
//! answer gives a retryable `stripe_unavailable`; a PaymentIntent whose creation got no answer is
//! linked by the reconciler.

use std::time::Duration;

use serde_json::json;
use stripe_sandbox::{FaultKind, FaultRule, When};

use crate::helpers::{register_secret, spawn_app, Backend};

fn rule(method: &str, path: &str, kind: FaultKind, when: When, times: Option<u32>) -> FaultRule {
    FaultRule {
        method: Some(method.into()),
        path: path.into(),
        kind,
        latency_ms: None,
        probability: None,
        when,
        times,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_answer_is_retried_with_the_same_idempotency_key() {
    let app = spawn_app(Backend::Sqlite, Box::new(|_| {})).await.unwrap();
    let m = app.merchant(&[]).await;
    let sk = app.sandbox.secret_key.clone();
    app.sandbox_integration(&m, &sk).await.expect(200);
    // The endpoint is created, then the answer is lost twice (a 500 and a reset).
    app.sandbox.set_faults(
        vec![
            rule(
                "POST",
                "/v1/webhook_endpoints",
                FaultKind::Http500,
                When::After,
                Some(1),
            ),
            rule(
                "POST",
                "/v1/webhook_endpoints",
                FaultKind::Reset,
                When::After,
                Some(1),
            ),
        ],
        Some(7),
    );
    let a = app
        .post(
            &format!("/v1/admin/merchants/{m}/integration/activate"),
            json!({}),
        )
        .await
        .expect(200);
    let secret = app.stored_webhook_secret(&m).await.unwrap();
    register_secret(&secret);
    let list = app.stripe_get(&sk, "/v1/webhook_endpoints").await;
    let endpoints = list["data"].as_array().unwrap();
    assert_eq!(
        endpoints.len(),
        1,
        "one endpoint despite three attempts: {list}"
    );
    assert_eq!(endpoints[0]["id"], a.json["webhook"]["endpoint_id"]);
    let metrics = app.get("/metrics").await.text;
    assert!(
        metrics.contains(
            "slotpay_stripe_requests_total{operation=\"create_webhook_endpoint\",outcome=\"ok\"} 1"
        ),
        "{metrics}"
    );
    app.teardown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_stripe_is_a_retryable_error() {
    let app = spawn_app(
        Backend::Sqlite,
        Box::new(|c| {
            c.stripe_timeout = Duration::from_millis(400);
            c.stripe_max_retries = 2;
        }),
    )
    .await
    .unwrap();
    let m = app.merchant(&[]).await;
    app.sandbox_integration(&m, &app.sandbox.secret_key.clone())
        .await
        .expect(200);
    app.sandbox.set_faults(
        vec![rule(
            "GET",
            "/v1/account",
            FaultKind::Timeout,
            When::Before,
            None,
        )],
        None,
    );
    let started = std::time::Instant::now();
    let r = app
        .post(
            &format!("/v1/admin/merchants/{m}/integration/verify"),
            json!({}),
        )
        .await
        .expect_error(503, "stripe_unavailable", None);
    assert!(
        started.elapsed() >= Duration::from_millis(1200),
        "three attempts of 400 ms"
    );
    assert_eq!(r.headers["retry-after"], "5");
    // Nothing is recorded about the key when Stripe did not answer.
    let view = app
        .get(&format!("/v1/admin/merchants/{m}/integration"))
        .await
        .expect(200);
    assert_eq!(view.json["status"], "unverified");
    let metrics = app.get("/metrics").await.text;
    assert!(
        metrics.contains(
            "slotpay_stripe_requests_total{operation=\"retrieve_account\",outcome=\"timeout\"} 1"
        ),
        "{metrics}"
    );

    // Transient 500s are retried and the call succeeds.
    app.sandbox.set_faults(
        vec![rule(
            "GET",
            "/v1/account",
            FaultKind::Http500,
            When::Before,
            Some(2),
        )],
        None,
    );
    let v = app
        .post(
            &format!("/v1/admin/merchants/{m}/integration/verify"),
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(v.json["status"], "active");
    app.teardown().await;
}

/// A pay whose PaymentIntent was created at Stripe while the answer to its creation was
/// lost, and whose client gave up: the checkout stays payable, and the reconciler links it
/// to the PaymentIntent Stripe made (the same creation again, same key: no second one).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_creation_is_linked_by_the_reconciler() {
    let app = spawn_app(
        Backend::Sqlite,
        Box::new(|c| {
            // No retries inside the server: the client's tries meet every fault.
            c.stripe_max_retries = 0;
        }),
    )
    .await
    .unwrap();
    let m = app.pay_merchant(None).await;
    let token = app
        .checkout(
            &m.id,
            json!({"amount": 2500, "currency": "eur", "description": "x"}),
        )
        .await;
    // The PaymentIntent is made, its answer lost; the client gives up after this try.
    app.sandbox.set_faults(
        vec![rule(
            "POST",
            "/v1/payment_intents",
            FaultKind::Http500,
            When::After,
            Some(1),
        )],
        Some(3),
    );
    let pm = app.card("4242424242424242").await;
    let r = app.pay(&token, &pm, "k").await;
    assert_eq!(r.code(), "stripe_unavailable", "{}", r.text);
    app.sandbox.set_faults(Vec::new(), None);
    let before = app.stored(&token).await;
    assert_eq!(
        (before.status.as_str(), before.payment_intent_id.as_deref()),
        ("open", None)
    );
    let at_stripe = app
        .stripe_get(&app.sandbox.secret_key, "/v1/payment_intents?limit=10")
        .await;
    let made: Vec<&str> = at_stripe["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|pi| pi["metadata"]["slotpay_checkout"] == token.as_str())
        .map(|pi| pi["id"].as_str().unwrap())
        .collect();
    assert_eq!(made.len(), 1, "Stripe made it once: {at_stripe}");

    let report =
        slotpay_server::domain::reconcile::reconcile(&app.state, slotpay_server::db::now() + 120)
            .await;
    assert_eq!(report.linked, 1, "{report:?}");
    let after = app.stored(&token).await;
    assert_eq!(after.payment_intent_id.as_deref(), Some(made[0]));
    assert_eq!(after.status.as_str(), "open", "still payable");
    assert!(after.lease.is_none(), "the lease given back");
    assert_eq!(app.sandbox.counter("payment_intents_created"), 1);
    // Paid afterwards with the same PaymentIntent.
    app.pay(&token, &pm, "k2").await.expect(200);
    assert_eq!(
        app.stored(&token).await.payment_intent_id.as_deref(),
        Some(made[0])
    );
    app.teardown().await;
}
