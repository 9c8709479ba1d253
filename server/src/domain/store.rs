//! One way to read and change a checkout. Every writer of a checkout row goes through
//! [`modify`]: it reads the row (or starts from the caller's copy), lets the caller edit it,
//! and writes it only if nobody wrote it since (the row's `version`), reading and editing
//! again otherwise. [`end_lease`] is the same for the holder of a lease, which it ends.
//!
//! Two columns have their own conditional statements and are not written here: the lease
//! is *taken* by `Db::claim_checkout` (one statement, so two instances cannot both hold it)
//! and `amount_refunded` is reserved by the refunds' transaction.

use slotpay_core::CheckoutToken;

use super::{outbox, DomainError};
use crate::db::{self, CheckoutRecord};
use crate::model::LeaseHolder;
use crate::state::AppState;

/// How often an optimistic write is tried before giving up.
pub(crate) const WRITE_TRIES: usize = 8;

/// Parses a token from a path: a malformed one is an unknown checkout.
pub fn parse_token(token: &str) -> Result<CheckoutToken, DomainError> {
    CheckoutToken::parse(token).map_err(|_| DomainError::checkout_not_found())
}

/// The stored checkout of a token, or `checkout_not_found`.
pub(crate) async fn load(state: &AppState, token: &str) -> Result<CheckoutRecord, DomainError> {
    let token = parse_token(token)?;
    state
        .db
        .get_checkout(token.as_str())
        .await?
        .ok_or_else(DomainError::checkout_not_found)
}

/// Where a change starts.
#[derive(Clone, Copy)]
pub(crate) enum Start<'a> {
    /// The stored row of this token.
    Token(&'a str),
    /// The caller's copy, as it last read or wrote it: tried first, and read again only
    /// when it turns out stale (its write fails, or it needs no change).
    Known(&'a CheckoutRecord),
}

/// Changes a checkout. `change` edits the newest record; the edit is written if the row
/// still has the version it was read at (then `updated_at` is now and the version bumped),
/// else the row is read again and `change` runs again. The event the change tells the
/// platform (`outbox::checkout_event`) is written with it, atomically. A `change` that
/// edits nothing writes nothing; one that fails stops. Returns the record as stored and what `change` returned.
pub(crate) async fn modify<T>(
    state: &AppState,
    start: Start<'_>,
    mut change: impl FnMut(&mut CheckoutRecord) -> Result<T, DomainError>,
) -> Result<(CheckoutRecord, T), DomainError> {
    let (token, mut known) = match start {
        Start::Token(token) => (token, None),
        Start::Known(r) => (r.token.as_str(), Some(r.clone())),
    };
    for _ in 0..WRITE_TRIES {
        let (read, fresh) = match known.take() {
            Some(r) => (r, false),
            None => (load(state, token).await?, true),
        };
        let mut edited = read.clone();
        let out = change(&mut edited)?;
        if edited == read {
            if fresh {
                return Ok((read, out));
            }
            // Nothing to write, but the copy may be stale: read it.
            continue;
        }
        edited.updated_at = db::now();
        let event = outbox::checkout_event(state, &read, &edited);
        if state.db.update_checkout(&edited, event.as_ref()).await? {
            edited.version += 1;
            return Ok((edited, out));
        }
    }
    Err(DomainError::changed_meanwhile())
}

/// Ends `holder`'s lease on a checkout: `change` sets what the checkout becomes (the status
/// the lease was taken from, unless it sets another), then the lease is gone. `None`, and
/// nothing written, when `holder` does not hold it any more (its lease ran out and someone
/// else moved the checkout on).
pub(crate) async fn end_lease(
    state: &AppState,
    token: &str,
    holder: LeaseHolder,
    mut change: impl FnMut(&mut CheckoutRecord),
) -> Result<Option<CheckoutRecord>, DomainError> {
    let (r, held) = modify(state, Start::Token(token), |r| {
        if !r.is_held_by(holder) {
            return Ok(false);
        }
        r.give_back_lease();
        change(r);
        Ok(true)
    })
    .await?;
    Ok(held.then_some(r))
}
