//! The events a booking platform receives: which change of a checkout tells what
//! ([`checkout_event`]), and the body every event carries (`{"id", "type", "created",
//! "merchant_id", "data": {"checkout": <the platform API's view>, ...}}`).
//!
//! Events are written by storage in the transaction of their change (see `db::outbox`), so
//! whatever writes a checkout (`store::modify`), a refund, a dispute, a fee or an integration
//! hands its events to the same statement that writes it.

use serde_json::{json, Value};
use slotpay_core::CheckoutStatus;

use super::new_id;
use super::views::{dispute_view, fee_view, refund_view, summary_view};
use crate::db::{
    CheckoutRecord, DisputeRecord, FeeRecord, IntegrationRecord, PlatformEvent, RefundRecord,
};
use crate::model::{EventType, FeeStatus, IntegrationStatus, RefundStatus};
use crate::state::AppState;
use crate::stripe::DisputeStatus;

/// An event of `kind` about checkout `r`, with `more` beside the checkout in `data`.
pub(crate) fn event(
    state: &AppState,
    kind: EventType,
    r: &CheckoutRecord,
    more: Option<(&str, Value)>,
) -> PlatformEvent {
    let mut data = serde_json::Map::new();
    data.insert("checkout".into(), json!(summary_view(state, r)));
    if let Some((name, value)) = more {
        data.insert(name.into(), value);
    }
    build(kind, &r.merchant_id, Some(&r.token), Value::Object(data))
}

/// An event about a merchant rather than a checkout.
pub(crate) fn merchant_event(merchant_id: &str, kind: EventType, data: Value) -> PlatformEvent {
    build(kind, merchant_id, None, data)
}

fn build(kind: EventType, merchant_id: &str, token: Option<&str>, data: Value) -> PlatformEvent {
    let id = new_id("evt_");
    let created = crate::db::now();
    let payload = json!({
        "id": id,
        "type": kind.as_str(),
        "created": created,
        "merchant_id": merchant_id,
        "data": data,
    });
    PlatformEvent {
        id,
        merchant_id: merchant_id.to_owned(),
        kind,
        checkout_token: token.map(str::to_owned),
        created_at: created,
        payload: payload.to_string(),
    }
}

/// The status a checkout had apart from slotpay's own lease (the status the lease was
/// taken from, while one is held).
fn base_status(r: &CheckoutRecord) -> CheckoutStatus {
    match r.lease {
        Some(lease) if r.status == CheckoutStatus::Processing => lease.from,
        _ => r.status,
    }
}

/// What the change `before` → `after` of one checkout tells the platform: at most one
/// event. Taking or giving back a lease tells nothing; a new failure on a failed checkout
/// does (its error changed).
pub(crate) fn checkout_event_kind(
    before: &CheckoutRecord,
    after: &CheckoutRecord,
) -> Option<EventType> {
    use CheckoutStatus::*;
    let was = base_status(before);
    let failed_again = after.last_error_code != before.last_error_code
        || after.last_error_message != before.last_error_message
        || after.declines != before.declines;
    let kind = match after.status {
        _ if after.lease.is_some() => None,
        Paid if was == Authorized => Some(EventType::CheckoutCaptured),
        Paid if was != Paid => Some(EventType::CheckoutPaid),
        Authorized if was != Authorized => Some(EventType::CheckoutAuthorized),
        Processing if !(before.status == Processing && before.lease.is_none()) => {
            Some(EventType::CheckoutProcessing)
        }
        Failed if was != Failed || failed_again => Some(EventType::CheckoutPaymentFailed),
        Canceled if was != Canceled => Some(EventType::CheckoutCanceled),
        Expired if was != Expired => Some(EventType::CheckoutExpired),
        _ => None,
    };
    let announced =
        after.expiry_announced.is_some() && after.expiry_announced != before.expiry_announced;
    kind.or(announced.then_some(EventType::CheckoutExpired))
}

/// The event of a change of a checkout, if it tells one, ready to be written with it.
pub(crate) fn checkout_event(
    state: &AppState,
    before: &CheckoutRecord,
    after: &CheckoutRecord,
) -> Option<PlatformEvent> {
    checkout_event_kind(before, after).map(|kind| event(state, kind, after, None))
}

/// The event of a refund of checkout `r` moving to `to` (with Stripe's refund id, when
/// known): `refund.succeeded`, or `refund.failed` when it failed or was canceled; none while
/// pending. `r` holds the refund's reservation (`amount_refunded` counts it); the checkout in
/// the event is as it will be once the move is written: a failed refund's amount given back,
/// a succeeded one's status partially refunded or refunded.
pub(crate) fn refund_events(
    state: &AppState,
    r: &CheckoutRecord,
    refund: &RefundRecord,
    to: RefundStatus,
    stripe_refund_id: Option<&str>,
) -> Vec<PlatformEvent> {
    let mut after = r.clone();
    let kind = match to {
        RefundStatus::Succeeded => {
            if matches!(
                after.status,
                CheckoutStatus::Paid | CheckoutStatus::PartiallyRefunded
            ) {
                after.status = if after.amount_refunded >= after.amount_captured {
                    CheckoutStatus::Refunded
                } else {
                    CheckoutStatus::PartiallyRefunded
                };
            }
            EventType::RefundSucceeded
        }
        RefundStatus::Failed | RefundStatus::Canceled => {
            after.amount_refunded = (after.amount_refunded - refund.amount).max(0);
            EventType::RefundFailed
        }
        RefundStatus::Pending => return Vec::new(),
    };
    let mut view = refund_view(refund, r.amount.currency());
    view.status = to;
    if let Some(id) = stripe_refund_id {
        view.stripe_refund_id = Some(id.to_owned());
    }
    vec![event(state, kind, &after, Some(("refund", json!(view))))]
}

/// The event of a cancellation fee on checkout `r` that was `was` and is now `fee.status`.
pub(crate) fn fee_events(
    state: &AppState,
    r: &CheckoutRecord,
    fee: &FeeRecord,
    was: FeeStatus,
) -> Vec<PlatformEvent> {
    let kind = match fee.status {
        _ if fee.status == was => return Vec::new(),
        FeeStatus::Succeeded => EventType::CancellationFeeSucceeded,
        FeeStatus::Failed => EventType::CancellationFeeFailed,
        _ => return Vec::new(),
    };
    vec![event(state, kind, r, Some(("fee", json!(fee_view(fee)))))]
}

/// The event of a dispute stored as `d`, that was `before` (`None`: new): `dispute.created`
/// for a new one, `dispute.closed` when it reached a final status.
pub(crate) fn dispute_events(
    state: &AppState,
    checkout: Option<&CheckoutRecord>,
    d: &DisputeRecord,
    before: Option<&DisputeStatus>,
) -> Vec<PlatformEvent> {
    let kind = match before {
        None => EventType::DisputeCreated,
        Some(old) if !old.is_final() && d.status.is_final() => EventType::DisputeClosed,
        Some(_) => return Vec::new(),
    };
    let dispute = json!(dispute_view(d));
    let e = match checkout {
        Some(r) => event(state, kind, r, Some(("dispute", dispute))),
        None => merchant_event(&d.merchant_id, kind, json!({ "dispute": dispute })),
    };
    vec![e]
}

/// `integration.error` when an integration that was not in error now is (Stripe refused its
/// key).
pub(crate) fn integration_events(
    before: IntegrationStatus,
    r: &IntegrationRecord,
) -> Vec<PlatformEvent> {
    if before == IntegrationStatus::Error || r.status != IntegrationStatus::Error {
        return Vec::new();
    }
    let reason = r.status_reason.as_ref();
    vec![merchant_event(
        &r.merchant_id,
        EventType::IntegrationError,
        json!({ "integration": {
            "merchant_id": r.merchant_id,
            "status": r.status,
            "reason": reason.map(|x| json!({ "code": x.code, "message": x.message })),
        }}),
    )]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CaptureMethod, CheckoutSource, Lease, LeaseHolder};
    use slotpay_core::{Currency, Money};

    fn record(status: CheckoutStatus) -> CheckoutRecord {
        let mut r = CheckoutRecord::new(
            "cs_test".into(),
            "m".into(),
            CheckoutSource::Platform,
            Money::from_minor(1000, Currency::parse("eur").unwrap()),
            "Cut".into(),
            CaptureMethod::Automatic,
            100,
            0,
        );
        r.status = status;
        r
    }

    fn leased(from: CheckoutStatus) -> CheckoutRecord {
        let mut r = record(CheckoutStatus::Processing);
        r.lease = Some(Lease {
            until: 10,
            holder: LeaseHolder::Attempt(1),
            from,
        });
        r
    }

    #[test]
    fn each_move_tells_its_event_once() {
        use CheckoutStatus::*;
        let kind = checkout_event_kind;
        assert_eq!(kind(&record(Open), &leased(Open)), None);
        assert_eq!(kind(&leased(Open), &record(Open)), None);
        assert_eq!(
            kind(&leased(Open), &record(Paid)),
            Some(EventType::CheckoutPaid)
        );
        assert_eq!(kind(&record(Paid), &record(Paid)), None);
        assert_eq!(
            kind(&leased(Authorized), &record(Paid)),
            Some(EventType::CheckoutCaptured)
        );
        assert_eq!(
            kind(&leased(Open), &record(Authorized)),
            Some(EventType::CheckoutAuthorized)
        );
        assert_eq!(
            kind(&leased(Open), &record(Processing)),
            Some(EventType::CheckoutProcessing)
        );
        assert_eq!(kind(&record(Processing), &record(Processing)), None);
        assert_eq!(
            kind(&record(Processing), &record(Paid)),
            Some(EventType::CheckoutPaid)
        );
        assert_eq!(
            kind(&leased(Open), &record(Failed)),
            Some(EventType::CheckoutPaymentFailed)
        );
        // A lease given back to a failed checkout without news tells nothing; a new decline does.
        assert_eq!(kind(&leased(Failed), &record(Failed)), None);
        let mut again = record(Failed);
        again.declines = 1;
        assert_eq!(
            kind(&leased(Failed), &again),
            Some(EventType::CheckoutPaymentFailed)
        );
        assert_eq!(
            kind(&leased(Open), &record(Canceled)),
            Some(EventType::CheckoutCanceled)
        );
        assert_eq!(
            kind(&record(Authorized), &record(Expired)),
            Some(EventType::CheckoutExpired)
        );
        let mut announced = record(Open);
        announced.expiry_announced = Some(100);
        assert_eq!(
            kind(&record(Open), &announced),
            Some(EventType::CheckoutExpired)
        );
        assert_eq!(kind(&announced, &announced.clone()), None);
        let mut both = record(Expired);
        both.expiry_announced = Some(100);
        assert_eq!(kind(&leased(Open), &both), Some(EventType::CheckoutExpired));
    }
}
