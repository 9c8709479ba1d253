//! Stripe's word on a payment: [`apply`] is the one place where what Stripe says about a
//! checkout's PaymentIntent (an answer to a call, a webhook, a read) moves the checkout, and
//! [`sync`] reads the PaymentIntent to apply it. The refunds Stripe shows on the charge are
//! reconciled with slotpay's ([`reconcile_charge`]) and move the checkout to partially
//! refunded or refunded ([`settle_status`]).
//!
//! States only move forward (core's `CheckoutStatus::can_transition_to`), and a lease is
//! respected: while an attempt holds a checkout, only the holder moves it, unless Stripe
//! says money moved. Giving a lease back restores the status it was taken from: that undoes
//! slotpay's own claim, it is not a move.

use slotpay_core::{CheckoutStatus, MethodType, ServerKey};

use super::store::{modify, Start};
use super::{integrations, outbox, DomainError};
use crate::db::{self, CheckoutRecord, RefundRecord};
use crate::model::{CardSummary, LeaseHolder, RefundReason, RefundStatus, SavedCard};
use crate::state::AppState;
use crate::stripe::{
    CancellationReason, Charge, PaymentIntent, PaymentIntentStatus, SetupFutureUsage,
};

/// Metadata key naming slotpay's refund row on Stripe's refund.
pub const REFUND_METADATA: &str = "slotpay_refund";

/// Who may move a checkout's status while it is leased.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LeaseMode {
    /// A webhook or a refresh: a live lease of someone else keeps the status, unless Stripe
    /// says money moved (paid, authorised, canceled).
    Respect,
    /// The holder of the lease: applies and gives the lease back.
    Holder(LeaseHolder),
    /// A stale lease being reclaimed (its holder is presumed gone).
    Override,
}

/// What a pay attempt learned that Stripe's PaymentIntent does not say.
#[derive(Clone, Debug, Default)]
pub(crate) struct Extra {
    /// The receipt address given when paying.
    pub email: Option<String>,
    /// The card, from the PaymentMethod (none when it is not a card).
    pub card: Option<CardSummary>,
    /// How the client pays, from the PaymentMethod.
    pub method: Option<MethodType>,
}

/// The status a PaymentIntent puts a checkout in, if it says anything. `base` is the status
/// the checkout had before any lease.
fn target_status(pi: &PaymentIntent, base: CheckoutStatus) -> Option<CheckoutStatus> {
    use CheckoutStatus::*;
    match &pi.status {
        PaymentIntentStatus::Succeeded => Some(Paid),
        PaymentIntentStatus::RequiresCapture => Some(Authorized),
        PaymentIntentStatus::RequiresAction => Some(RequiresAction),
        PaymentIntentStatus::Processing => Some(Processing),
        PaymentIntentStatus::RequiresPaymentMethod | PaymentIntentStatus::RequiresConfirmation => {
            pi.last_payment_error.as_ref().map(|_| Failed)
        }
        PaymentIntentStatus::Canceled => {
            let lapsed = pi.cancellation_reason == Some(CancellationReason::Automatic);
            Some(if base == Authorized && lapsed {
                Expired
            } else {
                Canceled
            })
        }
        PaymentIntentStatus::Unknown(_) => None,
    }
}

/// Moves the status towards `target`, minding the lease: its holder (or anyone, once it ran
/// out, or a reclaim) moves from the status the lease was taken from and ends it; while
/// someone else's lease is live, only news that money moved does.
fn move_status(
    n: &mut CheckoutRecord,
    pi: &PaymentIntent,
    mode: LeaseMode,
    now: i64,
) -> Option<CheckoutStatus> {
    use CheckoutStatus::*;
    let current = n.status;
    let lease = n.lease.filter(|_| current == Processing);
    let live = lease.is_some_and(|l| l.is_live(now));
    let own = match mode {
        LeaseMode::Holder(h) => lease.is_some_and(|l| l.holder == h) || !live,
        LeaseMode::Override => true,
        LeaseMode::Respect => !live,
    };
    let base = lease.map_or(current, |l| l.from);
    let target = match target_status(pi, base) {
        // Abandoned once its hold had lapsed: the hold ended it (slotpay cancels the
        // PaymentIntent when a hold runs out, and Stripe's webhook of that may come first).
        Some(Canceled)
            if pi.cancellation_reason == Some(CancellationReason::Abandoned)
                && n.expires_at.is_some_and(|e| e <= now)
                && !base.is_settled() =>
        {
            Some(Expired)
        }
        t => t,
    };
    let moved = if own {
        Some(
            target
                .filter(|t| base.can_transition_to(*t))
                .unwrap_or(base),
        )
    } else {
        target.filter(|t| {
            matches!(t, Paid | Authorized | Canceled | Expired) && current.can_transition_to(*t)
        })
    };
    if let Some(status) = moved {
        n.lease = None;
        n.status = status;
    }
    target
}

/// Records what the PaymentIntent and its charge say about the money: its id, the charge,
/// the amounts authorised and captured, the card, Stripe's fee, a card saved for later.
fn record_intent(n: &mut CheckoutRecord, pi: &PaymentIntent) {
    if n.payment_intent_id.is_none() {
        n.payment_intent_id = Some(pi.id.clone());
    }
    if pi.status.holds_money() {
        if let Some(charge) = &pi.latest_charge {
            n.charge_id = Some(charge.id().to_owned());
        }
    }
    match pi.status {
        PaymentIntentStatus::RequiresCapture => {
            n.amount_authorized = n.amount_authorized.max(pi.amount_capturable);
        }
        PaymentIntentStatus::Succeeded => {
            n.amount_captured = n.amount_captured.max(pi.amount_received);
        }
        _ => {}
    }
    if let Some(charge) = pi.charge() {
        // A pending debit is captured but not paid: no money is in until it settles.
        if charge.captured && charge.paid {
            n.amount_captured = n.amount_captured.max(charge.amount_captured);
        }
        // How the latest attempt paid, unless the charge is an earlier attempt's (a declined
        // card, while the client is at their bank for the next one).
        let this_attempt = match (charge.payment_method.as_deref(), pi.payment_method_id()) {
            (Some(charged), Some(current)) => charged == current,
            _ => true,
        };
        if this_attempt {
            if let Some(card) = charge
                .card()
                .and_then(|c| CardSummary::from_stripe(c.brand.as_deref(), c.last4.as_deref()))
            {
                n.card = Some(card);
            }
            if let Some(method) = charge.method() {
                n.method = Some(method);
                // Paid otherwise than by card: no card of an earlier attempt stays named.
                if method != MethodType::Card {
                    n.card = None;
                }
            }
        }
        if let Some(txn) = charge.balance_transaction.as_ref().and_then(|t| t.object()) {
            n.stripe_fee = txn.fee_amount().or(n.stripe_fee);
        }
    }
    let saved =
        pi.setup_future_usage == Some(SetupFutureUsage::OffSession) && pi.status.holds_money();
    if saved {
        if let (Some(customer), Some(pm)) = (&pi.customer, pi.payment_method_id()) {
            n.saved_card = Some(SavedCard {
                customer: customer.clone(),
                payment_method: pm.to_owned(),
            });
        }
    }
}

/// Merges what a PaymentIntent says into a record (not saved). `at` is the time the state
/// was observed (an event's `created`, or now for a read).
fn merge(
    r: &CheckoutRecord,
    pi: &PaymentIntent,
    at: i64,
    mode: LeaseMode,
    extra: &Extra,
    now: i64,
) -> CheckoutRecord {
    use CheckoutStatus::*;
    let mut n = r.clone();
    let target = move_status(&mut n, pi, mode, now);
    record_intent(&mut n, pi);
    if let Some(method) = extra.method {
        // The attempt's PaymentMethod: its card, or none for another way to pay (not the card
        // of an earlier attempt).
        n.method = Some(method);
        n.card = extra.card.clone();
    }
    if let Some(email) = &extra.email {
        n.customer_email = Some(email.clone());
    }
    if n.status == Failed && target == Some(Failed) {
        if let Some(e) = &pi.last_payment_error {
            n.last_error_code = e.code.clone();
            n.last_decline_code = e.decline_code.clone();
            n.last_error_message = e.message.clone();
        }
    }
    let reached = match n.status {
        Paid => Some(&mut n.paid_at),
        Authorized => Some(&mut n.authorized_at),
        Canceled => Some(&mut n.canceled_at),
        _ => None,
    };
    if let Some(when) = reached {
        when.get_or_insert(now);
    }
    n.synced_at = n.synced_at.max(at);
    n
}

/// Applies what Stripe says about a checkout's PaymentIntent: status (forward only, leases
/// respected), charge, card, fee, saved card; then its refunds and the refund-driven status.
/// `known` is the checkout as the caller last read or wrote it. Returns the record as
/// stored after.
pub(crate) async fn apply(
    state: &AppState,
    known: &CheckoutRecord,
    pi: &PaymentIntent,
    at: i64,
    mode: LeaseMode,
    extra: &Extra,
) -> Result<CheckoutRecord, DomainError> {
    let (mut r, ()) = modify(state, Start::Known(known), |r| {
        if r.payment_intent_id.as_deref().is_some_and(|id| id != pi.id) {
            return Err(DomainError::Internal(format!(
                "PaymentIntent {} is not the checkout's",
                pi.id
            )));
        }
        *r = merge(r, pi, at, mode, extra, db::now());
        Ok(())
    })
    .await?;
    if let Some(charge) = pi.charge() {
        reconcile_charge(state, &r, charge).await?;
        // Every refund, slotpay's or one made outside it, reserves its amount on the checkout
        // before it can succeed: with nothing reserved and none at Stripe, the status stands
        // (a refund reserved after this read settles the status itself).
        let refunded = r.amount_refunded > 0
            || charge.amount_refunded > 0
            || charge.refunds.as_ref().is_some_and(|l| !l.data.is_empty());
        if refunded {
            r = settle_status(state, &r.token).await?;
        }
    }
    Ok(r)
}

/// Reads the checkout's PaymentIntent (with its latest charge) from Stripe and applies it;
/// fetches Stripe's fee once the charge is captured. `None` when it has no PaymentIntent.
pub(crate) async fn sync(
    state: &AppState,
    r: &CheckoutRecord,
    mode: LeaseMode,
) -> Result<Option<(CheckoutRecord, PaymentIntent)>, DomainError> {
    let Some(pi_id) = &r.payment_intent_id else {
        return Ok(None);
    };
    let key = integrations::server_key(state, &r.merchant_id).await?;
    let pi = state
        .stripe
        .retrieve_payment_intent(&key, pi_id, &["latest_charge"])
        .await?;
    let mut rec = apply(state, r, &pi, db::now(), mode, &Extra::default()).await?;
    if rec.stripe_fee.is_none() {
        rec = fill_fee(state, &key, &rec, &pi).await.unwrap_or(rec);
    }
    Ok(Some((rec, pi)))
}

/// Stripe's fee of a captured charge, best effort: a key that may not read balance
/// transactions leaves it empty.
async fn fill_fee(
    state: &AppState,
    key: &ServerKey,
    r: &CheckoutRecord,
    pi: &PaymentIntent,
) -> Result<CheckoutRecord, DomainError> {
    let Some(txn) = pi
        .charge()
        .and_then(|c| c.balance_transaction.as_ref())
        .map(|t| t.id().to_owned())
    else {
        return Ok(r.clone());
    };
    let fee = match state.stripe.retrieve_balance_transaction(key, &txn).await {
        Ok(t) => t.fee_amount(),
        Err(e) => {
            tracing::debug!(token = %r.token, error = %e, "Stripe fee not read");
            return Ok(r.clone());
        }
    };
    let (stored, ()) = modify(state, Start::Token(&r.token), |n| {
        if n.stripe_fee.is_none() {
            n.stripe_fee = fee;
        }
        Ok(())
    })
    .await?;
    Ok(stored)
}

/// Reconciles the refunds Stripe shows on a charge with the stored ones: slotpay's (named
/// by their metadata, or known by Stripe's id) take Stripe's status; others (made in the
/// Dashboard) are recorded as external.
pub(crate) async fn reconcile_charge(
    state: &AppState,
    r: &CheckoutRecord,
    charge: &Charge,
) -> Result<(), DomainError> {
    let Some(list) = &charge.refunds else {
        return Ok(());
    };
    let now = db::now();
    for re in &list.data {
        let status = RefundStatus::from_stripe(re.status.as_ref());
        let ours = match re.metadata.get(REFUND_METADATA) {
            Some(id) => state.db.get_refund(id).await?,
            None => state.db.refund_by_stripe_id(&re.id).await?,
        };
        match ours {
            Some(row) if row.checkout_token == r.token => {
                if row.status != status && !row.status.is_final() {
                    let events = outbox::refund_events(state, r, &row, status, Some(&re.id));
                    state
                        .db
                        .transition_refund(&row.id, row.status, status, Some(&re.id), None, &events)
                        .await?;
                }
            }
            Some(_) => {}
            None => {
                let row = RefundRecord {
                    id: re.id.clone(),
                    checkout_token: r.token.clone(),
                    idempotency_key: None,
                    amount: re.amount,
                    status,
                    stripe_refund_id: Some(re.id.clone()),
                    failure_message: None,
                    // Stripe's own reasons (an expired authorisation, ...) are not staff's.
                    reason: re.reason.as_deref().and_then(RefundReason::parse),
                    created_at: if re.created > 0 { re.created } else { now },
                    updated_at: now,
                };
                // The insert reserves the refund's amount on the checkout (capped at what
                // was captured); the event's checkout counts it too.
                let mut with_it = r.clone();
                if status.holds_amount() {
                    with_it.amount_refunded =
                        (r.amount_refunded + row.amount).min(r.amount_captured);
                }
                let events = outbox::refund_events(state, &with_it, &row, status, Some(&re.id));
                if state.db.insert_external_refund(&row, &events).await? {
                    tracing::info!(token = %r.token, refund = %re.id, "refund made outside slotpay recorded");
                }
            }
        }
    }
    Ok(())
}

/// Moves a paid checkout to partially refunded or refunded from its succeeded refunds.
pub(crate) async fn settle_status(
    state: &AppState,
    token: &str,
) -> Result<CheckoutRecord, DomainError> {
    let refunded: i64 = state
        .db
        .list_refunds(token)
        .await?
        .iter()
        .filter(|x| x.status == RefundStatus::Succeeded)
        .map(|x| x.amount)
        .sum();
    let (r, ()) = modify(state, Start::Token(token), |r| {
        let next = if r.amount_captured > 0 && refunded >= r.amount_captured {
            CheckoutStatus::Refunded
        } else if refunded > 0 {
            CheckoutStatus::PartiallyRefunded
        } else {
            r.status
        };
        let refundable = matches!(
            r.status,
            CheckoutStatus::Paid | CheckoutStatus::PartiallyRefunded
        );
        if refundable && r.status.can_transition_to(next) {
            r.status = next;
        }
        Ok(())
    })
    .await?;
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CaptureMethod, CheckoutSource, Lease};
    use slotpay_core::{Currency, Money};

    fn leased_by_the_hold(expires_at: i64) -> CheckoutRecord {
        let mut r = CheckoutRecord::new(
            "cs_test".into(),
            "m".into(),
            CheckoutSource::Platform,
            Money::from_minor(1000, Currency::parse("eur").unwrap()),
            "Cut".into(),
            CaptureMethod::Automatic,
            expires_at,
            0,
        );
        r.status = CheckoutStatus::Processing;
        r.lease = Some(Lease {
            until: 1_000,
            holder: LeaseHolder::Admin,
            from: CheckoutStatus::RequiresAction,
        });
        r
    }

    fn canceled(reason: &str) -> PaymentIntent {
        serde_json::from_value(serde_json::json!({
            "id": "pi_1", "status": "canceled", "amount": 1000, "amount_capturable": 0,
            "amount_received": 0, "currency": "eur", "cancellation_reason": reason,
        }))
        .unwrap()
    }

    #[test]
    fn a_payment_intent_abandoned_after_the_hold_lapsed_expires_the_checkout() {
        // Stripe's webhook of the cancel arrives while the hold's lease is live.
        let mut n = leased_by_the_hold(100);
        move_status(&mut n, &canceled("abandoned"), LeaseMode::Respect, 200);
        assert_eq!(n.status, CheckoutStatus::Expired);
        assert_eq!(n.lease, None);
        // Before the hold lapsed, or canceled for another reason, it is canceled.
        let mut n = leased_by_the_hold(300);
        move_status(&mut n, &canceled("abandoned"), LeaseMode::Respect, 200);
        assert_eq!(n.status, CheckoutStatus::Canceled);
        let mut n = leased_by_the_hold(100);
        move_status(
            &mut n,
            &canceled("requested_by_customer"),
            LeaseMode::Respect,
            200,
        );
        assert_eq!(n.status, CheckoutStatus::Canceled);
    }
}
