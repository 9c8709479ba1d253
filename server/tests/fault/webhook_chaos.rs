//! Scenario 3, webhook chaos: one seeded workload run twice on fresh servers, first with Stripe's
//! webhooks delivered once and in order, then with the sandbox duplicating every event,
//! shuffling them in batches and dropping first attempts (Stripe's retries recover them).
//! Most of the workload only reaches slotpay through webhooks (3-D Secure completed at
//! Stripe, captures, cancellations and refunds made in the Dashboard, disputes), so the final
//! states depend on them: they must equal the in-order run's, checkout by checkout. The
//! delivery log must show every dropped event delivered by a retry, and slotpay must have
//! stored and processed every event once.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use stripe_sandbox::{Knobs, SandboxConfig};
use tokio::sync::Semaphore;

use crate::helpers::{spawn_app_with, Backend, TestApp};
use crate::support::{self, Findings, Run};

/// What happens to one checkout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    /// Paid with a good card.
    Pay,
    /// A declining card.
    Decline,
    /// 3-D Secure, completed at Stripe; the client never asks slotpay again.
    ThreeDsPass,
    /// 3-D Secure, failed at Stripe.
    ThreeDsFail,
    /// Paid, then refunded by half in Stripe's Dashboard.
    DashboardRefund,
    /// Paid, then refunded in full through slotpay.
    SlotpayRefund,
    /// Paid, then a dispute opened (and maybe closed won or lost).
    Dispute(Option<&'static str>),
    /// Authorised (manual capture), then captured in the Dashboard.
    CaptureAtStripe,
    /// Authorised, then canceled in the Dashboard.
    CancelAtStripe,
}

fn workload(seed: u64, n: usize) -> Vec<Op> {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x000c_4a05);
    (0..n)
        .map(|_| match rng.gen_range(0..100) {
            0..=24 => Op::Pay,
            25..=34 => Op::Decline,
            35..=46 => Op::ThreeDsPass,
            47..=51 => Op::ThreeDsFail,
            52..=61 => Op::DashboardRefund,
            62..=71 => Op::SlotpayRefund,
            72..=74 => Op::Dispute(None),
            75..=76 => Op::Dispute(Some("won")),
            77..=78 => Op::Dispute(Some("lost")),
            79..=91 => Op::CaptureAtStripe,
            _ => Op::CancelAtStripe,
        })
        .collect()
}

/// The knobs of each third of the chaos run: duplicates and shuffles; drops (2 first
/// attempts) and shuffles, so only retries recover them; all three.
fn chaos_knobs(phase: usize) -> Knobs {
    Knobs {
        duplicate: phase != 1,
        out_of_order: Some(12),
        hold_ms: Some(150),
        drop_first: if phase == 0 { 0 } else { 2 },
        ..Knobs::default()
    }
}

/// A POST to the sandbox's REST API with the merchant's secret key (the Dashboard's part).
async fn at_stripe(app: &TestApp, path: &str, form: &[(&str, String)]) {
    let r = support::client()
        .post(format!("{}{path}", app.sandbox.url))
        .bearer_auth(&app.sandbox.secret_key)
        .form(form)
        .send()
        .await
        .expect("the sandbox answers");
    assert!(
        r.status().is_success(),
        "{path}: {}",
        r.text().await.unwrap_or_default()
    );
}

async fn perform(app: &TestApp, merchant: &str, i: usize, op: Op) -> String {
    let amount = 1500 + 10 * (i as i64 % 200);
    let manual = matches!(op, Op::CaptureAtStripe | Op::CancelAtStripe);
    let token = app
        .checkout(
            merchant,
            json!({"amount": amount, "currency": "eur", "description": format!("Chaos {i}"),
                   "capture": manual}),
        )
        .await;
    let card = match op {
        Op::Decline => "4000000000000002",
        Op::ThreeDsPass | Op::ThreeDsFail => "4000000000003220",
        _ if i.is_multiple_of(3) => "5555555555554444",
        _ => "4242424242424242",
    };
    let pm = app.card(card).await;
    let r = app.pay(&token, &pm, "k").await;
    support::keep(&r);
    match op {
        Op::ThreeDsPass | Op::ThreeDsFail => {
            let secret = r.json["client_secret"]
                .as_str()
                .expect("3-D Secure asked")
                .to_owned();
            let pi = secret
                .split("_secret_")
                .next()
                .unwrap_or_default()
                .to_owned();
            app.sandbox
                .three_ds(&pi, &secret, op == Op::ThreeDsPass)
                .expect("3-D Secure answered");
        }
        Op::DashboardRefund => {
            let pi = app.stored(&token).await.payment_intent_id.expect("paid");
            at_stripe(
                app,
                "/v1/refunds",
                &[("payment_intent", pi), ("amount", (amount / 2).to_string())],
            )
            .await;
        }
        Op::SlotpayRefund => {
            let r = app
                .request(
                    reqwest::Method::POST,
                    &format!("/v1/admin/checkouts/{token}/refunds"),
                    Some(json!({})),
                    &[("Idempotency-Key", "refund-1")],
                )
                .await;
            support::keep(&r);
        }
        Op::Dispute(outcome) => {
            let charge = app.stored(&token).await.charge_id.expect("paid");
            app.sandbox
                .open_dispute(&charge, outcome)
                .expect("dispute opened");
        }
        Op::CaptureAtStripe | Op::CancelAtStripe => {
            let pi = app
                .stored(&token)
                .await
                .payment_intent_id
                .expect("authorised");
            let what = if op == Op::CaptureAtStripe {
                "capture"
            } else {
                "cancel"
            };
            at_stripe(app, &format!("/v1/payment_intents/{pi}/{what}"), &[]).await;
        }
        Op::Pay | Op::Decline => {}
    }
    token
}

/// One checkout's final state as slotpay keeps it, without ids that differ between runs.
async fn state_of(app: &TestApp, token: &str) -> String {
    let r = app.stored(token).await;
    let mut refunds: Vec<String> = app
        .state
        .db
        .list_refunds(token)
        .await
        .expect("refunds")
        .iter()
        .map(|x| {
            let by = if x.idempotency_key.is_some() {
                "slotpay"
            } else {
                "dashboard"
            };
            format!("{}:{}:{by}", x.amount, x.status)
        })
        .collect();
    refunds.sort();
    let mut disputes: Vec<String> = app
        .state
        .db
        .list_disputes(token)
        .await
        .expect("disputes")
        .iter()
        .map(|d| format!("{}:{}", d.amount, d.status))
        .collect();
    disputes.sort();
    format!(
        "{} captured={} refunded={} authorized={} card={:?} error={:?}/{:?} refunds={refunds:?} disputes={disputes:?}",
        r.status,
        r.amount_captured,
        r.amount_refunded,
        r.amount_authorized,
        r.card,
        r.last_error_code,
        r.last_decline_code,
    )
}

/// What one run left: each checkout's state, and the webhook figures.
struct Outcome {
    states: Vec<String>,
    events: usize,
    summary: String,
    problems: Vec<String>,
}

async fn one_run(ops: &[Op], chaos: bool) -> Outcome {
    let label = if chaos { "chaos" } else { "in-order" };
    let app = spawn_app_with(
        Backend::Sqlite,
        SandboxConfig {
            webhook_retry_base: Duration::from_millis(40),
            webhook_max_attempts: 8,
            webhook_timeout: Duration::from_secs(10),
            // Every attempt of the full run stays in the log (about 3.5 per event).
            webhook_log_limit: 500_000,
            ..SandboxConfig::default()
        },
        Box::new(|_| {}),
    )
    .await
    .expect("SQLite needs no configuration");
    support::app_secrets(&format!("webhook-chaos {label}"), &app);
    let m = support::merchant(&format!("webhook-chaos {label}"), &app).await;
    let started = std::time::Instant::now();
    let mut tokens = vec![String::new(); ops.len()];
    let phases = if chaos { 3 } else { 1 };
    let per_phase = ops.len().div_ceil(phases);
    for phase in 0..phases {
        if chaos {
            app.sandbox.set_webhook_knobs(chaos_knobs(phase));
        }
        let slots = Arc::new(Semaphore::new(8));
        let mut jobs = Vec::new();
        let first = phase * per_phase;
        for (i, &op) in ops.iter().enumerate().skip(first).take(per_phase) {
            let (app, m, slots) = (app.clone(), m.id.clone(), slots.clone());
            jobs.push(tokio::spawn(async move {
                let _slot = slots.acquire().await.expect("semaphore");
                (i, perform(&app, &m, i, op).await)
            }));
        }
        for j in jobs {
            let (i, token) = j.await.expect("a workload task");
            tokens[i] = token;
        }
    }
    let load_secs = started.elapsed().as_secs_f64();
    let mut problems = Vec::new();
    let passes = match support::settle(&app, Duration::from_secs(600)).await {
        Ok(p) => support::passes(&p),
        Err(e) => {
            problems.push(format!("{label}: {e}"));
            "no settling".into()
        }
    };
    let mut states = Vec::new();
    for t in &tokens {
        states.push(state_of(&app, t).await);
    }

    // The delivery log against what slotpay stored.
    let log = app.sandbox.webhook_deliveries();
    let mut by_event: BTreeMap<&str, Vec<&stripe_sandbox::Delivery>> = BTreeMap::new();
    for d in &log {
        by_event.entry(d.event_id.as_str()).or_default().push(d);
    }
    let (mut dropped, mut recovered_by_retry, mut duplicates) = (0, 0, 0);
    for (event, attempts) in &by_event {
        let delivered = attempts.iter().any(|d| d.outcome == "delivered");
        if !delivered {
            problems.push(format!("{label}: event {event} never delivered"));
        }
        duplicates += attempts.iter().filter(|d| d.duplicate).count();
        if attempts.iter().any(|d| d.outcome == "dropped") {
            dropped += 1;
            let copy = attempts
                .iter()
                .any(|d| d.duplicate && d.outcome == "delivered");
            let retried = attempts
                .iter()
                .any(|d| !d.duplicate && d.attempt > 1 && d.outcome == "delivered");
            if !retried {
                problems.push(format!(
                    "{label}: dropped event {event} not delivered by a retry"
                ));
            } else if !copy {
                recovered_by_retry += 1;
            }
        }
    }
    let stored: BTreeSet<String> = support::dump(&app.state.db)
        .await
        .get("stripe_events")
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|row| {
            let v: serde_json::Value = serde_json::from_str(row).ok()?;
            let processed = !v["processed_at"].is_null();
            Some(format!("{}:{processed}", v["event_id"].as_str()?))
        })
        .collect();
    let unprocessed = stored.iter().filter(|s| s.ends_with(":false")).count();
    let missing: Vec<&&str> = by_event
        .keys()
        .filter(|e| {
            !stored.contains(&format!("{e}:true")) && !stored.contains(&format!("{e}:false"))
        })
        .collect();
    if !missing.is_empty() {
        problems.push(format!(
            "{label}: {} events delivered but not stored, e.g. {}",
            missing.len(),
            missing[0]
        ));
    }
    if unprocessed > 0 {
        problems.push(format!(
            "{label}: {unprocessed} stored events not processed"
        ));
    }
    let summary = format!(
        "{label}: {} checkouts in {load_secs:.1} s, {} events ({} delivery attempts, {duplicates} \
         duplicate copies, {dropped} events with dropped attempts, {recovered_by_retry} of them \
         recovered by a retry alone), {} stored; then {passes}",
        ops.len(),
        by_event.len(),
        log.len(),
        stored.len(),
    );
    support::keep_database(&format!("webhook-chaos-{label}"), &app).await;
    app.teardown().await;
    Outcome {
        states,
        events: by_event.len(),
        summary,
        problems,
    }
}

pub async fn run(run: Run) -> Findings {
    let mut f = Findings::start(
        "webhook-chaos",
        "duplicated, shuffled and dropped webhooks end where in-order delivery ends",
    );
    // About 3 events per checkout: ~500 events smoke, ~10,000 full.
    let n = run.scale.pick(170, 3400);
    let ops = workload(run.seed, n);
    let mut mix: BTreeMap<String, usize> = BTreeMap::new();
    for op in &ops {
        *mix.entry(format!("{op:?}")).or_default() += 1;
    }
    f.tried(format!(
        "one workload of {n} checkouts ({}), 8 at a time, run twice on fresh servers (SQLite): \
         webhooks once and in order, then in thirds with duplicates + batches of 12 shuffled, \
         first 2 attempts dropped + shuffled, all three (sandbox retries every 40 ms × 2^n, 8 \
         attempts)",
        mix.iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let calm = one_run(&ops, false).await;
    f.found(&calm.summary);
    let chaos = one_run(&ops, true).await;
    f.found(&chaos.summary);
    for p in calm.problems.iter().chain(&chaos.problems) {
        f.fail(p.clone());
    }
    let differing: Vec<usize> = (0..n)
        .filter(|&i| calm.states[i] != chaos.states[i])
        .collect();
    for &i in differing.iter().take(10) {
        f.fail(format!(
            "checkout {i} ({:?}) ends differently:\n      in order: {}\n      chaos:    {}",
            ops[i], calm.states[i], chaos.states[i]
        ));
    }
    let mut ends: BTreeMap<&str, usize> = BTreeMap::new();
    for s in &chaos.states {
        *ends
            .entry(s.split_whitespace().next().unwrap_or("?"))
            .or_default() += 1;
    }
    f.found(format!(
        "{} of {n} checkouts end in the same state in both runs; end states: {}",
        n - differing.len(),
        ends.iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    f.check(
        ends.keys()
            .all(|s| !matches!(*s, "processing" | "requires_action")),
        || format!("checkouts left in flight: {ends:?}"),
    );
    f.headline = format!(
        "{} events in order, {} with chaos; {} of {n} checkouts differ",
        calm.events,
        chaos.events,
        differing.len()
    );
    f
}
