//! Webhooks to the booking platform: the background task that sends each pending delivery,
//! signed as the Standard Webhooks specification says (core's `standard_webhooks`), and
//! writes what the endpoint answered.
//!
//! At least once: a delivery is claimed for a while by one instance (`Db::claim_deliveries`),
//! sent, and its outcome written only while the claim holds; an instance killed mid-send
//! leaves the claim to run out and another sends it again (same `webhook-id`, so the
//! receiver drops the copy). A 2xx is success. Anything else, a timeout or a refused
//! connection is retried after the configured waits (`Config::webhook_retries`), then the
//! delivery is failed; a 410 is tried again at once (the endpoint says this URL is gone:
//! one more attempt shows whether it is back, without waiting). Answers are read up to
//! [`RESPONSE_KEPT`] bytes within the timeout and the rest is dropped.

use std::sync::Arc;
use std::time::{Duration, Instant};

use secrecy::ExposeSecret;
use slotpay_core::standard_webhooks::{
    signature_header, SigningKey, HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP,
};
use tokio::sync::Semaphore;

use crate::db::{self, DeliveryAttempt, DeliveryJob};
use crate::model::DeliveryStatus;
use crate::secrets::Binding;
use crate::state::AppState;

/// How many deliveries are in flight at once, claimed as others finish.
const IN_FLIGHT: usize = 256;
/// How long a claim holds beyond the endpoint's timeout.
const CLAIM_MARGIN_SECS: i64 = 20;
/// The bytes of an answer kept with the attempt.
pub const RESPONSE_KEPT: usize = 1024;
/// Pending deliveries are looked for at least this often (other instances' events).
const POLL: Duration = Duration::from_secs(1);

/// Runs until the process stops: up to [`IN_FLIGHT`] deliveries at once, each in its own
/// task, so a slow endpoint holds only its own requests; as deliveries finish, more are
/// claimed. Looks for due deliveries whenever events were written, and every second.
pub async fn run(state: AppState) {
    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    loop {
        // Wait for room before claiming: a claim starts the delivery's clock.
        drop(
            slots
                .acquire()
                .await
                .expect("the semaphore is never closed"),
        );
        let room = slots.available_permits();
        let jobs = claim(&state, room as i64).await;
        let claimed = jobs.len();
        for job in jobs {
            let permit = slots
                .clone()
                .acquire_owned()
                .await
                .expect("the semaphore is never closed");
            let state = state.clone();
            tokio::spawn(async move {
                deliver(&state, job).await;
                drop(permit);
            });
        }
        if claimed < room {
            tokio::select! {
                () = state.db.deliveries_made().notified() => {}
                () = tokio::time::sleep(POLL) => {}
            }
        }
    }
}

/// Claims up to `limit` due deliveries (none when the database fails: the next look tries
/// again).
async fn claim(state: &AppState, limit: i64) -> Vec<DeliveryJob> {
    let now = db::now();
    let timeout = state.config.webhook_timeout.as_secs() as i64;
    match state
        .db
        .claim_deliveries(now, now + timeout + CLAIM_MARGIN_SECS, limit)
        .await
    {
        Ok(jobs) => jobs,
        Err(e) => {
            tracing::warn!(error = %e, "could not claim webhook deliveries");
            Vec::new()
        }
    }
}

/// The keys that sign for an endpoint now: its secret, and the one before a rotation while
/// it still signs.
fn signing_keys(state: &AppState, job: &DeliveryJob, now: i64) -> Result<Vec<SigningKey>, String> {
    let e = &job.endpoint;
    let mut keys = Vec::with_capacity(2);
    let mut add = |column: &'static str, stored: &str| -> Result<(), String> {
        let binding = Binding {
            table: "webhook_endpoints",
            row: &e.id,
            column,
        };
        let secret = state
            .cipher
            .decrypt(stored, binding)
            .map_err(|err| format!("endpoint {} {column}: {err}", e.id))?;
        let key = SigningKey::parse(secret.expose_secret())
            .map_err(|err| format!("endpoint {} {column}: {err}", e.id))?;
        keys.push(key);
        Ok(())
    };
    add("secret_enc", &e.secret_enc)?;
    if let (Some(previous), Some(until)) = (&e.previous_secret_enc, e.previous_secret_until) {
        if until > now {
            add("previous_secret_enc", previous)?;
        }
    }
    Ok(keys)
}

/// What sending met: the status code and the start of the body, or why there was none.
struct Answer {
    status: Option<u16>,
    body: Option<String>,
    error: Option<String>,
}

async fn send(state: &AppState, job: &DeliveryJob, keys: &[SigningKey], at: i64) -> Answer {
    let body = job.event.payload.as_bytes();
    let refs: Vec<&SigningKey> = keys.iter().collect();
    let signature = signature_header(&refs, &job.event.id, at, body);
    let request = state
        .deliveries_http
        .post(&job.endpoint.url)
        .header("content-type", "application/json")
        .header(HEADER_ID, &job.event.id)
        .header(HEADER_TIMESTAMP, at.to_string())
        .header(HEADER_SIGNATURE, signature)
        .body(job.event.payload.clone());
    let exchange = async {
        let mut response = request.send().await?;
        let status = response.status().as_u16();
        let mut kept = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            let room = RESPONSE_KEPT - kept.len();
            kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if kept.len() >= RESPONSE_KEPT {
                break;
            }
        }
        Ok::<_, reqwest::Error>((status, String::from_utf8_lossy(&kept).into_owned()))
    };
    match tokio::time::timeout(state.config.webhook_timeout, exchange).await {
        Ok(Ok((status, body))) => Answer {
            status: Some(status),
            error: (!(200..300).contains(&status)).then(|| format!("HTTP {status}")),
            body: Some(body),
        },
        Ok(Err(e)) => Answer {
            status: e.status().map(|s| s.as_u16()),
            body: None,
            error: Some(describe(&e)),
        },
        Err(_) => Answer {
            status: None,
            body: None,
            error: Some(format!(
                "no answer within {} s",
                state.config.webhook_timeout.as_secs()
            )),
        },
    }
}

/// A transport error in a line, without the URL (it may carry a token of the platform's).
fn describe(e: &reqwest::Error) -> String {
    let what = if e.is_connect() {
        "could not connect"
    } else if e.is_timeout() {
        "timed out"
    } else if e.is_body() || e.is_decode() {
        "the answer broke off"
    } else {
        "the request failed"
    };
    let mut source = std::error::Error::source(e);
    let mut detail = String::new();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() {
        what.to_owned()
    } else {
        format!("{what}: {detail}")
    }
}

/// When the delivery is tried next after `attempts` attempts ending in `answer`, or `None`
/// when the schedule ran out.
fn next_attempt(retries: &[Duration], attempts: i64, status: Option<u16>, now: i64) -> Option<i64> {
    let index = usize::try_from(attempts - 1).ok()?;
    let wait = retries.get(index)?;
    if status == Some(410) {
        return Some(now);
    }
    Some(now + wait.as_secs() as i64)
}

async fn deliver(state: &AppState, job: DeliveryJob) {
    let at = db::now();
    let started = Instant::now();
    let answer = match signing_keys(state, &job, at) {
        Ok(keys) => send(state, &job, &keys, at).await,
        Err(e) => Answer {
            status: None,
            body: None,
            error: Some(e),
        },
    };
    let attempt = DeliveryAttempt {
        attempt: job.attempts + 1,
        at,
        duration_ms: started.elapsed().as_millis() as i64,
        status_code: answer.status.map(i64::from),
        error: answer.error,
        response: answer.body,
    };
    let now = db::now();
    let (status, next) = if attempt.error.is_none() {
        (DeliveryStatus::Succeeded, now)
    } else {
        match next_attempt(
            &state.config.webhook_retries,
            attempt.attempt,
            answer.status,
            now,
        ) {
            Some(next) => (DeliveryStatus::Pending, next),
            None => (DeliveryStatus::Failed, now),
        }
    };
    state.metrics.webhook_delivered(status.as_str());
    match state.db.record_delivery(&job, &attempt, status, next).await {
        Ok(true) => {}
        Ok(false) => tracing::warn!(
            delivery = %job.delivery_id,
            "a webhook delivery's claim ran out before its outcome was written; it is sent again"
        ),
        Err(e) => {
            tracing::warn!(delivery = %job.delivery_id, error = %e, "could not record a webhook delivery")
        }
    }
    if let Some(error) = &attempt.error {
        tracing::info!(
            delivery = %job.delivery_id,
            attempt = attempt.attempt,
            %error,
            next = ?(status == DeliveryStatus::Pending).then_some(next),
            "webhook to the platform not accepted"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_follow_the_schedule_then_stop() {
        let waits = [5, 300].map(Duration::from_secs);
        assert_eq!(next_attempt(&waits, 1, Some(500), 100), Some(105));
        assert_eq!(next_attempt(&waits, 2, None, 100), Some(400));
        assert_eq!(next_attempt(&waits, 3, Some(500), 100), None);
        // A 410 is tried again at once, within the same number of attempts.
        assert_eq!(next_attempt(&waits, 2, Some(410), 100), Some(100));
        assert_eq!(next_attempt(&waits, 3, Some(410), 100), None);
    }
}
