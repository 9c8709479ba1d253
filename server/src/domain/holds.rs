//! Holds that lapse: a pass every `hold_check_interval` (a second by default) finds the
//! unpaid checkouts whose `expires_at` passed and whose expiry was not yet announced, and
//! ends each (`payments::expire_hold`), so the platform hears `checkout.expired` within
//! seconds of the due time and the slot can be given to someone else.

use std::time::Duration;

use super::payments;
use crate::db;
use crate::state::AppState;

/// At most this many lapsed holds per pass.
const BATCH: i64 = 100;

/// Runs until the process stops.
pub async fn run(state: AppState, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        expire_due(&state, db::now()).await;
    }
}

/// One pass as if it were `now`: returns how many lapsed holds were looked at.
pub async fn expire_due(state: &AppState, now: i64) -> usize {
    let due = match state.db.lapsed_holds(now, BATCH).await {
        Ok(due) => due,
        Err(e) => {
            tracing::warn!(error = %e, "could not look for lapsed holds");
            return 0;
        }
    };
    for r in &due {
        if let Err(e) = payments::expire_hold(state, r).await {
            tracing::warn!(token = %r.token, error = %e, "a lapsed hold could not be ended; tried again next pass");
        }
    }
    due.len()
}
