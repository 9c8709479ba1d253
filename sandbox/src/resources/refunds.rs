//! Refunds: create by `payment_intent` or `charge` with an optional `amount` (refunding more than
//! remains answers Stripe's "Refund amount ($X) is greater than ..." error; a fully refunded
//! charge answers `charge_already_refunded`), retrieve, update, list. The charge's
//! `amount_refunded` and `refunded` follow.

use serde_json::{json, Value};

use crate::currency;
use crate::errors::{ApiError, ApiResult};
use crate::form::Params;
use crate::resources::{balance_transactions, charges, previous_attributes};
use crate::state::{update_metadata, Charge, Ctx, Refund, Render, Store};
use crate::table::{list, Query};

/// Renders a refund like Stripe's refund object.
pub fn render(r: &Refund) -> Value {
    json!({
        "id": r.id,
        "object": "refund",
        "amount": r.amount,
        "balance_transaction": r.balance_transaction,
        "charge": r.charge,
        "created": r.created,
        "currency": r.currency,
        "customer": r.customer,
        "customer_account": null,
        "destination_details": {"card": {"reference_status": "pending", "reference_type": "acquirer_reference_number", "type": "refund"}, "type": "card"},
        "metadata": r.metadata,
        "payment_intent": r.payment_intent,
        "payment_method": r.payment_method,
        "reason": r.reason,
        "receipt_number": null,
        "source_transfer_reversal": null,
        "status": r.status,
        "transfer_reversal": null,
    })
}

impl Render for Refund {
    fn render(&self, _store: &Store) -> Value {
        render(self)
    }
}

fn get(ctx: &Ctx, id: &str) -> ApiResult<Refund> {
    ctx.store
        .refunds
        .get(id)
        .filter(|r| r.account == ctx.account)
        .cloned()
        .ok_or_else(|| ApiError::missing("refund", id, Some("id")))
}

/// `POST /v1/refunds`.
pub fn create(ctx: &mut Ctx, params: &Params) -> ApiResult<Value> {
    params.allow(&[
        "payment_intent",
        "charge",
        "amount",
        "reason",
        "metadata",
        "instructions_email",
        "origin",
    ])?;
    let charge_id = charge_to_refund(ctx, params)?;
    let mut charge = charges::get(ctx, &charge_id, "charge")?;
    let remaining = unrefunded(&charge)?;
    let amount = refund_amount(params, &charge, remaining)?;
    let reason = refund_reason(params)?;
    let refund = record_refund(ctx, params, &charge, amount, reason)?;
    let before = charges::render(ctx.store, &charge);
    charge.refunded_total += amount;
    charge.refunds.push(refund.id.clone());
    let after = charges::save(ctx, &charge);
    let prev = previous_attributes(&before, &after);
    ctx.emit("charge.refunded", after, Some(prev));
    let v = render(&refund);
    ctx.emit("refund.created", v.clone(), None);
    ctx.answer(v, params)
}

/// The charge a refund is for: `charge`, or the latest charge of a succeeded `payment_intent`.
fn charge_to_refund(ctx: &Ctx, params: &Params) -> ApiResult<String> {
    match (params.str("charge")?, params.str("payment_intent")?) {
        (Some(c), _) => Ok(c.to_string()),
        (None, Some(pi_id)) => {
            let pi = ctx
                .store
                .payment_intents
                .get(pi_id)
                .filter(|p| p.account == ctx.account)
                .cloned()
                .ok_or_else(|| ApiError::missing("payment_intent", pi_id, Some("payment_intent")))?;
            match (&pi.latest_charge, pi.status.as_str()) {
                (Some(c), "succeeded") => Ok(c.clone()),
                _ => Err(ApiError::invalid(format!(
                    "This PaymentIntent ({pi_id}) does not have a successful charge to refund."
                ))
                .code("charge_not_refundable")
                .param("payment_intent")),
            }
        }
        (None, None) => Err(ApiError::validation(
            "One of the following params should be provided for this request: payment_intent or charge.",
            "parameter_missing",
            "charge",
        )),
    }
}

/// What is left to refund of a charge that can be refunded (succeeded, captured, not charged
/// back, not fully refunded yet).
fn unrefunded(charge: &Charge) -> ApiResult<i64> {
    let charge_id = &charge.id;
    if charge.status != "succeeded" {
        return Err(ApiError::invalid(format!(
            "Charge {charge_id} has not succeeded and cannot be refunded."
        ))
        .code("charge_not_refundable"));
    }
    if !charge.captured {
        return Err(ApiError::invalid(format!(
            "Charge {charge_id} has not been captured. Cancel its PaymentIntent to release the authorization instead."
        ))
        .code("charge_not_refundable"));
    }
    if charge.disputed {
        return Err(ApiError::invalid(format!(
            "Charge {charge_id} has been charged back; cannot issue a refund."
        ))
        .code("charge_disputed"));
    }
    let remaining = charge.amount_captured - charge.refunded_total;
    if remaining <= 0 {
        return Err(
            ApiError::invalid(format!("Charge {charge_id} has already been refunded."))
                .code("charge_already_refunded"),
        );
    }
    Ok(remaining)
}

/// `amount` (what remains when absent), checked against what remains and against the
/// currency's decimals.
fn refund_amount(params: &Params, charge: &Charge, remaining: i64) -> ApiResult<i64> {
    let amount = match params.int("amount")? {
        None => remaining,
        Some(a) if a < 1 => {
            return Err(ApiError::validation(
                "Invalid positive integer",
                "parameter_invalid_integer",
                "amount",
            ))
        }
        Some(a) => a,
    };
    if amount > remaining {
        // Stripe sends no `code` with this one: only the message and `param`.
        let message = if charge.refunded_total == 0 {
            format!(
                "Refund amount ({}) is greater than charge amount ({})",
                currency::format(amount, &charge.currency),
                currency::format(charge.amount_captured, &charge.currency)
            )
        } else {
            format!(
                "Refund amount ({}) is greater than unrefunded amount on charge ({})",
                currency::format(amount, &charge.currency),
                currency::format(remaining, &charge.currency)
            )
        };
        return Err(ApiError::invalid(message).param("amount"));
    }
    currency::check_decimals(amount, &charge.currency, "amount")?;
    Ok(amount)
}

/// `reason`, one of Stripe's three.
fn refund_reason(params: &Params) -> ApiResult<Option<String>> {
    let reason = params.str("reason")?.map(str::to_string);
    if let Some(r) = &reason {
        if !["duplicate", "fraudulent", "requested_by_customer"].contains(&r.as_str()) {
            return Err(ApiError::validation(
                "Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer",
                "parameter_invalid_string",
                "reason",
            ));
        }
    }
    Ok(reason)
}

/// Stores the refund of `amount` and the balance transaction that pays it back.
fn record_refund(
    ctx: &mut Ctx,
    params: &Params,
    charge: &Charge,
    amount: i64,
    reason: Option<String>,
) -> ApiResult<Refund> {
    let id = ctx.id("re_");
    let seq = ctx.store.next_seq();
    let txn = balance_transactions::record(
        ctx,
        balance_transactions::NewTxn {
            amount: -amount,
            currency: &charge.currency,
            fee: 0,
            source: &id,
            kind: "refund",
            reporting_category: "refund",
            description: Some("REFUND FOR CHARGE".into()),
        },
    );
    let refund = Refund {
        id: id.clone(),
        account: ctx.account.clone(),
        seq,
        created: ctx.now,
        amount,
        currency: charge.currency.clone(),
        charge: charge.id.clone(),
        payment_intent: charge.payment_intent.clone(),
        payment_method: charge.payment_method.clone(),
        reason,
        status: "succeeded".into(),
        metadata: params.metadata()?.unwrap_or_default(),
        balance_transaction: Some(txn),
        customer: charge.customer.clone(),
    };
    ctx.store.refunds.insert(id, refund.clone());
    ctx.store.count("refunds");
    Ok(refund)
}

/// `GET /v1/refunds/{id}`.
pub fn retrieve(ctx: &mut Ctx, id: &str, params: &Params) -> ApiResult<Value> {
    params.allow(&[])?;
    let r = get(ctx, id)?;
    ctx.answer(render(&r), params)
}

/// `POST /v1/refunds/{id}`: metadata; emits `refund.updated` and `charge.refund.updated`.
pub fn update(ctx: &mut Ctx, id: &str, params: &Params) -> ApiResult<Value> {
    params.allow(&["metadata"])?;
    let mut r = get(ctx, id)?;
    let before = render(&r);
    if let Some(m) = params.metadata()? {
        update_metadata(&mut r.metadata, m);
    }
    ctx.store.refunds.insert(id.to_string(), r.clone());
    let v = render(&r);
    let prev = previous_attributes(&before, &v);
    ctx.emit("refund.updated", v.clone(), Some(prev.clone()));
    ctx.emit("charge.refund.updated", v.clone(), Some(prev));
    ctx.answer(v, params)
}

/// `GET /v1/refunds` (`charge`, `payment_intent` filters).
pub fn list_refunds(ctx: &mut Ctx, params: &Params) -> ApiResult<Value> {
    params.allow(&[
        "limit",
        "starting_after",
        "ending_before",
        "charge",
        "payment_intent",
        "created",
    ])?;
    let charge = params.str("charge")?;
    let pi = params.str("payment_intent")?;
    let keep = |r: &Refund| {
        r.account == ctx.account && pi.is_none_or(|p| r.payment_intent.as_deref() == Some(p))
    };
    let mut v = list(
        &ctx.store.refunds,
        Query {
            group: charge,
            keep: &keep,
            render: &render,
        },
        params,
        "/v1/refunds",
    )?;
    ctx.store.expand(&ctx.account, &mut v, &params.expand())?;
    Ok(v)
}
