//! Cancellation and no-show fees: the card a client saved at checkout (consent, a Customer,
//! `setup_future_usage=off_session`) is charged off-session with its own PaymentIntent
//! (`off_session=true, confirm=true`). The minimum is checked first; a decline is reported
//! with its code, and `authentication_required` as such, so staff can send a payment link.

use serde::Deserialize;
use slotpay_core::{check_chargeable, ApiError, ErrorCode, Money};

use super::store::load;
use super::views::{fee_view, FeeView};
use super::{integrations, new_id, outbox, DomainError};
use crate::db::{self, CheckoutRecord, FeeInsert, FeeRecord};
use crate::model::{FeeStatus, SavedCard};
use crate::state::AppState;
use crate::stripe::{
    Form, IdempotencyKey, PaymentIntent, PaymentIntentStatus, StripeApiError, StripeError,
    StripeErrorKind,
};

/// Stripe's code for a charge the bank wants the client present for.
const AUTHENTICATION_REQUIRED: &str = "authentication_required";

/// Metadata key naming slotpay's fee row on its PaymentIntent.
pub const FEE_METADATA: &str = "slotpay_fee";

/// `POST /v1/admin/checkouts/{token}/cancellation-fee`.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeeInput {
    /// Minor units of the checkout's currency.
    pub amount: i64,
}

fn status_of(pi: &PaymentIntent) -> FeeStatus {
    match pi.status {
        PaymentIntentStatus::Succeeded => FeeStatus::Succeeded,
        PaymentIntentStatus::RequiresAction => FeeStatus::RequiresAction,
        PaymentIntentStatus::Processing | PaymentIntentStatus::RequiresConfirmation => {
            FeeStatus::Pending
        }
        PaymentIntentStatus::RequiresPaymentMethod
        | PaymentIntentStatus::RequiresCapture
        | PaymentIntentStatus::Canceled => FeeStatus::Failed,
        // Not news slotpay can act on: the fee stays as it is until Stripe says more.
        PaymentIntentStatus::Unknown(_) => FeeStatus::Pending,
    }
}

/// Whether Stripe's error asks for the client to authenticate.
fn needs_authentication(code: Option<&str>, decline_code: Option<&str>) -> bool {
    code == Some(AUTHENTICATION_REQUIRED) || decline_code == Some(AUTHENTICATION_REQUIRED)
}

/// The answer for a fee: its view, or the decline as an error (402).
fn answer(fee: FeeRecord) -> Result<FeeView, DomainError> {
    if !matches!(fee.status, FeeStatus::Failed | FeeStatus::RequiresAction) {
        return Ok(fee_view(&fee));
    }
    let authenticate = fee.status == FeeStatus::RequiresAction
        || needs_authentication(fee.error_code.as_deref(), fee.decline_code.as_deref());
    let e = if authenticate {
        ApiError::new(
            ErrorCode::AuthenticationRequired,
            "The bank asks the client to authenticate this charge: send them a payment link instead",
        )
    } else {
        ApiError::new(
            ErrorCode::CardDeclined,
            fee.error_message
                .clone()
                .unwrap_or_else(|| "The card was declined".into()),
        )
    };
    Err(DomainError::Refused(
        match fee.decline_code.clone().or(fee.error_code.clone()) {
            Some(d) => e.with_decline_code(d),
            None => e,
        },
    ))
}

/// Charges a cancellation or no-show fee to the card saved on a checkout. `key` makes it
/// idempotent (the same key answers the same charge).
pub async fn charge(
    state: &AppState,
    token: &str,
    key: &str,
    input: FeeInput,
) -> Result<FeeView, DomainError> {
    let r = load(state, token).await?;
    let fee = Money::from_minor(input.amount, r.amount.currency());
    if let Some(existing) = state.db.fee_by_key(&r.token, key).await? {
        if existing.amount != fee {
            return Err(DomainError::refused(
                ErrorCode::IdempotencyConflict,
                "This Idempotency-Key was used for another fee amount",
            ));
        }
        if existing.status != FeeStatus::Pending {
            return answer(existing);
        }
        return send(state, &r, existing).await;
    }
    if r.saved_card.is_none() {
        return Err(DomainError::refused(
            ErrorCode::Conflict,
            "No card was saved on this checkout (the client did not agree to save it)",
        ));
    }
    check_chargeable(fee)?;
    if r.fee_offer_amount.is_none_or(|offer| fee.minor() > offer) {
        return Err(beyond_consent(&r));
    }
    let now = db::now();
    let row = FeeRecord {
        id: new_id("fee_"),
        checkout_token: r.token.clone(),
        idempotency_key: key.to_owned(),
        amount: fee,
        status: FeeStatus::Pending,
        payment_intent_id: None,
        error_code: None,
        decline_code: None,
        error_message: None,
        created_at: now,
        updated_at: now,
    };
    match state.db.insert_fee(&row).await? {
        FeeInsert::Stored => send(state, &r, row).await,
        FeeInsert::ExceedsConsent => Err(beyond_consent(&r)),
        FeeInsert::KeyTaken => {
            let existing = state
                .db
                .fee_by_key(&r.token, key)
                .await?
                .ok_or(DomainError::NotFound("cancellation fee"))?;
            answer(existing)
        }
    }
}

/// The refusal of a fee above what the client agreed to: the fee alone, or with the fees
/// already charged on the checkout.
fn beyond_consent(r: &CheckoutRecord) -> DomainError {
    let currency = r.amount.currency();
    let offer = Money::from_minor(r.fee_offer_amount.unwrap_or(0), currency);
    let left = Money::from_minor(
        (r.fee_offer_amount.unwrap_or(0) - r.fees_held).max(0),
        currency,
    );
    DomainError::refused_at(
        ErrorCode::FeeExceedsConsent,
        format!(
            "The client agreed to cancellation fees of up to {offer} on this booking; \
             {left} of it is left"
        ),
        "amount",
    )
}

/// Charges the saved card off-session (Stripe's key is the fee row's, so sending again
/// never charges twice) and records the outcome.
async fn send(
    state: &AppState,
    r: &CheckoutRecord,
    mut fee: FeeRecord,
) -> Result<FeeView, DomainError> {
    let key = integrations::server_key(state, &r.merchant_id).await?;
    let Some(SavedCard {
        customer,
        payment_method,
    }) = &r.saved_card
    else {
        return Err(DomainError::Internal("fee without a saved card".into()));
    };
    let form = Form::new()
        .push("amount", fee.amount.minor().to_string())
        .push("currency", fee.amount.currency().code())
        .push("customer", customer.as_str())
        .push("payment_method", payment_method.as_str())
        .push_list("payment_method_types", &["card"])
        .push("off_session", "true")
        .push("confirm", "true")
        .push(
            "description",
            format!("Cancellation fee: {}", r.description),
        )
        .push_map("metadata", FEE_METADATA, fee.id.as_str())
        .push_map("metadata", "slotpay_checkout", r.token.as_str());
    let idem = IdempotencyKey::new(format!("slotpay:{}:fee:{}", r.token, fee.id));
    let result = state.stripe.create_payment_intent(&key, &form, &idem).await;
    let was = fee.status;
    fee.updated_at = db::now();
    match result {
        Ok(pi) => {
            fee.status = status_of(&pi);
            fee.payment_intent_id = Some(pi.id.clone());
        }
        Err(StripeError::Api(e)) if e.kind == StripeErrorKind::CardError => {
            record_decline(&mut fee, e)
        }
        Err(err) if err.refusal().is_some() => {
            let e = err.refusal().expect("a refusal");
            fee.status = FeeStatus::Failed;
            fee.error_code = e.code.clone().or(Some("stripe_error".into()));
            fee.error_message = Some(e.message.clone());
        }
        Err(e) => return Err(e.into()),
    }
    let events = outbox::fee_events(state, r, &fee, was);
    state.db.update_fee(&fee, was, &events).await?;
    tracing::info!(token = %r.token, fee = %fee.id, status = %fee.status, "cancellation fee charged");
    answer(fee)
}

/// A declined fee: `requires_action` when the bank wants the client present, else failed.
fn record_decline(fee: &mut FeeRecord, e: StripeApiError) {
    fee.status = if needs_authentication(e.code.as_deref(), e.decline_code.as_deref()) {
        FeeStatus::RequiresAction
    } else {
        FeeStatus::Failed
    };
    fee.payment_intent_id = e.payment_intent;
    fee.error_code = e.code;
    fee.decline_code = e.decline_code;
    fee.error_message = Some(e.message);
}

/// Applies a webhook about a fee's PaymentIntent.
pub(crate) async fn apply_intent(
    state: &AppState,
    fee: FeeRecord,
    pi: &PaymentIntent,
) -> Result<(), DomainError> {
    let status = status_of(pi);
    // A fee that succeeded stays so; a failed one may still succeed (a retried charge).
    if fee.status == FeeStatus::Succeeded || fee.status == status {
        return Ok(());
    }
    let mut f = fee;
    let was = f.status;
    f.status = status;
    f.payment_intent_id = Some(pi.id.clone());
    if let Some(e) = &pi.last_payment_error {
        f.error_code = e.code.clone();
        f.decline_code = e.decline_code.clone();
        f.error_message = e.message.clone();
    }
    f.updated_at = db::now();
    let events = match state.db.get_checkout(&f.checkout_token).await? {
        Some(r) => outbox::fee_events(state, &r, &f, was),
        None => Vec::new(),
    };
    state.db.update_fee(&f, was, &events).await?;
    Ok(())
}
