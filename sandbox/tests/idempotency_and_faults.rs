//! Idempotency (replay with `Idempotent-Replayed`, parameter and endpoint mismatch, concurrent
//! 409, what is and is not saved) and injected faults (latency, 500/502 before and after, reset,
//! timeout, seeded probability).

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::json;
use stripe_sandbox::{FaultKind, FaultRule, When};

fn rule(path: &str, kind: FaultKind, when: When) -> FaultRule {
    FaultRule {
        method: Some("POST".into()),
        path: path.into(),
        kind,
        latency_ms: None,
        probability: None,
        when,
        times: None,
    }
}

#[tokio::test]
async fn replay_returns_the_first_answer_without_a_second_charge() {
    let env = start().await;
    let form = [
        ("amount", "2000"),
        ("currency", "usd"),
        ("payment_method_types[]", "card"),
        ("payment_method", "pm_card_visa"),
        ("confirm", "true"),
    ];
    let first = env
        .post_idem(env.sk(), "/v1/payment_intents", &form, "k-1")
        .await;
    assert_eq!(first.status, 200);
    assert!(first.header("idempotent-replayed").is_none());
    let second = env
        .post_idem(env.sk(), "/v1/payment_intents", &form, "k-1")
        .await;
    assert_eq!(second.status, 200);
    assert_eq!(second.header("idempotent-replayed"), Some("true"));
    assert_eq!(
        second.header("original-request"),
        first.header("request-id")
    );
    assert_ne!(second.header("request-id"), first.header("request-id"));
    assert_eq!(second.body, first.body);
    assert_eq!(env.sb.counter("payment_intents_created"), 1);
    assert_eq!(env.sb.counter("charges_succeeded"), 1);
    // The same key on another account is another request.
    let other = env.sb.create_account(Default::default()).unwrap();
    let r = env
        .post_idem(&other.secret_key, "/v1/payment_intents", &form, "k-1")
        .await;
    assert!(r.header("idempotent-replayed").is_none());
    assert_ne!(r.id(), first.id());
}

#[tokio::test]
async fn declines_are_replayed_too() {
    let env = start().await;
    let form = [
        ("amount", "2000"),
        ("currency", "usd"),
        ("payment_method_types[]", "card"),
        ("payment_method", "pm_card_chargeDeclined"),
        ("confirm", "true"),
    ];
    let first = env
        .post_idem(env.sk(), "/v1/payment_intents", &form, "d-1")
        .await;
    assert_eq!(first.status, 402);
    let second = env
        .post_idem(env.sk(), "/v1/payment_intents", &form, "d-1")
        .await;
    assert_eq!(second.status, 402);
    assert_eq!(second.header("idempotent-replayed"), Some("true"));
    assert_eq!(env.sb.counter("charges_failed"), 1);
}

#[tokio::test]
async fn validation_failures_are_not_saved() {
    let env = start().await;
    let bad = env
        .post_idem(
            env.sk(),
            "/v1/payment_intents",
            &[("amount", "x"), ("currency", "usd")],
            "v-1",
        )
        .await;
    assert_eq!(bad.error_code(), Some("parameter_invalid_integer"));
    // Same key, corrected parameters: runs, because nothing was saved.
    let ok = env
        .post_idem(
            env.sk(),
            "/v1/payment_intents",
            &[("amount", "900"), ("currency", "usd")],
            "v-1",
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
}

#[tokio::test]
async fn other_parameters_or_endpoint_with_the_same_key_is_an_idempotency_error() {
    let env = start().await;
    env.post_idem(
        env.sk(),
        "/v1/customers",
        &[("email", "a@example.com")],
        "same",
    )
    .await;
    let r = env
        .post_idem(
            env.sk(),
            "/v1/customers",
            &[("email", "b@example.com")],
            "same",
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"]["type"], "idempotency_error");
    assert_eq!(
        r.error_message(),
        "Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than 'same' if you meant to execute a different request."
    );
    let r = env
        .post_idem(
            env.sk(),
            "/v1/payment_intents",
            &[("amount", "900"), ("currency", "usd")],
            "same",
        )
        .await;
    assert_eq!(r.body["error"]["type"], "idempotency_error");
    assert!(
        r.error_message().contains("same endpoint"),
        "{}",
        r.error_message()
    );
}

#[tokio::test]
async fn concurrent_requests_with_one_key_one_runs_the_other_gets_409() {
    let env = start().await;
    let mut slow = rule("/v1/payment_intents", FaultKind::Latency, When::Before);
    slow.latency_ms = Some(400);
    env.sb.set_faults(vec![slow], None);
    let form = [
        ("amount", "2000"),
        ("currency", "usd"),
        ("payment_method_types[]", "card"),
        ("payment_method", "pm_card_visa"),
        ("confirm", "true"),
    ];
    let (a, b) = tokio::join!(
        env.post_idem(env.sk(), "/v1/payment_intents", &form, "race"),
        async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            env.post_idem(env.sk(), "/v1/payment_intents", &form, "race")
                .await
        }
    );
    assert_eq!(a.status, 200);
    assert_eq!(b.status, 409, "{}", b.body);
    assert_eq!(b.error_code(), Some("idempotency_key_in_use"));
    assert_eq!(env.sb.counter("payment_intents_created"), 1);
    // Once the first finished, the retry replays it.
    env.sb.set_faults(vec![], None);
    let c = env
        .post_idem(env.sk(), "/v1/payment_intents", &form, "race")
        .await;
    assert_eq!(
        (c.status, c.header("idempotent-replayed")),
        (200, Some("true"))
    );
}

#[tokio::test]
async fn a_fault_after_applies_the_request_and_the_retry_replays_it() {
    let env = start().await;
    let mut r = rule("/v1/payment_intents", FaultKind::Http500, When::After);
    r.times = Some(1);
    env.sb.set_faults(vec![r], None);
    let form = [
        ("amount", "2000"),
        ("currency", "usd"),
        ("payment_method_types[]", "card"),
        ("payment_method", "pm_card_visa"),
        ("confirm", "true"),
    ];
    let lost = env
        .post_idem(env.sk(), "/v1/payment_intents", &form, "after-1")
        .await;
    assert_eq!(lost.status, 500);
    assert_eq!(lost.body["error"]["type"], "api_error");
    assert_eq!(
        env.sb.counter("charges_succeeded"),
        1,
        "the request took effect"
    );
    let retry = env
        .post_idem(env.sk(), "/v1/payment_intents", &form, "after-1")
        .await;
    assert_eq!(
        (retry.status, retry.header("idempotent-replayed")),
        (200, Some("true"))
    );
    assert_eq!(retry.body["status"], "succeeded");
    assert_eq!(env.sb.counter("charges_succeeded"), 1, "no double charge");
    // Without a key the retry charges again: the case idempotency exists for.
    let mut r = rule("/v1/payment_intents", FaultKind::Http502, When::After);
    r.times = Some(1);
    env.sb.set_faults(vec![r], None);
    assert_eq!(
        env.post(env.sk(), "/v1/payment_intents", &form)
            .await
            .status,
        502
    );
    assert_eq!(
        env.post(env.sk(), "/v1/payment_intents", &form)
            .await
            .status,
        200
    );
    assert_eq!(env.sb.counter("charges_succeeded"), 3);
}

#[tokio::test]
async fn a_fault_before_does_not_apply_the_request_nor_save_the_key() {
    let env = start().await;
    let mut r = rule("/v1/payment_intents", FaultKind::Http500, When::Before);
    r.times = Some(1);
    env.sb.set_faults(vec![r], None);
    let form = [("amount", "2000"), ("currency", "usd")];
    assert_eq!(
        env.post_idem(env.sk(), "/v1/payment_intents", &form, "before-1")
            .await
            .status,
        500
    );
    assert_eq!(env.sb.counter("payment_intents_created"), 0);
    let retry = env
        .post_idem(env.sk(), "/v1/payment_intents", &form, "before-1")
        .await;
    assert_eq!(retry.status, 200);
    assert!(retry.header("idempotent-replayed").is_none());
}

#[tokio::test]
async fn reset_closes_the_connection_without_an_answer() {
    let env = start().await;
    let mut r = rule("/v1/customers", FaultKind::Reset, When::After);
    r.times = Some(1);
    env.sb.set_faults(vec![r], None);
    let err = env
        .http
        .post(format!("{}/v1/customers", env.sb.url))
        .bearer_auth(env.sk())
        .form(&[("email", "r@example.com")])
        .send()
        .await
        .expect_err("no answer");
    assert!(!err.is_status(), "{err}");
    assert_eq!(
        env.sb.counter("customers_created"),
        1,
        "applied before the connection dropped"
    );
    // The server is still serving.
    assert_eq!(env.get(env.sk(), "/v1/customers").await.status, 200);
}

#[tokio::test]
async fn timeout_hangs_longer_than_the_client_waits() {
    let env = start().await;
    let mut r = rule("/v1/refunds", FaultKind::Timeout, When::Before);
    r.latency_ms = Some(3_000);
    env.sb.set_faults(vec![r], None);
    let started = Instant::now();
    let err = env
        .http
        .post(format!("{}/v1/refunds", env.sb.url))
        .bearer_auth(env.sk())
        .timeout(Duration::from_millis(300))
        .form(&[("charge", "ch_x")])
        .send()
        .await
        .expect_err("times out");
    assert!(err.is_timeout(), "{err}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn a_client_that_gives_up_during_a_fault_before_leaves_its_key_free() {
    // A request held by a `before` fault never runs; when its client hangs up during the
    // hold, the key must not stay in flight (it did for 24 hours, answering every retry
    // `idempotency_key_in_use`).
    let env = start().await;
    for kind in [FaultKind::Timeout, FaultKind::Latency] {
        let mut r = rule("/v1/payment_intents", kind, When::Before);
        r.latency_ms = Some(600);
        r.times = Some(1);
        env.sb.set_faults(vec![r], None);
        let key = format!("gives-up-{kind:?}");
        let form = [("amount", "2000"), ("currency", "usd")];
        let err = env
            .http
            .post(format!("{}/v1/payment_intents", env.sb.url))
            .bearer_auth(env.sk())
            .header("Idempotency-Key", &key)
            .timeout(Duration::from_millis(200))
            .form(&form)
            .send()
            .await
            .expect_err("the client gives up");
        assert!(err.is_timeout(), "{err}");
        tokio::time::sleep(Duration::from_millis(700)).await;
        let r = env
            .post_idem(env.sk(), "/v1/payment_intents", &form, &key)
            .await;
        assert_eq!(r.status, 200, "{kind:?}: {}", r.error_message());
        assert!(r.header("idempotent-replayed").is_none());
    }
    assert_eq!(env.sb.counter("payment_intents_created"), 2);
}

#[tokio::test]
async fn latency_and_seeded_probability_through_the_control_api() {
    let env = start().await;
    let set = env
        .control(
            "/_sandbox/faults",
            json!({"seed": 42, "rules": [
                {"method": "GET", "path": "/v1/account", "kind": "latency_ms", "latency_ms": 150, "times": 1},
                {"method": "GET", "path": "/v1/customers*", "kind": "http_500", "probability": 0.5}
            ]}),
        )
        .await;
    assert_eq!(set.status, 200, "{}", set.body);
    let t = Instant::now();
    assert_eq!(env.get(env.sk(), "/v1/account").await.status, 200);
    assert!(t.elapsed() >= Duration::from_millis(150));
    let first = statuses(&env).await;
    let failures = first.iter().filter(|s| **s == 500).count();
    assert!(failures > 3 && failures < 21, "{first:?}");
    // Same seed, same sequence.
    env.control("/_sandbox/faults", json!({"seed": 42, "rules": [{"method": "GET", "path": "/v1/customers*", "kind": "http_500", "probability": 0.5}]})).await;
    assert_eq!(statuses(&env).await, first);
    let cleared = env
        .http
        .delete(format!("{}/_sandbox/faults", env.sb.url))
        .send()
        .await
        .unwrap();
    assert_eq!(cleared.status(), 200);
    assert!(statuses(&env).await.iter().all(|s| *s == 200));
}

async fn statuses(env: &Env) -> Vec<u16> {
    let mut v = Vec::new();
    for _ in 0..24 {
        v.push(env.get(env.sk(), "/v1/customers").await.status);
    }
    v
}
