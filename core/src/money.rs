//! `Money`: an amount in integer API minor units with its currency; checked arithmetic,
//! parsing of typed decimal amounts, and display helpers.
//!
//! Floating point never takes part in arithmetic. The one `f64` conversion
//! ([`Money::major_units_f64_for_display`]) exists only to hand a number to the browser's
//! `Intl.NumberFormat` for locale formatting.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::currency::Currency;
use crate::error::{ApiError, ErrorCode};

/// An amount of money: `i64` in the currency's API minor unit (cents for USD, yen for JPY,
/// fils for KWD, hundredths of a króna for ISK), plus the currency.
///
/// Serialises as `{"amount": 1250, "currency": "usd"}`, the shape of Stripe's objects.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Money {
    #[serde(rename = "amount")]
    minor: i64,
    currency: Currency,
}

/// Arithmetic on two amounts that cannot be done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// The two amounts are in different currencies.
    #[error("cannot combine {left} and {right} amounts")]
    CurrencyMismatch {
        /// Currency of the left operand.
        left: Currency,
        /// Currency of the right operand.
        right: Currency,
    },
    /// The result does not fit in an `i64` of minor units.
    #[error("the amount is too large")]
    Overflow,
}

impl MoneyError {
    /// The stable machine code for this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            MoneyError::CurrencyMismatch { .. } => ErrorCode::InvalidCurrency,
            MoneyError::Overflow => ErrorCode::InvalidAmount,
        }
    }
}

/// Why a typed amount (`"12.50"`) is not an amount of the currency.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    /// Nothing was typed.
    #[error("enter an amount")]
    Empty,
    /// Not a plain decimal number: only digits and one `.` are accepted (no `,`, sign,
    /// exponent or spaces).
    #[error("the amount must be a number such as 12.50")]
    Invalid,
    /// The amount starts with `-`.
    #[error("the amount cannot be negative")]
    Negative,
    /// More decimals than the currency shows.
    #[error("{amount} {currency} has too many decimals: {}", allowed_decimals(*currency, *max))]
    TooManyDecimals {
        /// The amount as typed (shortened to 32 characters).
        amount: String,
        /// The currency it was typed for.
        currency: Currency,
        /// The number of decimals the currency allows.
        max: u32,
    },
    /// The amount does not fit in an `i64` of minor units.
    #[error("the amount is too large")]
    Overflow,
}

fn allowed_decimals(currency: Currency, max: u32) -> String {
    match max {
        0 => format!("{currency} allows no decimals"),
        n => format!("{currency} allows {n}"),
    }
}

impl AmountError {
    /// The stable machine code for this error.
    pub fn code(&self) -> ErrorCode {
        ErrorCode::InvalidAmount
    }
}

impl Money {
    /// An amount of `minor` API minor units of `currency` (`from_minor(1250, Usd)` is
    /// 12.50 USD; `from_minor(500, Isk)` is 5 ISK). Any `i64` is representable; whether it
    /// can be charged is [`crate::check_chargeable`]'s question.
    pub const fn from_minor(minor: i64, currency: Currency) -> Money {
        Money { minor, currency }
    }

    /// The amount in API minor units, as Stripe's `amount` field wants it.
    pub const fn minor(&self) -> i64 {
        self.minor
    }

    /// The currency.
    pub const fn currency(&self) -> Currency {
        self.currency
    }

    /// True when the amount is greater than zero.
    pub const fn is_positive(&self) -> bool {
        self.minor > 0
    }

    /// True when the amount is zero.
    pub const fn is_zero(&self) -> bool {
        self.minor == 0
    }

    /// `self + other`; an error for different currencies or overflow.
    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let minor = self
            .minor
            .checked_add(other.minor)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money::from_minor(minor, self.currency))
    }

    /// `self - other`; an error for different currencies or overflow. The result may be
    /// negative (e.g. what remains after refunds, when more was refunded).
    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let minor = self
            .minor
            .checked_sub(other.minor)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money::from_minor(minor, self.currency))
    }

    /// `percent`% of the amount (a prepayment or deposit rule), in integer arithmetic,
    /// rounded to the nearest multiple of the currency's [`Currency::step`], halves away
    /// from zero: 50% of 0.25 USD is 0.13 USD; 50% of 0.130 KWD is 0.070 KWD (0.065
    /// rounded to a multiple of 0.010); 50% of 1 ISK is 1 ISK. Percentages above 100 are
    /// allowed; the only error is overflow.
    pub fn checked_mul_percent(self, percent: u32) -> Result<Money, MoneyError> {
        let hundredths = i128::from(self.minor) * i128::from(percent);
        let minor = round_half_away(hundredths, 100 * i128::from(self.currency.step()))
            * i128::from(self.currency.step());
        let minor = i64::try_from(minor).map_err(|_| MoneyError::Overflow)?;
        Ok(Money::from_minor(minor, self.currency))
    }

    /// The amount rounded to the nearest multiple of the currency's step, halves away from
    /// zero (Stripe: "round amounts to the nearest ten" for three-decimal currencies).
    pub fn rounded_to_step(self) -> Result<Money, MoneyError> {
        self.checked_mul_percent(100)
    }

    /// Parses a decimal amount in major units as a person types it: `"12.50"`, `"1000"`,
    /// `"5.120"`, `"0.5"`. Digits, optionally one `.` followed by at most
    /// [`Currency::display_decimals`] digits. `"500"` ISK is 500 krónur (50000 minor
    /// units). Whether the amount is on the currency's step (`"5.125"` KWD) is not checked
    /// here: see [`crate::check_chargeable`]. Nothing is trimmed.
    pub fn parse(s: &str, currency: Currency) -> Result<Money, AmountError> {
        if s.is_empty() {
            return Err(AmountError::Empty);
        }
        if let Some(rest) = s.strip_prefix('-') {
            // A well-formed negative number is reported as such; "-x" is just invalid.
            return match split_decimal(rest) {
                Some(_) => Err(AmountError::Negative),
                None => Err(AmountError::Invalid),
            };
        }
        let (whole, fraction) = split_decimal(s).ok_or(AmountError::Invalid)?;
        let max = currency.display_decimals();
        if fraction.len() > max as usize {
            return Err(AmountError::TooManyDecimals {
                amount: shorten(s),
                currency,
                max,
            });
        }
        // The fraction has at most `display_decimals <= exponent` digits: pad it to the
        // exponent ("0.5" USD -> 5 * 10 = 50 minor units).
        let scale = currency.minor_per_major();
        let pad = 10_i64.pow(currency.exponent() - fraction.len() as u32);
        let minor = digits_value(whole)
            .and_then(|w| w.checked_mul(scale))
            .and_then(|w| w.checked_add(digits_value(fraction)?.checked_mul(pad)?))
            .ok_or(AmountError::Overflow)?;
        Ok(Money::from_minor(minor, currency))
    }

    /// The amount in major units with the currency's display decimals, `.` as separator
    /// and no grouping: `"0.50"`, `"12.00"` (USD), `"50"` (JPY), `"5.120"` (KWD), `"500"`
    /// (ISK). If the amount has digits below the display precision (150 minor ISK), all
    /// [`Currency::exponent`] decimals are shown (`"1.50"`), so nothing is hidden.
    pub fn to_major_string(&self) -> String {
        let exponent = self.currency.exponent();
        let scale = self.currency.minor_per_major().unsigned_abs();
        let abs = self.minor.unsigned_abs();
        let (whole, fraction) = (abs / scale, abs % scale);
        let hidden = 10_u64.pow(exponent - self.currency.display_decimals());
        let sign = if self.minor < 0 { "-" } else { "" };
        let (decimals, fraction) = if fraction % hidden == 0 {
            (self.currency.display_decimals(), fraction / hidden)
        } else {
            (exponent, fraction)
        };
        match decimals {
            0 => format!("{sign}{whole}"),
            d => format!("{sign}{whole}.{fraction:0width$}", width = d as usize),
        }
    }

    /// The amount in major units as an `f64`, **only** for the browser's
    /// `Intl.NumberFormat(locale, {style: "currency", currency})`, which formats numbers.
    /// Never use it for arithmetic or to build an amount: `f64` cannot hold every decimal.
    pub fn major_units_f64_for_display(&self) -> f64 {
        self.minor as f64 / self.currency.minor_per_major() as f64
    }

    fn same_currency(self, other: Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch {
                left: self.currency,
                right: other.currency,
            })
        }
    }
}

impl fmt::Display for Money {
    /// `"0.50 USD"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.to_major_string(), self.currency)
    }
}

/// `numerator / denominator` rounded to the nearest integer, halves away from zero.
/// `denominator` is positive.
fn round_half_away(numerator: i128, denominator: i128) -> i128 {
    let half = denominator / 2;
    if numerator >= 0 {
        (numerator + half) / denominator
    } else {
        -((-numerator + half) / denominator)
    }
}

/// Splits `"12.50"` into `("12", "50")` and `"12"` into `("12", "")`; `None` unless both
/// parts are ASCII digits, the whole part is non-empty, and a `.` is followed by digits.
fn split_decimal(s: &str) -> Option<(&str, &str)> {
    let (whole, fraction) = match s.split_once('.') {
        Some((w, f)) if !f.is_empty() => (w, f),
        Some(_) => return None,
        None => (s, ""),
    };
    let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    (!whole.is_empty() && all_digits(whole) && all_digits(fraction)).then_some((whole, fraction))
}

/// The value of a string of ASCII digits (`""` is 0); `None` on overflow.
fn digits_value(digits: &str) -> Option<i64> {
    digits.bytes().try_fold(0_i64, |acc, b| {
        acc.checked_mul(10)?.checked_add(i64::from(b - b'0'))
    })
}

fn shorten(s: &str) -> String {
    const MAX: usize = 32;
    if s.len() <= MAX {
        s.to_owned()
    } else {
        // `s` passed `split_decimal`, so it is ASCII and any byte is a char boundary.
        format!("{}...", &s[..MAX])
    }
}

impl From<AmountError> for ApiError {
    fn from(e: AmountError) -> ApiError {
        ApiError::new(e.code(), e.to_string()).with_param("amount")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use Currency::*;

    fn m(minor: i64, c: Currency) -> Money {
        Money::from_minor(minor, c)
    }

    #[test]
    fn parses_each_decimal_class() {
        assert_eq!(Money::parse("12.50", Usd), Ok(m(1250, Usd)));
        assert_eq!(Money::parse("0.5", Usd), Ok(m(50, Usd)));
        assert_eq!(Money::parse("1000", Usd), Ok(m(100_000, Usd)));
        assert_eq!(Money::parse("007", Eur), Ok(m(700, Eur)));
        assert_eq!(Money::parse("500", Jpy), Ok(m(500, Jpy)));
        assert_eq!(Money::parse("5.120", Kwd), Ok(m(5120, Kwd)));
        assert_eq!(Money::parse("5.125", Kwd), Ok(m(5125, Kwd)));
        assert_eq!(Money::parse("5.1", Kwd), Ok(m(5100, Kwd)));
        assert_eq!(Money::parse("500", Isk), Ok(m(50_000, Isk)));
        assert_eq!(Money::parse("3", Ugx), Ok(m(300, Ugx)));
    }

    #[test]
    fn parse_errors() {
        assert_eq!(Money::parse("", Usd), Err(AmountError::Empty));
        for bad in [
            "1,5", "abc", "1e3", "+1", " 1", "1 ", ".5", "5.", "1.2.3", ".", "-", "--1", "0x10",
            "１",
        ] {
            assert_eq!(Money::parse(bad, Usd), Err(AmountError::Invalid), "{bad:?}");
        }
        assert_eq!(Money::parse("-1", Usd), Err(AmountError::Negative));
        assert_eq!(Money::parse("-0.50", Usd), Err(AmountError::Negative));
        assert_eq!(
            Money::parse("99999999999999999999", Usd),
            Err(AmountError::Overflow)
        );
        // Fits as a whole number but not once multiplied by 100.
        assert_eq!(
            Money::parse("92233720368547759", Usd),
            Err(AmountError::Overflow)
        );
        assert_eq!(
            Money::parse("9223372036854775807", Jpy),
            Ok(m(i64::MAX, Jpy))
        );
    }

    #[test]
    fn too_many_decimals_names_amount_and_currency() {
        let err = Money::parse("12.345", Usd).unwrap_err();
        assert_eq!(
            err.to_string(),
            "12.345 USD has too many decimals: USD allows 2"
        );
        assert_eq!(err.code(), ErrorCode::InvalidAmount);
        let err = Money::parse("5.1234", Kwd).unwrap_err();
        assert_eq!(
            err.to_string(),
            "5.1234 KWD has too many decimals: KWD allows 3"
        );
        let err = Money::parse("500.5", Jpy).unwrap_err();
        assert_eq!(
            err.to_string(),
            "500.5 JPY has too many decimals: JPY allows no decimals"
        );
        assert!(matches!(
            Money::parse("5.5", Isk),
            Err(AmountError::TooManyDecimals { max: 0, .. })
        ));
        assert!(matches!(
            Money::parse("12.500", Usd),
            Err(AmountError::TooManyDecimals { max: 2, .. })
        ));
    }

    #[test]
    fn major_strings() {
        assert_eq!(m(50, Usd).to_major_string(), "0.50");
        assert_eq!(m(1200, Usd).to_major_string(), "12.00");
        assert_eq!(m(5, Usd).to_major_string(), "0.05");
        assert_eq!(m(50, Jpy).to_major_string(), "50");
        assert_eq!(m(5120, Kwd).to_major_string(), "5.120");
        assert_eq!(m(50_000, Isk).to_major_string(), "500");
        assert_eq!(m(150, Isk).to_major_string(), "1.50");
        assert_eq!(m(-50, Usd).to_major_string(), "-0.50");
        assert_eq!(m(i64::MIN, Jpy).to_major_string(), i64::MIN.to_string());
        assert_eq!(m(50, Usd).to_string(), "0.50 USD");
        assert_eq!(m(99_999_999, Usd).to_string(), "999999.99 USD");
    }

    #[test]
    fn f64_for_intl_only() {
        assert_eq!(m(1250, Usd).major_units_f64_for_display(), 12.5);
        assert_eq!(m(500, Jpy).major_units_f64_for_display(), 500.0);
        assert_eq!(m(5120, Kwd).major_units_f64_for_display(), 5.12);
        assert_eq!(m(50_000, Isk).major_units_f64_for_display(), 500.0);
    }

    #[test]
    fn checked_arithmetic() {
        assert_eq!(m(100, Usd).checked_add(m(50, Usd)), Ok(m(150, Usd)));
        assert_eq!(m(100, Usd).checked_sub(m(150, Usd)), Ok(m(-50, Usd)));
        assert_eq!(
            m(100, Usd).checked_add(m(50, Eur)),
            Err(MoneyError::CurrencyMismatch {
                left: Usd,
                right: Eur
            })
        );
        assert_eq!(
            m(i64::MAX, Usd).checked_add(m(1, Usd)),
            Err(MoneyError::Overflow)
        );
        assert_eq!(
            m(i64::MIN, Usd).checked_sub(m(1, Usd)),
            Err(MoneyError::Overflow)
        );
        assert!(m(1, Usd).is_positive() && !m(0, Usd).is_positive() && m(0, Usd).is_zero());
    }

    #[test]
    fn percentages_round_half_away_to_the_step() {
        assert_eq!(m(10_000, Usd).checked_mul_percent(30), Ok(m(3000, Usd)));
        assert_eq!(m(25, Usd).checked_mul_percent(50), Ok(m(13, Usd)));
        assert_eq!(m(33, Usd).checked_mul_percent(50), Ok(m(17, Usd)));
        assert_eq!(m(1001, Usd).checked_mul_percent(33), Ok(m(330, Usd)));
        assert_eq!(m(-25, Usd).checked_mul_percent(50), Ok(m(-13, Usd)));
        assert_eq!(m(130, Kwd).checked_mul_percent(50), Ok(m(70, Kwd)));
        assert_eq!(m(120, Kwd).checked_mul_percent(50), Ok(m(60, Kwd)));
        assert_eq!(m(100, Isk).checked_mul_percent(50), Ok(m(100, Isk)));
        assert_eq!(m(100, Isk).checked_mul_percent(49), Ok(m(0, Isk)));
        assert_eq!(m(999, Jpy).checked_mul_percent(100), Ok(m(999, Jpy)));
        assert_eq!(m(999, Jpy).checked_mul_percent(0), Ok(m(0, Jpy)));
        assert_eq!(m(200, Usd).checked_mul_percent(150), Ok(m(300, Usd)));
        assert_eq!(
            m(i64::MAX, Usd).checked_mul_percent(200),
            Err(MoneyError::Overflow)
        );
        assert_eq!(m(5125, Kwd).rounded_to_step(), Ok(m(5130, Kwd)));
        assert_eq!(m(5124, Kwd).rounded_to_step(), Ok(m(5120, Kwd)));
        assert_eq!(m(150, Ugx).rounded_to_step(), Ok(m(200, Ugx)));
    }

    #[test]
    fn serde_shape() {
        let json = serde_json::to_string(&m(1250, Usd)).unwrap();
        assert_eq!(json, r#"{"amount":1250,"currency":"usd"}"#);
        let back: Money = serde_json::from_str(&json).unwrap();
        assert_eq!(back, m(1250, Usd));
        assert!(serde_json::from_str::<Money>(r#"{"amount":1.5,"currency":"usd"}"#).is_err());
        assert!(serde_json::from_str::<Money>(r#"{"amount":1,"currency":"xxx"}"#).is_err());
        assert!(serde_json::from_str::<Money>(r#"{"amount":1}"#).is_err());
    }

    fn any_currency() -> impl Strategy<Value = Currency> {
        proptest::sample::select(Currency::ALL)
    }

    proptest! {
        /// parse(display(m)) == m for every currency and any amount that is a whole
        /// number of displayed units and fits once scaled.
        #[test]
        fn parse_inverts_to_major_string(c in any_currency(), units in 0_i64..=i64::MAX) {
            let unit = 10_i64.pow(c.exponent() - c.display_decimals());
            let money = m(units - units % unit, c);
            let text = money.to_major_string();
            prop_assert_eq!(Money::parse(&text, c), Ok(money), "{}", text);
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,24}", c in any_currency()) {
            if let Ok(money) = Money::parse(&s, c) {
                prop_assert!(money.minor() >= 0);
                prop_assert_eq!(money.currency(), c);
            }
        }

        #[test]
        fn percent_results_are_on_the_step(c in any_currency(), minor in 0_i64..1_000_000_000, p in 0_u32..=100) {
            let part = m(minor, c).checked_mul_percent(p).unwrap();
            prop_assert_eq!(part.minor() % c.step(), 0);
            prop_assert!(part.minor() <= minor + c.step());
        }
    }
}
