//! The limit on failed sign-ins: after [`MAX_FAILURES`] failures within [`WINDOW`] from one
//! client address (or for one operator name), further sign-ins are refused until the window
//! ends, so neither the admin token nor an operator's password can be guessed by trying.
//! Each sign-in counts as a failure *before* it is checked ([`Throttle::attempt`]) and a
//! success forgets the count, so attempts sent at once cannot all be checked before the
//! first failure is recorded. In memory: each server instance counts its own.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed in a window.
pub const MAX_FAILURES: u32 = 5;
/// How long failures are remembered.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Keys kept before old windows are forgotten.
const MAX_KEYS: usize = 10_000;

#[derive(Clone, Copy, Debug)]
struct Window {
    failures: u32,
    started: Instant,
}

/// Failed sign-ins by key (`ip:...`, `operator:...`).
#[derive(Debug, Default)]
pub struct Throttle {
    windows: Mutex<HashMap<String, Window>>,
}

impl Throttle {
    /// How long until `keys` may try again, if one of them is over the limit.
    pub fn blocked(&self, keys: &[String]) -> Option<Duration> {
        let windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        wait_for(&windows, keys, Instant::now())
    }

    /// Starts a sign-in attempt: refused with the wait when a key is over the limit,
    /// otherwise counted as a failure against each key (checked and counted under one
    /// lock), until [`Throttle::succeeded`] forgets it.
    pub fn attempt(&self, keys: &[String]) -> Result<(), Duration> {
        let now = Instant::now();
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(wait) = wait_for(&windows, keys, now) {
            return Err(wait);
        }
        if windows.len() > MAX_KEYS {
            windows.retain(|_, w| now.duration_since(w.started) < WINDOW);
        }
        for k in keys {
            let w = windows.entry(k.clone()).or_insert(Window {
                failures: 0,
                started: now,
            });
            if now.duration_since(w.started) >= WINDOW {
                *w = Window {
                    failures: 0,
                    started: now,
                };
            }
            w.failures += 1;
        }
        Ok(())
    }

    /// Forgets the failures of `keys` (a successful sign-in).
    pub fn succeeded(&self, keys: &[String]) {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        for k in keys {
            windows.remove(k);
        }
    }
}

/// How long until `keys` may try again, if one of them is over the limit at `now`.
fn wait_for(windows: &HashMap<String, Window>, keys: &[String], now: Instant) -> Option<Duration> {
    keys.iter()
        .filter_map(|k| windows.get(k))
        .filter(|w| w.failures >= MAX_FAILURES && now.duration_since(w.started) < WINDOW)
        .map(|w| WINDOW.saturating_sub(now.duration_since(w.started)))
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_the_limit_per_key() {
        let t = Throttle::default();
        let a = vec!["ip:1.1.1.1".to_owned()];
        let b = vec!["ip:2.2.2.2".to_owned()];
        for _ in 0..MAX_FAILURES - 1 {
            t.attempt(&a).unwrap();
            assert!(t.blocked(&a).is_none());
        }
        t.attempt(&a).unwrap();
        let wait = t.attempt(&a).expect_err("refused at the limit");
        assert!(t.blocked(&a).is_some());
        assert!(wait > Duration::from_secs(60) && wait <= WINDOW, "{wait:?}");
        assert!(t.blocked(&b).is_none(), "another key is not blocked");
        let both = vec![a[0].clone(), b[0].clone()];
        assert!(t.blocked(&both).is_some(), "any blocked key blocks");
        t.succeeded(&a);
        assert!(t.blocked(&a).is_none());
    }
}
