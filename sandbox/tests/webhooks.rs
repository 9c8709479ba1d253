//! Webhook delivery: Stripe's event objects, signed (verified here independently), retried with
//! backoff, and the test knobs (duplicate, out of order, delay, drop first N, drop all), secret
//! rotation, disputes.

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;
use stripe_sandbox::Knobs;

#[tokio::test]
async fn events_are_signed_stripe_event_objects() {
    let env = start().await;
    let hook = receiver(&[]).await;
    let (we, secret) = endpoint(
        &env,
        &hook.url,
        &["payment_intent.succeeded", "charge.succeeded"],
    )
    .await;
    let pi = env
        .post_idem(
            env.sk(),
            "/v1/payment_intents",
            &[
                ("amount", "2000"),
                ("currency", "usd"),
                ("payment_method_types[]", "card"),
                ("payment_method", "pm_card_visa"),
                ("confirm", "true"),
            ],
            "idem-7",
        )
        .await;
    let hits = hook.wait_until(5, |h| h.len() >= 2).await;
    assert_eq!(
        hook.types(),
        ["charge.succeeded", "payment_intent.succeeded"]
    );
    for h in &hits {
        assert!(
            signature_valid(&h.signature, &h.body, &secret),
            "{}",
            h.signature
        );
        assert!(!signature_valid(&h.signature, &h.body, "whsec_wrong"));
        assert!(
            !signature_valid(&h.signature, &format!("{} ", h.body), &secret),
            "the body is signed"
        );
    }
    let ev = hits[1].json();
    assert_eq!(ev["object"], "event");
    assert!(ev["id"].as_str().unwrap().starts_with("evt_"));
    assert_eq!(ev["data"]["object"]["id"], pi.body["id"]);
    assert_eq!(ev["data"]["object"]["status"], "succeeded");
    assert_eq!(ev["request"]["id"], pi.header("request-id").unwrap());
    assert_eq!(ev["request"]["idempotency_key"], "idem-7");
    assert_eq!(ev["livemode"], false);
    assert_eq!(ev["pending_webhooks"], 1, "as sent: not acknowledged yet");
    // The log, the events API, and pending_webhooks after the 2xx.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let log = env.sb.webhook_deliveries();
    assert!(log
        .iter()
        .all(|d| d.endpoint_id == we && d.status == Some(200) && d.outcome == "delivered"));
    let got = env
        .get(
            env.sk(),
            &format!("/v1/events/{}", ev["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(got.body["pending_webhooks"], 0);
    let listed = env
        .get(env.sk(), "/v1/events?type=payment_intent.succeeded")
        .await;
    assert_eq!(listed.body["data"].as_array().unwrap().len(), 1);
    let created = env.get(env.sk(), "/v1/events?type=payment_intent.*").await;
    assert_eq!(
        created.body["data"].as_array().unwrap().len(),
        2,
        "created and succeeded"
    );
    // Only the subscribed types were sent.
    assert_eq!(hook.hits().len(), 2);
}

#[tokio::test]
async fn failed_deliveries_are_retried_with_backoff() {
    let env = start().await;
    let hook = receiver(&[500, 503]).await;
    endpoint(&env, &hook.url, &["customer.created"]).await;
    env.post(env.sk(), "/v1/customers", &[("email", "a@example.com")])
        .await;
    let hits = hook.wait_until(5, |h| h.len() >= 3).await;
    assert_eq!(
        hits.iter().map(|h| h.answered).collect::<Vec<_>>(),
        [500, 503, 200]
    );
    let gap1 = hits[1].at - hits[0].at;
    let gap2 = hits[2].at - hits[1].at;
    assert!(gap1 >= Duration::from_millis(45), "{gap1:?}");
    assert!(gap2 >= Duration::from_millis(95), "doubles: {gap2:?}");
    let log = env.sb.webhook_deliveries();
    assert_eq!(
        log.iter()
            .map(|d| (d.attempt, d.status))
            .collect::<Vec<_>>(),
        [(1, Some(500)), (2, Some(503)), (3, Some(200))]
    );
    assert_eq!(log[0].outcome, "failed");
    // An endpoint that never answers 2xx is given up after the configured attempts (4).
    let dead = receiver(&[500, 500, 500, 500, 500, 500]).await;
    endpoint(&env, &dead.url, &["customer.updated"]).await;
    let cus = env.get(env.sk(), "/v1/customers").await.body["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    env.post(
        env.sk(),
        &format!("/v1/customers/{cus}"),
        &[("name", "Ann")],
    )
    .await;
    dead.wait_until(5, |h| h.len() >= 4).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(dead.hits().len(), 4);
}

#[tokio::test]
async fn a_slow_endpoint_times_out_and_the_retry_delivers() {
    let env = start().await;
    let hook = receiver(&[SLOW]).await;
    endpoint(&env, &hook.url, &["customer.created"]).await;
    env.post(env.sk(), "/v1/customers", &[("email", "slow@example.com")])
        .await;
    // The slow answer is abandoned with its connection: only the retry is recorded.
    let hits = hook.wait_until(8, |h| !h.is_empty()).await;
    assert_eq!(hits[0].answered, 200);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let log = env.sb.webhook_deliveries();
    assert_eq!(log[0].outcome, "error");
    assert_eq!(log[0].error.as_deref(), Some("timeout"));
    assert_eq!((log[1].attempt, log[1].status), (2, Some(200)));
}

#[tokio::test]
async fn knobs_duplicate_drop_and_delay() {
    let env = start().await;
    let hook = receiver(&[]).await;
    endpoint(&env, &hook.url, &["*"]).await;
    env.sb.set_webhook_knobs(Knobs {
        duplicate: true,
        ..Knobs::default()
    });
    let cus = env
        .post(env.sk(), "/v1/customers", &[("email", "a@example.com")])
        .await
        .id();
    let hits = hook.wait_until(5, |h| h.len() >= 2).await;
    assert_eq!(
        hits[0].json()["id"],
        hits[1].json()["id"],
        "the same event twice"
    );
    // Drop the first two attempts: the third (a retry) gets through.
    env.control("/_sandbox/webhooks/knobs", json!({"drop_first": 2}))
        .await;
    env.post(env.sk(), &format!("/v1/customers/{cus}"), &[("name", "B")])
        .await;
    let hits = hook.wait_until(5, |h| h.len() >= 3).await;
    assert_eq!(hits[2].json()["type"], "customer.updated");
    let log = env.control_get("/_sandbox/webhooks/deliveries").await;
    let updated: Vec<_> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["event_type"] == "customer.updated")
        .collect();
    assert_eq!(
        updated
            .iter()
            .map(|d| d["outcome"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["dropped", "dropped", "delivered"]
    );
    // Drop everything: nothing arrives, nothing is retried.
    env.sb.set_webhook_knobs(Knobs {
        drop_all: true,
        ..Knobs::default()
    });
    env.post(env.sk(), &format!("/v1/customers/{cus}"), &[("name", "C")])
        .await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(hook.hits().len(), 3);
    // Delay.
    env.sb.set_webhook_knobs(Knobs {
        delay_ms: 300,
        ..Knobs::default()
    });
    let sent = std::time::Instant::now();
    env.post(env.sk(), &format!("/v1/customers/{cus}"), &[("name", "D")])
        .await;
    let hits = hook.wait_until(5, |h| h.len() >= 4).await;
    assert!(hits[3].at - sent >= Duration::from_millis(290));
}

#[tokio::test]
async fn out_of_order_shuffles_a_held_batch() {
    let env = start_with(stripe_sandbox::SandboxConfig {
        seed: Some(3),
        ..stripe_sandbox::SandboxConfig::default()
    })
    .await;
    let hook = receiver(&[]).await;
    endpoint(&env, &hook.url, &["customer.created"]).await;
    env.sb.set_webhook_knobs(Knobs {
        out_of_order: Some(8),
        ..Knobs::default()
    });
    let mut created = Vec::new();
    for i in 0..8 {
        created.push(
            env.post(
                env.sk(),
                "/v1/customers",
                &[("email", &format!("c{i}@example.com"))],
            )
            .await
            .id(),
        );
    }
    let hits = hook.wait_until(5, |h| h.len() >= 8).await;
    let got: Vec<String> = hits
        .iter()
        .map(|h| {
            h.json()["data"]["object"]["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let mut sorted_got = got.clone();
    sorted_got.sort();
    let mut sorted_created = created.clone();
    sorted_created.sort();
    assert_eq!(sorted_got, sorted_created, "every event delivered once");
    assert_ne!(got, created, "in another order");
    // A partial batch is flushed after hold_ms.
    env.sb.set_webhook_knobs(Knobs {
        out_of_order: Some(50),
        hold_ms: Some(100),
        ..Knobs::default()
    });
    env.post(env.sk(), "/v1/customers", &[("email", "late@example.com")])
        .await;
    hook.wait_until(5, |h| h.len() >= 9).await;
}

#[tokio::test]
async fn a_rotated_secret_signs_alongside_the_new_one_until_it_expires() {
    let env = start().await;
    let hook = receiver(&[]).await;
    let (we, old) = endpoint(&env, &hook.url, &["customer.created"]).await;
    let rotated = env
        .control(
            &format!("/_sandbox/webhook_endpoints/{we}/rotate"),
            json!({"expires_in": 3600}),
        )
        .await;
    let new = rotated.body["secret"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    env.post(env.sk(), "/v1/customers", &[("email", "a@example.com")])
        .await;
    let hits = hook.wait_until(5, |h| !h.is_empty()).await;
    assert_eq!(hits[0].signature.matches("v1=").count(), 2);
    assert!(signature_valid(&hits[0].signature, &hits[0].body, &new));
    assert!(signature_valid(&hits[0].signature, &hits[0].body, &old));
    env.sb.advance_clock(3601).unwrap();
    env.post(env.sk(), "/v1/customers", &[("email", "b@example.com")])
        .await;
    let hits = hook.wait_until(5, |h| h.len() >= 2).await;
    assert!(signature_valid(&hits[1].signature, &hits[1].body, &new));
    assert!(!signature_valid(&hits[1].signature, &hits[1].body, &old));
}

#[tokio::test]
async fn disputes_open_and_close_with_their_events() {
    let env = start().await;
    let hook = receiver(&[]).await;
    endpoint(
        &env,
        &hook.url,
        &[
            "charge.dispute.created",
            "charge.dispute.funds_withdrawn",
            "charge.dispute.closed",
            "charge.dispute.funds_reinstated",
        ],
    )
    .await;
    let pi = env.pay("pm_card_visa", "4000", &[]).await;
    let charge = pi.body["latest_charge"].as_str().unwrap();
    let d = env
        .control(
            &format!("/_sandbox/charges/{charge}/dispute"),
            json!({"reason": "fraudulent"}),
        )
        .await;
    assert_eq!(d.status, 200, "{}", d.body);
    assert_eq!(d.body["status"], "needs_response");
    let dp = d.id();
    assert!(env
        .get(env.sk(), &format!("/v1/charges/{charge}"))
        .await
        .body["disputed"]
        .as_bool()
        .unwrap());
    let closed = env
        .control(
            &format!("/_sandbox/disputes/{dp}/close"),
            json!({"outcome": "won"}),
        )
        .await;
    assert_eq!(closed.body["status"], "won");
    assert_eq!(
        closed.body["balance_transactions"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    hook.wait_until(5, |h| h.len() >= 4).await;
    assert_eq!(
        hook.types(),
        [
            "charge.dispute.created",
            "charge.dispute.funds_withdrawn",
            "charge.dispute.closed",
            "charge.dispute.funds_reinstated"
        ]
    );
    assert_eq!(
        env.get(env.sk(), &format!("/v1/disputes/{dp}")).await.body["status"],
        "won"
    );
    // A disputed charge cannot be refunded; the dispute card opens one by itself.
    assert_eq!(
        env.post(env.sk(), "/v1/refunds", &[("charge", charge)])
            .await
            .error_code(),
        Some("charge_disputed")
    );
    let auto = env.pay("pm_card_createDispute", "4000", &[]).await;
    let list = env
        .get(
            env.sk(),
            &format!("/v1/disputes?payment_intent={}", auto.id()),
        )
        .await;
    assert_eq!(list.body["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn webhook_endpoints_api() {
    let env = start().await;
    let r = env
        .post(
            env.sk(),
            "/v1/webhook_endpoints",
            &[
                ("url", "http://127.0.0.1:9/x"),
                ("enabled_events[0]", "charge.refunded"),
                ("enabled_events[1]", "refund.created"),
            ],
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r.body["secret"].as_str().unwrap().starts_with("whsec_"));
    assert_eq!(
        r.body["enabled_events"],
        json!(["charge.refunded", "refund.created"])
    );
    let id = r.id();
    let got = env
        .get(env.sk(), &format!("/v1/webhook_endpoints/{id}"))
        .await;
    assert!(
        got.body.get("secret").is_none(),
        "the secret is returned only on creation"
    );
    let list = env.get(env.sk(), "/v1/webhook_endpoints").await;
    assert_eq!(list.body["data"][0]["id"], id.as_str());
    let bad = env
        .post(
            env.sk(),
            "/v1/webhook_endpoints",
            &[
                ("url", "http://x.example/h"),
                ("enabled_events[]", "nonsense.event"),
            ],
        )
        .await;
    assert_eq!(bad.status, 400);
    let missing = env
        .post(
            env.sk(),
            "/v1/webhook_endpoints",
            &[("url", "http://x.example/h")],
        )
        .await;
    assert_eq!(
        missing.error_message(),
        "Missing required param: enabled_events."
    );
    let del = env
        .delete(env.sk(), &format!("/v1/webhook_endpoints/{id}"))
        .await;
    assert_eq!(
        del.body,
        json!({"id": id, "object": "webhook_endpoint", "deleted": true})
    );
    assert_eq!(
        env.get(env.sk(), &format!("/v1/webhook_endpoints/{id}"))
            .await
            .status,
        404
    );
}
