//! Injected Stripe faults (500 and 502, before and after Stripe acts; timeouts; resets)
//! during pay and refund, and a merchant's key replaced while a payment used the old one:
//! never a second charge or refund; the client gets a retryable `stripe_unavailable` and
//! succeeds on retry with the same key.

use std::time::Duration;

use serde_json::json;
use stripe_sandbox::{FaultKind, FaultRule, KeyKind, When};

use crate::helpers::{register_secret, spawn_app, Backend, TestApp};

fn rule(method: &str, path: &str, kind: FaultKind, when: When, times: u32) -> FaultRule {
    FaultRule {
        method: Some(method.into()),
        path: path.into(),
        kind,
        latency_ms: (kind == FaultKind::Timeout).then_some(1500),
        probability: None,
        when,
        times: Some(times),
    }
}

/// A lost answer also hides the PaymentIntent from the recovery read, so the client sees
/// the failure (with no retries in the client, every fault reaches the caller).
fn and_hide_reads(mut rules: Vec<FaultRule>) -> Vec<FaultRule> {
    rules.push(rule(
        "GET",
        "/v1/payment_intents/*",
        FaultKind::Http500,
        When::Before,
        1000,
    ));
    rules
}

async fn faults(app: TestApp) {
    let m = app.pay_merchant(None).await;
    let cases: Vec<(&str, Vec<FaultRule>)> = vec![
        (
            "500 after confirm",
            and_hide_reads(vec![rule(
                "POST",
                "/v1/payment_intents/*/confirm",
                FaultKind::Http500,
                When::After,
                1,
            )]),
        ),
        (
            "502 before confirm",
            vec![rule(
                "POST",
                "/v1/payment_intents/*/confirm",
                FaultKind::Http502,
                When::Before,
                1,
            )],
        ),
        (
            "timeout after confirm",
            and_hide_reads(vec![rule(
                "POST",
                "/v1/payment_intents/*/confirm",
                FaultKind::Timeout,
                When::After,
                1,
            )]),
        ),
        (
            "reset after create",
            vec![rule(
                "POST",
                "/v1/payment_intents",
                FaultKind::Reset,
                When::After,
                1,
            )],
        ),
        (
            "reset before payment method read",
            vec![rule(
                "GET",
                "/v1/payment_methods/*",
                FaultKind::Reset,
                When::Before,
                1,
            )],
        ),
    ];
    let n = cases.len() as u64;
    for (what, rules) in cases {
        let token = app
            .checkout(
                &m.id,
                json!({"amount": 2500, "currency": "eur", "description": what}),
            )
            .await;
        let pm = app.card("4242424242424242").await;
        app.sandbox.set_faults(rules, Some(1));
        let first = app.pay(&token, &pm, "key").await;
        assert_eq!(first.status.as_u16(), 503, "{what}: {}", first.text);
        assert_eq!(first.code(), "stripe_unavailable", "{what}");
        assert!(first.headers.contains_key("retry-after"));
        assert_ne!(
            app.stored(&token).await.status.as_str(),
            "processing",
            "{what}: lease given back"
        );
        app.sandbox.set_faults(vec![], None);
        let retry = app.pay(&token, &pm, "key").await.expect(200);
        assert_eq!(retry.json["status"], "succeeded", "{what}");
        assert_eq!(app.stored(&token).await.status.as_str(), "paid");
    }
    assert_eq!(app.sandbox.counter("payment_intents_created"), n);
    assert_eq!(app.sandbox.counter("charges_succeeded"), n);

    // Refunds: a lost answer keeps the reservation; the same key replays at Stripe.
    let token = app
        .checkout(
            &m.id,
            json!({"amount": 9000, "currency": "eur", "description": "refunds"}),
        )
        .await;
    let pm = app.card("4242424242424242").await;
    app.pay(&token, &pm, "k").await.expect(200);
    let path = format!("/v1/admin/checkouts/{token}/refunds");
    for (i, fault) in [
        rule("POST", "/v1/refunds", FaultKind::Http500, When::After, 1),
        rule("POST", "/v1/refunds", FaultKind::Reset, When::Before, 1),
        rule("POST", "/v1/refunds", FaultKind::Timeout, When::After, 1),
    ]
    .into_iter()
    .enumerate()
    {
        let key = format!("refund-{i}");
        app.sandbox.set_faults(vec![fault], Some(2));
        let r = app
            .request(
                reqwest::Method::POST,
                &path,
                Some(json!({"amount": 1000})),
                &[("idempotency-key", &key)],
            )
            .await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (503, "stripe_unavailable"),
            "{}",
            r.text
        );
        let stored = app.stored(&token).await;
        assert_eq!(
            stored.amount_refunded,
            1000 * (i as i64 + 1),
            "reserved while unresolved"
        );
        app.sandbox.set_faults(vec![], None);
        let ok = app
            .request(
                reqwest::Method::POST,
                &path,
                Some(json!({"amount": 1000})),
                &[("idempotency-key", &key)],
            )
            .await
            .expect(200);
        assert_eq!(ok.json["amount_refunded"], 1000 * (i as i64 + 1));
    }
    assert_eq!(app.sandbox.counter("refunds"), 3);
    let detail = app
        .get(&format!("/v1/admin/checkouts/{token}"))
        .await
        .expect(200);
    assert_eq!(detail.json["status"], "partially_refunded");
    assert_eq!(detail.json["refunds"].as_array().unwrap().len(), 3);
}

fn tweak() -> crate::helpers::Tweak {
    Box::new(|c| {
        c.stripe_max_retries = 0;
        c.stripe_timeout = Duration::from_millis(1000);
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_sqlite() {
    let app = spawn_app(Backend::Sqlite, tweak()).await.unwrap();
    faults(app.clone()).await;
    app.teardown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_postgres() {
    let Some(app) = spawn_app(Backend::Postgres, tweak()).await else {
        return;
    };
    faults(app.clone()).await;
    app.teardown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_retries_hide_transient_faults() {
    let app = spawn_app(Backend::Sqlite, Box::new(|_| {})).await.unwrap();
    let m = app.pay_merchant(None).await;
    let token = app
        .checkout(
            &m.id,
            json!({"amount": 2500, "currency": "eur", "description": "x"}),
        )
        .await;
    let pm = app.card("4242424242424242").await;
    app.sandbox.set_faults(
        vec![
            rule(
                "POST",
                "/v1/payment_intents/*/confirm",
                FaultKind::Http500,
                When::After,
                1,
            ),
            rule(
                "POST",
                "/v1/payment_intents/*/confirm",
                FaultKind::Http502,
                When::Before,
                1,
            ),
        ],
        Some(3),
    );
    let r = app.pay(&token, &pm, "k").await.expect(200);
    assert_eq!(r.json["status"], "succeeded");
    assert_eq!(app.sandbox.counter("charges_succeeded"), 1);
    app.teardown().await;
}

/// The answer to a pay request is lost after Stripe charged, and Stripe's webhook tells the
/// server the checkout is paid before the client's retry (the webhook's PaymentIntent does not
/// carry the charge): the retry with the same key answers paid with the card that paid, and the
/// checkout records it, rather than waiting for Stripe's next event.
async fn a_retry_after_the_webhook_paid_it_names_the_card(app: TestApp) {
    let m = app.pay_merchant(None).await;
    let token = app
        .checkout(
            &m.id,
            json!({"amount": 2500, "currency": "eur", "description": "lost answer"}),
        )
        .await;
    let pm = app.card("4242424242424242").await;
    app.sandbox.set_faults(
        and_hide_reads(vec![rule(
            "POST",
            "/v1/payment_intents/*/confirm",
            FaultKind::Http500,
            When::After,
            1,
        )]),
        Some(1),
    );
    let first = app.pay(&token, &pm, "key").await;
    assert_eq!(first.status.as_u16(), 503, "{}", first.text);
    // Stripe's webhook (payment_intent.succeeded) reaches the server meanwhile.
    let mut paid = false;
    for _ in 0..100 {
        if app.stored(&token).await.status.as_str() == "paid" {
            paid = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(paid, "the webhook marked the checkout paid");
    app.sandbox.set_faults(vec![], None);
    let retry = app.pay(&token, &pm, "key").await.expect(200);
    assert_eq!(retry.json["status"], "succeeded");
    assert_eq!(retry.json["receipt"]["last4"], "4242", "{}", retry.text);
    let card = app.stored(&token).await.card.expect("the card is recorded");
    assert_eq!(card.last4.as_str(), "4242");
    assert_eq!(app.sandbox.counter("charges_succeeded"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_the_webhook_paid_it_names_the_card_sqlite() {
    let app = spawn_app(Backend::Sqlite, tweak()).await.unwrap();
    a_retry_after_the_webhook_paid_it_names_the_card(app.clone()).await;
    app.teardown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_the_webhook_paid_it_names_the_card_postgres() {
    let Some(app) = spawn_app(Backend::Postgres, tweak()).await else {
        return;
    };
    a_retry_after_the_webhook_paid_it_names_the_card(app.clone()).await;
    app.teardown().await;
}

/// The merchant rolls a key at Stripe and pastes the new one while a payment is using the old
/// one: Stripe's refusal of the old key does not mark the new one broken, and the client,
/// told to try again, pays with the new key (the same idempotency key).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_replaced_during_a_payment_is_not_marked_broken() {
    let app = spawn_app(Backend::Sqlite, Box::new(|_| {})).await.unwrap();
    let m = app.pay_merchant(None).await;
    let token = app
        .checkout(
            &m.id,
            json!({"amount": 2500, "currency": "eur", "description": "x"}),
        )
        .await;
    let pm = app.card("4242424242424242").await;
    let old = app.sandbox.secret_key.clone();
    let new = app.sandbox.create_key(None, KeyKind::Secret, &[]).unwrap();
    register_secret(&new);
    // Stripe is slow over the card's check: the payment holds the old key meanwhile.
    let mut slow = rule(
        "GET",
        "/v1/payment_methods/*",
        FaultKind::Latency,
        When::Before,
        1,
    );
    slow.latency_ms = Some(800);
    app.sandbox.set_faults(vec![slow], None);
    let paying = {
        let (app, token, pm) = (app.clone(), token.clone(), pm.clone());
        tokio::spawn(async move { app.pay(&token, &pm, "k").await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.sandbox.revoke_key(&old).unwrap();
    app.sandbox_integration(&m.id, &new).await.expect(200);
    let integration = format!("/v1/admin/merchants/{}/integration", m.id);
    app.post(&format!("{integration}/activate"), json!({}))
        .await
        .expect(200);

    paying
        .await
        .unwrap()
        .expect_error(503, "stripe_unavailable", None);
    let view = app.get(&integration).await.expect(200);
    assert_eq!(
        (view.json["status"].as_str(), view.json["active"].as_bool()),
        (Some("active"), Some(true)),
        "{}",
        view.text
    );
    let again = app.pay(&token, &pm, "k").await.expect(200);
    assert_eq!(again.json["status"], "succeeded", "{}", again.text);
    app.teardown().await;
}

/// Each instance keeps a merchant's payment credentials for a few seconds. A key replaced
/// through another instance, the old one revoked at Stripe, costs the next payment on an
/// instance that kept the old key one retryable refusal, and the retry (the same idempotency
/// key) pays on the new key; payments turned off through an instance stop there at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credential_changes_reach_kept_credentials() {
    let app = spawn_app(Backend::Sqlite, Box::new(|_| {})).await.unwrap();
    let m = app.pay_merchant(None).await;
    let second = app.second_instance().await;
    let body = json!({"amount": 2500, "currency": "eur", "description": "x"});
    let mut tokens = Vec::new();
    for _ in 0..5 {
        tokens.push((
            app.checkout(&m.id, body.clone()).await,
            app.card("4242424242424242").await,
        ));
    }
    // Both instances pay once, and keep the credentials.
    app.pay_at(Some(&second), &tokens[0].0, &tokens[0].1, "k0", false)
        .await
        .expect(200);
    app.pay(&tokens[1].0, &tokens[1].1, "k1").await.expect(200);

    // The key is replaced through the first instance and the old one revoked at Stripe.
    let old = app.sandbox.secret_key.clone();
    let new = app.sandbox.create_key(None, KeyKind::Secret, &[]).unwrap();
    register_secret(&new);
    let integration = format!("/v1/admin/merchants/{}/integration", m.id);
    app.sandbox_integration(&m.id, &new).await.expect(200);
    app.post(&format!("{integration}/activate"), json!({}))
        .await
        .expect(200);
    app.sandbox.revoke_key(&old).unwrap();
    let (token, pm) = &tokens[2];
    let first = app.pay_at(Some(&second), token, pm, "k2", false).await;
    if first.status != 200 {
        // The second instance still held the old key (within its few seconds): Stripe refused
        // it, the client is told to try again, and the retry reads the new key.
        first.expect_error(503, "stripe_unavailable", None);
        let again = app
            .pay_at(Some(&second), token, pm, "k2", false)
            .await
            .expect(200);
        assert_eq!(again.json["status"], "succeeded", "{}", again.text);
    }
    let view = app.get(&integration).await.expect(200);
    assert_eq!(view.json["status"], "active", "{}", view.text);

    // The first instance pays and keeps the new credentials; turned off through it, it
    // takes no payment, at once.
    app.pay(&tokens[3].0, &tokens[3].1, "k3").await.expect(200);
    app.post(&format!("{integration}/deactivate"), json!({}))
        .await
        .expect(200);
    app.pay(&tokens[4].0, &tokens[4].1, "k4")
        .await
        .expect_error(409, "payments_unavailable", None);
    app.teardown().await;
}
