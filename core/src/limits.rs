//! Whether an amount may be charged: Stripe's minimum charge per currency, its maximum
//! (a number of digits), and each currency's step. The widget asks before any network
//! call, the server again before it talks to Stripe.

use crate::currency::Currency;
use crate::error::{ApiError, ErrorCode};
use crate::money::Money;

/// Stripe's minimum charge amounts, in API minor units, for the 24 settlement currencies
/// its documentation lists. For other currencies Stripe checks the converted amount
/// against the settlement currency's minimum, which only Stripe can do.
// `175_00` is written as major_minor so each row reads like Stripe's table (175.00 HUF).
#[allow(clippy::inconsistent_digit_grouping)]
const MINIMUMS: [(Currency, i64); 24] = [
    (Currency::Usd, 50),
    (Currency::Aed, 2_00),
    (Currency::Aud, 50),
    (Currency::Bgn, 1_00),
    (Currency::Brl, 50),
    (Currency::Cad, 50),
    (Currency::Chf, 50),
    (Currency::Czk, 15_00),
    (Currency::Dkk, 2_50),
    (Currency::Eur, 50),
    (Currency::Gbp, 30),
    (Currency::Hkd, 4_00),
    (Currency::Huf, 175_00),
    (Currency::Inr, 50),
    (Currency::Jpy, 50),
    (Currency::Mxn, 10_00),
    (Currency::Myr, 2_00),
    (Currency::Nok, 3_00),
    (Currency::Nzd, 50),
    (Currency::Pln, 2_00),
    (Currency::Ron, 2_00),
    (Currency::Sek, 3_00),
    (Currency::Sgd, 50),
    (Currency::Thb, 10_00),
];

/// Stripe's minimum charge in `currency`, or `None` when its table has no row for it.
pub fn minimum_charge(currency: Currency) -> Option<Money> {
    MINIMUMS
        .iter()
        .find(|(c, _)| *c == currency)
        .map(|&(c, minor)| Money::from_minor(minor, c))
}

/// The largest amount Stripe accepts in `currency`: the `amount` integer may have at most
/// 8 digits (12 for IDR, 9 for INR). The result is rounded down to the currency's step,
/// so it is itself chargeable (99999999 for USD, 99999990 for KWD, 99999900 for ISK).
pub fn maximum_charge(currency: Currency) -> Money {
    let digits = match currency {
        Currency::Idr => 12,
        Currency::Inr => 9,
        _ => 8,
    };
    let limit = 10_i64.pow(digits) - 1;
    Money::from_minor(limit - limit % currency.step(), currency)
}

/// Why an amount cannot be charged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChargeError {
    /// Zero or negative.
    #[error("The amount must be greater than zero")]
    NotPositive,
    /// Below Stripe's minimum for the currency.
    #[error("Your payment must be no less than {} {}", minimum.to_major_string(), minimum.currency())]
    TooSmall {
        /// The smallest chargeable amount.
        minimum: Money,
    },
    /// Above Stripe's maximum for the currency.
    #[error("Your payment must be no more than {} {}", maximum.to_major_string(), maximum.currency())]
    TooLarge {
        /// The largest chargeable amount.
        maximum: Money,
    },
    /// Not a multiple of the currency's step (a three-decimal amount whose last digit is
    /// not 0, an ISK or UGX amount with a fraction of a unit).
    #[error("{currency} amounts must be a multiple of {} {currency}", Money::from_minor(*step, *currency).to_major_string())]
    InvalidStep {
        /// The step, in API minor units.
        step: i64,
        /// The amount's currency.
        currency: Currency,
    },
}

impl ChargeError {
    /// The stable machine code for this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            ChargeError::NotPositive => ErrorCode::InvalidAmount,
            ChargeError::TooSmall { .. } => ErrorCode::AmountTooSmall,
            ChargeError::TooLarge { .. } => ErrorCode::AmountTooLarge,
            ChargeError::InvalidStep { .. } => ErrorCode::InvalidAmountStep,
        }
    }
}

/// May `amount` be charged? Checks, in this order: positive, Stripe's minimum (when the
/// currency has one), Stripe's maximum, the currency's step.
pub fn check_chargeable(amount: Money) -> Result<(), ChargeError> {
    let currency = amount.currency();
    if !amount.is_positive() {
        return Err(ChargeError::NotPositive);
    }
    if let Some(minimum) = minimum_charge(currency) {
        if amount.minor() < minimum.minor() {
            return Err(ChargeError::TooSmall { minimum });
        }
    }
    let maximum = maximum_charge(currency);
    if amount.minor() > maximum.minor() {
        return Err(ChargeError::TooLarge { maximum });
    }
    let step = currency.step();
    if amount.minor() % step != 0 {
        return Err(ChargeError::InvalidStep { step, currency });
    }
    Ok(())
}

impl From<ChargeError> for ApiError {
    fn from(e: ChargeError) -> ApiError {
        ApiError::new(e.code(), e.to_string()).with_param("amount")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Currency::*;

    fn parse(s: &str, c: Currency) -> Money {
        Money::parse(s, c).unwrap()
    }

    /// Every row of the table: the minimum itself passes, one minor unit less is refused
    /// with the minimum in the message.
    #[test]
    fn every_minimum_row() {
        let rows = [
            ("0.50", Usd, "0.50 USD"),
            ("2.00", Aed, "2.00 AED"),
            ("0.50", Aud, "0.50 AUD"),
            ("1.00", Bgn, "1.00 BGN"),
            ("0.50", Brl, "0.50 BRL"),
            ("0.50", Cad, "0.50 CAD"),
            ("0.50", Chf, "0.50 CHF"),
            ("15.00", Czk, "15.00 CZK"),
            ("2.50", Dkk, "2.50 DKK"),
            ("0.50", Eur, "0.50 EUR"),
            ("0.30", Gbp, "0.30 GBP"),
            ("4.00", Hkd, "4.00 HKD"),
            ("175.00", Huf, "175.00 HUF"),
            ("0.50", Inr, "0.50 INR"),
            ("50", Jpy, "50 JPY"),
            ("10", Mxn, "10.00 MXN"),
            ("2", Myr, "2.00 MYR"),
            ("3.00", Nok, "3.00 NOK"),
            ("0.50", Nzd, "0.50 NZD"),
            ("2.00", Pln, "2.00 PLN"),
            ("2.00", Ron, "2.00 RON"),
            ("3.00", Sek, "3.00 SEK"),
            ("0.50", Sgd, "0.50 SGD"),
            ("10", Thb, "10.00 THB"),
        ];
        assert_eq!(rows.len(), MINIMUMS.len());
        for (text, currency, shown) in rows {
            let minimum = parse(text, currency);
            assert_eq!(minimum_charge(currency), Some(minimum), "{currency}");
            assert_eq!(check_chargeable(minimum), Ok(()), "{currency}");
            let below = Money::from_minor(minimum.minor() - 1, currency);
            let err = check_chargeable(below).unwrap_err();
            assert_eq!(err, ChargeError::TooSmall { minimum });
            assert_eq!(
                err.to_string(),
                format!("Your payment must be no less than {shown}")
            );
            assert_eq!(err.code(), ErrorCode::AmountTooSmall);
        }
    }

    #[test]
    fn seed_wordings() {
        let msg = |s: &str, c| check_chargeable(parse(s, c)).unwrap_err().to_string();
        assert_eq!(
            msg("0.49", Usd),
            "Your payment must be no less than 0.50 USD"
        );
        assert_eq!(msg("49", Jpy), "Your payment must be no less than 50 JPY");
        assert_eq!(
            msg("0.29", Gbp),
            "Your payment must be no less than 0.30 GBP"
        );
        assert_eq!(
            msg("174.99", Huf),
            "Your payment must be no less than 175.00 HUF"
        );
        assert_eq!(
            msg("1000000", Usd),
            "Your payment must be no more than 999999.99 USD"
        );
    }

    #[test]
    fn currencies_without_a_minimum() {
        assert_eq!(minimum_charge(Kwd), None);
        assert_eq!(minimum_charge(Isk), None);
        assert_eq!(check_chargeable(Money::from_minor(1, Cop)), Ok(()));
    }

    #[test]
    fn not_positive() {
        for minor in [0, -1, i64::MIN] {
            let err = check_chargeable(Money::from_minor(minor, Usd)).unwrap_err();
            assert_eq!(err, ChargeError::NotPositive);
            assert_eq!(err.code(), ErrorCode::InvalidAmount);
        }
    }

    #[test]
    fn maximums() {
        assert_eq!(maximum_charge(Usd).minor(), 99_999_999);
        assert_eq!(maximum_charge(Jpy).minor(), 99_999_999);
        assert_eq!(maximum_charge(Idr).minor(), 999_999_999_999);
        assert_eq!(maximum_charge(Inr).minor(), 999_999_999);
        assert_eq!(maximum_charge(Kwd).minor(), 99_999_990);
        assert_eq!(maximum_charge(Isk).minor(), 99_999_900);
        for &c in Currency::ALL {
            let max = maximum_charge(c);
            assert_eq!(check_chargeable(max), Ok(()), "{c}");
            let over = Money::from_minor(max.minor() + c.step(), c);
            let err = check_chargeable(over).unwrap_err();
            assert_eq!(err, ChargeError::TooLarge { maximum: max }, "{c}");
            assert_eq!(err.code(), ErrorCode::AmountTooLarge);
        }
        assert_eq!(
            check_chargeable(Money::from_minor(100_000_000, Jpy))
                .unwrap_err()
                .to_string(),
            "Your payment must be no more than 99999999 JPY"
        );
        assert_eq!(check_chargeable(parse("9999999999.99", Idr)), Ok(()));
        assert_eq!(check_chargeable(parse("9999999.99", Inr)), Ok(()));
    }

    #[test]
    fn zero_decimal_class() {
        assert_eq!(check_chargeable(parse("50", Jpy)), Ok(()));
        assert_eq!(check_chargeable(parse("1", Krw)), Ok(()));
        assert_eq!(check_chargeable(Money::from_minor(1, Vnd)), Ok(()));
    }

    #[test]
    fn three_decimal_class_needs_a_final_zero() {
        assert_eq!(check_chargeable(parse("5.120", Kwd)), Ok(()));
        assert_eq!(check_chargeable(parse("0.010", Bhd)), Ok(()));
        let err = check_chargeable(parse("5.125", Kwd)).unwrap_err();
        assert_eq!(
            err,
            ChargeError::InvalidStep {
                step: 10,
                currency: Kwd
            }
        );
        assert_eq!(
            err.to_string(),
            "KWD amounts must be a multiple of 0.010 KWD"
        );
        assert_eq!(err.code(), ErrorCode::InvalidAmountStep);
        for c in [Bhd, Jod, Omr, Tnd] {
            assert!(matches!(
                check_chargeable(Money::from_minor(1001, c)),
                Err(ChargeError::InvalidStep { step: 10, .. })
            ));
        }
    }

    #[test]
    fn isk_and_ugx_are_whole_units() {
        assert_eq!(check_chargeable(parse("5", Isk)), Ok(()));
        assert_eq!(check_chargeable(Money::from_minor(500, Ugx)), Ok(()));
        let err = check_chargeable(Money::from_minor(550, Isk)).unwrap_err();
        assert_eq!(err.to_string(), "ISK amounts must be a multiple of 1 ISK");
        assert!(matches!(
            check_chargeable(Money::from_minor(1, Ugx)),
            Err(ChargeError::InvalidStep { step: 100, .. })
        ));
    }

    #[test]
    fn two_decimal_class() {
        assert_eq!(check_chargeable(parse("12.34", Eur)), Ok(()));
        assert_eq!(check_chargeable(Money::from_minor(1, Cop)), Ok(()));
    }
}
