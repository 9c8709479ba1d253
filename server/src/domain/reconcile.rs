//! The reconciler, run on start and every minute (`reconcile_interval`): settles what a crash
//! or a lost answer left behind. Checkouts in `processing` or `requires_action` untouched for
//! a minute (`reconcile_stale`) are read from Stripe and settled; authorisations older than 7
//! days are checked at Stripe and marked expired (their hold released); refunds left pending
//! are sent again (same key); an unpaid checkout whose PaymentIntent's creation got no
//! answer is linked to the PaymentIntent Stripe made (the same creation again, same key); stored webhooks not yet processed are processed; catalogue
//! checkouts (which anyone can make) that expired a day ago untried are deleted, and so are
//! events to the platform older than 30 days.

use std::time::Duration;

use slotpay_core::CheckoutStatus;

use super::store::{modify, Start};
use super::sync::{sync, LeaseMode};
use super::{integrations, payments, refunds, webhooks, DomainError};
use crate::db::{self, CheckoutRecord};
use crate::state::AppState;
use crate::stripe::{CancellationReason, IdempotencyKey, PaymentIntentStatus};

/// How long a checkout in flight is left alone before it is read from Stripe, by default
/// (`Config::reconcile_stale`).
pub const STALE_SECS: i64 = 60;
/// Stripe's capture window for card authorisations.
pub const AUTHORIZATION_SECS: i64 = 7 * 86_400;
/// How long an expired catalogue checkout nobody tried to pay is kept before it is deleted.
pub const PURGE_AFTER_SECS: i64 = 86_400;

/// What a pass did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Checkouts in flight read from Stripe.
    pub settled: usize,
    /// Authorisations marked expired.
    pub expired: usize,
    /// Pending refunds sent again.
    pub refunds: usize,
    /// Unpaid checkouts whose PaymentIntent's creation got no answer, now linked to it.
    pub linked: usize,
    /// Stored webhooks processed.
    pub events: usize,
    /// Expired catalogue checkouts nobody tried to pay, deleted.
    pub purged: u64,
}

/// One pass, as if it were `now` (unix seconds).
pub async fn reconcile(state: &AppState, now: i64) -> Report {
    let stale = i64::try_from(state.config.reconcile_stale.as_secs()).unwrap_or(STALE_SECS);
    let mut report = Report {
        events: webhooks::process_pending(state, now - 5).await,
        ..Report::default()
    };
    match state
        .db
        .checkouts_in(
            &[CheckoutStatus::Processing, CheckoutStatus::RequiresAction],
            now - stale,
            200,
        )
        .await
    {
        Ok(list) => {
            for r in list {
                let live = r.lease.is_some_and(|l| l.is_live(now));
                if live || r.payment_intent_id.is_none() && r.lease.is_none() {
                    continue;
                }
                let settled = if r.payment_intent_id.is_some() {
                    sync(state, &r, LeaseMode::Override).await.map(|_| ())
                } else {
                    release_stale(state, &r).await
                };
                match settled {
                    Ok(()) => report.settled += 1,
                    Err(e) => tracing::warn!(token = %r.token, error = %e, "checkout not settled"),
                }
            }
        }
        Err(e) => tracing::warn!(error = %e, "checkouts in flight not read"),
    }
    match state
        .db
        .checkouts_in(&[CheckoutStatus::Authorized], now + 1, 500)
        .await
    {
        Ok(list) => {
            for r in list.into_iter().filter(|r| {
                r.authorized_at
                    .is_some_and(|a| a + AUTHORIZATION_SECS <= now)
            }) {
                match expire_authorization(state, &r).await {
                    Ok(true) => report.expired += 1,
                    Ok(false) => {}
                    Err(e) => {
                        tracing::warn!(token = %r.token, error = %e, "authorisation not expired")
                    }
                }
            }
        }
        Err(e) => tracing::warn!(error = %e, "authorisations not read"),
    }
    report.refunds = refunds::drive_pending(state, now - stale).await;
    // Stripe keeps an idempotency key's answer for 24 hours.
    match state
        .db
        .checkouts_without_intent(now - stale, now - 86_400 + 3600, 200)
        .await
    {
        Ok(list) => {
            for r in list {
                match payments::link_intent(state, &r).await {
                    Ok(true) => report.linked += 1,
                    Ok(false) => {}
                    Err(e) => {
                        tracing::warn!(token = %r.token, error = %e, "PaymentIntent not linked")
                    }
                }
            }
        }
        Err(e) => tracing::warn!(error = %e, "checkouts without a PaymentIntent not read"),
    }
    if let Err(e) = state.db.forget_counts(now - 2 * 86_400).await {
        tracing::warn!(error = %e, "old abuse counters not forgotten");
    }
    report.purged = match state
        .db
        .purge_untried_catalogue_checkouts(now - PURGE_AFTER_SECS)
        .await
    {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(error = %e, "expired catalogue checkouts not purged");
            0
        }
    };
    if let Err(e) = state
        .db
        .purge_platform_events(now - super::events::KEPT_SECS)
        .await
    {
        tracing::warn!(error = %e, "old platform events not deleted");
    }
    report
}

/// A lease left by a crash before any PaymentIntent existed: given back (unless the row
/// moved on since it was listed).
async fn release_stale(state: &AppState, r: &CheckoutRecord) -> Result<(), DomainError> {
    let listed = r.version;
    modify(state, Start::Known(r), |n| {
        if n.version == listed {
            n.give_back_lease();
        }
        Ok(())
    })
    .await?;
    Ok(())
}

/// An authorisation past Stripe's window: what Stripe says first (captured elsewhere: paid;
/// lapsed: expired); one Stripe still holds is marked expired, then canceled at Stripe so the
/// client's bank releases the hold (a late `payment_intent.canceled` cannot move an expired
/// checkout).
async fn expire_authorization(state: &AppState, r: &CheckoutRecord) -> Result<bool, DomainError> {
    let Some((rec, pi)) = sync(state, r, LeaseMode::Override).await? else {
        return Ok(false);
    };
    match rec.status {
        CheckoutStatus::Expired => return Ok(true),
        CheckoutStatus::Authorized => {}
        _ => return Ok(false),
    }
    let (_, marked) = modify(state, Start::Known(&rec), |n| {
        let authorized = n.status == CheckoutStatus::Authorized;
        if authorized {
            n.status = CheckoutStatus::Expired;
        }
        Ok(authorized)
    })
    .await?;
    if !marked {
        return Ok(false);
    }
    if pi.status == PaymentIntentStatus::RequiresCapture {
        let key = integrations::server_key(state, &r.merchant_id).await?;
        let idem = IdempotencyKey::new(format!("slotpay:{}:expire", r.token));
        if let Err(e) = state
            .stripe
            .cancel_payment_intent(&key, &pi.id, CancellationReason::Abandoned, &idem)
            .await
        {
            tracing::warn!(token = %r.token, error = %e, "lapsed authorisation not canceled at Stripe");
        }
    }
    tracing::info!(token = %r.token, "authorisation expired");
    Ok(true)
}

/// Runs [`reconcile`] now and then every `every`, until the task is aborted.
pub async fn run(state: AppState, every: Duration) {
    loop {
        let report = reconcile(&state, db::now()).await;
        if report != Report::default() {
            tracing::info!(?report, "reconciled");
        }
        tokio::time::sleep(every).await;
    }
}
