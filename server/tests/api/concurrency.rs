//! 20 concurrent pays of one checkout, with the same and with different Idempotency-Keys:
//! on PostgreSQL against two server instances sharing the database, on SQLite against one.
//! Exactly one PaymentIntent and one successful charge, whatever the interleaving.

use serde_json::json;

use crate::helpers::{spawn_app, Backend, TestApp};

async fn storm(app: &TestApp, bases: &[String]) {
    let m = app.pay_merchant(None).await;
    let token = app
        .checkout(
            &m.id,
            json!({"amount": 4200, "currency": "eur", "description": "Storm"}),
        )
        .await;
    // Ten requests share one key and one card (a client retrying); ten have their own.
    let shared_pm = app.card("4242424242424242").await;
    let mut jobs = Vec::new();
    for i in 0..20 {
        let (pm, key) = if i % 2 == 0 {
            (shared_pm.clone(), "shared-key".to_owned())
        } else {
            (app.card("4242424242424242").await, format!("own-{i}"))
        };
        let app = app.clone();
        let token = token.clone();
        let base = bases[i % bases.len()].clone();
        jobs.push(tokio::spawn(async move {
            app.pay_at(Some(&base), &token, &pm, &key, false).await
        }));
    }
    let mut succeeded = 0;
    for job in jobs {
        let r = job.await.unwrap();
        match (r.status.as_u16(), r.json["status"].as_str(), r.code()) {
            (200, Some("succeeded"), _) => succeeded += 1,
            (409, _, "payment_in_progress" | "checkout_already_paid") => {}
            other => panic!("unexpected answer {other:?}: {}", r.text),
        }
    }
    assert!(succeeded >= 1);
    assert_eq!(app.sandbox.counter("payment_intents_created"), 1);
    assert_eq!(app.sandbox.counter("charges_succeeded"), 1);
    assert_eq!(app.stored(&token).await.status.as_str(), "paid");
    // The winner's key replays success; every other attempt is refused now.
    let pm = app.card("4242424242424242").await;
    app.pay(&token, &pm, "late").await.expect(409);
    assert_eq!(app.sandbox.counter("charges_succeeded"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_pays_two_instances_on_postgres() {
    let Some(app) = spawn_app(Backend::Postgres, Box::new(|_| {})).await else {
        return;
    };
    let second = app.second_instance().await;
    storm(&app, &[app.url.clone(), second]).await;
    app.teardown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_pays_one_instance_on_sqlite() {
    let app = spawn_app(Backend::Sqlite, Box::new(|_| {})).await.unwrap();
    storm(&app, std::slice::from_ref(&app.url)).await;
    app.teardown().await;
}
