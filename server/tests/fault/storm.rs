//! Scenario 1, double submit storm: 50 concurrent pays of one checkout across two server instances on
//! one PostgreSQL, with the same and different Idempotency-Keys (and a reused key with another
//! card) → exactly one PaymentIntent and one charge per checkout, the checkout paid, every
//! other answer a documented code.

use std::sync::Arc;

use serde_json::json;
use slotpay_core::CheckoutStatus;
use tokio::sync::Barrier;

use crate::helpers::{spawn_app, Backend};
use crate::support::{self, Findings, Run};

/// Concurrent pays per checkout.
const PAYS: usize = 50;

pub async fn run(run: Run) -> Findings {
    let mut f = Findings::start(
        "storm",
        "double submit storm, two instances on one PostgreSQL",
    );
    let Some(app) = spawn_app(Backend::Postgres, Box::new(|_| {})).await else {
        f.fail("no PostgreSQL (SLOTPAY_TEST_POSTGRES_URL): the storm needs two instances on one");
        f.headline = "not run: no PostgreSQL".into();
        return f;
    };
    support::app_secrets("storm", &app);
    let second = app.second_instance().await;
    let bases = [app.url.clone(), second];
    let m = support::merchant("storm", &app).await;
    let rounds = run.scale.pick(2, 10);
    f.tried(format!(
        "{rounds} checkouts × {PAYS} concurrent pays released together, alternating between 2 \
         instances: 20 share one key and card (a client retrying), 5 reuse that key with another \
         card, 25 bring their own key and card"
    ));
    let mut answers = Vec::new();
    for round in 0..rounds {
        let token = app
            .checkout(
                &m.id,
                json!({"amount": 4200 + round as i64, "currency": "eur", "description": "Storm"}),
            )
            .await;
        let shared_pm = app.card("4242424242424242").await;
        let other_pm = app.card("5555555555554444").await;
        let mut pms = Vec::new();
        for i in 0..PAYS {
            pms.push(match i % 10 {
                0 | 2 | 4 | 6 => (shared_pm.clone(), "shared".to_owned()),
                8 => (other_pm.clone(), "shared".to_owned()),
                _ => (app.card("4242424242424242").await, format!("own-{i}")),
            });
        }
        let barrier = Arc::new(Barrier::new(PAYS));
        let mut jobs = Vec::new();
        for (i, (pm, key)) in pms.into_iter().enumerate() {
            let (app, token, base, barrier) = (
                app.clone(),
                token.clone(),
                bases[i % 2].clone(),
                barrier.clone(),
            );
            jobs.push(tokio::spawn(async move {
                barrier.wait().await;
                app.pay_at(Some(&base), &token, &pm, &key, false).await
            }));
        }
        let mut succeeded = 0;
        for job in jobs {
            let r = job.await.expect("a pay task");
            support::keep(&r);
            let l = support::label(Some(&r));
            match l.as_str() {
                "200 succeeded" => succeeded += 1,
                "409 payment_in_progress"
                | "409 checkout_already_paid"
                | "409 idempotency_conflict" => {}
                other => f.fail(format!(
                    "round {round}: unexpected answer {other}: {}",
                    r.text
                )),
            }
            answers.push(l);
        }
        app.settle_webhooks().await;
        let stored = app.stored(&token).await;
        f.check(succeeded >= 1, || {
            format!("round {round}: no pay answered succeeded")
        });
        f.check(stored.status == CheckoutStatus::Paid, || {
            format!("round {round}: checkout is {}, not paid", stored.status)
        });
        // A late click after the storm is refused; the card is not charged.
        let late = app.card("4242424242424242").await;
        let r = app.pay(&token, &late, "late").await;
        support::keep(&r);
        f.check(r.code() == "checkout_already_paid", || {
            format!("round {round}: a late pay answered {}", r.text)
        });
    }
    let intents = app.sandbox.counter("payment_intents_created");
    let charges = app.sandbox.counter("charges_succeeded");
    let failed = app.sandbox.counter("charges_failed");
    let listed = support::stripe_list(
        &support::client(),
        &app.sandbox.url,
        &app.sandbox.secret_key,
        "/v1/charges",
    )
    .await;
    f.found(format!(
        "{intents} PaymentIntents, {charges} charges succeeded, {failed} failed, {} charges \
         listed at Stripe for {rounds} checkouts; answers: {}",
        listed.len(),
        support::tally(answers)
    ));
    f.check(intents == rounds as u64, || {
        format!("{intents} PaymentIntents for {rounds} checkouts")
    });
    f.check(charges == rounds as u64 && listed.len() == rounds, || {
        format!(
            "{charges} charges succeeded ({} listed) for {rounds} checkouts",
            listed.len()
        )
    });
    f.headline = format!(
        "{rounds}×{PAYS} concurrent pays on 2 instances: {intents} PaymentIntents, {charges} \
         charges, {rounds} paid"
    );
    support::keep_database("storm", &app).await;
    app.teardown().await;
    f
}
