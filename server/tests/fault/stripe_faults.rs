//! Scenario 2, Stripe faults: the sandbox answers 500, resets the connection or hangs past the client's
//! timeout on about 20 % of all requests to every endpoint (half before the request is
//! applied, half after it, when only the answer is lost; seeded) while clients pay checkouts
//! the widget's way (4 tries with the same key, then maybe a new attempt) and the platform
//! refunds some of them (a partial refund double-submitted, then the rest), retrying with the
//! same keys. Then the faults stop, webhooks settle and the reconciler runs, and Stripe's
//! books are compared with slotpay's: no second charge or refund, no refund or payment that
//! one side has and the other not, and every checkout paid, failed (payable again) or open.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use slotpay_server::model::RefundStatus;
use stripe_sandbox::{FaultKind, FaultRule, When};
use tokio::sync::Semaphore;

use crate::helpers::{spawn_app, Backend, TestApp};
use crate::support::{self, Findings, Run};

/// Chance each of the six rules fires: (1 - p)^6 = 0.8, so about 20 % of requests fail.
const P_EACH: f64 = 0.0365;
/// How long a `timeout` fault hangs (the server gives up after 1 s).
const HANG_MS: u64 = 1500;

/// What the harness asked for on one checkout.
#[derive(Clone, Debug, Default)]
struct Plan {
    token: String,
    amount: i64,
    declined_card: bool,
    /// Payment methods for the first and a possible second attempt.
    pms: Vec<String>,
    /// A second attempt with a new key if the first ends without an answer.
    tries_again: bool,
    /// Refund half, double-submitted; then maybe the rest.
    refund: bool,
    refund_rest: bool,
}

fn rules() -> Vec<FaultRule> {
    let mut rules = Vec::new();
    for when in [When::Before, When::After] {
        for kind in [FaultKind::Http500, FaultKind::Reset, FaultKind::Timeout] {
            rules.push(FaultRule {
                method: None,
                path: "/v1/*".into(),
                kind,
                latency_ms: (kind == FaultKind::Timeout).then_some(HANG_MS),
                probability: Some(P_EACH),
                when,
                times: None,
            });
        }
    }
    rules
}

/// A platform backend's refund: retried with the same key on network errors and 5xx.
async fn refund(
    http: &reqwest::Client,
    app: &TestApp,
    token: &str,
    key: &str,
    amount: Option<i64>,
) -> String {
    let url = format!("{}/v1/admin/checkouts/{token}/refunds", app.url);
    let body = match amount {
        Some(a) => json!({ "amount": a }),
        None => json!({}),
    };
    let mut last = "no answer".to_owned();
    for attempt in 0..6 {
        if attempt > 0 {
            support::sleep_ms(200 << attempt).await;
        }
        let Ok(r) = http
            .post(&url)
            .bearer_auth(&app.admin_token)
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
            .await
        else {
            continue;
        };
        let r = crate::helpers::into_resp(r).await;
        support::keep(&r);
        last = match r.code() {
            "" => format!(
                "{} {}",
                r.status.as_u16(),
                r.json["status"].as_str().unwrap_or("?")
            ),
            code => format!("{} {code}", r.status.as_u16()),
        };
        if !r.status.is_server_error() {
            break;
        }
    }
    last
}

pub async fn run(run: Run) -> Findings {
    let mut f = Findings::start(
        "stripe-faults",
        "500s, resets and timeouts on ~20 % of Stripe requests during pays and refunds",
    );
    let n = run.scale.pick(30, 200);
    let Some(app) = spawn_app(
        Backend::Postgres,
        Box::new(|c| {
            c.stripe_timeout = Duration::from_secs(1);
            // No retries inside the server: every fault reaches slotpay's own attempts and
            // idempotency keys, and the clients' retries.
            c.stripe_max_retries = 0;
        }),
    )
    .await
    else {
        f.fail("no PostgreSQL (SLOTPAY_TEST_POSTGRES_URL)");
        f.headline = "not run: no PostgreSQL".into();
        return f;
    };
    support::app_secrets("stripe-faults", &app);
    let second = app.second_instance().await;
    let bases = [app.url.clone(), second];
    let m = support::merchant("stripe-faults", &app).await;
    let http = support::client();

    // Everything the clients will use is made before the faults start (Stripe.js's card
    // tokens are not slotpay's calls).
    let mut rng = StdRng::seed_from_u64(run.seed ^ 0x5742_1fa1);
    let mut plans = Vec::new();
    for i in 0..n {
        let amount = 1000 + 10 * rng.gen_range(0..400) as i64;
        let token = app
            .checkout(
                &m.id,
                json!({"amount": amount, "currency": "eur", "description": format!("Faults {i}")}),
            )
            .await;
        let declined_card = rng.gen_bool(0.15);
        let first = if declined_card {
            "4000000000000002"
        } else if rng.gen_bool(0.5) {
            "5555555555554444"
        } else {
            "4242424242424242"
        };
        let pms = vec![app.card(first).await, app.card("4242424242424242").await];
        let refund = rng.gen_bool(0.4);
        plans.push(Plan {
            token,
            amount,
            declined_card,
            pms,
            tries_again: rng.gen_bool(0.5),
            refund,
            refund_rest: refund && rng.gen_bool(0.5),
        });
    }
    f.tried(format!(
        "{n} checkouts (15 % with a declining card) paid by 16 clients at once over 2 instances \
         on PostgreSQL, the widget's way (4 tries with one key; half try once more with a new \
         key and card when no answer came); 40 % of the paid refunded by half with the request \
         sent twice at once, half of those then refunded in full; faults: 500, reset, 1.5 s hang \
         (server timeout 1 s, no retry inside the server) × before/after on /v1/* at {P_EACH} \
         each (≈20 % of requests), seed {}",
        run.seed
    ));
    app.sandbox.set_faults(rules(), Some(run.seed));

    let slots = Arc::new(Semaphore::new(16));
    let mut jobs = Vec::new();
    for (i, plan) in plans.iter().cloned().enumerate() {
        let (app, http, slots) = (app.clone(), http.clone(), slots.clone());
        let base = bases[i % 2].clone();
        jobs.push(tokio::spawn(async move {
            let _slot = slots.acquire().await.expect("semaphore");
            let mut answers = Vec::new();
            let t = support::pay_like_widget(&http, &base, &plan.token, &plan.pms[0], "k1").await;
            let mut last = support::label(t.answer.as_ref());
            answers.push(last.clone());
            let unanswered = !matches!(last.as_str(), "200 succeeded" | "402 failed");
            if unanswered && plan.tries_again {
                let t =
                    support::pay_like_widget(&http, &base, &plan.token, &plan.pms[1], "k2").await;
                last = support::label(t.answer.as_ref());
                answers.push(format!("2nd: {last}"));
            }
            let mut refunds = Vec::new();
            if last == "200 succeeded" && plan.refund {
                let half = plan.amount / 2;
                let (a, b) = tokio::join!(
                    refund(&http, &app, &plan.token, "r1", Some(half)),
                    refund(&http, &app, &plan.token, "r1", Some(half)),
                );
                refunds.push(format!("half: {a}"));
                refunds.push(format!("half again: {b}"));
                if plan.refund_rest {
                    refunds.push(format!(
                        "rest: {}",
                        refund(&http, &app, &plan.token, "r2", None).await
                    ));
                }
            }
            (answers, refunds)
        }));
    }
    let mut pay_answers = Vec::new();
    let mut refund_answers = Vec::new();
    for j in jobs {
        let (a, r) = j.await.expect("a client task");
        pay_answers.extend(a);
        refund_answers.extend(r);
    }
    f.found(format!("pay answers: {}", support::tally(pay_answers)));
    f.found(format!(
        "refund answers: {}",
        support::tally(refund_answers)
    ));

    // The faults stop; what was left in flight settles.
    app.sandbox.set_faults(Vec::new(), None);
    match support::settle(&app, Duration::from_secs(120)).await {
        Ok(passes) => f.found(format!("after the faults: {}", support::passes(&passes))),
        Err(e) => f.fail(e),
    }
    compare(&mut f, &app, &plans).await;
    support::keep_database("stripe-faults", &app).await;
    app.teardown().await;
    f
}

/// Stripe's books against slotpay's.
async fn compare(f: &mut Findings, app: &TestApp, plans: &[Plan]) {
    let http = support::client();
    let (url, sk) = (&app.sandbox.url, &app.sandbox.secret_key);
    let intents = support::stripe_list(&http, url, sk, "/v1/payment_intents").await;
    let charges = support::by_intent(&support::stripe_list(&http, url, sk, "/v1/charges").await);
    let refunds = support::by_intent(&support::stripe_list(&http, url, sk, "/v1/refunds").await);
    let mut intents_of: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for pi in &intents {
        if let Some(t) = pi["metadata"]["slotpay_checkout"].as_str() {
            intents_of.entry(t.to_owned()).or_default().push(pi);
        }
    }
    let mut states: BTreeMap<String, usize> = BTreeMap::new();
    let (mut charged, mut refunded_stripe, mut refunded_slotpay) = (0, 0i64, 0i64);
    let mut stripe_refund_count = 0;
    for plan in plans {
        let t = &plan.token;
        let rec = app.stored(t).await;
        *states.entry(rec.status.to_string()).or_default() += 1;
        let pis = intents_of.get(t).cloned().unwrap_or_default();
        f.check(pis.len() <= 1, || {
            format!("{t}: {} PaymentIntents at Stripe", pis.len())
        });
        let Some(pi) = pis.first() else {
            f.check(
                rec.payment_intent_id.is_none() && matches!(rec.status.as_str(), "open"),
                || {
                    format!(
                        "{t}: no PaymentIntent at Stripe but slotpay says {} / {:?}",
                        rec.status, rec.payment_intent_id
                    )
                },
            );
            continue;
        };
        let pi_id = pi["id"].as_str().unwrap_or_default();
        let succeeded: Vec<&Value> = charges
            .get(pi_id)
            .map(|c| c.iter().filter(|c| c["status"] == "succeeded").collect())
            .unwrap_or_default();
        f.check(succeeded.len() <= 1, || {
            format!("{t}: {} successful charges at Stripe", succeeded.len())
        });
        let stripe_paid = pi["status"] == "succeeded";
        let slotpay_paid = matches!(
            rec.status.as_str(),
            "paid" | "partially_refunded" | "refunded"
        );
        if stripe_paid {
            charged += 1;
        }
        f.check(stripe_paid == slotpay_paid, || {
            format!(
                "{t}: Stripe's PaymentIntent is {}, slotpay's checkout {}",
                pi["status"], rec.status
            )
        });
        f.check(rec.payment_intent_id.as_deref() == Some(pi_id), || {
            format!(
                "{t}: slotpay has PaymentIntent {:?}, Stripe {pi_id}",
                rec.payment_intent_id
            )
        });
        if stripe_paid {
            f.check(
                Some(rec.amount_captured) == pi["amount_received"].as_i64(),
                || {
                    format!(
                        "{t}: captured {} in slotpay, {} at Stripe",
                        rec.amount_captured, pi["amount_received"]
                    )
                },
            );
        }
        // Refunds: one Stripe refund per slotpay refund, same amounts, same outcomes.
        let rows = app.state.db.list_refunds(t).await.expect("refund rows");
        let at_stripe: Vec<&Value> = refunds
            .get(pi_id)
            .map(|r| r.iter().filter(|r| r["status"] == "succeeded").collect())
            .unwrap_or_default();
        stripe_refund_count += at_stripe.len();
        let mut seen = HashSet::new();
        for r in &at_stripe {
            let ours = r["metadata"]["slotpay_refund"].as_str().unwrap_or("");
            f.check(seen.insert(ours.to_owned()), || {
                format!("{t}: slotpay refund {ours} refunded twice at Stripe")
            });
            let row = rows.iter().find(|x| x.id == ours);
            f.check(
                row.is_some_and(|x| {
                    x.status == RefundStatus::Succeeded && Some(x.amount) == r["amount"].as_i64()
                }),
                || {
                    format!(
                        "{t}: Stripe refund {} ({}) is {:?} in slotpay",
                        r["id"],
                        r["amount"],
                        row.map(|x| (&x.status, x.amount))
                    )
                },
            );
            refunded_stripe += r["amount"].as_i64().unwrap_or(0);
        }
        for row in &rows {
            f.check(row.status != RefundStatus::Pending, || {
                format!("{t}: refund {} still pending after the reconciler", row.id)
            });
            if row.status == RefundStatus::Succeeded {
                refunded_slotpay += row.amount;
                f.check(
                    at_stripe
                        .iter()
                        .any(|r| r["metadata"]["slotpay_refund"] == row.id.as_str()),
                    || {
                        format!(
                            "{t}: slotpay refund {} succeeded but Stripe has no such refund",
                            row.id
                        )
                    },
                );
            }
        }
        f.check(
            rows.iter().filter(|r| r.idempotency_key.is_some()).count() <= 2,
            || format!("{t}: {} refund rows for 2 keys", rows.len()),
        );
        f.check(
            rec.amount_refunded
                == rows
                    .iter()
                    .filter(|r| r.status == RefundStatus::Succeeded)
                    .map(|r| r.amount)
                    .sum::<i64>(),
            || {
                format!(
                    "{t}: amount_refunded {} does not add up",
                    rec.amount_refunded
                )
            },
        );
    }
    for (status, count) in &states {
        f.check(
            matches!(
                status.as_str(),
                "paid" | "partially_refunded" | "refunded" | "failed" | "open"
            ),
            || format!("{count} checkouts ended {status}"),
        );
    }
    let declined = plans.iter().filter(|p| p.declined_card).count();
    let paid: usize = ["paid", "partially_refunded", "refunded"]
        .iter()
        .map(|s| states.get(*s).copied().unwrap_or(0))
        .sum();
    f.found(format!(
        "end states: {} (paid in all {paid}, failed {}, open {}; {declined} had a declining card)",
        states
            .iter()
            .map(|(s, n)| format!("{s} {n}"))
            .collect::<Vec<_>>()
            .join(", "),
        states.get("failed").copied().unwrap_or(0),
        states.get("open").copied().unwrap_or(0),
    ));
    f.found(format!(
        "Stripe: {} PaymentIntents, {charged} succeeded, {stripe_refund_count} refunds \
         ({refunded_stripe} cents); slotpay: {refunded_slotpay} cents refunded; sandbox \
         counters: {} charges succeeded, {} refunds",
        intents.len(),
        app.sandbox.counter("charges_succeeded"),
        app.sandbox.counter("refunds"),
    ));
    f.check(refunded_stripe == refunded_slotpay, || {
        format!("refunded {refunded_stripe} at Stripe, {refunded_slotpay} in slotpay")
    });
    f.headline = format!(
        "{} checkouts: paid {paid}, failed {}, open {}; {charged} charges, {stripe_refund_count} \
         refunds, none twice",
        plans.len(),
        states.get("failed").copied().unwrap_or(0),
        states.get("open").copied().unwrap_or(0),
    );
}
