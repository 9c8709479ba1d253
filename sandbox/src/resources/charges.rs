//! Charges: created by confirming a PaymentIntent (succeeded, failed, or authorised awaiting
//! capture), captured in full or in part, released on cancel or expiry, refunded; `GET
//! /v1/charges/{id}`, `GET /v1/charges?payment_intent=`, `POST /v1/charges/{id}` (update).

use serde_json::{json, Value};

use crate::cards::Decline;
use crate::errors::{ApiError, ApiResult};
use crate::form::Params;
use crate::resources::{balance_transactions, card_details, payment_methods, previous_attributes};
use crate::state::{
    update_metadata, CardInfo, Charge, Ctx, Method, PaymentIntent, PaymentMethod, Render, Store,
};
use crate::table::{list, Query};

/// The `outcome` hash: the network's decline, or its approval.
fn outcome(c: &Charge) -> Value {
    match (&c.status[..], &c.decline_code) {
        ("failed", Some(code)) => json!({
            "advice_code": null, "network_advice_code": null, "network_decline_code": null,
            "network_status": if code == "test_mode_live_card" { "not_sent_to_network" } else { "declined_by_network" },
            "reason": code, "risk_level": "normal", "risk_score": 12,
            "seller_message": "The bank did not return any further details with this decline.",
            "type": "issuer_declined",
        }),
        _ => json!({
            "advice_code": null, "network_advice_code": null, "network_decline_code": null,
            "network_status": "approved_by_network", "reason": null, "risk_level": "normal",
            "risk_score": 32, "seller_message": "Payment complete.", "type": "authorized",
        }),
    }
}

/// The `payment_method_details` hash: the card's, or the bank method's.
fn payment_method_details(c: &Charge) -> Value {
    let kind = c.method.kind();
    let details = match &c.method {
        Method::Card(card) => card_payment_details(c, card),
        Method::Ideal { bank } => json!({
            "bank": bank, "bic": null, "generated_sepa_debit": null,
            "generated_sepa_debit_mandate": null, "iban_last4": "5264",
            "transaction_id": null, "verified_name": c.billing_details["name"],
        }),
        Method::Bancontact => json!({
            "bank_code": "VAPE", "bank_name": "VAN DE PUT & CO", "bic": "VAPEBE22",
            "generated_sepa_debit": null, "generated_sepa_debit_mandate": null,
            "iban_last4": "7061", "preferred_language": null,
            "verified_name": c.billing_details["name"],
        }),
        Method::SepaDebit { .. } => {
            let mut d = payment_methods::details(&c.method);
            d["mandate"] = json!(format!("mandate_{}", &c.id[3..]));
            if let Some(o) = d.as_object_mut() {
                o.remove("generated_from");
            }
            d
        }
    };
    json!({kind: details, "type": kind})
}

/// The `payment_method_details.card` hash: the card as a PaymentMethod renders it, less a few
/// fields, plus the authorisation's.
fn card_payment_details(c: &Charge, info: &CardInfo) -> Value {
    let mut card = card_details::render_card(info);
    let card_obj = card.as_object_mut().expect("card is an object");
    for k in [
        "display_brand",
        "generated_from",
        "networks",
        "three_d_secure_usage",
    ] {
        card_obj.remove(k);
    }
    card_obj.insert(
        "amount_authorized".into(),
        if c.status == "failed" {
            Value::Null
        } else {
            json!(c.amount)
        },
    );
    card_obj.insert(
        "authorization_code".into(),
        if c.status == "failed" {
            Value::Null
        } else {
            json!("123456")
        },
    );
    card_obj.insert(
        "extended_authorization".into(),
        json!({"status": "disabled"}),
    );
    card_obj.insert(
        "incremental_authorization".into(),
        json!({"status": "unavailable"}),
    );
    card_obj.insert("installments".into(), Value::Null);
    card_obj.insert("mandate".into(), Value::Null);
    card_obj.insert("multicapture".into(), json!({"status": "unavailable"}));
    card_obj.insert("network".into(), json!(info.brand));
    card_obj.insert("network_token".into(), json!({"used": false}));
    card_obj.insert(
        "network_transaction_id".into(),
        json!(format!("{}", 100_000_000_000_000u64 + c.seq)),
    );
    card_obj.insert(
        "overcapture".into(),
        json!({"maximum_amount_capturable": c.amount, "status": "unavailable"}),
    );
    card_obj.insert(
        "three_d_secure".into(),
        if c.three_d_secure {
            json!({"authentication_flow": "challenge", "electronic_commerce_indicator": "05", "exemption_indicator": null,
                   "result": "authenticated", "result_reason": null, "transaction_id": format!("{}-3ds", c.id), "version": "2.2.0"})
        } else {
            Value::Null
        },
    );
    card
}

/// The `refunds` list's rows: the ten newest refunds.
fn refund_rows(store: &Store, c: &Charge) -> Vec<Value> {
    let mut rows: Vec<Value> = c
        .refunds
        .iter()
        .rev()
        .filter_map(|id| store.refunds.get(id))
        .map(|r| r.render(store))
        .collect();
    rows.truncate(10);
    rows
}

/// `calculated_statement_descriptor`: the account's business name in capitals (22 characters at
/// most), or its first 10 and the suffix when the charge has one.
fn calculated_statement_descriptor(store: &Store, c: &Charge) -> String {
    let descriptor = store
        .accounts
        .get(&c.account)
        .and_then(|a| a.business_name.clone())
        .unwrap_or_else(|| "STRIPE SANDBOX".into())
        .to_uppercase()
        .chars()
        .take(22)
        .collect::<String>();
    match &c.statement_descriptor_suffix {
        Some(s) => format!(
            "{}* {}",
            descriptor.chars().take(10).collect::<String>(),
            s.to_uppercase()
        ),
        None => descriptor,
    }
}

/// Renders a charge like Stripe's charge object.
pub fn render(store: &Store, c: &Charge) -> Value {
    let amount_refunded = c.released + c.refunded_total;
    let outcome = outcome(c);
    let details = payment_method_details(c);
    let refund_rows = refund_rows(store, c);
    let calculated = calculated_statement_descriptor(store, c);
    json!({
        "id": c.id,
        "object": "charge",
        "amount": c.amount,
        "amount_captured": c.amount_captured,
        "amount_refunded": amount_refunded,
        "application": null,
        "application_fee": null,
        "application_fee_amount": null,
        "balance_transaction": c.balance_transaction,
        "billing_details": &*c.billing_details,
        "calculated_statement_descriptor": calculated,
        "captured": c.captured,
        "created": c.created,
        "currency": c.currency,
        "customer": c.customer,
        "description": c.description,
        "disputed": c.disputed,
        "failure_balance_transaction": null,
        "failure_code": c.failure_code,
        "failure_message": c.failure_message,
        "fraud_details": {},
        "livemode": false,
        "metadata": c.metadata,
        "on_behalf_of": null,
        "outcome": outcome,
        "paid": c.status == "succeeded",
        "payment_intent": c.payment_intent,
        "payment_method": c.payment_method,
        "payment_method_details": details,
        "receipt_email": c.receipt_email,
        "receipt_number": null,
        "receipt_url": format!("{}/receipts/payment/{}", store.base_url, c.id),
        "refunded": c.amount > 0 && amount_refunded >= c.amount,
        "refunds": {
            "object": "list",
            "data": refund_rows,
            "has_more": c.refunds.len() > 10,
            "url": format!("/v1/charges/{}/refunds", c.id),
        },
        "review": null,
        "shipping": null,
        "source": null,
        "source_transfer": null,
        "statement_descriptor": null,
        "statement_descriptor_suffix": c.statement_descriptor_suffix,
        "status": c.status,
        "transfer_data": null,
        "transfer_group": null,
    })
}

impl Render for Charge {
    fn render(&self, store: &Store) -> Value {
        render(store, self)
    }
}

/// The charge `id` of the caller's account.
pub fn get(ctx: &Ctx, id: &str, param: &str) -> ApiResult<Charge> {
    ctx.store
        .charges
        .get(id)
        .filter(|c| c.account == ctx.account)
        .cloned()
        .ok_or_else(|| ApiError::missing("charge", id, Some(param)))
}

/// Stores a charge and returns its rendering.
pub fn save(ctx: &mut Ctx, c: &Charge) -> Value {
    ctx.store.charges.insert(c.id.clone(), c.clone());
    render(ctx.store, c)
}

/// Creates the charge of a PaymentIntent confirmation: declined (`decline`), authorised only
/// (`capture == false`) or captured; emits `charge.failed` / `charge.succeeded`.
pub fn create(
    ctx: &mut Ctx,
    pi: &PaymentIntent,
    pm: &PaymentMethod,
    capture: bool,
    decline: Option<Decline>,
    three_d_secure: bool,
) -> Charge {
    let captured = decline.is_none() && capture;
    let mut c = new_charge(ctx, pi, pm, captured, decline, three_d_secure);
    if captured {
        record_balance(ctx, &mut c);
    }
    announce(ctx, &c);
    c
}

fn new_charge(
    ctx: &mut Ctx,
    pi: &PaymentIntent,
    pm: &PaymentMethod,
    captured: bool,
    decline: Option<Decline>,
    three_d_secure: bool,
) -> Charge {
    let id = ctx.id("ch_");
    let seq = ctx.store.next_seq();
    Charge {
        id,
        account: ctx.account.clone(),
        seq,
        created: ctx.now,
        amount: pi.amount,
        amount_captured: if captured { pi.amount } else { 0 },
        refunded_total: 0,
        released: 0,
        captured,
        currency: pi.currency.clone(),
        customer: pi.customer.clone(),
        description: pi.description.clone(),
        metadata: pi.metadata.clone(),
        payment_intent: Some(pi.id.clone()),
        payment_method: pm.id.clone(),
        method: pm.method.clone(),
        billing_details: pm.billing_details.clone(),
        status: if decline.is_some() {
            "failed"
        } else {
            "succeeded"
        }
        .into(),
        failure_code: decline.map(|d| d.code.to_string()),
        failure_message: decline.map(|d| d.message.to_string()),
        decline_code: decline.map(|d| d.decline_code.to_string()),
        balance_transaction: None,
        receipt_email: pi.receipt_email.clone(),
        disputed: false,
        refunds: Vec::new(),
        statement_descriptor_suffix: pi.statement_descriptor_suffix.clone(),
        three_d_secure,
    }
}

/// The balance transaction of a charge's whole amount.
fn record_balance(ctx: &mut Ctx, c: &mut Charge) {
    c.balance_transaction = Some(balance_transactions::record(
        ctx,
        balance_transactions::NewTxn {
            amount: c.amount,
            currency: &c.currency,
            fee: balance_transactions::card_fee(c.amount),
            source: &c.id,
            kind: "charge",
            reporting_category: "charge",
            description: c.description.clone(),
        },
    ));
}

/// Stores a charge that succeeded or failed and tells it (`charge.succeeded` / `charge.failed`).
fn announce(ctx: &mut Ctx, c: &Charge) {
    let v = save(ctx, c);
    if c.status == "failed" {
        ctx.store.count("charges_failed");
        ctx.emit("charge.failed", v, None);
    } else {
        ctx.store.count("charges_succeeded");
        ctx.emit("charge.succeeded", v, None);
    }
}

/// The charge of a debit that settles later: `pending`, captured, no balance transaction yet;
/// emits `charge.pending`.
pub fn pending(ctx: &mut Ctx, pi: &PaymentIntent, pm: &PaymentMethod) -> Charge {
    let mut c = new_charge(ctx, pi, pm, true, None, false);
    c.status = "pending".into();
    let v = save(ctx, &c);
    ctx.emit("charge.pending", v, None);
    c
}

/// A pending charge settles: succeeded (with its balance transaction) or failed with
/// `failure`; emits `charge.succeeded` or `charge.failed`.
pub fn settle(ctx: &mut Ctx, charge_id: &str, failure: Option<Decline>) -> ApiResult<Charge> {
    let mut c = get(ctx, charge_id, "charge")?;
    match failure {
        Some(d) => {
            c.status = "failed".into();
            c.captured = false;
            c.amount_captured = 0;
            c.failure_code = Some(d.code.to_string());
            c.failure_message = Some(d.message.to_string());
        }
        None => {
            c.status = "succeeded".into();
            record_balance(ctx, &mut c);
        }
    }
    announce(ctx, &c);
    Ok(c)
}

/// Captures `amount` of an authorised charge (the remainder is released, as Stripe shows it in
/// `amount_refunded`); emits `charge.captured`.
pub fn capture(ctx: &mut Ctx, charge_id: &str, amount: i64) -> ApiResult<Charge> {
    let mut c = get(ctx, charge_id, "charge")?;
    let before = render(ctx.store, &c);
    c.captured = true;
    c.amount_captured = amount;
    c.released = c.amount - amount;
    c.balance_transaction = Some(balance_transactions::record(
        ctx,
        balance_transactions::NewTxn {
            amount,
            currency: &c.currency,
            fee: balance_transactions::card_fee(amount),
            source: charge_id,
            kind: "charge",
            reporting_category: "charge",
            description: c.description.clone(),
        },
    ));
    let v = save(ctx, &c);
    let prev = previous_attributes(&before, &v);
    ctx.store.count("captures");
    ctx.emit("charge.captured", v, Some(prev));
    Ok(c)
}

/// Releases an uncaptured authorisation (cancel: `charge.refunded`; 7-day expiry:
/// `charge.expired`).
pub fn release(ctx: &mut Ctx, charge_id: &str, event: &str) -> ApiResult<Charge> {
    let mut c = get(ctx, charge_id, "charge")?;
    let before = render(ctx.store, &c);
    c.released = c.amount;
    let v = save(ctx, &c);
    let prev = previous_attributes(&before, &v);
    ctx.emit(event, v, Some(prev));
    Ok(c)
}

/// `GET /v1/charges/{id}`.
pub fn retrieve(ctx: &mut Ctx, id: &str, params: &Params) -> ApiResult<Value> {
    params.allow(&[])?;
    let c = get(ctx, id, "id")?;
    let v = render(ctx.store, &c);
    ctx.answer(v, params)
}

/// `POST /v1/charges/{id}`: description, metadata, receipt_email.
pub fn update(ctx: &mut Ctx, id: &str, params: &Params) -> ApiResult<Value> {
    params.allow(&["description", "metadata", "receipt_email"])?;
    let mut c = get(ctx, id, "id")?;
    let before = render(ctx.store, &c);
    if params.has("description") {
        c.description = params.str("description")?.map(String::from);
    }
    if params.has("receipt_email") {
        c.receipt_email = params.str("receipt_email")?.map(String::from);
    }
    if let Some(m) = params.metadata()? {
        update_metadata(&mut c.metadata, m);
    }
    let v = save(ctx, &c);
    let prev = previous_attributes(&before, &v);
    ctx.emit("charge.updated", v.clone(), Some(prev));
    ctx.answer(v, params)
}

/// `GET /v1/charges` (`payment_intent`, `customer` filters).
pub fn list_charges(ctx: &mut Ctx, params: &Params) -> ApiResult<Value> {
    params.allow(&[
        "limit",
        "starting_after",
        "ending_before",
        "payment_intent",
        "customer",
        "created",
    ])?;
    let pi = params.str("payment_intent")?;
    let customer = params.str("customer")?;
    let keep = |c: &Charge| {
        c.account == ctx.account && customer.is_none_or(|p| c.customer.as_deref() == Some(p))
    };
    let render = |c: &Charge| render(ctx.store, c);
    let mut v = list(
        &ctx.store.charges,
        Query {
            group: pi,
            keep: &keep,
            render: &render,
        },
        params,
        "/v1/charges",
    )?;
    ctx.store.expand(&ctx.account, &mut v, &params.expand())?;
    Ok(v)
}
