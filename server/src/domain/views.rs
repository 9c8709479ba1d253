//! What the platform API and the admin pages show of a checkout and of what hangs on it
//! (refunds, disputes, fees, Stripe's events), and the expiry rule those views apply. Below
//! `store`, so the events written with a change carry the same view of the checkout.

use serde::Serialize;
use slotpay_core::{CheckoutStatus, Currency, MethodType, Money};

use crate::db::{
    self, CheckoutRecord, DisputeRecord, EmailRecord, EventRecord, FeeRecord, RefundRecord,
};
use crate::model::{
    CaptureMethod, CheckoutSource, EmailKind, EmailStatus, FeeStatus, RefundReason, RefundStatus,
};
use crate::state::AppState;
use crate::stripe::DisputeStatus;

/// A card as receipts and admin views show it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct CardView {
    /// `visa`, ...
    pub brand: String,
    /// Last 4 digits.
    pub last4: String,
}

/// The last failed attempt.
#[derive(Clone, Debug, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct ErrorView {
    /// Stripe's code.
    pub code: String,
    /// The issuer's reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decline_code: Option<String>,
    /// Stripe's message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// A received Stripe event, as the admin view lists it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
#[schema(as = StripeEventView)]
pub struct EventView {
    /// `evt_...`.
    pub id: String,
    /// `payment_intent.succeeded`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// Stripe's `created`.
    pub created: i64,
    /// When it arrived.
    pub received_at: i64,
    /// When it was applied.
    pub processed_at: Option<i64>,
}

/// A refund, as views show it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct RefundView {
    /// `rf_...` (or Stripe's id for a refund made in the Dashboard).
    pub id: String,
    /// Minor units.
    pub amount: i64,
    /// Currency.
    pub currency: Currency,
    /// Where it is.
    pub status: RefundStatus,
    /// `re_...`.
    pub stripe_refund_id: Option<String>,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_message: Option<String>,
    /// True for a refund made outside slotpay.
    pub external: bool,
    /// `requested_by_customer`, `duplicate` or `fraudulent`, when given.
    pub reason: Option<RefundReason>,
    /// Unix seconds.
    pub created_at: i64,
}

/// An email as the API shows it (never its body: it may hold the payment link).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct EmailView {
    /// `em_...`.
    #[schema(value_type = crate::schemas::EmailId)]
    pub id: String,
    /// `link` or `receipt`.
    pub kind: EmailKind,
    /// The client's address.
    pub recipient: String,
    /// `pending`, `sent` or `failed`.
    pub status: EmailStatus,
    /// Sends tried.
    pub attempts: i64,
    /// What the last failed send met.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// When the SMTP server took it.
    pub sent_at: Option<i64>,
}

/// The view of a stored email.
pub fn email_view(e: &EmailRecord) -> EmailView {
    EmailView {
        id: e.id.clone(),
        kind: e.kind,
        recipient: e.recipient.clone(),
        status: e.status,
        attempts: e.attempts,
        last_error: e.last_error.clone(),
        created_at: e.created_at,
        sent_at: e.sent_at,
    }
}

/// A dispute, as views show it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct DisputeView {
    /// `dp_...`.
    pub id: String,
    /// Minor units.
    pub amount: i64,
    /// Currency.
    pub currency: Currency,
    /// Stripe's status (`needs_response`, `won`, `lost`, ...).
    pub status: DisputeStatus,
    /// Stripe's reason.
    pub reason: Option<String>,
    /// Unix seconds.
    pub created: i64,
}

/// A cancellation-fee charge, as views show it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct FeeView {
    /// `fee_...`.
    #[schema(value_type = crate::schemas::FeeId)]
    pub id: String,
    /// Minor units.
    pub amount: i64,
    /// Currency.
    pub currency: Currency,
    /// Where it is.
    pub status: FeeStatus,
    /// `pi_...`.
    pub payment_intent_id: Option<String>,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorView>,
    /// Unix seconds.
    pub created_at: i64,
}

/// A checkout as the platform API (and the admin pages) show it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct CheckoutAdminView {
    /// `cs_...`.
    #[schema(value_type = slotpay_core::CheckoutToken)]
    pub token: String,
    /// Owner.
    #[schema(value_type = crate::schemas::MerchantId)]
    pub merchant_id: String,
    /// The service it was made for.
    #[schema(value_type = Option<crate::schemas::ServiceId>)]
    pub service_id: Option<String>,
    /// Who made it.
    pub source: CheckoutSource,
    /// The status, with time taken into account (an unpaid checkout past its expiry is
    /// `expired`).
    pub status: CheckoutStatus,
    /// Amount and currency (`amount` in minor units, `currency`).
    #[serde(flatten)]
    pub amount: Money,
    /// What is paid for.
    pub description: String,
    /// The platform's reference.
    pub booking_ref: Option<String>,
    /// Receipt address.
    pub customer_email: Option<String>,
    /// Made as a payment link.
    pub link: bool,
    /// `<public URL>/pay/{token}` for links.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Unix seconds.
    pub expires_at: Option<i64>,
    /// Taken at once, or authorised and captured later.
    pub capture_method: CaptureMethod,
    /// `pi_...`.
    pub payment_intent_id: Option<String>,
    /// `ch_...`.
    pub charge_id: Option<String>,
    /// The card that paid.
    pub card: Option<CardView>,
    /// How the client paid (or is paying): `card`, `ideal`, `bancontact`, `sepa_debit`.
    pub payment_method_type: Option<MethodType>,
    /// Authorised, awaiting capture (manual capture), in minor units.
    pub amount_authorized: i64,
    /// Captured, in minor units.
    pub amount_captured: i64,
    /// Refunded (or reserved by a refund in flight), in minor units.
    pub amount_refunded: i64,
    /// What can still be refunded, in minor units.
    pub amount_refundable: i64,
    /// Stripe's fee, when known, in minor units of `stripe_fee_currency`.
    pub stripe_fee: Option<i64>,
    /// The fee's currency (the account's settlement currency).
    pub stripe_fee_currency: Option<Currency>,
    /// The cancellation fee offered for saving the card, in minor units.
    pub cancellation_fee_offer: Option<i64>,
    /// A card is saved for a cancellation fee.
    pub card_saved: bool,
    /// The last failed attempt.
    pub last_error: Option<ErrorView>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
    /// Unix seconds.
    pub authorized_at: Option<i64>,
    /// Unix seconds.
    pub paid_at: Option<i64>,
    /// Unix seconds.
    pub canceled_at: Option<i64>,
    /// Stripe events received about it (the detail view only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<EventView>>,
    /// Its refunds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refunds: Option<Vec<RefundView>>,
    /// Its disputes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disputes: Option<Vec<DisputeView>>,
    /// Cancellation fees charged to the saved card.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancellation_fees: Option<Vec<FeeView>>,
    /// Emails to the client about it (the detail view only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emails: Option<Vec<EmailView>>,
    /// Declined cards (the checkout takes no more payments at the configured cap).
    pub declined_attempts: i64,
    /// Pay attempts made (the detail view only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts: Option<i64>,
}

/// The status with time taken into account: an open or failed checkout past its expiry is
/// expired.
pub fn effective_status(r: &CheckoutRecord, now: i64) -> CheckoutStatus {
    let past = r.expires_at.is_some_and(|e| e <= now);
    match r.status {
        CheckoutStatus::Open | CheckoutStatus::Failed if past => CheckoutStatus::Expired,
        s => s,
    }
}

/// The payment-link URL of a token.
pub fn link_url(state: &AppState, token: &str) -> String {
    format!(
        "{}/pay/{token}",
        state.public_url.as_str().trim_end_matches('/')
    )
}

pub(crate) fn refund_view(r: &RefundRecord, currency: Currency) -> RefundView {
    RefundView {
        id: r.id.clone(),
        amount: r.amount,
        currency,
        status: r.status,
        stripe_refund_id: r.stripe_refund_id.clone(),
        failure_message: r.failure_message.clone(),
        external: r.idempotency_key.is_none(),
        reason: r.reason,
        created_at: r.created_at,
    }
}

pub(crate) fn dispute_view(d: &DisputeRecord) -> DisputeView {
    DisputeView {
        id: d.id.clone(),
        amount: d.amount.minor(),
        currency: d.amount.currency(),
        status: d.status.clone(),
        reason: d.reason.clone(),
        created: d.stripe_created,
    }
}

pub(crate) fn fee_view(f: &FeeRecord) -> FeeView {
    FeeView {
        id: f.id.clone(),
        amount: f.amount.minor(),
        currency: f.amount.currency(),
        status: f.status,
        payment_intent_id: f.payment_intent_id.clone(),
        error: f.error_code.as_ref().map(|code| ErrorView {
            code: code.clone(),
            decline_code: f.decline_code.clone(),
            message: f.error_message.clone(),
        }),
        created_at: f.created_at,
    }
}

pub(crate) fn event_view(e: &EventRecord) -> EventView {
    EventView {
        id: e.event_id.clone(),
        kind: e.event_type.clone(),
        created: e.created,
        received_at: e.received_at,
        processed_at: e.processed_at,
    }
}

/// The admin view of a record without its details.
pub(crate) fn summary_view(state: &AppState, r: &CheckoutRecord) -> CheckoutAdminView {
    CheckoutAdminView {
        token: r.token.clone(),
        merchant_id: r.merchant_id.clone(),
        service_id: r.service_id.clone(),
        source: r.source,
        status: effective_status(r, db::now()),
        amount: r.amount,
        description: r.description.clone(),
        booking_ref: r.booking_ref.clone(),
        customer_email: r.customer_email.clone(),
        link: r.is_link,
        url: r.is_link.then(|| link_url(state, &r.token)),
        expires_at: r.expires_at,
        capture_method: r.capture_method,
        payment_intent_id: r.payment_intent_id.clone(),
        charge_id: r.charge_id.clone(),
        card: r.card.as_ref().map(|c| CardView {
            brand: c.brand.as_str().to_owned(),
            last4: c.last4.as_str().to_owned(),
        }),
        payment_method_type: r.method,
        amount_authorized: r.amount_authorized,
        amount_captured: r.amount_captured,
        amount_refunded: r.amount_refunded,
        amount_refundable: r.refundable(),
        stripe_fee: r.stripe_fee.map(|f| f.minor()),
        stripe_fee_currency: r.stripe_fee.map(|f| f.currency()),
        cancellation_fee_offer: r.fee_offer_amount,
        card_saved: r.saved_card.is_some(),
        declined_attempts: r.declines,
        last_error: r.last_error_code.as_ref().map(|code| ErrorView {
            code: code.clone(),
            decline_code: r.last_decline_code.clone(),
            message: r.last_error_message.clone(),
        }),
        created_at: r.created_at,
        updated_at: r.updated_at,
        authorized_at: r.authorized_at,
        paid_at: r.paid_at,
        canceled_at: r.canceled_at,
        events: None,
        refunds: None,
        disputes: None,
        cancellation_fees: None,
        emails: None,
        attempts: None,
    }
}
