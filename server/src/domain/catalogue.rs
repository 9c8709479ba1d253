//! A merchant's service catalogue: name, price, prepayment rule (full, percent, fixed
//! deposit), optional cancellation fee, active flag. The prepayment is computed by core and
//! must be chargeable, so a rule that lands below Stripe's minimum is refused when saved
//! ("The prepayment, 0.40 USD, is below Stripe's minimum of 0.50 USD"), not discovered by a client.
//!
//! Amounts in the API: `{"amount": 2500, "currency": "eur"}` (API minor units), or a decimal
//! string for people, `"25.00"`, with `"currency": "eur"` beside it.

use serde::{Deserialize, Serialize};
use slotpay_core::{
    check_chargeable, maximum_charge, ApiError, Currency, ErrorCode, Money, PrepaymentRule,
};

use super::{double_option, load_merchant, new_id, parse_name, Checker, DomainError};
use crate::db::{self, ServiceRecord};
use crate::state::AppState;

const MAX_NAME: usize = 200;

/// An amount as sent: minor units with an optional currency, or a decimal string.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum AmountInput {
    /// `{"amount": 2500, "currency": "eur"}`.
    Minor {
        /// API minor units.
        amount: i64,
        /// Currency code; the service's when absent.
        currency: Option<String>,
    },
    /// `"25.00"` in the service's currency.
    Decimal(String),
}

/// A service to create, or the fields to change (absent fields are kept;
/// `"cancellation_fee": null` removes the fee).
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceInput {
    /// Shown to clients.
    pub name: Option<String>,
    /// The price.
    pub price: Option<AmountInput>,
    /// Currency of decimal amounts (and of the price when its object has none).
    pub currency: Option<String>,
    /// `{"type": "full"}`, `{"type": "percent", "percent": 30}`, `{"type": "fixed",
    /// "amount": 1000}`; full price when absent on creation.
    pub prepayment: Option<serde_json::Value>,
    /// Fee for a late cancellation or no-show.
    #[serde(default, deserialize_with = "double_option")]
    pub cancellation_fee: Option<Option<AmountInput>>,
    /// Offered for booking (default true).
    pub active: Option<bool>,
}

/// A service as the API shows it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ServiceView {
    /// `svc_...`.
    #[schema(value_type = crate::schemas::ServiceId)]
    pub id: String,
    /// Owner.
    #[schema(value_type = crate::schemas::MerchantId)]
    pub merchant_id: String,
    /// Name.
    pub name: String,
    /// Price.
    pub price: Money,
    /// The rule.
    pub prepayment: PrepaymentRule,
    /// What a client pays online, by the rule.
    pub prepayment_amount: Money,
    /// Cancellation or no-show fee.
    pub cancellation_fee: Option<Money>,
    /// Offered for booking.
    pub active: bool,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
}

/// The answer to a deletion.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ServiceDeleted {
    /// The service.
    #[schema(value_type = crate::schemas::ServiceId)]
    pub id: String,
    /// Always true.
    pub deleted: bool,
}

fn view(r: &ServiceRecord) -> ServiceView {
    // A stored rule was chargeable when saved; if Stripe's table changed since, the amount
    // is still shown and the payments code refuses it with core's message.
    let prepayment_amount = r.prepayment.prepayment(r.price).unwrap_or(r.price);
    ServiceView {
        id: r.id.clone(),
        merchant_id: r.merchant_id.clone(),
        name: r.name.clone(),
        price: r.price,
        prepayment: r.prepayment,
        prepayment_amount,
        cancellation_fee: r
            .cancellation_fee_amount
            .map(|a| Money::from_minor(a, r.price.currency())),
        active: r.active,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

fn parse_currency(text: &str, param: &str) -> Result<Currency, ApiError> {
    Currency::parse(text.trim()).map_err(|e| ApiError::from(e).with_param(param))
}

/// The currency an input's amounts are in: the price object's, the `currency` field, or the
/// stored one, which must agree.
fn resolve_currency(input: &ServiceInput, stored: Option<Currency>) -> Result<Currency, ApiError> {
    let from_price = match &input.price {
        Some(AmountInput::Minor {
            currency: Some(c), ..
        }) => Some(parse_currency(c, "price.currency")?),
        _ => None,
    };
    let from_field = match &input.currency {
        Some(c) => Some(parse_currency(c, "currency")?),
        None => None,
    };
    match (from_price, from_field) {
        (Some(a), Some(b)) if a != b => Err(ApiError::new(
            ErrorCode::InvalidCurrency,
            format!("The price is in {a} but currency says {b}"),
        )
        .with_param("currency")),
        (Some(c), _) | (None, Some(c)) => Ok(c),
        (None, None) => stored.ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidCurrency,
                "Give the price's currency (e.g. \"eur\")",
            )
            .with_param("currency")
        }),
    }
}

/// An amount in `currency`; zero and negative amounts refused.
fn parse_amount(input: &AmountInput, currency: Currency, param: &str) -> Result<Money, ApiError> {
    let money = match input {
        AmountInput::Minor {
            amount,
            currency: c,
        } => {
            if let Some(c) = c {
                let given = parse_currency(c, &format!("{param}.currency"))?;
                if given != currency {
                    return Err(ApiError::new(
                        ErrorCode::InvalidCurrency,
                        format!("Amounts of a service are all in {currency}, not {given}"),
                    )
                    .with_param(format!("{param}.currency")));
                }
            }
            Money::from_minor(*amount, currency)
        }
        AmountInput::Decimal(text) => {
            Money::parse(text.trim(), currency).map_err(|e| ApiError::from(e).with_param(param))?
        }
    };
    if !money.is_positive() {
        return Err(ApiError::new(
            ErrorCode::InvalidAmount,
            "The amount must be greater than zero",
        )
        .with_param(param));
    }
    let max = maximum_charge(currency);
    if money.minor() > max.minor() {
        return Err(ApiError::new(
            ErrorCode::AmountTooLarge,
            format!("The amount must be no more than {max}"),
        )
        .with_param(param));
    }
    Ok(money)
}

fn parse_rule(value: &serde_json::Value) -> Result<PrepaymentRule, ApiError> {
    serde_json::from_value(value.clone()).map_err(|_| {
        ApiError::new(
            ErrorCode::InvalidPrepayment,
            "The prepayment must be {\"type\": \"full\"}, {\"type\": \"percent\", \"percent\": 1 to 100} or {\"type\": \"fixed\", \"amount\": minor units}",
        )
        .with_param("prepayment")
    })
}

/// Checks an input over the stored service (if any) and returns the record to save.
fn build(
    input: &ServiceInput,
    existing: Option<&ServiceRecord>,
    merchant_id: &str,
) -> Result<ServiceRecord, DomainError> {
    let mut c = Checker::default();
    let stored_currency = existing.map(|r| r.price.currency());
    let name = match (&input.name, existing) {
        (Some(n), _) => c.check(parse_name(n, "name", MAX_NAME)),
        (None, Some(r)) => Some(r.name.clone()),
        (None, None) => c.check(parse_name("", "name", MAX_NAME)),
    };
    let currency = c.check(resolve_currency(input, stored_currency));
    let price = match (currency, &input.price, existing) {
        (Some(cur), Some(p), _) => c.check(parse_amount(p, cur, "price")),
        (Some(cur), None, Some(r)) if cur == r.price.currency() => Some(r.price),
        (Some(_), None, _) => {
            c.push(ApiError::new(ErrorCode::InvalidAmount, "Give the price").with_param("price"));
            None
        }
        (None, ..) => None,
    };
    let rule = match (&input.prepayment, existing) {
        (Some(v), _) => c.check(parse_rule(v)),
        (None, Some(r)) => Some(r.prepayment),
        (None, None) => Some(PrepaymentRule::Full),
    };
    if let (Some(price), Some(rule)) = (price, rule) {
        c.check(rule.prepayment(price).map_err(ApiError::from));
    }
    let fee = match (currency, &input.cancellation_fee, existing) {
        (Some(cur), Some(Some(f)), _) => c
            .check(parse_amount(f, cur, "cancellation_fee").and_then(|fee| {
                check_chargeable(fee)
                    .map(|()| Some(fee))
                    .map_err(|e| ApiError::from(e).with_param("cancellation_fee"))
            }))
            .flatten(),
        (_, Some(None), _) => None,
        (_, None, Some(r)) => r
            .cancellation_fee_amount
            .and_then(|a| currency.map(|cur| Money::from_minor(a, cur))),
        _ => None,
    };
    c.finish()?;
    let (Some(name), Some(price), Some(rule)) = (name, price, rule) else {
        return Err(DomainError::Internal("checked input lost a field".into()));
    };
    let now = db::now();
    Ok(ServiceRecord {
        id: existing.map_or_else(|| new_id("svc_"), |r| r.id.clone()),
        merchant_id: merchant_id.to_owned(),
        name,
        price,
        prepayment: rule,
        cancellation_fee_amount: fee.map(|f| f.minor()),
        active: input.active.or(existing.map(|r| r.active)).unwrap_or(true),
        created_at: existing.map_or(now, |r| r.created_at),
        updated_at: now,
    })
}

/// Adds a service.
pub async fn create(
    state: &AppState,
    merchant_id: &str,
    input: ServiceInput,
) -> Result<ServiceView, DomainError> {
    load_merchant(state, merchant_id).await?;
    let record = build(&input, None, merchant_id)?;
    state.db.insert_service(&record).await?;
    Ok(view(&record))
}

/// A merchant's services.
pub async fn list(state: &AppState, merchant_id: &str) -> Result<Vec<ServiceView>, DomainError> {
    load_merchant(state, merchant_id).await?;
    Ok(state
        .db
        .list_services(merchant_id)
        .await?
        .iter()
        .map(view)
        .collect())
}

/// One service.
pub async fn get(
    state: &AppState,
    merchant_id: &str,
    id: &str,
) -> Result<ServiceView, DomainError> {
    let r = state
        .db
        .get_service(merchant_id, id)
        .await?
        .ok_or(DomainError::NotFound("service"))?;
    Ok(view(&r))
}

/// Changes the given fields; the result is checked as a whole (a new price re-checks the
/// stored rule).
pub async fn update(
    state: &AppState,
    merchant_id: &str,
    id: &str,
    input: ServiceInput,
) -> Result<ServiceView, DomainError> {
    let existing = state
        .db
        .get_service(merchant_id, id)
        .await?
        .ok_or(DomainError::NotFound("service"))?;
    let record = build(&input, Some(&existing), merchant_id)?;
    if !state.db.update_service(&record).await? {
        return Err(DomainError::NotFound("service"));
    }
    Ok(view(&record))
}

/// Deletes a service.
pub async fn delete(
    state: &AppState,
    merchant_id: &str,
    id: &str,
) -> Result<ServiceDeleted, DomainError> {
    if !state.db.delete_service(merchant_id, id).await? {
        return Err(DomainError::NotFound("service"));
    }
    Ok(ServiceDeleted {
        id: id.to_owned(),
        deleted: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn input(v: serde_json::Value) -> ServiceInput {
        serde_json::from_value(v).unwrap()
    }

    fn first_error(v: serde_json::Value) -> ApiError {
        match build(&input(v), None, "mer_1") {
            Err(DomainError::Invalid(e)) => e.into_first(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn both_amount_forms() {
        let a = build(
            &input(json!({"name": "Cut", "price": {"amount": 2500, "currency": "eur"}})),
            None,
            "m",
        )
        .unwrap();
        let b = build(
            &input(json!({"name": "Cut", "price": "25.00", "currency": "EUR"})),
            None,
            "m",
        )
        .unwrap();
        assert_eq!(a.price, Money::from_minor(2500, Currency::Eur));
        assert_eq!(b.price, Money::from_minor(2500, Currency::Eur));
        assert!(a.active && a.prepayment == PrepaymentRule::Full);
    }

    #[test]
    fn refusals() {
        let e = first_error(json!({"name": "Nail", "price": "4.00", "currency": "usd",
            "prepayment": {"type": "percent", "percent": 10}}));
        assert_eq!(
            (e.code, e.message.as_str()),
            (
                ErrorCode::AmountTooSmall,
                "The prepayment, 0.40 USD, is below Stripe's minimum of 0.50 USD"
            )
        );
        assert_eq!(e.param.as_deref(), Some("prepayment"));
        let e = first_error(json!({"name": "x", "price": "25.001", "currency": "eur"}));
        assert_eq!(
            (e.code, e.param.as_deref()),
            (ErrorCode::InvalidAmount, Some("price"))
        );
        let e = first_error(
            json!({"name": "x", "price": {"amount": 100, "currency": "eur"}, "currency": "usd"}),
        );
        assert_eq!(e.code, ErrorCode::InvalidCurrency);
        let e = first_error(
            json!({"name": "x", "price": "10", "currency": "eur", "prepayment": {"type": "half"}}),
        );
        assert_eq!(e.code, ErrorCode::InvalidPrepayment);
        let e = first_error(
            json!({"name": "x", "price": "10", "currency": "eur", "cancellation_fee": "0.20"}),
        );
        assert_eq!(
            (e.code, e.param.as_deref()),
            (ErrorCode::AmountTooSmall, Some("cancellation_fee"))
        );
        let e = first_error(json!({"price": "10", "currency": "eur"}));
        assert_eq!(e.param.as_deref(), Some("name"));
        let e = first_error(json!({"name": "x", "price": {"amount": -5}, "currency": "eur"}));
        assert_eq!(e.code, ErrorCode::InvalidAmount);
    }

    #[test]
    fn edits_keep_and_recheck() {
        let r = build(
            &input(json!({"name": "Cut", "price": "25.00", "currency": "usd",
            "prepayment": {"type": "fixed", "amount": 1000}, "cancellation_fee": "5"})),
            None,
            "m",
        )
        .unwrap();
        assert_eq!(r.cancellation_fee_amount, Some(500));
        let edited = build(&input(json!({"name": "Cut & dry"})), Some(&r), "m").unwrap();
        assert_eq!(
            (
                edited.price.minor(),
                edited.cancellation_fee_amount,
                edited.id.as_str()
            ),
            (2500, Some(500), r.id.as_str())
        );
        // A lower price under the fixed deposit is refused as a whole.
        match build(&input(json!({"price": "8.00"})), Some(&r), "m") {
            Err(DomainError::Invalid(e)) => {
                assert_eq!(e.first().code, ErrorCode::InvalidPrepayment)
            }
            other => panic!("{other:?}"),
        }
        let no_fee = build(&input(json!({"cancellation_fee": null})), Some(&r), "m").unwrap();
        assert_eq!(no_fee.cancellation_fee_amount, None);
    }
}
