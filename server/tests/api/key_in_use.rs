//! A Stripe idempotency key still in use (409 `idempotency_key_in_use`: an earlier request
//! with that key is still running at Stripe) is not Stripe's answer to the request: the
//! request is retried, and if the key stays busy, the call is unresolved (retry later), never
//! a refusal recorded as the outcome. Found by the fault harness (`./dev fault`): a refund
//! double-submitted while Stripe was slow was recorded as failed although Stripe made it (and
//! a pay meeting a busy key answered `stripe_error` for good; `StripeError::refusal`'s unit
//! test covers that path).

use std::time::Duration;

use serde_json::json;
use slotpay_server::domain::reconcile;
use stripe_sandbox::{FaultKind, FaultRule, When};

use crate::helpers::{spawn_app, Backend};

fn slow(path: &str, kind: FaultKind, ms: u64) -> FaultRule {
    FaultRule {
        method: Some("POST".into()),
        path: path.into(),
        kind,
        latency_ms: Some(ms),
        probability: None,
        when: When::Before,
        times: Some(1),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refund_double_submitted_while_stripe_is_slow_is_made_once_and_recorded() {
    let app = spawn_app(Backend::Sqlite, Box::new(|_| {})).await.unwrap();
    let m = app.pay_merchant(None).await;
    let token = app
        .checkout(
            &m.id,
            json!({"amount": 2500, "currency": "eur", "description": "x"}),
        )
        .await;
    let pm = app.card("4242424242424242").await;
    app.pay(&token, &pm, "k").await.expect(200);
    // Stripe takes 800 ms over the first refund; the second submission arrives meanwhile.
    app.sandbox
        .set_faults(vec![slow("/v1/refunds", FaultKind::Latency, 800)], None);
    let path = format!("/v1/admin/checkouts/{token}/refunds");
    let first = {
        let (app, path) = (app.clone(), path.clone());
        tokio::spawn(async move {
            app.request(
                reqwest::Method::POST,
                &path,
                Some(json!({"amount": 1000})),
                &[("Idempotency-Key", "r1")],
            )
            .await
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let second = app
        .request(
            reqwest::Method::POST,
            &path,
            Some(json!({"amount": 1000})),
            &[("Idempotency-Key", "r1")],
        )
        .await;
    let first = first.await.unwrap().expect(200);
    assert_eq!(first.json["status"], "partially_refunded", "{}", first.text);
    // The second is unresolved (retry later) or the same refund; never a failure.
    assert!(
        second.status == 200 || second.code() == "stripe_unavailable",
        "{}",
        second.text
    );
    reconcile::reconcile(&app.state, slotpay_server::db::now() + 120).await;
    let rows = app.state.db.list_refunds(&token).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].status.as_str(), "succeeded", "{rows:?}");
    assert_eq!(app.sandbox.counter("refunds"), 1);
    let stored = app.stored(&token).await;
    assert_eq!(
        (stored.status.as_str(), stored.amount_refunded),
        ("partially_refunded", 1000)
    );
    // The same key again answers the same refund.
    app.request(
        reqwest::Method::POST,
        &path,
        Some(json!({"amount": 1000})),
        &[("Idempotency-Key", "r1")],
    )
    .await
    .expect(200);
    assert_eq!(app.sandbox.counter("refunds"), 1);
    app.teardown().await;
}
