//! Currencies Stripe presents charges in, with the decimals of their API minor unit.
//!
//! The table follows Stripe's "Supported currencies" page (presentment currencies, plus the
//! three-decimal ones BHD JOD KWD OMR TND that the same page documents). Three numbers per
//! currency matter and they differ on purpose:
//! - [`Currency::exponent`]: decimals of the *API* amount (`amount: 1000` is 10.00 USD).
//! - [`Currency::step`]: the smallest chargeable increment in API minor units.
//! - [`Currency::display_decimals`]: the decimals people see and type.
//!
//! ISK and UGX are the odd ones: Stripe shows them as zero-decimal currencies (its list of
//! zero-decimal currencies includes UGX), but its API still wants them "in
//! two-decimal form divisible by 100" for backwards compatibility: 5 ISK is `amount: 500`.
//! So they have exponent 2, step 100 and display decimals 0.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ErrorCode};

/// How a currency's API amount relates to what people see.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Two decimals everywhere (USD: 1000 = 10.00).
    Two,
    /// No minor unit (JPY: 500 = 500).
    Zero,
    /// Three decimals, last digit must be 0 (KWD: 5120 = 5.120).
    Three,
    /// Shown without decimals but sent in two-decimal form divisible by 100 (ISK: 500 = 5).
    WholeInTwo,
}

/// Declares the currency enum, its table and its lookups from one list, so a currency
/// cannot be added to one and forgotten in another.
macro_rules! currencies {
    ($($variant:ident $code:literal $class:ident,)*) => {
        /// A currency Stripe can charge in. Serialised as Stripe's lowercase code (`"usd"`);
        /// displayed as the uppercase ISO 4217 code (`USD`).
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
        pub enum Currency {
            $(
                #[doc = concat!("ISO 4217 `", $code, "`.")]
                $variant,
            )*
        }

        impl Currency {
            /// Every supported currency, in alphabetical order of code.
            pub const ALL: &'static [Currency] = &[$(Currency::$variant,)*];

            /// Stripe's wire form of the code: lowercase, e.g. `"usd"`.
            pub const fn code(self) -> &'static str {
                // The codes' one string, cut at the currency's place: a `match` of string
                // literals made the widget's wasm a table of 139 addresses beside the letters.
                let (_, from) = CODES.split_at(self as usize * 3);
                from.split_at(3).0
            }

            const fn class(self) -> Class {
                match self {
                    $(Currency::$variant => Class::$class,)*
                }
            }

            fn from_lowercase(code: &[u8]) -> Option<Currency> {
                // A search of the codes rather than a `match` on strings: the same answer,
                // and 3 KB less code in the size-budgeted widget (bytes, not `str`: no UTF-8
                // check linked for it either).
                let i = CODES.as_bytes().chunks_exact(3).position(|c| c == code)?;
                Currency::ALL.get(i).copied()
            }
        }

        /// Every code, three letters each, in the order of [`Currency::ALL`].
        const CODES: &str = concat!($($code,)*);
        $(const _: () = assert!($code.len() == 3, "a currency code is three letters");)*
    };
}

currencies! {
    Aed "aed" Two, Afn "afn" Two, All "all" Two, Amd "amd" Two,
    Ang "ang" Two, Aoa "aoa" Two, Ars "ars" Two, Aud "aud" Two,
    Awg "awg" Two, Azn "azn" Two, Bam "bam" Two, Bbd "bbd" Two,
    Bdt "bdt" Two, Bgn "bgn" Two, Bhd "bhd" Three, Bif "bif" Zero,
    Bmd "bmd" Two, Bnd "bnd" Two, Bob "bob" Two, Brl "brl" Two,
    Bsd "bsd" Two, Bwp "bwp" Two, Byn "byn" Two, Bzd "bzd" Two,
    Cad "cad" Two, Cdf "cdf" Two, Chf "chf" Two, Clp "clp" Zero,
    Cny "cny" Two, Cop "cop" Two, Crc "crc" Two, Cve "cve" Two,
    Czk "czk" Two, Djf "djf" Zero, Dkk "dkk" Two, Dop "dop" Two,
    Dzd "dzd" Two, Egp "egp" Two, Etb "etb" Two, Eur "eur" Two,
    Fjd "fjd" Two, Fkp "fkp" Two, Gbp "gbp" Two, Gel "gel" Two,
    Gip "gip" Two, Gmd "gmd" Two, Gnf "gnf" Zero, Gtq "gtq" Two,
    Gyd "gyd" Two, Hkd "hkd" Two, Hnl "hnl" Two, Htg "htg" Two,
    Huf "huf" Two, Idr "idr" Two, Ils "ils" Two, Inr "inr" Two,
    Isk "isk" WholeInTwo, Jmd "jmd" Two, Jod "jod" Three, Jpy "jpy" Zero,
    Kes "kes" Two, Kgs "kgs" Two, Khr "khr" Two, Kmf "kmf" Zero,
    Krw "krw" Zero, Kwd "kwd" Three, Kyd "kyd" Two, Kzt "kzt" Two,
    Lak "lak" Two, Lbp "lbp" Two, Lkr "lkr" Two, Lrd "lrd" Two,
    Lsl "lsl" Two, Mad "mad" Two, Mdl "mdl" Two, Mga "mga" Zero,
    Mkd "mkd" Two, Mmk "mmk" Two, Mnt "mnt" Two, Mop "mop" Two,
    Mur "mur" Two, Mvr "mvr" Two, Mwk "mwk" Two, Mxn "mxn" Two,
    Myr "myr" Two, Mzn "mzn" Two, Nad "nad" Two, Ngn "ngn" Two,
    Nio "nio" Two, Nok "nok" Two, Npr "npr" Two, Nzd "nzd" Two,
    Omr "omr" Three, Pab "pab" Two, Pen "pen" Two, Pgk "pgk" Two,
    Php "php" Two, Pkr "pkr" Two, Pln "pln" Two, Pyg "pyg" Zero,
    Qar "qar" Two, Ron "ron" Two, Rsd "rsd" Two, Rub "rub" Two,
    Rwf "rwf" Zero, Sar "sar" Two, Sbd "sbd" Two, Scr "scr" Two,
    Sek "sek" Two, Sgd "sgd" Two, Shp "shp" Two, Sle "sle" Two,
    Sos "sos" Two, Srd "srd" Two, Std "std" Two, Szl "szl" Two,
    Thb "thb" Two, Tjs "tjs" Two, Tnd "tnd" Three, Top "top" Two,
    Try "try" Two, Ttd "ttd" Two, Twd "twd" Two, Tzs "tzs" Two,
    Uah "uah" Two, Ugx "ugx" WholeInTwo, Usd "usd" Two, Uyu "uyu" Two,
    Uzs "uzs" Two, Vnd "vnd" Zero, Vuv "vuv" Zero, Wst "wst" Two,
    Xaf "xaf" Zero, Xcd "xcd" Two, Xof "xof" Zero, Xpf "xpf" Zero,
    Yer "yer" Two, Zar "zar" Two, Zmw "zmw" Two,
}

impl Currency {
    /// Parses a three-letter code, case-insensitively (`"usd"`, `"USD"`, `"Usd"`).
    ///
    /// Nothing is trimmed: `" usd"` is an error, so a stray space is reported rather than
    /// silently accepted.
    pub fn parse(s: &str) -> Result<Currency, CurrencyError> {
        Currency::from_code(s).ok_or_else(|| CurrencyError::Unknown(shorten(s)))
    }

    /// What [`Currency::parse`] accepts, without the error: for the widget, which has no use
    /// for the error's text (and so no code to build it).
    pub fn from_code(s: &str) -> Option<Currency> {
        let bytes = s.as_bytes();
        if bytes.len() == 3 && bytes.iter().all(u8::is_ascii_alphabetic) {
            let lower = [
                bytes[0].to_ascii_lowercase(),
                bytes[1].to_ascii_lowercase(),
                bytes[2].to_ascii_lowercase(),
            ];
            return Currency::from_lowercase(&lower);
        }
        None
    }

    /// Decimals of Stripe's API minor unit: 0 for zero-decimal currencies (JPY), 3 for
    /// BHD JOD KWD OMR TND, 2 for everything else, including ISK and UGX (see the module
    /// documentation).
    pub const fn exponent(self) -> u32 {
        match self.class() {
            Class::Zero => 0,
            Class::Three => 3,
            Class::Two | Class::WholeInTwo => 2,
        }
    }

    /// Number of API minor units in one major unit (`10^exponent`).
    pub const fn minor_per_major(self) -> i64 {
        10_i64.pow(self.exponent())
    }

    /// The smallest chargeable increment, in API minor units: 10 for three-decimal
    /// currencies (Stripe's partners need the last digit to be 0), 100 for ISK and UGX
    /// (whole units in two-decimal form), 1 otherwise.
    pub const fn step(self) -> i64 {
        match self.class() {
            Class::Three => 10,
            Class::WholeInTwo => 100,
            Class::Two | Class::Zero => 1,
        }
    }

    /// Decimals shown to people and accepted when they type an amount: 0 for zero-decimal
    /// currencies, ISK and UGX; 3 for three-decimal currencies; 2 otherwise.
    pub const fn display_decimals(self) -> u32 {
        match self.class() {
            Class::Zero | Class::WholeInTwo => 0,
            Class::Three => 3,
            Class::Two => 2,
        }
    }
}

/// Keeps error messages (which go back to clients) short whatever was sent.
fn shorten(s: &str) -> String {
    const MAX_CHARS: usize = 16;
    match s.char_indices().nth(MAX_CHARS) {
        // `get`, not `&s[..cut]` (`cut` is a char boundary anyway): indexing links str
        // slicing's panic message and its Unicode tables into the size-budgeted widget.
        // `+` rather than `format!`, which would link `core::fmt` into the widget too.
        Some((cut, _)) => s.get(..cut).unwrap_or(s).to_owned() + "...",
        None => s.to_owned(),
    }
}

/// A currency code that is not one Stripe charges in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CurrencyError {
    /// The code (as given, shortened to 16 characters) is not a supported currency.
    #[error("unknown currency {0:?}")]
    Unknown(String),
}

impl CurrencyError {
    /// The stable machine code for this error.
    pub fn code(&self) -> ErrorCode {
        ErrorCode::InvalidCurrency
    }
}

impl fmt::Display for Currency {
    /// The uppercase ISO code, e.g. `USD`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut upper = [0_u8; 3];
        upper.copy_from_slice(self.code().as_bytes());
        upper.make_ascii_uppercase();
        f.pad(std::str::from_utf8(&upper).map_err(|_| fmt::Error)?)
    }
}

impl FromStr for Currency {
    type Err = CurrencyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Currency::parse(s)
    }
}

impl TryFrom<String> for Currency {
    type Error = CurrencyError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Currency::parse(&s)
    }
}

impl TryFrom<&str> for Currency {
    type Error = CurrencyError;

    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Currency::parse(s)
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Through a `String`, not `&str`: JSON strings with escapes cannot be borrowed.
        let s = String::deserialize(deserializer)?;
        Currency::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl From<CurrencyError> for ApiError {
    fn from(e: CurrencyError) -> ApiError {
        ApiError::new(e.code(), e.to_string()).with_param("currency")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_unique_and_large_enough() {
        assert!(Currency::ALL.len() >= 135, "{}", Currency::ALL.len());
        for pair in Currency::ALL.windows(2) {
            assert!(pair[0].code() < pair[1].code(), "{:?}", pair);
        }
    }

    #[test]
    fn every_code_parses_back_in_any_case() {
        for &c in Currency::ALL {
            assert_eq!(Currency::parse(c.code()), Ok(c));
            assert_eq!(Currency::parse(&c.to_string()), Ok(c));
            assert_eq!(c.to_string(), c.code().to_ascii_uppercase());
        }
        assert_eq!(Currency::parse("uSd"), Ok(Currency::Usd));
    }

    #[test]
    fn unknown_codes_are_named_in_the_error() {
        let err = Currency::parse("ABC").unwrap_err();
        assert_eq!(err.to_string(), r#"unknown currency "ABC""#);
        assert_eq!(err.code(), ErrorCode::InvalidCurrency);
        for bad in ["", " usd", "usd ", "us", "usdd", "u$d", "ＵＳＤ"] {
            assert!(Currency::parse(bad).is_err(), "{bad:?}");
        }
        let long = "x".repeat(1000);
        assert!(Currency::parse(&long).unwrap_err().to_string().len() < 40);
    }

    #[test]
    fn zero_decimal_currencies() {
        for code in [
            "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "vnd", "vuv",
            "xaf", "xof", "xpf",
        ] {
            let c = Currency::parse(code).unwrap();
            assert_eq!(
                (c.exponent(), c.step(), c.display_decimals()),
                (0, 1, 0),
                "{c}"
            );
        }
    }

    #[test]
    fn three_decimal_currencies() {
        for code in ["bhd", "jod", "kwd", "omr", "tnd"] {
            let c = Currency::parse(code).unwrap();
            assert_eq!(
                (c.exponent(), c.step(), c.display_decimals()),
                (3, 10, 3),
                "{c}"
            );
            assert_eq!(c.minor_per_major(), 1000);
        }
    }

    #[test]
    fn isk_and_ugx_are_whole_units_in_two_decimal_form() {
        for c in [Currency::Isk, Currency::Ugx] {
            assert_eq!(
                (c.exponent(), c.step(), c.display_decimals()),
                (2, 100, 0),
                "{c}"
            );
        }
    }

    #[test]
    fn everything_else_is_two_decimal() {
        let special = 15 + 5 + 2;
        let two: Vec<_> = Currency::ALL
            .iter()
            .filter(|c| (c.exponent(), c.step(), c.display_decimals()) == (2, 1, 2))
            .collect();
        assert_eq!(two.len(), Currency::ALL.len() - special);
        assert!(two.contains(&&Currency::Usd) && two.contains(&&Currency::Huf));
    }

    #[test]
    fn serde_uses_the_lowercase_code() {
        assert_eq!(serde_json::to_string(&Currency::Eur).unwrap(), r#""eur""#);
        let c: Currency = serde_json::from_str(r#""GBP""#).unwrap();
        assert_eq!(c, Currency::Gbp);
        let err = serde_json::from_str::<Currency>(r#""xyz""#).unwrap_err();
        assert!(
            err.to_string().contains(r#"unknown currency "xyz""#),
            "{err}"
        );
    }
}
