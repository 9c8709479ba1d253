//! What a long-lived sandbox keeps, and for how long, as Stripe keeps it: idempotency records
//! 24 hours of sandbox time, events 30 days, a delivery log of bounded length; and `reset`
//! starting afresh. (Memory per payment and time per request as payments accumulate are
//! measured by `tests/footprint.rs` and `examples/scaling.rs`.)

mod common;

use std::time::Duration;

use common::*;
use serde_json::Value;
use stripe_sandbox::SandboxConfig;

fn idem_keys(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn idempotency_records_expire_after_24_hours_of_sandbox_time() {
    let env = start().await;
    let form = [("amount", "2000"), ("currency", "usd")];
    let first = env
        .post_idem(env.sk(), "/v1/payment_intents", &form, "day-one")
        .await;
    assert_eq!(first.status, 200, "{}", first.body);
    env.sb.advance_clock(23 * 3600).unwrap();
    let later = env
        .post_idem(env.sk(), "/v1/payment_intents", &form, "hour-23")
        .await;
    assert_eq!(later.status, 200);
    // Within the day the first key still replays.
    let replay = env
        .post_idem(env.sk(), "/v1/payment_intents", &form, "day-one")
        .await;
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(replay.id(), first.id());
    assert_eq!(
        idem_keys(&env.control_get("/_sandbox/idempotency").await),
        ["day-one", "hour-23"]
    );
    // Past 24 hours the record is gone without the key being used again, and the younger one
    // stays.
    env.sb.advance_clock(3600 + 1).unwrap();
    assert_eq!(
        idem_keys(&env.control_get("/_sandbox/idempotency").await),
        ["hour-23"]
    );
    // The key is new again: a new PaymentIntent.
    let again = env
        .post_idem(env.sk(), "/v1/payment_intents", &form, "day-one")
        .await;
    assert_eq!(again.status, 200);
    assert_eq!(again.header("idempotent-replayed"), None);
    assert_ne!(again.id(), first.id());
}

#[tokio::test]
async fn events_are_kept_30_days() {
    let env = start().await;
    let paid = env.pay("pm_card_visa", "2000", &[]).await;
    assert_eq!(paid.status, 200);
    let events = env.get(env.sk(), "/v1/events?limit=100").await;
    let old: Vec<String> = events.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(old.len(), 3, "{}", events.body);
    env.sb.advance_clock(29 * 86_400).unwrap();
    let kept = env.get(env.sk(), &format!("/v1/events/{}", old[0])).await;
    assert_eq!(kept.status, 200);
    env.sb.advance_clock(86_400).unwrap();
    // Thirty days on, the next request finds them gone; newer events stay.
    env.pay("pm_card_mastercard", "2000", &[]).await;
    let gone = env.get(env.sk(), &format!("/v1/events/{}", old[0])).await;
    assert_eq!(gone.status, 404, "{}", gone.body);
    let list = env.get(env.sk(), "/v1/events?limit=100").await;
    let ids: Vec<&str> = list.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 3, "only the new payment's events: {ids:?}");
    assert!(ids.iter().all(|i| !old.iter().any(|o| o == i)));
}

#[tokio::test]
async fn the_delivery_log_keeps_the_newest_rows() {
    let env = start_with(SandboxConfig {
        webhook_retry_base: Duration::from_millis(50),
        webhook_max_attempts: 2,
        webhook_timeout: Duration::from_secs(2),
        webhook_log_limit: 4,
        ..SandboxConfig::default()
    })
    .await;
    let rx = receiver(&[]).await;
    endpoint(&env, &rx.url, &["*"]).await;
    for _ in 0..3 {
        assert_eq!(env.pay("pm_card_visa", "2000", &[]).await.status, 200);
    }
    // Nine events (created, charge.succeeded, succeeded per payment), one delivery each.
    rx.wait_until(10, |h| h.len() == 9).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let log = env.sb.webhook_deliveries();
    assert_eq!(log.len(), 4, "{log:?}");
    assert_eq!(env.sb.counter("webhook_attempts"), 9);
    // The rows kept are the last four delivered.
    let last: Vec<String> = rx
        .hits()
        .iter()
        .rev()
        .take(4)
        .rev()
        .map(|h| h.json()["id"].as_str().unwrap().to_string())
        .collect();
    let kept: Vec<String> = log.iter().map(|d| d.event_id.clone()).collect();
    assert_eq!(kept, last);
    let via_api = env.control_get("/_sandbox/webhooks/deliveries").await;
    assert_eq!(via_api.as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn reset_forgets_everything_but_the_first_account() {
    let env = start().await;
    let rx = receiver(&[]).await;
    endpoint(&env, &rx.url, &["*"]).await;
    let paid = env
        .pay("pm_card_visa", "2000", &[("capture_method", "manual")])
        .await;
    let pi = paid.id();
    env.post_idem(
        env.sk(),
        "/v1/customers",
        &[("email", "a@example.com")],
        "k1",
    )
    .await;
    rx.wait_until(10, |h| h.len() >= 3).await;
    env.control("/_sandbox/reset", serde_json::json!({})).await;
    assert_eq!(
        env.get(env.sk(), &format!("/v1/payment_intents/{pi}"))
            .await
            .status,
        404
    );
    let lists = [
        "/v1/payment_intents",
        "/v1/events",
        "/v1/charges",
        "/v1/customers",
        "/v1/webhook_endpoints",
    ];
    for path in lists {
        let l = env.get(env.sk(), path).await;
        assert_eq!(l.status, 200, "{path}");
        assert_eq!(l.body["data"], serde_json::json!([]), "{path}");
    }
    assert_eq!(
        env.control_get("/_sandbox/idempotency").await,
        serde_json::json!([])
    );
    assert!(env.sb.webhook_deliveries().is_empty());
    // The authorisation's expiry went with it: nothing expires a week later.
    assert!(env.sb.advance_clock(8 * 86_400).unwrap().is_empty());
    // The same keys work afresh.
    let again = env
        .post_idem(
            env.sk(),
            "/v1/customers",
            &[("email", "b@example.com")],
            "k1",
        )
        .await;
    assert_eq!(again.status, 200);
    assert_eq!(again.body["email"], "b@example.com");
}
