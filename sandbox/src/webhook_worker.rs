//! The webhook delivery worker: each event goes to every endpoint listening to it, as Stripe's
//! event object, signed (see [`crate::webhooks::signature_header`]), retried with exponential
//! backoff on non-2xx or timeout.
//!
//! Stripe retries over three days; the sandbox's base delay is configurable (default 1 s, tests use
//! ~50 ms) and doubles per attempt. Knobs for tests: deliver twice, hold a batch and deliver it
//! shuffled, delay, drop the first N attempts (the retry recovers), drop permanently. Deliveries
//! to one endpoint go one at a time, in order, unless the shuffle knob is on.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use rand::seq::SliceRandom;
use tokio::sync::mpsc;

use crate::resources::events;
use crate::shared::Shared;
use crate::webhooks::{signature_header, Delivery, DeliveryJob, Knobs};

/// Runs the delivery worker until the channel closes.
pub async fn run(shared: Arc<Shared>, mut rx: mpsc::UnboundedReceiver<DeliveryJob>) {
    let mut lanes: HashMap<String, mpsc::UnboundedSender<DeliveryJob>> = HashMap::new();
    let mut held: Vec<DeliveryJob> = Vec::new();
    let mut deadline: Option<tokio::time::Instant> = None;
    loop {
        let sleep = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => futures::future::pending().await,
            }
        };
        tokio::select! {
            job = rx.recv() => {
                let Some(job) = job else { break };
                let knobs = shared.lock().knobs.clone();
                match knobs.out_of_order {
                    Some(batch) if job.attempt == 1 && !job.duplicate => {
                        held.push(job);
                        if held.len() >= batch.max(1) {
                            flush(&shared, &mut lanes, &mut held);
                            deadline = None;
                        } else if deadline.is_none() {
                            let hold = Duration::from_millis(knobs.hold_ms.unwrap_or(300));
                            deadline = Some(tokio::time::Instant::now() + hold);
                        }
                    }
                    _ => lane(&shared, &mut lanes, job),
                }
            }
            _ = sleep => {
                flush(&shared, &mut lanes, &mut held);
                deadline = None;
            }
        }
    }
}

fn flush(
    shared: &Arc<Shared>,
    lanes: &mut HashMap<String, mpsc::UnboundedSender<DeliveryJob>>,
    held: &mut Vec<DeliveryJob>,
) {
    let mut batch = std::mem::take(held);
    {
        let mut store = shared.lock();
        batch.shuffle(&mut store.rng);
    }
    for job in batch {
        lane(shared, lanes, job);
    }
}

/// Hands a job to its endpoint's lane (one task per endpoint delivers in order).
fn lane(
    shared: &Arc<Shared>,
    lanes: &mut HashMap<String, mpsc::UnboundedSender<DeliveryJob>>,
    job: DeliveryJob,
) {
    let tx = lanes.entry(job.endpoint.clone()).or_insert_with(|| {
        let (tx, mut rx) = mpsc::unbounded_channel::<DeliveryJob>();
        let shared = shared.clone();
        tokio::spawn(async move {
            while let Some(job) = rx.recv().await {
                let knobs = shared.lock().knobs.clone();
                if job.attempt == 1 && !job.duplicate && knobs.delay_ms > 0 {
                    tokio::time::sleep(Duration::from_millis(knobs.delay_ms)).await;
                }
                deliver(&shared, &job).await;
                if knobs.duplicate && job.attempt == 1 && !job.duplicate {
                    deliver(
                        &shared,
                        &DeliveryJob {
                            duplicate: true,
                            ..job.clone()
                        },
                    )
                    .await;
                }
            }
        });
        tx
    });
    if let Err(mpsc::error::SendError(job)) = tx.send(job) {
        lanes.remove(&job.endpoint);
    }
}

fn schedule_retry(shared: &Arc<Shared>, job: &DeliveryJob) {
    if job.duplicate || job.attempt >= shared.config.webhook_max_attempts {
        return;
    }
    let delay = shared
        .config
        .webhook_retry_base
        .saturating_mul(1u32 << (job.attempt - 1).min(16));
    let next = DeliveryJob {
        attempt: job.attempt + 1,
        ..job.clone()
    };
    let shared = shared.clone();
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        let _ = shared.webhook_tx.send(next);
    });
}

/// What one attempt sends, and the knobs it runs under.
struct Prepared {
    event_type: String,
    url: String,
    secrets: Vec<String>,
    body: String,
    knobs: Knobs,
}

/// The job's event payload and endpoint; `None` when either is gone or the endpoint is disabled.
fn prepare(shared: &Shared, job: &DeliveryJob, now: i64) -> Option<Prepared> {
    let store = shared.lock();
    let event = store.events.get(&job.event);
    let endpoint = store.webhook_endpoints.get(&job.endpoint);
    match (event, endpoint) {
        (Some(ev), Some(ep)) if ep.status == "enabled" => Some(Prepared {
            event_type: ev.event_type.clone(),
            url: ep.url.clone(),
            secrets: ep.signing_secrets(now),
            body: events::payload(ev),
            knobs: store.knobs.clone(),
        }),
        _ => None,
    }
}

/// One attempt: dropped by a knob, or sent, then logged; retried unless it got a 2xx.
async fn deliver(shared: &Arc<Shared>, job: &DeliveryJob) {
    let now = shared.clock.now();
    let Some(prepared) = prepare(shared, job, now) else {
        return;
    };
    let mut row = Delivery {
        event_id: job.event.clone(),
        event_type: prepared.event_type,
        endpoint_id: job.endpoint.clone(),
        url: prepared.url.clone(),
        attempt: job.attempt,
        status: None,
        outcome: "dropped".into(),
        error: None,
        duplicate: job.duplicate,
        at: now,
    };
    let knobs = &prepared.knobs;
    if knobs.drop_all {
        shared.lock().log_delivery(row);
        return;
    }
    if job.attempt <= knobs.drop_first && !job.duplicate {
        shared.lock().log_delivery(row);
        schedule_retry(shared, job);
        return;
    }
    let header = signature_header(now, &prepared.body, &prepared.secrets);
    let ok = post(shared, &prepared.url, header, prepared.body, &mut row).await;
    tracing::debug!(event = %job.event, endpoint = %job.endpoint, attempt = job.attempt, outcome = %row.outcome, "webhook attempt");
    log_attempt(shared, job, row, ok);
    if !ok {
        schedule_retry(shared, job);
    }
}

/// POSTs the signed event to `url` and notes the answer (or the failure) in `row`; `true` on a
/// 2xx.
async fn post(
    shared: &Shared,
    url: &str,
    signature: String,
    body: String,
    row: &mut Delivery,
) -> bool {
    let result = shared
        .http
        .post(url)
        .header("Content-Type", "application/json; charset=utf-8")
        .header("Stripe-Signature", signature)
        .header(
            "User-Agent",
            "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        )
        .body(body)
        .send()
        .await;
    match result {
        Ok(resp) => {
            let status = resp.status();
            row.status = Some(status.as_u16());
            row.outcome = if status.is_success() {
                "delivered"
            } else {
                "failed"
            }
            .into();
            status.is_success()
        }
        Err(e) => {
            row.outcome = "error".into();
            row.error = Some(if e.is_timeout() {
                "timeout".to_string()
            } else {
                e.to_string()
            });
            false
        }
    }
}

/// Logs and counts a sent attempt; a 2xx takes the endpoint off the event's pending list.
fn log_attempt(shared: &Shared, job: &DeliveryJob, row: Delivery, ok: bool) {
    let mut store = shared.lock();
    store.log_delivery(row);
    store.count("webhook_attempts");
    if ok {
        if let Some(ev) = store.events.get_mut(&job.event) {
            if let Some(i) = ev.undelivered.iter().position(|e| *e == job.endpoint) {
                ev.undelivered.swap_remove(i);
                if ev.undelivered.is_empty() {
                    ev.undelivered = Vec::new();
                }
            }
        }
    }
}
