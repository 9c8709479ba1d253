//! What merchants' integrations hold, decrypted, for a few seconds: a webhook then needs no
//! read of its integration for its signing secrets, and a payment none for its keys. The
//! state owns one cache of each; the integrations code reads them from storage and puts them
//! here.
//!
//! A write of an integration through this process makes its entries stale at once (storage's
//! generation counter); [`INTEGRATION_CACHE_TTL`] bounds how long a change made by another
//! process (a second instance, the CLI) takes to be seen:
//! - a signing secret set elsewhere is seen at once anyway: a signature the cached secrets
//!   refuse is checked again against the stored ones. What the bound allows is a removed secret
//!   verifying for at most this long.
//! - payment credentials: payments turned off elsewhere stop here within this long. A key
//!   replaced elsewhere is seen at once: Stripe refuses the old one, and the payments code then
//!   drops the entry ([`MerchantCache::forget`]) and compares the refused key with the stored
//!   one before anything else.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use slotpay_core::WebhookSecret;

/// How long what a merchant's integration holds is reused without reading it again.
pub const INTEGRATION_CACHE_TTL: Duration = Duration::from_secs(5);
/// Merchants kept at most (expired entries are dropped first).
const MERCHANTS_CACHED: usize = 4096;

/// Values read from recently seen merchants' integrations. `Debug` shows only how many
/// merchants it holds.
pub struct MerchantCache<T> {
    entries: Mutex<HashMap<String, Cached<T>>>,
}

struct Cached<T> {
    value: T,
    /// When it was read.
    read_at: Instant,
    /// Storage's integration generation before it was read.
    generation: u64,
}

impl<T> Default for MerchantCache<T> {
    fn default() -> Self {
        MerchantCache {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl<T> std::fmt::Debug for MerchantCache<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.entries.lock().map_or(0, |e| e.len());
        write!(f, "MerchantCache({n} merchants)")
    }
}

impl<T: Clone> MerchantCache<T> {
    /// The merchant's value, if it was read at storage generation `generation` within
    /// [`INTEGRATION_CACHE_TTL`].
    pub(crate) fn get(&self, merchant_id: &str, generation: u64) -> Option<T> {
        let entries = self.entries.lock().ok()?;
        let e = entries.get(merchant_id)?;
        if e.generation != generation || e.read_at.elapsed() >= INTEGRATION_CACHE_TTL {
            return None;
        }
        Some(e.value.clone())
    }

    /// Keeps a merchant's value, read from storage at `read_at`, at generation `generation`
    /// (taken before the read).
    pub(crate) fn put(&self, merchant_id: &str, value: T, read_at: Instant, generation: u64) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= MERCHANTS_CACHED && !entries.contains_key(merchant_id) {
            entries.retain(|_, e| e.read_at.elapsed() < INTEGRATION_CACHE_TTL);
            if entries.len() >= MERCHANTS_CACHED {
                entries.clear();
            }
        }
        let entry = Cached {
            value,
            read_at,
            generation,
        };
        entries.insert(merchant_id.to_owned(), entry);
    }

    /// Drops a merchant's value: the next use reads storage.
    pub(crate) fn forget(&self, merchant_id: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(merchant_id);
        }
    }
}

/// One merchant's webhook signing secrets, as read.
#[derive(Clone)]
pub(crate) struct CachedSecrets {
    /// The current signing secret.
    pub current: WebhookSecret,
    /// The replaced secret and when it stops being accepted.
    pub previous: Option<(WebhookSecret, i64)>,
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
