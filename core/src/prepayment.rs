//! Prepayment rules of a service: how much of its price a client pays when booking online
//! (the whole price, a percentage, or a fixed deposit), and whether that amount can be
//! charged at all, so a rule that lands below Stripe's minimum is refused when the merchant
//! saves it rather than discovered by a client.

use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ErrorCode};
use crate::limits::{check_chargeable, ChargeError};
use crate::money::{Money, MoneyError};

/// How much of a service's price is paid online.
///
/// On the wire: `{"type": "full"}`, `{"type": "percent", "percent": 30}`,
/// `{"type": "fixed", "amount": 1000}` (a deposit in the price's API minor units).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum PrepaymentRule {
    /// The whole price.
    #[default]
    Full,
    /// `percent`% of the price, rounded to the currency's step (1 to 100).
    Percent {
        /// The percentage, 1 to 100.
        percent: u32,
    },
    /// A fixed deposit in the price's currency, in API minor units.
    Fixed {
        /// The deposit, in API minor units of the price's currency.
        amount: i64,
    },
}

/// Why a prepayment rule cannot be used for a price.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrepaymentError {
    /// A percentage of 0 or above 100.
    #[error("The prepayment percentage must be between 1 and 100")]
    InvalidPercent,
    /// A deposit of zero or less, or larger than the price.
    #[error(
        "The deposit must be more than zero and no more than the price ({})",
        price
    )]
    InvalidDeposit {
        /// The service's price.
        price: Money,
    },
    /// The prepayment cannot be charged (below Stripe's minimum, above its maximum, not on
    /// the currency's step). For a service costing less than the minimum, online payment is
    /// impossible. Worded for the merchant setting the rule, with the prepayment it gives.
    #[error("{}", charge_message(*prepayment, error))]
    Charge {
        /// What the rule gives for the price.
        prepayment: Money,
        /// Why that cannot be charged.
        error: ChargeError,
    },
    /// The computation overflowed.
    #[error("the amount is too large")]
    Overflow,
}

impl PrepaymentError {
    /// The stable machine code for this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            PrepaymentError::InvalidPercent | PrepaymentError::InvalidDeposit { .. } => {
                ErrorCode::InvalidPrepayment
            }
            PrepaymentError::Charge { error, .. } => error.code(),
            PrepaymentError::Overflow => ErrorCode::InvalidAmount,
        }
    }
}

fn charge_message(prepayment: Money, error: &ChargeError) -> String {
    match error {
        ChargeError::TooSmall { minimum } => {
            format!("The prepayment, {prepayment}, is below Stripe's minimum of {minimum}")
        }
        ChargeError::TooLarge { maximum } => {
            format!("The prepayment, {prepayment}, is above Stripe's maximum of {maximum}")
        }
        other => format!("The prepayment, {prepayment}, cannot be charged: {other}"),
    }
}

impl From<MoneyError> for PrepaymentError {
    fn from(_: MoneyError) -> Self {
        PrepaymentError::Overflow
    }
}

impl From<PrepaymentError> for ApiError {
    fn from(e: PrepaymentError) -> ApiError {
        ApiError::new(e.code(), e.to_string()).with_param("prepayment")
    }
}

impl PrepaymentRule {
    /// The amount a client pays online for a service costing `price`; an error when the
    /// rule does not fit the price or the result cannot be charged
    /// ([`check_chargeable`]).
    pub fn prepayment(&self, price: Money) -> Result<Money, PrepaymentError> {
        let amount = match *self {
            PrepaymentRule::Full => price,
            PrepaymentRule::Percent { percent } => {
                if !(1..=100).contains(&percent) {
                    return Err(PrepaymentError::InvalidPercent);
                }
                price.checked_mul_percent(percent)?
            }
            PrepaymentRule::Fixed { amount } => {
                if amount <= 0 || amount > price.minor() {
                    return Err(PrepaymentError::InvalidDeposit { price });
                }
                Money::from_minor(amount, price.currency())
            }
        };
        check_chargeable(amount).map_err(|error| PrepaymentError::Charge {
            prepayment: amount,
            error,
        })?;
        Ok(amount)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::currency::Currency::{self, *};

    fn m(minor: i64, c: Currency) -> Money {
        Money::from_minor(minor, c)
    }

    #[test]
    fn each_rule_computes_its_share() {
        assert_eq!(
            PrepaymentRule::Full.prepayment(m(2500, Eur)),
            Ok(m(2500, Eur))
        );
        let thirty = PrepaymentRule::Percent { percent: 30 };
        assert_eq!(thirty.prepayment(m(2500, Eur)), Ok(m(750, Eur)));
        // Rounded to the currency's step: 30% of 1.230 KWD is 0.369, sent as 0.370.
        assert_eq!(thirty.prepayment(m(1230, Kwd)), Ok(m(370, Kwd)));
        let deposit = PrepaymentRule::Fixed { amount: 1000 };
        assert_eq!(deposit.prepayment(m(2500, Usd)), Ok(m(1000, Usd)));
        assert_eq!(deposit.prepayment(m(1000, Usd)), Ok(m(1000, Usd)));
    }

    #[test]
    fn below_minimum_is_refused_with_cores_message() {
        let err = PrepaymentRule::Percent { percent: 10 }
            .prepayment(m(400, Usd))
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::AmountTooSmall);
        assert_eq!(
            err.to_string(),
            "The prepayment, 0.40 USD, is below Stripe's minimum of 0.50 USD"
        );
        let api: ApiError = err.into();
        assert_eq!(api.param.as_deref(), Some("prepayment"));
        assert_eq!(
            PrepaymentRule::Full
                .prepayment(m(29, Gbp))
                .unwrap_err()
                .code(),
            ErrorCode::AmountTooSmall
        );
        assert!(PrepaymentRule::Full.prepayment(m(30, Gbp)).is_ok());
    }

    #[test]
    fn rules_that_do_not_fit_the_price() {
        for p in [0, 101, u32::MAX] {
            assert_eq!(
                PrepaymentRule::Percent { percent: p }.prepayment(m(5000, Eur)),
                Err(PrepaymentError::InvalidPercent)
            );
        }
        for amount in [0, -5, 5001] {
            let err = PrepaymentRule::Fixed { amount }
                .prepayment(m(5000, Eur))
                .unwrap_err();
            assert_eq!(err.code(), ErrorCode::InvalidPrepayment);
        }
        assert_eq!(
            PrepaymentRule::Fixed { amount: 105 }.prepayment(m(1000, Kwd)),
            Err(PrepaymentError::Charge {
                prepayment: m(105, Kwd),
                error: ChargeError::InvalidStep {
                    step: 10,
                    currency: Kwd
                }
            })
        );
    }

    #[test]
    fn wire_shape() {
        let rules = [
            (PrepaymentRule::Full, r#"{"type":"full"}"#),
            (
                PrepaymentRule::Percent { percent: 30 },
                r#"{"type":"percent","percent":30}"#,
            ),
            (
                PrepaymentRule::Fixed { amount: 1000 },
                r#"{"type":"fixed","amount":1000}"#,
            ),
        ];
        for (rule, json) in rules {
            assert_eq!(serde_json::to_string(&rule).unwrap(), json);
            assert_eq!(serde_json::from_str::<PrepaymentRule>(json).unwrap(), rule);
        }
        for bad in [
            r#"{"type":"percent"}"#,
            r#"{"type":"percent","percent":-1}"#,
            r#"{"type":"half"}"#,
            r#"{"type":"fixed","amount":"10.00"}"#,
        ] {
            assert!(
                serde_json::from_str::<PrepaymentRule>(bad).is_err(),
                "{bad}"
            );
        }
    }
}
