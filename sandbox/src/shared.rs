//! The handle that the HTTP handlers, the control API and the webhook worker share: the store
//! behind its mutex, the sandbox clock, the webhook queue and client, and the retry settings.

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::mpsc;

use crate::clock::Clock;
use crate::state::Store;
use crate::webhooks::DeliveryJob;

/// Settings of the parts that tests tune.
#[derive(Debug, Clone)]
pub struct Tuning {
    /// First retry delay of a failed webhook delivery (doubles per attempt).
    pub webhook_retry_base: Duration,
    /// Attempts per delivery, the first included.
    pub webhook_max_attempts: u32,
}

/// Everything the handlers share.
pub struct Shared {
    /// The state.
    pub store: Mutex<Store>,
    /// The sandbox clock.
    pub clock: Clock,
    /// Webhook settings.
    pub config: Tuning,
    /// Queue of the webhook worker.
    pub webhook_tx: mpsc::UnboundedSender<DeliveryJob>,
    /// Client for webhook deliveries.
    pub http: reqwest::Client,
}

impl Shared {
    /// Locks the store (a panicked handler does not poison the sandbox for the other tests).
    pub fn lock(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts the deliveries that operations queued.
    pub fn flush_outbox(&self) {
        let jobs = std::mem::take(&mut self.lock().outbox);
        for job in jobs {
            let _ = self.webhook_tx.send(job);
        }
    }
}
