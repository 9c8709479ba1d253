//! The merchants' webhook signing secrets, decrypted, for a few seconds: a webhook then
//! needs no read of its integration. The state owns the cache; the integrations code reads
//! the secrets from storage and puts them here.
//!
//! A write of an integration through this process makes its entry stale at once (storage's
//! generation counter); [`WEBHOOK_SECRETS_TTL`] bounds how long a change made by another
//! process (a second instance, the CLI) takes to be seen. A secret set elsewhere is seen at
//! once anyway: a signature the cached secrets refuse is checked again against the stored
//! ones. What the bound allows is a removed secret verifying for at most this long.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use slotpay_core::WebhookSecret;

/// How long a merchant's decrypted signing secrets are reused without reading its
/// integration again.
pub const WEBHOOK_SECRETS_TTL: Duration = Duration::from_secs(5);
/// Merchants whose secrets are kept at most (expired entries are dropped first).
const WEBHOOK_SECRETS_CACHED: usize = 4096;

/// The signing secrets of recently seen merchants. `Debug` shows only how many merchants it
/// holds.
#[derive(Default)]
pub struct WebhookSecretsCache {
    entries: Mutex<HashMap<String, CachedSecrets>>,
}

/// One merchant's secrets, as read.
pub(crate) struct CachedSecrets {
    /// The current signing secret.
    pub current: WebhookSecret,
    /// The replaced secret and when it stops being accepted.
    pub previous: Option<(WebhookSecret, i64)>,
    /// When they were read.
    pub read_at: Instant,
    /// Storage's integration generation before they were read.
    pub generation: u64,
}

impl CachedSecrets {
    /// The secrets a webhook may be signed with at `now`: the current one, and the previous
    /// one until it expires.
    pub(crate) fn at(&self, now: i64) -> Vec<WebhookSecret> {
        let mut secrets = vec![self.current.clone()];
        if let Some((previous, until)) = &self.previous {
            if *until > now {
                secrets.push(previous.clone());
            }
        }
        secrets
    }
}

impl std::fmt::Debug for WebhookSecretsCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.entries.lock().map_or(0, |e| e.len());
        write!(f, "WebhookSecretsCache({n} merchants)")
    }
}

impl WebhookSecretsCache {
    /// The merchant's secrets at `now`, if cached at storage generation `generation` within
    /// [`WEBHOOK_SECRETS_TTL`].
    pub(crate) fn get(
        &self,
        merchant_id: &str,
        now: i64,
        generation: u64,
    ) -> Option<Vec<WebhookSecret>> {
        let entries = self.entries.lock().ok()?;
        let e = entries.get(merchant_id)?;
        if e.generation != generation || e.read_at.elapsed() >= WEBHOOK_SECRETS_TTL {
            return None;
        }
        Some(e.at(now))
    }

    /// Keeps a merchant's secrets.
    pub(crate) fn put(&self, merchant_id: &str, entry: CachedSecrets) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= WEBHOOK_SECRETS_CACHED && !entries.contains_key(merchant_id) {
            entries.retain(|_, e| e.read_at.elapsed() < WEBHOOK_SECRETS_TTL);
            if entries.len() >= WEBHOOK_SECRETS_CACHED {
                entries.clear();
            }
        }
        entries.insert(merchant_id.to_owned(), entry);
    }
}
