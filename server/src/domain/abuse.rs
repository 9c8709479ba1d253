//! Defences against card testing: bots that try stolen card numbers through a public
//! checkout, reading declines, until Stripe suspends the merchant for its decline rate.
//!
//! - **Per checkout**: after `max_declines_per_checkout` declined cards a checkout takes no
//!   more payments (`checkout_locked`); its public view says so.
//! - **Per merchant**: each decline is counted in the database (shared by every instance);
//!   while a merchant has had `merchant_decline_budget` declines in the last window, its new
//!   pay attempts are refused before Stripe is called (`payments_paused`), so an attack stops
//!   reaching Stripe while other merchants are not touched. At most the budget, plus the
//!   attempts already past the check when it is reached, get through per window.
//! - **Per client**: checkouts made from a catalogue (by anyone, with the script-tag embed)
//!   are counted per client address (`catalogue_checkouts_per_client`, `rate_limited`), so a
//!   bot cannot make fresh checkouts without end.

use slotpay_core::ErrorCode;

use super::DomainError;
use crate::config::WindowLimit;
use crate::db::{CheckoutRecord, MerchantCounter, WindowCounts};
use crate::state::AppState;

/// A limit's window in seconds.
fn seconds(limit: WindowLimit) -> i64 {
    i64::try_from(limit.window.as_secs()).unwrap_or(i64::MAX)
}

/// Refuses a checkout that had its declines.
pub(crate) fn check_checkout(state: &AppState, r: &CheckoutRecord) -> Result<(), DomainError> {
    if r.declines >= i64::from(state.config.max_declines_per_checkout) && !r.status.is_settled() {
        return Err(DomainError::refused(
            ErrorCode::CheckoutLocked,
            "Too many cards were declined for this booking; ask the merchant for a new payment link",
        ));
    }
    Ok(())
}

/// The merchant's decline counter, read with the checkout a pay attempt is for.
pub(crate) fn merchant_declines(state: &AppState, now: i64) -> MerchantCounter<'static> {
    MerchantCounter {
        key_prefix: DECLINES,
        now,
        window: seconds(state.config.merchant_decline_budget),
    }
}

/// Refuses a new pay attempt while the merchant is over its decline budget: `declines` are
/// its counts read at `now` ([`merchant_declines`]).
pub(crate) fn check_merchant(
    state: &AppState,
    merchant_id: &str,
    declines: WindowCounts,
    now: i64,
) -> Result<(), DomainError> {
    let budget = state.config.merchant_decline_budget;
    let seen = declines.sliding(now, seconds(budget));
    if seen >= f64::from(budget.count) {
        tracing::warn!(
            merchant_id,
            declines = seen,
            "payments paused: too many declines"
        );
        return Err(DomainError::refused(
            ErrorCode::PaymentsPaused,
            "Too many payments were declined here just now; try again in a few minutes",
        ));
    }
    Ok(())
}

/// Counts a declined card against its merchant (best effort: a failure is logged).
pub(crate) async fn count_decline(state: &AppState, merchant_id: &str, now: i64) {
    let budget = state.config.merchant_decline_budget;
    let key = decline_key(merchant_id);
    if let Err(e) = state.db.count_event(&key, now, seconds(budget)).await {
        tracing::warn!(merchant_id, error = %e, "decline not counted");
    }
}

/// Counts a catalogue checkout against its client, refused over the limit.
pub(crate) async fn count_catalogue_checkout(
    state: &AppState,
    client: &str,
    now: i64,
) -> Result<(), DomainError> {
    let limit = state.config.catalogue_checkouts_per_client;
    let key = format!("catalogue:{client}");
    let window = seconds(limit);
    let seen = state.db.window_count(&key, now, window).await?;
    if seen >= f64::from(limit.count) {
        return Err(DomainError::refused(
            ErrorCode::RateLimited,
            "Too many bookings were started from here just now; try again in a few minutes",
        ));
    }
    state.db.count_event(&key, now, window).await?;
    Ok(())
}

/// The key of a merchant's decline counter is this, then its id.
const DECLINES: &str = "declines:";

fn decline_key(merchant_id: &str) -> String {
    format!("{DECLINES}{merchant_id}")
}
