//! Disputes: opened on a charge by the control API (or the 4000000000000259 card), funds
//! withdrawn, then closed won (funds reinstated) or lost; `GET /v1/disputes[/{id}]`.

use serde_json::{json, Map, Value};

use crate::errors::{ApiError, ApiResult};
use crate::form::Params;
use crate::resources::{balance_transactions, charges};
use crate::state::{Ctx, Dispute, Render, Store};
use crate::table::{list, Query};

/// Stripe's dispute fee in test mode (15.00 in the charge's currency).
const DISPUTE_FEE: i64 = 1500;

/// Evidence is due this long after the dispute opens.
const EVIDENCE_WINDOW: i64 = 7 * 86_400;

/// Renders a dispute like Stripe's object.
pub fn render(store: &Store, d: &Dispute) -> Value {
    let evidence: Map<String, Value> = [
        "access_activity_log",
        "billing_address",
        "cancellation_policy",
        "cancellation_policy_disclosure",
        "cancellation_rebuttal",
        "customer_communication",
        "customer_email_address",
        "customer_name",
        "customer_purchase_ip",
        "customer_signature",
        "duplicate_charge_documentation",
        "duplicate_charge_explanation",
        "duplicate_charge_id",
        "product_description",
        "receipt",
        "refund_policy",
        "refund_policy_disclosure",
        "refund_refusal_explanation",
        "service_date",
        "service_documentation",
        "shipping_address",
        "shipping_carrier",
        "shipping_date",
        "shipping_documentation",
        "shipping_tracking_number",
        "uncategorized_file",
        "uncategorized_text",
    ]
    .iter()
    .map(|k| (k.to_string(), Value::Null))
    .chain(std::iter::once((
        "enhanced_evidence".to_string(),
        json!({}),
    )))
    .collect();
    let txns: Vec<Value> = d
        .balance_transactions
        .iter()
        .filter_map(|id| store.balance_transactions.get(id))
        .map(balance_transactions::render)
        .collect();
    json!({
        "id": d.id,
        "object": "dispute",
        "amount": d.amount,
        "balance_transactions": txns,
        "charge": d.charge,
        "created": d.created,
        "currency": d.currency,
        "enhanced_eligibility_types": [],
        "evidence": evidence,
        "evidence_details": {
            "due_by": d.created + EVIDENCE_WINDOW,
            "enhanced_eligibility": {},
            "has_evidence": false,
            "past_due": false,
            "submission_count": 0,
        },
        "is_charge_refundable": false,
        "livemode": false,
        "metadata": d.metadata,
        "payment_intent": d.payment_intent,
        "payment_method_details": {
            "card": {"brand": d.brand, "case_type": "chargeback", "network_reason_code": "10.4"},
            "type": "card",
        },
        "reason": d.reason,
        "status": d.status,
    })
}

impl Render for Dispute {
    fn render(&self, store: &Store) -> Value {
        render(store, self)
    }
}

fn get(ctx: &Ctx, id: &str) -> ApiResult<Dispute> {
    ctx.store
        .disputes
        .get(id)
        .filter(|d| d.account == ctx.account)
        .cloned()
        .ok_or_else(|| ApiError::missing("dispute", id, Some("dispute")))
}

/// Opens a dispute on a charge: `charge.dispute.created`, then `charge.dispute.funds_withdrawn`.
pub fn open(ctx: &mut Ctx, charge_id: &str, reason: &str) -> Option<Dispute> {
    let mut charge = charges::get(ctx, charge_id, "charge").ok()?;
    if charge.status != "succeeded" || charge.disputed {
        return None;
    }
    let amount = charge.amount_captured.max(charge.amount) - charge.released;
    let id = ctx.id("dp_");
    let seq = ctx.store.next_seq();
    charge.disputed = true;
    charges::save(ctx, &charge);
    let mut d = Dispute {
        id: id.clone(),
        account: ctx.account.clone(),
        seq,
        created: ctx.now,
        amount,
        currency: charge.currency.clone(),
        charge: charge_id.to_string(),
        payment_intent: charge.payment_intent.clone(),
        reason: reason.to_string(),
        status: "needs_response".into(),
        balance_transactions: Vec::new(),
        metadata: Map::new(),
        brand: charge
            .method
            .card()
            .map_or_else(|| charge.method.kind().to_owned(), |c| c.brand.clone()),
    };
    ctx.store.disputes.insert(id.clone(), d.clone());
    ctx.store.count("disputes");
    let v = render(ctx.store, &d);
    ctx.emit("charge.dispute.created", v, None);
    let txn = balance_transactions::record(
        ctx,
        balance_transactions::NewTxn {
            amount: -amount,
            currency: &d.currency,
            fee: DISPUTE_FEE,
            source: &id,
            kind: "adjustment",
            reporting_category: "dispute",
            description: Some(format!("Chargeback withdrawal for {charge_id}")),
        },
    );
    d.balance_transactions.push(txn);
    ctx.store.disputes.insert(id.clone(), d.clone());
    let v = render(ctx.store, &d);
    ctx.emit("charge.dispute.funds_withdrawn", v, None);
    Some(d)
}

/// Closes a dispute `won` (funds reinstated) or `lost`: `charge.dispute.closed` (and
/// `charge.dispute.funds_reinstated` when won).
pub fn close(ctx: &mut Ctx, id: &str, outcome: &str) -> ApiResult<Dispute> {
    let mut d = get(ctx, id)?;
    if matches!(d.status.as_str(), "won" | "lost") {
        return Err(ApiError::invalid(format!(
            "This dispute is already closed ({}).",
            d.status
        )));
    }
    let before = render(ctx.store, &d);
    d.status = outcome.to_string();
    if outcome == "won" {
        let txn = balance_transactions::record(
            ctx,
            balance_transactions::NewTxn {
                amount: d.amount,
                currency: &d.currency,
                fee: -DISPUTE_FEE,
                source: id,
                kind: "adjustment",
                reporting_category: "dispute_reversal",
                description: Some(format!("Chargeback reversal for {}", d.charge)),
            },
        );
        d.balance_transactions.push(txn);
    }
    ctx.store.disputes.insert(id.to_string(), d.clone());
    let v = render(ctx.store, &d);
    let prev = json!({"status": before["status"]});
    ctx.emit("charge.dispute.closed", v.clone(), Some(prev));
    if outcome == "won" {
        ctx.emit("charge.dispute.funds_reinstated", v, None);
    }
    Ok(d)
}

/// `GET /v1/disputes/{id}`.
pub fn retrieve(ctx: &mut Ctx, id: &str, params: &Params) -> ApiResult<Value> {
    params.allow(&[])?;
    let d = get(ctx, id)?;
    let v = render(ctx.store, &d);
    ctx.answer(v, params)
}

/// `GET /v1/disputes` (`charge`, `payment_intent` filters).
pub fn list_disputes(ctx: &mut Ctx, params: &Params) -> ApiResult<Value> {
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
    let keep = |d: &Dispute| {
        d.account == ctx.account && pi.is_none_or(|p| d.payment_intent.as_deref() == Some(p))
    };
    let render = |d: &Dispute| render(ctx.store, d);
    list(
        &ctx.store.disputes,
        Query {
            group: charge,
            keep: &keep,
            render: &render,
        },
        params,
        "/v1/disputes",
    )
}
