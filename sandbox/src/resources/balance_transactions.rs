//! Balance transactions: a charge's capture, a refund, a dispute's withdrawal and reinstatement
//! (`GET /v1/balance_transactions/{id}`, and `balance_transaction` on charges, expandable).

use serde_json::{json, Value};

use crate::errors::{ApiError, ApiResult};
use crate::form::Params;
use crate::state::{BalanceTransaction, Ctx, Render, Store};

/// Funds become available after this long (Stripe's default US schedule is two days; the exact
/// value does not matter to slotpay).
const AVAILABLE_AFTER: i64 = 2 * 86_400;

/// Stripe's fee for a card charge in test mode: 2.9% + 30 minor units.
pub fn card_fee(amount: i64) -> i64 {
    (amount * 29 + 500) / 1000 + 30
}

/// What a new balance transaction records.
pub struct NewTxn<'a> {
    /// Gross amount (negative for money leaving the balance).
    pub amount: i64,
    /// Currency.
    pub currency: &'a str,
    /// Stripe's fee.
    pub fee: i64,
    /// The charge, refund or dispute it is about.
    pub source: &'a str,
    /// `charge`, `refund`, `adjustment`.
    pub kind: &'a str,
    /// `charge`, `refund`, `dispute`, `dispute_reversal`.
    pub reporting_category: &'a str,
    /// Description.
    pub description: Option<String>,
}

/// Records a balance transaction and returns its id.
pub fn record(ctx: &mut Ctx, t: NewTxn) -> String {
    let id = ctx.id("txn_");
    let seq = ctx.store.next_seq();
    ctx.store.balance_transactions.insert(
        id.clone(),
        BalanceTransaction {
            id: id.clone(),
            account: ctx.account.clone(),
            seq,
            created: ctx.now,
            amount: t.amount,
            currency: t.currency.to_string(),
            fee: t.fee,
            source: t.source.to_string(),
            kind: t.kind.to_string(),
            reporting_category: t.reporting_category.to_string(),
            description: t.description,
        },
    );
    id
}

/// Renders a balance transaction.
pub fn render(t: &BalanceTransaction) -> Value {
    let fee_details: Vec<Value> = if t.fee != 0 {
        vec![
            json!({"amount": t.fee, "application": null, "currency": t.currency, "description": "Stripe processing fees", "type": "stripe_fee"}),
        ]
    } else {
        vec![]
    };
    json!({
        "id": t.id,
        "object": "balance_transaction",
        "amount": t.amount,
        "available_on": t.created + AVAILABLE_AFTER,
        "balance_type": "payments",
        "created": t.created,
        "currency": t.currency,
        "description": t.description,
        "exchange_rate": null,
        "fee": t.fee,
        "fee_details": fee_details,
        "net": t.amount - t.fee,
        "reporting_category": t.reporting_category,
        "source": t.source,
        "status": "pending",
        "type": t.kind,
    })
}

impl Render for BalanceTransaction {
    fn render(&self, _store: &Store) -> Value {
        render(self)
    }
}

/// `GET /v1/balance_transactions/{id}`.
pub fn retrieve(ctx: &mut Ctx, id: &str, params: &Params) -> ApiResult<Value> {
    let t = ctx
        .store
        .balance_transactions
        .get(id)
        .filter(|t| t.account == ctx.account)
        .ok_or_else(|| ApiError::missing("balance transaction", id, Some("id")))?;
    let v = render(t);
    ctx.answer(v, params)
}
