//! Scenario card testing: a bot with stolen cards (mostly declined) spreads them over
//! checkouts it makes from one merchant's catalogue, from twenty addresses, through two server
//! instances on one PostgreSQL, while honest clients pay two other merchants. With the
//! defences at their defaults, the declines reaching Stripe must stay within the merchant's
//! budget (plus the attempts already in flight when it is reached), no checkout may see more
//! declines than its cap, and every honest payment must succeed.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use slotpay_server::Config;
use sqlx::Row;

use crate::helpers::{spawn_app, Backend, TestApp};
use crate::support::{self, Findings, Run};

/// The bot's concurrent workers (each with its own checkout at a time).
const WORKERS: usize = 8;
/// The addresses the bot sends from (behind a trusted proxy: each its own client).
const ADDRESSES: usize = 20;

pub async fn run(run: Run) -> Findings {
    let mut f = Findings::start(
        "card-testing",
        "a card-testing bot on one merchant while others' clients pay",
    );
    let Some(app) = spawn_app(Backend::Postgres, Box::new(default_defences)).await else {
        f.fail("no PostgreSQL (SLOTPAY_TEST_POSTGRES_URL): the scenario runs two instances on one");
        f.headline = "not run: no PostgreSQL".into();
        return f;
    };
    support::app_secrets("card-testing", &app);
    let bases = Arc::new([app.url.clone(), app.second_instance().await]);
    let defaults = Config::new(".");
    let (cap, budget) = (
        defaults.max_declines_per_checkout as usize,
        defaults.merchant_decline_budget.count as usize,
    );
    let attacked = support::merchant("card-testing", &app).await;
    let honest = [
        support::merchant("card-testing", &app).await,
        support::merchant("card-testing", &app).await,
    ];
    let service = app
        .service(
            &attacked.id,
            json!({"name": "Haircut", "price": "45.00", "currency": "eur"}),
        )
        .await;
    let cards = run.scale.pick(200, 2000);
    let clients = run.scale.pick(10, 50);
    f.tried(format!(
        "{cards} stolen cards (9 in 10 declined) from {ADDRESSES} addresses, {WORKERS} at a time \
         over 2 instances, each worker making catalogue checkouts of one merchant; meanwhile \
         {clients} honest clients pay each of 2 other merchants; defaults: {cap} declines per \
         checkout, {budget} declines per merchant per {} s, {} catalogue checkouts per client per \
         {} s",
        defaults.merchant_decline_budget.window.as_secs(),
        defaults.catalogue_checkouts_per_client.count,
        defaults.catalogue_checkouts_per_client.window.as_secs(),
    ));

    let mut rng = StdRng::seed_from_u64(run.seed);
    let mut stolen = Vec::with_capacity(cards);
    for _ in 0..cards {
        let number = match rng.gen_range(0..10) {
            0 => "4242424242424242",
            1..=5 => "4000000000000002",
            _ => "4000000000009995",
        };
        stolen.push(app.card(number).await);
    }
    let stolen = Arc::new(stolen);
    let next = Arc::new(AtomicUsize::new(0));
    let bot = (0..WORKERS).map(|w| {
        let (bases, stolen, next) = (bases.clone(), stolen.clone(), next.clone());
        let (merchant, service) = (attacked.id.clone(), service.clone());
        tokio::spawn(
            async move { bot_worker(w, &bases, &merchant, &service, &stolen, &next).await },
        )
    });
    let payers = honest.iter().flat_map(|m| {
        (0..clients).map(|i| {
            let (app, bases, merchant) = (app.clone(), bases.clone(), m.id.clone());
            tokio::spawn(async move { honest_payment(&app, &bases[i % 2], &merchant, i).await })
        })
    });
    let payers: Vec<_> = payers.collect();
    let mut answers: BTreeMap<String, usize> = BTreeMap::new();
    for worker in futures::future::join_all(bot).await {
        for (label, n) in worker.expect("bot worker") {
            *answers.entry(label).or_default() += n;
        }
    }
    let honest_answers: Vec<String> = futures::future::join_all(payers)
        .await
        .into_iter()
        .map(|r| r.expect("honest client"))
        .collect();
    app.settle_webhooks().await;

    let honest_paid = honest_answers.iter().filter(|a| *a == "succeeded").count();
    let declined_at_stripe = app.sandbox.counter("charges_failed") as usize;
    let bot_charged =
        (app.sandbox.counter("charges_succeeded") as usize).saturating_sub(honest_paid);
    let most_declines = most_declines(&app, &attacked.id).await;
    let attempts: usize = answers.values().sum();
    f.found(format!(
        "bot: {attempts} pay attempts ({}); {declined_at_stripe} declines and {bot_charged} \
         charges reached Stripe; at most {most_declines} declines on one checkout; honest: \
         {honest_paid} of {} paid ({})",
        answers
            .iter()
            .map(|(k, v)| format!("{k} ×{v}"))
            .collect::<Vec<_>>()
            .join(", "),
        honest_answers.len(),
        support::tally(honest_answers.clone()),
    ));
    f.check(declined_at_stripe <= budget + WORKERS, || {
        format!(
            "{declined_at_stripe} declines reached Stripe: more than the budget {budget} plus \
             {WORKERS} in flight"
        )
    });
    f.check(most_declines <= cap as i64, || {
        format!("a checkout had {most_declines} declines, over the cap {cap}")
    });
    f.check(honest_paid == honest_answers.len(), || {
        format!(
            "{} honest payments of other merchants were refused",
            honest_answers.len() - honest_paid
        )
    });
    f.check(
        answers.get("payments_paused").is_some_and(|n| *n > 0),
        || "the merchant's payments never paused".into(),
    );
    f.headline = format!(
        "{cards} stolen cards: {declined_at_stripe} declines reached Stripe (budget {budget}), \
         {honest_paid}/{} honest payments at other merchants",
        honest_answers.len()
    );
    support::keep_database("card-testing", &app).await;
    app.teardown().await;
    f
}

/// The defences as a deployment has them (the test helpers raise them for other tests), and
/// loopback as the trusted proxy the bot's addresses come through.
fn default_defences(c: &mut Config) {
    let d = Config::new(".");
    c.max_declines_per_checkout = d.max_declines_per_checkout;
    c.merchant_decline_budget = d.merchant_decline_budget;
    c.catalogue_checkouts_per_client = d.catalogue_checkouts_per_client;
    c.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
}

/// One bot worker: takes cards until none are left, paying a catalogue checkout it made until
/// the checkout is locked; returns its answers by code.
async fn bot_worker(
    w: usize,
    bases: &[String; 2],
    merchant: &str,
    service: &str,
    stolen: &[String],
    next: &AtomicUsize,
) -> BTreeMap<String, usize> {
    let client = reqwest::Client::new();
    let mut answers = BTreeMap::new();
    let mut address = w;
    let mut checkout: Option<String> = None;
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(card) = stolen.get(i) else {
            return answers;
        };
        let base = &bases[i % 2];
        let from = format!("198.51.100.{}", address % ADDRESSES + 1);
        if checkout.is_none() {
            let made = client
                .post(format!("{base}/v1/merchants/{merchant}/checkouts"))
                .header("x-forwarded-for", &from)
                .json(&json!({"service_id": service}))
                .send()
                .await
                .unwrap();
            let made = crate::helpers::into_resp(made).await;
            if made.status.as_u16() != 201 {
                *answers
                    .entry(format!("checkout refused: {}", made.code()))
                    .or_default() += 1;
                address += 1;
                continue;
            }
            checkout = made.json["token"].as_str().map(str::to_owned);
        }
        let token = checkout.clone().unwrap();
        let r = client
            .post(format!("{base}/v1/checkouts/{token}/pay"))
            .header("x-forwarded-for", &from)
            .header("idempotency-key", format!("bot-{i}"))
            .json(&json!({"payment_method": card, "email": "bot@example.com", "save_card": false}))
            .send()
            .await
            .unwrap();
        let r = crate::helpers::into_resp(r).await;
        let label = match r.status.as_u16() {
            200 => "succeeded".to_owned(),
            402 => "declined".to_owned(),
            _ => r.code().to_owned(),
        };
        if matches!(
            label.as_str(),
            "succeeded" | "checkout_locked" | "checkout_already_paid"
        ) {
            checkout = None;
        }
        *answers.entry(label).or_default() += 1;
    }
}

/// An honest client: a checkout of its merchant made by the platform, paid with a good card.
async fn honest_payment(app: &TestApp, base: &str, merchant: &str, i: usize) -> String {
    let token = app
        .checkout(
            merchant,
            json!({"amount": 3000 + i as i64, "currency": "eur", "description": "Colour"}),
        )
        .await;
    let pm = app.card("4242424242424242").await;
    let r = app
        .pay_at(Some(base), &token, &pm, &format!("honest-{i}"), false)
        .await;
    match r.status.as_u16() {
        200 => r.json["status"].as_str().unwrap_or("?").to_owned(),
        _ => r.code().to_owned(),
    }
}

/// The most declines any checkout of `merchant` had.
async fn most_declines(app: &TestApp, merchant: &str) -> i64 {
    sqlx::query("SELECT COALESCE(MAX(declines), 0) AS n FROM checkouts WHERE merchant_id = $1")
        .bind(merchant)
        .fetch_one(app.state.db.pool())
        .await
        .unwrap()
        .try_get("n")
        .unwrap()
}
