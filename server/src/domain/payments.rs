//! The money path: pay a checkout with a card token, refresh it after 3-D Secure, capture or
//! cancel an authorisation, cancel a checkout. What Stripe answers moves the checkout through
//! [`super::sync::apply`].
//!
//! How a charge cannot happen twice:
//! - **One PaymentIntent per checkout**: created with Stripe idempotency key
//!   `slotpay:{token}:pi`, its id stored in a UNIQUE column; every attempt *confirms that
//!   PaymentIntent*, and a PaymentIntent can succeed only once.
//! - **One attempt per client key**: the client's `Idempotency-Key` is bound to an attempt
//!   number (UNIQUE per checkout), and the confirmation's Stripe key is
//!   `slotpay:{token}:confirm:{attempt}`: a retry replays at Stripe instead of acting again.
//! - **One attempt at a time**: an attempt holds the checkout with a lease taken by one
//!   conditional update (status `processing`, the lease's holder and end), so two server
//!   instances on one database never talk to Stripe for one checkout at once; the other gets
//!   `payment_in_progress`. A lease left by a crash is reclaimed only after the PaymentIntent
//!   was read again from Stripe.

use serde::Deserialize;
use sha2::{Digest, Sha256};
use slotpay_core::{
    check_chargeable, minimum_charge, ApiError, CardBrand, CheckoutStatus, CheckoutToken,
    ErrorCode, MethodType, Money, PayRequest, PayResponse, PayStatus, ReturnUrl,
};

use super::checkouts::{self, effective_status, CheckoutAdminView};
use super::integrations::{self, PaymentCredentials};
use super::store::{end_lease, load, modify, parse_token, Start, WRITE_TRIES};
use super::sync::{apply, sync, Extra, LeaseMode};
use super::{abuse, load_merchant, DomainError};
use crate::db::{self, AttemptRecord, CheckoutRecord};
use crate::model::{CardSummary, LeaseHolder};
use crate::state::AppState;
use crate::stripe::{
    CancellationReason, Form, IdempotencyKey, PaymentIntent, PaymentIntentStatus, PaymentMethod,
    PaymentMethodKind, StripeApiError, StripeError, StripeErrorKind,
};

/// How long an attempt holds a checkout.
pub const LEASE_SECS: i64 = 30;

/// An answer of the pay or refresh endpoint: an HTTP status and a JSON body (a
/// `PayResponse`, or an error body for a refusal that is part of the attempt's answer).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PayOutcome {
    /// 200, 402, or the refusal's status.
    pub status: u16,
    /// JSON.
    pub body: String,
}

impl PayOutcome {
    fn response(status: u16, r: &PayResponse) -> PayOutcome {
        PayOutcome {
            status,
            body: serde_json::to_string(r).expect("responses serialise"),
        }
    }

    fn refusal(e: &ApiError) -> PayOutcome {
        PayOutcome {
            status: e.code.http_status(),
            body: serde_json::to_string(&e.clone().into_body()).expect("errors serialise"),
        }
    }
}

/// `POST .../capture`.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaptureInput {
    /// Minor units to capture (the whole authorisation when absent).
    pub amount: Option<i64>,
}

/// Refuses a checkout that cannot be paid now.
fn check_payable(state: &AppState, r: &CheckoutRecord, now: i64) -> Result<(), DomainError> {
    match effective_status(r, now) {
        s if s.is_settled() => Err(DomainError::already_paid()),
        CheckoutStatus::Canceled => Err(DomainError::checkout_canceled()),
        CheckoutStatus::Expired => Err(DomainError::checkout_expired()),
        _ => abuse::check_checkout(state, r),
    }
}

fn request_hash(req: &PayRequest) -> String {
    let mut h = Sha256::new();
    for part in [
        req.payment_method.as_str(),
        req.email.as_str(),
        if req.save_card { "1" } else { "0" },
        req.return_url.as_ref().map_or("", |u| u.as_str()),
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Checks a client's `Idempotency-Key`: 1 to 255 visible ASCII characters.
pub fn parse_idempotency_key(key: Option<&str>) -> Result<String, DomainError> {
    let Some(key) = key.map(str::trim).filter(|k| !k.is_empty()) else {
        return Err(DomainError::refused(
            ErrorCode::MissingIdempotencyKey,
            "Send an Idempotency-Key header, the same for each retry of this attempt",
        ));
    };
    if key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(DomainError::refused_at(
            ErrorCode::InvalidRequest,
            "The Idempotency-Key must be 1 to 255 visible ASCII characters",
            "idempotency_key",
        ));
    }
    Ok(key.to_owned())
}

/// The stored answer of a client key's attempt, when it has one; a key used with another
/// request is refused.
fn replay(attempt: Option<&AttemptRecord>, hash: &str) -> Result<Option<PayOutcome>, DomainError> {
    let Some(a) = attempt else {
        return Ok(None);
    };
    if a.request_hash != hash {
        return Err(DomainError::refused(
            ErrorCode::IdempotencyConflict,
            "This Idempotency-Key was used with another request; use a new key for a new attempt",
        ));
    }
    Ok(match (a.response_status, &a.response) {
        (Some(status), Some(body)) => Some(PayOutcome {
            status: status as u16,
            body: body.clone(),
        }),
        _ => None,
    })
}

/// Stores an attempt's answer (a replay of its key answers the same) and returns it.
async fn finish(
    state: &AppState,
    token: &str,
    attempt: i64,
    out: PayOutcome,
) -> Result<PayOutcome, DomainError> {
    state
        .db
        .finish_attempt(token, attempt, out.status, &out.body, db::now())
        .await?;
    Ok(out)
}

/// Pays a checkout with a card token. See the module documentation for why this cannot
/// charge twice. Declines answer 402 with `status: failed` and the checkout stays payable;
/// a Stripe that cannot be reached answers `stripe_unavailable` (retry with the same key).
pub async fn pay(
    state: &AppState,
    token: &str,
    idempotency_key: &str,
    req: PayRequest,
    client: &Client,
) -> Result<PayOutcome, DomainError> {
    let now = db::now();
    let db::PayReading {
        checkout: r,
        attempt: existing,
        merchant_counts,
    } = state
        .db
        .checkout_with_attempt(
            parse_token(token)?.as_str(),
            idempotency_key,
            abuse::merchant_declines(state, now),
        )
        .await?
        .ok_or_else(DomainError::checkout_not_found)?;
    let token = r.token.as_str();
    let hash = request_hash(&req);
    if let Some(out) = replay(existing.as_ref(), &hash)? {
        return Ok(out);
    }
    if let Some(a) = &existing {
        if effective_status(&r, now).is_settled() {
            // This key's attempt was cut short (Stripe unreachable) and the checkout got
            // paid: the client learns the outcome instead of a refusal.
            return finish(state, token, a.attempt, paid_meanwhile(state, &r).await?).await;
        }
    }
    check_payable(state, &r, now)?;
    let creds = integrations::payment_credentials(state, &r.merchant_id).await?;
    check_chargeable(r.amount)?;
    if req.save_card && r.fee_offer_amount.is_none() {
        return Err(DomainError::refused_at(
            ErrorCode::InvalidRequest,
            "This checkout does not offer to save the card",
            "save_card",
        ));
    }
    if let Some(url) = &req.return_url {
        check_return_url(state, &r.merchant_id, url).await?;
    }
    let attempt = state
        .db
        .attempt_for_key(token, idempotency_key, &hash, now)
        .await?;
    if let Some(out) = replay(Some(&attempt), &hash)? {
        return Ok(out);
    }
    abuse::check_merchant(state, &r.merchant_id, merchant_counts, now)?;
    let holder = LeaseHolder::Attempt(attempt.attempt);
    let leased = match claim(state, &r, holder).await {
        Ok(leased) => leased,
        Err(DomainError::Refused(e))
            if e.code == ErrorCode::CheckoutAlreadyPaid && existing.is_some() =>
        {
            // This key's earlier request was cut short and the checkout got paid meanwhile
            // (by that very request, as the webhook says): the outcome, not a refusal.
            let rec = load(state, token).await?;
            return finish(
                state,
                token,
                attempt.attempt,
                paid_meanwhile(state, &rec).await?,
            )
            .await;
        }
        Err(e) => {
            // Lost the race: a finished attempt of this key answers the same again.
            let again = state.db.get_attempt(token, idempotency_key).await?;
            return replay(again.as_ref(), &hash)?.ok_or(e);
        }
    };
    let out = attempt_payment(state, &creds, leased, holder, &req, client).await?;
    finish(state, token, attempt.attempt, out).await
}

/// One attempt's talk with Stripe under the lease, and its answer: the PaymentIntent
/// applied; a decline recorded (the checkout `failed`, payable again); a refusal (the lease
/// given back); Stripe not reached: what Stripe says when read again, else the error.
async fn attempt_payment(
    state: &AppState,
    creds: &PaymentCredentials,
    mut leased: CheckoutRecord,
    holder: LeaseHolder,
    req: &PayRequest,
    client: &Client,
) -> Result<PayOutcome, DomainError> {
    let mut extra = Extra {
        email: Some(req.email.as_str().to_owned()),
        ..Extra::default()
    };
    let token = leased.token.clone();
    match charge(state, creds, &mut leased, holder, req, client, &mut extra).await {
        Ok(Charged::Intent(pi)) => {
            let rec = apply(
                state,
                &leased,
                &pi,
                db::now(),
                LeaseMode::Holder(holder),
                &extra,
            )
            .await?;
            answer_for(&rec, Some(&pi))
        }
        Ok(Charged::Declined(e)) => {
            let error = card_declined(&e);
            record_decline(state, &token, holder, &e, &extra).await?;
            tracing::info!(token = %token, attempt = holder.number(), decline = ?error.decline_code, "card declined");
            Ok(PayOutcome::response(
                402,
                &PayResponse {
                    status: PayStatus::Failed,
                    client_secret: None,
                    error: Some(error),
                    receipt: None,
                },
            ))
        }
        Ok(Charged::Refused(e)) => {
            release(state, &token, holder).await?;
            if e.code == ErrorCode::PaymentsUnavailable
                && !integrations::key_refused(state, &leased.merchant_id, creds.keys.server())
                    .await?
            {
                // The merchant replaced the key Stripe refused while this attempt used it:
                // not the attempt's answer. Nothing was charged with it, so the client tries
                // again (with the same key), on the new key.
                return Err(DomainError::key_replaced());
            }
            Ok(PayOutcome::refusal(&e))
        }
        Err(e) => unresolved(state, &token, holder, e).await,
    }
}

/// Stripe could not be reached (or the database failed) during an attempt: what does
/// Stripe say? An attempt Stripe went ahead with is answered; otherwise the lease is given
/// back and the error answered (the client retries with the same key).
async fn unresolved(
    state: &AppState,
    token: &str,
    holder: LeaseHolder,
    e: DomainError,
) -> Result<PayOutcome, DomainError> {
    let read = match load(state, token).await {
        Ok(rec) => sync(state, &rec, LeaseMode::Holder(holder)).await.ok(),
        Err(_) => None,
    };
    if let Some(Some((rec, pi))) = read {
        if !pi.status.awaits_payment_method() {
            return answer_for(&rec, Some(&pi));
        }
    }
    release(state, token, holder).await?;
    tracing::warn!(token = %token, attempt = holder.number(), error = %e, "pay attempt unresolved");
    Err(e)
}

/// A declined attempt: the checkout is `failed` (payable again), the lease given back.
async fn record_decline(
    state: &AppState,
    token: &str,
    holder: LeaseHolder,
    e: &StripeApiError,
    extra: &Extra,
) -> Result<(), DomainError> {
    let ended = end_lease(state, token, holder, |n| {
        n.status = CheckoutStatus::Failed;
        n.declines += 1;
        n.last_error_code = e.code.clone();
        n.last_decline_code = e.decline_code.clone();
        n.last_error_message = Some(e.message.clone());
        if let Some(email) = &extra.email {
            n.customer_email = Some(email.clone());
        }
    })
    .await?;
    if let Some(r) = ended {
        abuse::count_decline(state, &r.merchant_id, db::now()).await;
    }
    Ok(())
}

/// Gives a lease back without news from Stripe: the status it was taken from returns.
async fn release(state: &AppState, token: &str, holder: LeaseHolder) -> Result<(), DomainError> {
    end_lease(state, token, holder, |_| {}).await?;
    Ok(())
}

/// Takes the checkout's lease for `holder`, starting from `r` as the caller read it (read
/// again when it changed meanwhile). A stale lease is reclaimed only after its
/// PaymentIntent was read again from Stripe.
async fn claim(
    state: &AppState,
    r: &CheckoutRecord,
    holder: LeaseHolder,
) -> Result<CheckoutRecord, DomainError> {
    let token = r.token.as_str();
    let mut read = Some(r.clone());
    for _ in 0..WRITE_TRIES {
        let r = match read.take() {
            Some(r) => r,
            None => load(state, token).await?,
        };
        let now = db::now();
        check_payable(state, &r, now)?;
        if r.status == CheckoutStatus::Processing {
            match r.lease {
                // Held by an attempt still running (this key's first request, or another).
                Some(lease) if lease.is_live(now) => return Err(DomainError::payment_in_progress()),
                // Stripe is processing it (no lease): nothing to claim.
                None => return Err(DomainError::payment_in_progress()),
                Some(_) if r.payment_intent_id.is_some() => {
                    // A crashed attempt: learn what Stripe did before anything else.
                    sync(state, &r, LeaseMode::Override).await?;
                    continue;
                }
                Some(_) => {}
            }
        }
        if let Some(leased) = state
            .db
            .claim_checkout(token, r.version, holder, now + LEASE_SECS, now)
            .await?
        {
            return Ok(leased);
        }
    }
    Err(DomainError::payment_in_progress())
}

/// What one attempt's talk with Stripe ended with.
enum Charged {
    /// Stripe answered with the PaymentIntent.
    Intent(Box<PaymentIntent>),
    /// The card was declined (402 `card_error`).
    Declined(StripeApiError),
    /// Refused before or by Stripe for a reason that is the attempt's answer.
    Refused(ApiError),
}

fn card_declined(e: &StripeApiError) -> ApiError {
    let decline = e
        .decline_code
        .clone()
        .or_else(|| e.code.clone())
        .unwrap_or_else(|| "generic_decline".into());
    let (code, message) = if decline == "authentication_required" {
        (
            ErrorCode::AuthenticationRequired,
            "Your bank asks you to authenticate this payment; try again and complete the check"
                .to_owned(),
        )
    } else if e.message.is_empty() {
        (
            ErrorCode::CardDeclined,
            "Your card was declined.".to_owned(),
        )
    } else {
        (ErrorCode::CardDeclined, e.message.clone())
    };
    ApiError::new(code, message).with_decline_code(decline)
}

/// Stripe's `amount_too_small` in core's words: the settlement currency's minimum.
fn too_small(e: &StripeApiError, creds: &PaymentCredentials) -> ApiError {
    let message = match creds.account_default_currency.and_then(minimum_charge) {
        Some(m) => format!(
            "Your payment must be no less than {} {} (or its equivalent)",
            m.to_major_string(),
            m.currency()
        ),
        None => format!("Your payment is below Stripe's minimum: {}", e.message),
    };
    ApiError::new(ErrorCode::AmountTooSmall, message).with_param("amount")
}

/// Maps Stripe's refusal of a create or confirm (not a decline).
fn stripe_refusal(e: &StripeApiError, creds: &PaymentCredentials) -> ApiError {
    if e.status == 401 {
        // The merchant's key was revoked, expired or rolled: nothing the client can fix.
        return ApiError::new(
            ErrorCode::PaymentsUnavailable,
            "This merchant does not take online payments at the moment",
        );
    }
    match e.code.as_deref() {
        Some("amount_too_small") => too_small(e, creds),
        Some("amount_too_large") => {
            ApiError::new(ErrorCode::AmountTooLarge, e.message.clone()).with_param("amount")
        }
        _ if e.param.as_deref() == Some("payment_method") || e.status == 404 => ApiError::new(
            ErrorCode::InvalidPaymentMethod,
            "This card cannot be used; enter it again",
        )
        .with_param("payment_method"),
        _ => ApiError::new(
            ErrorCode::StripeError,
            format!("Stripe refused the payment: {}", e.message),
        ),
    }
}

/// Stripe's answer; its refusal as the attempt's answer (`Ok(Err)`); a failure that is no
/// answer (Stripe not reached) as `Err`.
fn answered<T>(
    result: Result<T, StripeError>,
    creds: &PaymentCredentials,
) -> Result<Result<T, ApiError>, DomainError> {
    match result {
        Ok(v) => Ok(Ok(v)),
        Err(e) => match e.refusal() {
            Some(api) => Ok(Err(stripe_refusal(api, creds))),
            None => Err(e.into()),
        },
    }
}

/// The attempt's talk with Stripe, under the lease: the card checked, a Customer for a card
/// to save, the checkout's PaymentIntent (created once), its confirmation. `r` is the leased
/// checkout, kept as stored (it gets its PaymentIntent id).
async fn charge(
    state: &AppState,
    creds: &PaymentCredentials,
    r: &mut CheckoutRecord,
    holder: LeaseHolder,
    req: &PayRequest,
    client: &Client,
    extra: &mut Extra,
) -> Result<Charged, DomainError> {
    let key = creds.keys.server();
    let pm = match answered(
        state
            .stripe
            .retrieve_payment_method(key, req.payment_method.as_str())
            .await,
        creds,
    )? {
        Ok(pm) => pm,
        Err(refusal) => return Ok(Charged::Refused(refusal)),
    };
    let method = match accepted(&pm, creds, r, req) {
        Ok((method, card)) => {
            extra.card = card;
            extra.method = Some(method);
            method
        }
        Err(refusal) => return Ok(Charged::Refused(refusal)),
    };
    let customer = if req.save_card {
        Some(customer_for(state, creds, r, req).await?)
    } else {
        None
    };
    let pi_id = match ensure_intent(state, creds, r).await? {
        Ok(id) => id,
        Err(refusal) => return Ok(Charged::Refused(refusal)),
    };
    if let Some(customer) = &customer {
        let form = Form::new()
            .push("customer", customer.as_str())
            .push("setup_future_usage", "off_session");
        let idem = format!("slotpay:{}:save:{}", r.token, holder.number());
        state
            .stripe
            .update_payment_intent(key, &pi_id, &form, &IdempotencyKey::new(idem))
            .await?;
    }
    let form = confirm_form(req, method, client, &r.token);
    confirm(state, creds, &r.token, &pi_id, holder, &form).await
}

/// The client's PaymentMethod, refused unless the checkout offers its type (and, for a card,
/// its wallet and brand), unless it can be charged again when the client saves it for a
/// cancellation fee, and, for a bank redirect, without a page to come back to. Its type, and
/// its card for a card.
fn accepted(
    pm: &PaymentMethod,
    creds: &PaymentCredentials,
    r: &CheckoutRecord,
    req: &PayRequest,
) -> Result<(MethodType, Option<CardSummary>), ApiError> {
    let offered = checkouts::offered_methods(r, &creds.payment_methods);
    let not_offered = |what: &str| {
        let names: Vec<&str> = offered.iter().map(|m| m.display_name()).collect();
        ApiError::new(
            ErrorCode::PaymentMethodNotOffered,
            format!(
                "{what} is not offered for this payment; pay with {}",
                names.join(" or ")
            ),
        )
        .with_param("payment_method")
    };
    let method = match &pm.kind {
        PaymentMethodKind::Offered(m) if offered.contains(m) => *m,
        PaymentMethodKind::Offered(m) => return Err(not_offered(m.display_name())),
        PaymentMethodKind::Other(other) => return Err(not_offered(other)),
    };
    if req.save_card && !method.reusable() {
        return Err(ApiError::new(
            ErrorCode::PaymentMethodNotOffered,
            format!(
                "{} cannot be saved for a cancellation fee; pay without saving, or with a card",
                method.display_name()
            ),
        )
        .with_param("save_card"));
    }
    if method.redirects() && req.return_url.is_none() {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            format!(
                "{} needs a return_url: the page the client comes back to from their bank",
                method.display_name()
            ),
        )
        .with_param("return_url"));
    }
    if method != MethodType::Card {
        return Ok((method, None));
    }
    let card = pm.card.clone().unwrap_or_default();
    if card.wallet.is_some() && !creds.wallets {
        return Err(not_offered("Paying from a wallet"));
    }
    let brand = CardBrand::from_stripe(card.brand.as_deref().unwrap_or("unknown"));
    if !creds.card_brands.contains(&brand) {
        let accepted: Vec<&str> = creds.card_brands.iter().map(|b| b.display_name()).collect();
        return Err(ApiError::new(
            ErrorCode::CardBrandNotAccepted,
            format!(
                "{} cards are not accepted here; use {}",
                brand.display_name(),
                accepted.join(" or ")
            ),
        )
        .with_param("payment_method"));
    }
    Ok((
        method,
        CardSummary::from_stripe(card.brand.as_deref(), card.last4.as_deref()),
    ))
}

/// The Customer a card is saved on: the checkout's, or one made now (once per checkout).
async fn customer_for(
    state: &AppState,
    creds: &PaymentCredentials,
    r: &CheckoutRecord,
    req: &PayRequest,
) -> Result<String, DomainError> {
    if let Some(saved) = &r.saved_card {
        return Ok(saved.customer.clone());
    }
    let form = Form::new()
        .push("email", req.email.as_str())
        .push_map("metadata", "slotpay_checkout", r.token.as_str())
        .push_map("metadata", "slotpay_merchant", r.merchant_id.as_str());
    let idem = IdempotencyKey::new(format!("slotpay:{}:customer", r.token));
    let customer = state
        .stripe
        .create_customer(creds.keys.server(), &form, &idem)
        .await?;
    Ok(customer.id)
}

/// The PaymentIntent of a checkout whose pay attempts ended without Stripe's answer to its
/// creation (the answer lost, or Stripe still making it when the client gave up): the same
/// creation again, under the checkout's lease and with its idempotency key, answers the one
/// Stripe made (or makes the one the next pay would), and it is stored. Whether one was.
pub(crate) async fn link_intent(state: &AppState, r: &CheckoutRecord) -> Result<bool, DomainError> {
    let creds = integrations::payment_credentials(state, &r.merchant_id).await?;
    let holder = LeaseHolder::Admin;
    let mut leased = claim(state, r, holder).await?;
    let created = ensure_intent(state, &creds, &mut leased).await;
    release(state, &r.token, holder).await?;
    Ok(created?.is_ok())
}

/// The checkout's PaymentIntent: the stored one, or one created now (once per checkout:
/// Stripe's idempotency key is the checkout's) and stored. Stripe's refusal is the
/// attempt's answer.
async fn ensure_intent(
    state: &AppState,
    creds: &PaymentCredentials,
    r: &mut CheckoutRecord,
) -> Result<Result<String, ApiError>, DomainError> {
    if let Some(id) = &r.payment_intent_id {
        return Ok(Ok(id.clone()));
    }
    // The checkout's methods when its PaymentIntent is made. A merchant's change of methods
    // between a creation whose answer was lost and its retry makes Stripe refuse the retry
    // (same idempotency key, other parameters) until the key expires a day later.
    let offered_types: Vec<&str> = checkouts::offered_methods(r, &creds.payment_methods)
        .iter()
        .map(|m| m.as_str())
        .collect();
    let mut form = Form::new()
        .push("amount", r.amount.minor().to_string())
        .push("currency", r.amount.currency().code())
        .push("capture_method", r.capture_method.as_str())
        .push_list("payment_method_types", &offered_types)
        .push("description", r.description.as_str())
        .push_map("metadata", "slotpay_checkout", r.token.as_str())
        .push_map("metadata", "slotpay_merchant", r.merchant_id.as_str());
    if let Some(b) = &r.booking_ref {
        form = form.push_map("metadata", "booking_ref", b.as_str());
    }
    let idem = IdempotencyKey::new(format!("slotpay:{}:pi", r.token));
    let created = state
        .stripe
        .create_payment_intent(creds.keys.server(), &form, &idem)
        .await;
    let pi = match answered(created, creds)? {
        Ok(pi) => pi,
        Err(refusal) => return Ok(Err(refusal)),
    };
    *r = store_intent(state, r, &pi.id).await?;
    Ok(Ok(pi.id))
}

/// The confirmation's parameters: the client's PaymentMethod and receipt address, the page a
/// bank redirect comes back to (the page the client paid on, naming the checkout: see
/// [`ReturnUrl::back_to`]), and for SEPA Debit the client's acceptance of the mandate.
fn confirm_form(req: &PayRequest, method: MethodType, client: &Client, token: &str) -> Form {
    let mut form = Form::new()
        .push("payment_method", req.payment_method.as_str())
        .push("receipt_email", req.email.as_str());
    if let Some(url) = req.return_url.as_ref().filter(|_| method.redirects()) {
        let back = CheckoutToken::parse(token)
            .ok()
            .and_then(|token| ReturnUrl::back_to(url.as_str(), &token));
        form = form.push("return_url", back.as_ref().unwrap_or(url).as_str());
    }
    if method.settles_later() {
        // The client accepted the mandate on this page, now: what Stripe records of it.
        form = form
            .push("mandate_data[customer_acceptance][type]", "online")
            .push(
                "mandate_data[customer_acceptance][online][ip_address]",
                client.ip.as_str(),
            )
            .push(
                "mandate_data[customer_acceptance][online][user_agent]",
                client.user_agent.as_deref().unwrap_or("unknown"),
            );
    }
    form
}

/// Confirms the PaymentIntent with `form` (Stripe's idempotency key is the attempt's, so a
/// retry replays).
async fn confirm(
    state: &AppState,
    creds: &PaymentCredentials,
    token: &str,
    pi_id: &str,
    holder: LeaseHolder,
    form: &Form,
) -> Result<Charged, DomainError> {
    let key = creds.keys.server();
    let idem = IdempotencyKey::new(format!("slotpay:{token}:confirm:{}", holder.number()));
    match state
        .stripe
        .confirm_payment_intent(key, pi_id, form, &idem)
        .await
    {
        Ok(pi) => Ok(Charged::Intent(Box::new(pi))),
        Err(StripeError::Api(e)) if e.kind == StripeErrorKind::CardError => {
            Ok(Charged::Declined(e))
        }
        Err(e) => match e.refusal() {
            Some(api) if api.code.as_deref() == Some("payment_intent_unexpected_state") => {
                // Paid meanwhile (another attempt, or a lease reclaimed): Stripe knows.
                let pi = state
                    .stripe
                    .retrieve_payment_intent(key, pi_id, &["latest_charge"])
                    .await?;
                Ok(Charged::Intent(Box::new(pi)))
            }
            Some(api) => Ok(Charged::Refused(stripe_refusal(api, creds))),
            None => Err(e.into()),
        },
    }
}

/// Stores the checkout's PaymentIntent id (UNIQUE), keeping a stored one; returns the record
/// as stored. `known` (the record as the caller last had it) is tried first.
async fn store_intent(
    state: &AppState,
    known: &CheckoutRecord,
    pi_id: &str,
) -> Result<CheckoutRecord, DomainError> {
    let (r, ()) = modify(state, Start::Known(known), |r| match &r.payment_intent_id {
        Some(id) if id == pi_id => Ok(()),
        Some(other) => Err(DomainError::Internal(format!(
            "checkout already has PaymentIntent {other}"
        ))),
        None => {
            r.payment_intent_id = Some(pi_id.to_owned());
            Ok(())
        }
    })
    .await?;
    Ok(r)
}

/// The answer for a checkout's state (after an attempt or a refresh).
/// The answer for a checkout paid while this key's attempt was cut short. The webhook that
/// paid it names no charge (its PaymentIntent does not expand one), so a record that does not
/// say yet how it was paid is completed from Stripe's PaymentIntent and charge, read once: the
/// client's receipt names the card. Stripe out of reach, the record answers as it is.
async fn paid_meanwhile(state: &AppState, r: &CheckoutRecord) -> Result<PayOutcome, DomainError> {
    if r.method.is_none() {
        match sync(state, r, LeaseMode::Respect).await {
            Ok(Some((read, _))) => return answer_for(&read, None),
            Ok(None) => {}
            Err(e) => tracing::warn!(token = %r.token, error = %e, "paid checkout not read again"),
        }
    }
    answer_for(r, None)
}

fn answer_for(r: &CheckoutRecord, pi: Option<&PaymentIntent>) -> Result<PayOutcome, DomainError> {
    let response = |status: PayStatus| PayResponse {
        status,
        client_secret: None,
        error: None,
        receipt: None,
    };
    Ok(match r.status {
        s if s.is_settled() => PayOutcome::response(
            200,
            &PayResponse {
                receipt: checkouts::receipt(r),
                ..response(PayStatus::Succeeded)
            },
        ),
        CheckoutStatus::RequiresAction => PayOutcome::response(
            200,
            &PayResponse {
                client_secret: pi.and_then(|p| p.client_secret.clone()),
                ..response(PayStatus::RequiresAction)
            },
        ),
        CheckoutStatus::Processing => PayOutcome::response(200, &response(PayStatus::Processing)),
        CheckoutStatus::Failed => PayOutcome::response(
            402,
            &PayResponse {
                error: Some(last_failure(r)),
                ..response(PayStatus::Failed)
            },
        ),
        CheckoutStatus::Canceled => PayOutcome::refusal(&super::error::checkout_canceled()),
        CheckoutStatus::Expired => PayOutcome::refusal(&super::error::checkout_expired()),
        _ => PayOutcome::refusal(&ApiError::new(
            ErrorCode::Conflict,
            "No payment was attempted on this checkout yet",
        )),
    })
}

/// The error of a checkout's last failed attempt, in the words a decline has.
fn last_failure(r: &CheckoutRecord) -> ApiError {
    if r.last_error_code.as_deref() == Some("payment_intent_authentication_failure") {
        return ApiError::new(
            ErrorCode::AuthenticationRequired,
            "Your bank could not authenticate this payment; try again or use another card",
        );
    }
    if r.last_error_code.as_deref() == Some("payment_intent_payment_attempt_failed") {
        return ApiError::new(
            ErrorCode::AuthenticationRequired,
            "Your bank did not approve this payment; try again or pay another way",
        );
    }
    card_declined(&StripeApiError {
        status: 402,
        kind: StripeErrorKind::CardError,
        code: r.last_error_code.clone(),
        decline_code: r.last_decline_code.clone(),
        message: r.last_error_message.clone().unwrap_or_default(),
        param: None,
        payment_intent: None,
    })
}

/// Who pays, as the request shows it: what a SEPA Debit mandate records of the client's
/// acceptance.
#[derive(Clone, Debug)]
pub struct Client {
    /// The client's address (the socket's, or what trusted proxies say).
    pub ip: String,
    /// The browser's `User-Agent`.
    pub user_agent: Option<String>,
}

/// A return URL must be a page of one of the merchant's origins or of slotpay itself (its
/// payment-link pages): Stripe sends the client there with the PaymentIntent's parameters.
async fn check_return_url(
    state: &AppState,
    merchant_id: &str,
    url: &ReturnUrl,
) -> Result<(), DomainError> {
    let origin = url::Url::parse(url.as_str())
        .ok()
        .map(|u| u.origin().ascii_serialization());
    let merchant = load_merchant(state, merchant_id).await?;
    let own = state.public_url.origin().ascii_serialization();
    let allowed = origin
        .as_ref()
        .is_some_and(|o| *o == own || merchant.allowed_origins.contains(o));
    if allowed {
        Ok(())
    } else {
        Err(DomainError::refused_at(
            ErrorCode::InvalidRequest,
            "The return URL must be a page of one of the merchant's registered origins",
            "return_url",
        ))
    }
}

/// After 3-D Secure (or to learn how a payment ended): reads the PaymentIntent again and
/// answers like the pay endpoint.
pub async fn refresh(state: &AppState, token: &str) -> Result<PayOutcome, DomainError> {
    let r = load(state, token).await?;
    let now = db::now();
    let live_lease = r.lease.is_some_and(|l| l.is_live(now));
    let needs_read = matches!(
        effective_status(&r, now),
        CheckoutStatus::Processing
            | CheckoutStatus::RequiresAction
            | CheckoutStatus::Failed
            | CheckoutStatus::Open
    ) && !live_lease;
    let read = if needs_read {
        sync(state, &r, LeaseMode::Respect).await?
    } else {
        None
    };
    let (rec, pi) = match read {
        Some((rec, pi)) => (rec, Some(pi)),
        None => (r, None),
    };
    if effective_status(&rec, now) == CheckoutStatus::Expired {
        return Ok(PayOutcome::refusal(&super::error::checkout_expired()));
    }
    answer_for(&rec, pi.as_ref())
}

/// The amount a capture asks for: `None` for the whole authorisation; a part must be
/// chargeable and within what was authorised.
fn capture_amount(r: &CheckoutRecord, amount: Option<i64>) -> Result<Option<i64>, DomainError> {
    let Some(a) = amount else {
        return Ok(None);
    };
    let authorized = r.amount_authorized.max(0);
    let currency = r.amount.currency();
    if a < 1 || a > authorized {
        return Err(DomainError::refused_at(
            ErrorCode::InvalidAmount,
            format!(
                "The amount to capture must be 0 to {} (the authorised amount)",
                Money::from_minor(authorized, currency)
            ),
            "amount",
        ));
    }
    check_chargeable(Money::from_minor(a, currency))?;
    Ok(Some(a))
}

/// Captures an authorisation, in full or in part (`amount`).
pub async fn capture(
    state: &AppState,
    token: &str,
    input: CaptureInput,
) -> Result<CheckoutAdminView, DomainError> {
    let r = load(state, token).await?;
    if r.status != CheckoutStatus::Authorized {
        return Err(DomainError::refused(
            ErrorCode::NothingToCapture,
            "This checkout has no authorised payment waiting for capture",
        ));
    }
    let to_capture = capture_amount(&r, input.amount)?;
    let pi_id = r
        .payment_intent_id
        .clone()
        .ok_or_else(|| DomainError::Internal("authorised checkout without PaymentIntent".into()))?;
    let key = integrations::server_key(state, &r.merchant_id).await?;
    let idem = IdempotencyKey::new(format!(
        "slotpay:{}:capture:{}",
        r.token,
        to_capture.map_or("all".to_owned(), |a| a.to_string())
    ));
    if let Err(e) = state
        .stripe
        .capture_payment_intent(&key, &pi_id, to_capture, &idem)
        .await
    {
        let Some(api) = e.refusal() else {
            return Err(e.into());
        };
        // Stripe knows better (an authorisation that lapsed, a capture elsewhere).
        sync(state, &r, LeaseMode::Respect).await?;
        return Err(DomainError::refused(
            ErrorCode::NothingToCapture,
            format!("Stripe refused the capture: {}", api.message),
        ));
    }
    let (rec, _) = sync(state, &r, LeaseMode::Respect)
        .await?
        .ok_or_else(|| DomainError::Internal("capture without PaymentIntent".into()))?;
    tracing::info!(token = %rec.token, captured = rec.amount_captured, "authorisation captured");
    checkouts::admin_view(state, &rec, true).await
}

/// Cancels a checkout: an unpaid one (its PaymentIntent canceled at Stripe, if any), or an
/// authorisation (released). A paid checkout is refunded instead.
pub async fn cancel(state: &AppState, token: &str) -> Result<CheckoutAdminView, DomainError> {
    let r = load(state, token).await?;
    match r.status {
        CheckoutStatus::Canceled => checkouts::admin_view(state, &r, true).await,
        CheckoutStatus::Authorized => release_authorization(state, &r).await,
        s if s.is_settled() => Err(DomainError::refused(
            ErrorCode::Conflict,
            "This checkout is paid; refund it instead of canceling",
        )),
        CheckoutStatus::Expired => Err(DomainError::refused(
            ErrorCode::CheckoutExpired,
            "This checkout expired",
        )),
        _ => cancel_unpaid(state, &r).await,
    }
}

/// Releases an authorisation: there is no void in Stripe, canceling the PaymentIntent is it.
async fn release_authorization(
    state: &AppState,
    r: &CheckoutRecord,
) -> Result<CheckoutAdminView, DomainError> {
    let key = integrations::server_key(state, &r.merchant_id).await?;
    let pi_id = r.payment_intent_id.clone().unwrap_or_default();
    let idem = IdempotencyKey::new(format!("slotpay:{}:cancel", r.token));
    let canceled = state
        .stripe
        .cancel_payment_intent(&key, &pi_id, CancellationReason::RequestedByCustomer, &idem)
        .await;
    if let Err(e) = canceled {
        if e.refusal().is_none() {
            return Err(e.into());
        }
    }
    let (rec, _) = sync(state, r, LeaseMode::Respect)
        .await?
        .ok_or_else(|| DomainError::Internal("no PaymentIntent".into()))?;
    if rec.status != CheckoutStatus::Canceled {
        return Err(DomainError::refused(
            ErrorCode::Conflict,
            format!(
                "The checkout is {} at Stripe; it was not canceled",
                rec.status
            ),
        ));
    }
    tracing::info!(token = %rec.token, "authorisation canceled");
    checkouts::admin_view(state, &rec, true).await
}

/// Cancels an unpaid checkout: held first (no attempt may start), its PaymentIntent
/// canceled at Stripe if it has one, then marked.
async fn cancel_unpaid(
    state: &AppState,
    r: &CheckoutRecord,
) -> Result<CheckoutAdminView, DomainError> {
    let holder = LeaseHolder::Admin;
    let leased = claim(state, r, holder).await?;
    if let Some(pi_id) = &leased.payment_intent_id {
        return cancel_intent(state, &leased, pi_id).await;
    }
    let now = db::now();
    let rec = end_lease(state, &r.token, holder, |n| {
        n.status = CheckoutStatus::Canceled;
        n.canceled_at = Some(now);
    })
    .await?
    .ok_or_else(DomainError::changed_meanwhile)?;
    tracing::info!(token = %rec.token, "checkout canceled");
    checkouts::admin_view(state, &rec, true).await
}

/// Cancels the PaymentIntent of a checkout held by an admin operation, and applies what
/// Stripe says; a PaymentIntent Stripe will not cancel (it succeeded meanwhile, most likely)
/// is read again and the lease given back.
async fn cancel_intent(
    state: &AppState,
    leased: &CheckoutRecord,
    pi_id: &str,
) -> Result<CheckoutAdminView, DomainError> {
    let holder = LeaseHolder::Admin;
    let key = integrations::server_key(state, &leased.merchant_id).await?;
    let idem = IdempotencyKey::new(format!("slotpay:{}:cancel", leased.token));
    let canceled = state
        .stripe
        .cancel_payment_intent(&key, pi_id, CancellationReason::Abandoned, &idem)
        .await;
    match canceled {
        Ok(pi) => {
            let mode = LeaseMode::Holder(holder);
            let rec = apply(state, leased, &pi, db::now(), mode, &Extra::default()).await?;
            checkouts::admin_view(state, &rec, true).await
        }
        Err(e) if e.refusal().is_some() => {
            let read = sync(state, leased, LeaseMode::Holder(holder)).await?;
            release(state, &leased.token, holder).await?;
            let status = read.map_or("unknown", |(rec, _)| rec.status.as_str());
            Err(DomainError::refused(
                ErrorCode::Conflict,
                format!("Stripe would not cancel the payment (it is {status})"),
            ))
        }
        Err(e) => {
            release(state, &leased.token, holder).await?;
            Err(e.into())
        }
    }
}

/// Ends an unpaid checkout whose hold lapsed (`expires_at` passed), writing
/// `checkout.expired` with the change. One without a PaymentIntent is only marked: it stays
/// open or failed (expired by its time, and a resent link brings it back). One with a
/// PaymentIntent is held first, so no pay attempt is in flight, and its PaymentIntent is
/// canceled at Stripe: canceled, the checkout is stored `expired`; if Stripe says it was
/// paid meanwhile, it is paid, not expired. A checkout in flight is left for the next pass.
pub(crate) async fn expire_hold(state: &AppState, r: &CheckoutRecord) -> Result<(), DomainError> {
    let Some(expires_at) = r.expires_at else {
        return Ok(());
    };
    let lapsed = |n: &CheckoutRecord| {
        n.expires_at == Some(expires_at) && n.expiry_announced != Some(expires_at)
    };
    if r.payment_intent_id.is_none() {
        modify(state, Start::Known(r), |n| {
            let unpaid = matches!(n.status, CheckoutStatus::Open | CheckoutStatus::Failed);
            if unpaid && n.payment_intent_id.is_none() && lapsed(n) {
                n.expiry_announced = Some(expires_at);
            }
            Ok(())
        })
        .await?;
        return Ok(());
    }
    let holder = LeaseHolder::Admin;
    let now = db::now();
    let claimed = state
        .db
        .claim_checkout(&r.token, r.version, holder, now + LEASE_SECS, now)
        .await?;
    let Some(leased) = claimed.filter(|l| lapsed(l)) else {
        return Ok(());
    };
    let pi_id = leased.payment_intent_id.clone().unwrap_or_default();
    let key = match integrations::server_key(state, &leased.merchant_id).await {
        Ok(key) => key,
        Err(e) => {
            release(state, &leased.token, holder).await?;
            return Err(e);
        }
    };
    let idem = IdempotencyKey::new(format!("slotpay:{}:expire:{expires_at}", leased.token));
    let canceled = state
        .stripe
        .cancel_payment_intent(&key, &pi_id, CancellationReason::Abandoned, &idem)
        .await;
    match canceled {
        Ok(pi) if pi.status == PaymentIntentStatus::Canceled => {
            end_lease(state, &leased.token, holder, |n| {
                n.status = CheckoutStatus::Expired;
                n.expiry_announced = Some(expires_at);
            })
            .await?;
        }
        Ok(pi) => {
            let mode = LeaseMode::Holder(holder);
            apply(state, &leased, &pi, db::now(), mode, &Extra::default()).await?;
        }
        Err(e) if e.refusal().is_some() => {
            // Most likely paid or canceled at Stripe meanwhile: its word settles it.
            sync(state, &leased, LeaseMode::Holder(holder)).await?;
            release(state, &leased.token, holder).await?;
        }
        Err(e) => {
            release(state, &leased.token, holder).await?;
            return Err(e.into());
        }
    }
    Ok(())
}
