//! Idempotent requests as Stripe runs them: an `Idempotency-Key` is scoped to the account; the
//! first answer is saved once the endpoint starts executing (successes, declines and other
//! errors alike, but not parameter-validation failures) and replayed with
//! `Idempotent-Replayed: true`; the same key with other parameters or another endpoint is an
//! `idempotency_error`; a second request while the first is still running gets 409
//! `idempotency_key_in_use`. Records are pruned after 24 hours of sandbox time. The store holds
//! them as one [`IdemRecords`].

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::errors::{ApiError, ErrorType};

/// How long a key is remembered (Stripe: at least 24 hours).
pub const RETENTION_SECS: i64 = 24 * 3600;

/// What identifies "the same request": the path and a digest of the parameters (the digest,
/// not the parameters, is what each of the day's records keeps).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    /// `/v1/payment_intents`.
    pub path: String,
    /// SHA-256 of the parameters' JSON (without Stripe.js's client-side ones); `serde_json`
    /// writes object keys sorted, so equal parameters give equal digests.
    pub params: [u8; 32],
}

impl Fingerprint {
    /// The fingerprint of a request to `path` with `params` (a JSON object).
    pub fn new(path: &str, params: &impl serde::Serialize) -> Self {
        let json = serde_json::to_vec(params).unwrap_or_default();
        Fingerprint {
            path: path.to_string(),
            params: Sha256::digest(&json).into(),
        }
    }
}

/// One saved key.
#[derive(Debug, Clone)]
pub enum IdemEntry {
    /// The first request is still executing.
    InFlight {
        /// Its fingerprint.
        fingerprint: Fingerprint,
        /// When it began.
        started: i64,
    },
    /// The first request's answer.
    Done {
        /// Its fingerprint.
        fingerprint: Fingerprint,
        /// HTTP status.
        status: u16,
        /// Body, as compact JSON (parsed again only for a replay).
        body: Arc<str>,
        /// Request id of the original request.
        request_id: String,
        /// When it was saved.
        saved_at: i64,
    },
}

impl IdemEntry {
    fn written(&self) -> i64 {
        match self {
            IdemEntry::InFlight { started, .. } => *started,
            IdemEntry::Done { saved_at, .. } => *saved_at,
        }
    }
}

/// What the idempotency layer decides for an incoming request.
#[derive(Debug)]
pub enum Decision {
    /// Execute it (the key is now marked in flight).
    Proceed,
    /// Answer with the saved response.
    Replay {
        /// HTTP status.
        status: u16,
        /// Body.
        body: Value,
        /// The original request's id.
        original_request: String,
    },
    /// Refuse it.
    Refuse(ApiError),
}

fn mismatch(message: String) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, ErrorType::Idempotency, message)
}

/// Event snapshots remembered for sharing with idempotency records (a request emits a few).
const RECENT_SNAPSHOTS: usize = 4;

/// The saved keys of every account, with what keeps them cheap: a log of writes in time order
/// for expiry, and the last few event snapshots an answer may share its text with.
#[derive(Debug, Default)]
pub struct IdemRecords {
    /// Records by (account, key).
    entries: HashMap<(String, String), IdemEntry>,
    /// When each record was written, oldest first, so expired records are dropped without
    /// looking at the others.
    written: VecDeque<(i64, (String, String))>,
    /// The last few event snapshots: an API answer is most often the very object its request's
    /// last event carries, and its record then shares the text.
    recent_snapshots: VecDeque<Arc<str>>,
}

impl IdemRecords {
    fn put(&mut self, slot: (String, String), entry: IdemEntry) {
        self.written.push_back((entry.written(), slot.clone()));
        self.entries.insert(slot, entry);
    }

    /// Remembers an event's snapshot, which the answer saved next may share.
    pub fn remember_snapshot(&mut self, snapshot: Arc<str>) {
        if self.recent_snapshots.len() == RECENT_SNAPSHOTS {
            self.recent_snapshots.pop_front();
        }
        self.recent_snapshots.push_back(snapshot);
    }

    /// Drops the records written more than 24 hours of sandbox time before `now`. The log of
    /// writes is in time order (the sandbox clock only moves forward until a reset, which
    /// empties both), so this looks only at the records it drops.
    pub fn expire(&mut self, now: i64) {
        while let Some((at, _)) = self.written.front() {
            if now - at <= RETENTION_SECS {
                break;
            }
            let Some((at, slot)) = self.written.pop_front() else {
                break;
            };
            // A later write of the same key (a retry after expiry, or the answer saved over its
            // in-flight mark) has its own entry in the log; only the one written then goes.
            if self.entries.get(&slot).is_some_and(|e| e.written() == at) {
                self.entries.remove(&slot);
            }
        }
    }

    /// Looks the key up and, when the request may run, marks it in flight.
    pub fn begin(
        &mut self,
        account: &str,
        key: &str,
        fingerprint: Fingerprint,
        now: i64,
    ) -> Decision {
        if key.len() > 255 {
            let mut e = ApiError::invalid(
                "Invalid Idempotency-Key: keys may be at most 255 characters long.",
            )
            .param("Idempotency-Key");
            e.saved = false;
            return Decision::Refuse(e);
        }
        self.expire(now);
        let slot = (account.to_string(), key.to_string());
        if let Some(entry) = self.entries.get(&slot) {
            let old = match entry {
                IdemEntry::InFlight { fingerprint, .. } | IdemEntry::Done { fingerprint, .. } => {
                    fingerprint
                }
            };
            if old.path != fingerprint.path {
                return Decision::Refuse(mismatch(format!(
                    "Keys for idempotent requests can only be used for the same endpoint they were \
                     first used for ('{}' vs '{}'). Try using a key other than '{key}' if you meant \
                     to execute a different request.",
                    old.path, fingerprint.path
                )));
            }
            if old.params != fingerprint.params {
                return Decision::Refuse(mismatch(format!(
                    "Keys for idempotent requests can only be used with the same parameters they \
                     were first used with. Try using a key other than '{key}' if you meant to \
                     execute a different request."
                )));
            }
            return match entry {
                IdemEntry::InFlight { .. } => Decision::Refuse(
                    ApiError::new(
                        StatusCode::CONFLICT,
                        ErrorType::Idempotency,
                        format!(
                            "There is currently another in-progress request using this Idempotent \
                             Key (that probably means you submitted twice, and the other request is \
                             still going through): {key}. Please try again later."
                        ),
                    )
                    .code("idempotency_key_in_use"),
                ),
                IdemEntry::Done {
                    status,
                    body,
                    request_id,
                    ..
                } => Decision::Replay {
                    status: *status,
                    body: serde_json::from_str(body).unwrap_or(Value::Null),
                    original_request: request_id.clone(),
                },
            };
        }
        self.put(
            slot,
            IdemEntry::InFlight {
                fingerprint,
                started: now,
            },
        );
        Decision::Proceed
    }

    /// Saves the answer of an executed request.
    pub fn finish(
        &mut self,
        account: &str,
        key: &str,
        status: u16,
        body: &Value,
        request_id: &str,
        now: i64,
    ) {
        let slot = (account.to_string(), key.to_string());
        if let Some(IdemEntry::InFlight { fingerprint, .. }) = self.entries.remove(&slot) {
            let text = body.to_string();
            let body = match self.recent_snapshots.iter().rev().find(|s| ***s == *text) {
                Some(same) => same.clone(),
                None => Arc::from(text),
            };
            self.put(
                slot,
                IdemEntry::Done {
                    fingerprint,
                    status,
                    body,
                    request_id: request_id.to_string(),
                    saved_at: now,
                },
            );
        }
    }

    /// Forgets an in-flight key whose request never reached the endpoint (validation failure,
    /// injected fault before execution): a retry runs it afresh.
    pub fn abandon(&mut self, account: &str, key: &str) {
        let slot = (account.to_string(), key.to_string());
        if matches!(self.entries.get(&slot), Some(IdemEntry::InFlight { .. })) {
            self.entries.remove(&slot);
        }
    }

    /// The records of the last 24 hours, for the control API's view.
    pub fn summary(&mut self, now: i64) -> Value {
        self.expire(now);
        let mut v: Vec<Value> = self
            .entries
            .iter()
            .map(|((account, key), e)| match e {
                IdemEntry::InFlight { fingerprint, .. } => {
                    json!({"account": account, "key": key, "path": fingerprint.path, "state": "in_flight"})
                }
                IdemEntry::Done { fingerprint, status, request_id, .. } => json!({
                    "account": account, "key": key, "path": fingerprint.path, "state": "done",
                    "status": status, "request_id": request_id,
                }),
            })
            .collect();
        v.sort_by_key(|x| x["key"].as_str().unwrap_or_default().to_string());
        Value::Array(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(path: &str, p: Value) -> Fingerprint {
        Fingerprint::new(path, &p)
    }

    #[test]
    fn the_same_parameters_in_another_order_are_the_same_request() {
        let a: serde_json::Map<String, Value> = serde_json::from_str(
            r#"{"amount": "100", "currency": "usd", "metadata": {"a": "1", "b": "2"}}"#,
        )
        .unwrap();
        let b: serde_json::Map<String, Value> = serde_json::from_str(
            r#"{"metadata": {"b": "2", "a": "1"}, "currency": "usd", "amount": "100"}"#,
        )
        .unwrap();
        assert_eq!(Fingerprint::new("/v1/x", &a), Fingerprint::new("/v1/x", &b));
        let c: serde_json::Map<String, Value> =
            serde_json::from_str(r#"{"amount": "101", "currency": "usd"}"#).unwrap();
        assert_ne!(Fingerprint::new("/v1/x", &a), Fingerprint::new("/v1/x", &c));
        assert_ne!(Fingerprint::new("/v1/x", &a), Fingerprint::new("/v1/y", &a));
    }

    #[test]
    fn replay_mismatch_and_in_flight() {
        let mut s = IdemRecords::default();
        let a = "acct_1".to_string();
        let f = fp("/v1/payment_intents", json!({"amount": "100"}));
        assert!(matches!(
            s.begin(&a, "k", f.clone(), 1_000),
            Decision::Proceed
        ));
        match s.begin(&a, "k", f.clone(), 1_000) {
            Decision::Refuse(e) => assert_eq!(e.status, StatusCode::CONFLICT),
            d => panic!("{d:?}"),
        }
        s.finish(&a, "k", 200, &json!({"id": "pi_1"}), "req_1", 1_000);
        match s.begin(&a, "k", f.clone(), 1_001) {
            Decision::Replay {
                status,
                body,
                original_request,
            } => {
                assert_eq!(
                    (status, body["id"].as_str(), original_request.as_str()),
                    (200, Some("pi_1"), "req_1")
                )
            }
            d => panic!("{d:?}"),
        }
        match s.begin(
            &a,
            "k",
            fp("/v1/payment_intents", json!({"amount": "200"})),
            1_001,
        ) {
            Decision::Refuse(e) => {
                assert_eq!(e.kind, ErrorType::Idempotency);
                assert!(e.message.starts_with(
                    "Keys for idempotent requests can only be used with the same parameters"
                ));
            }
            d => panic!("{d:?}"),
        }
        // Another account may use the same key.
        assert!(matches!(
            s.begin("acct_other", "k", f.clone(), 1_001),
            Decision::Proceed
        ));
        // After 24 hours the key is new again.
        assert!(matches!(
            s.begin(&a, "k", f, 1_000 + RETENTION_SECS + 1),
            Decision::Proceed
        ));
    }
}
