//! Stripe's currency rules as the sandbox enforces them: supported currencies, decimals
//! (zero-decimal, three-decimal with a last digit of 0, ISK/UGX in two-decimal form divisible by
//! 100), minimum charge amounts per settlement currency, the 8-digit maximum, and the money
//! formatting Stripe's messages use ("Amount must be at least $0.50 usd").
//!
//! This is written independently of slotpay-core on purpose: two implementations of the same
//! table are what let the tests catch a mistake in either.

use crate::errors::ApiError;

/// Zero-decimal currencies (Stripe's currencies page).
const ZERO_DECIMAL: &[&str] = &[
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "vnd", "vuv", "xaf",
    "xof", "xpf",
];

/// Three-decimal currencies: amounts must end in 0.
const THREE_DECIMAL: &[&str] = &["bhd", "jod", "kwd", "omr", "tnd"];

/// Two-decimal in the API, but only whole units may be charged (amount divisible by 100).
const WHOLE_UNITS_ONLY: &[&str] = &["isk", "ugx"];

/// Presentment currencies Stripe supports for card payments.
const SUPPORTED: &[&str] = &[
    "usd", "aed", "afn", "all", "amd", "ang", "aoa", "ars", "aud", "awg", "azn", "bam", "bbd",
    "bdt", "bgn", "bhd", "bif", "bmd", "bnd", "bob", "brl", "bsd", "bwp", "byn", "bzd", "cad",
    "cdf", "chf", "clp", "cny", "cop", "crc", "cve", "czk", "djf", "dkk", "dop", "dzd", "egp",
    "etb", "eur", "fjd", "fkp", "gbp", "gel", "gip", "gmd", "gnf", "gtq", "gyd", "hkd", "hnl",
    "htg", "huf", "idr", "ils", "inr", "isk", "jmd", "jod", "jpy", "kes", "kgs", "khr", "kmf",
    "krw", "kwd", "kyd", "kzt", "lak", "lbp", "lkr", "lrd", "lsl", "mad", "mdl", "mga", "mkd",
    "mmk", "mnt", "mop", "mur", "mvr", "mwk", "mxn", "myr", "mzn", "nad", "ngn", "nio", "nok",
    "npr", "nzd", "omr", "pab", "pen", "pgk", "php", "pkr", "pln", "pyg", "qar", "ron", "rsd",
    "rub", "rwf", "sar", "sbd", "scr", "sek", "sgd", "shp", "sle", "sos", "srd", "std", "szl",
    "thb", "tjs", "tnd", "top", "try", "ttd", "twd", "tzs", "uah", "ugx", "uyu", "uzs", "vnd",
    "vuv", "wst", "xaf", "xcd", "xof", "xpf", "yer", "zar", "zmw",
];

/// Minimum charge amount per settlement currency, in minor units (Stripe's currencies page).
const MINIMUMS: &[(&str, i64)] = &[
    ("usd", 50),
    ("aed", 200),
    ("aud", 50),
    ("bgn", 100),
    ("brl", 50),
    ("cad", 50),
    ("chf", 50),
    ("czk", 1500),
    ("dkk", 250),
    ("eur", 50),
    ("gbp", 30),
    ("hkd", 400),
    ("huf", 17500),
    ("inr", 50),
    ("jpy", 50),
    ("mxn", 1000),
    ("myr", 200),
    ("nok", 300),
    ("nzd", 50),
    ("pln", 200),
    ("ron", 200),
    ("sek", 300),
    ("sgd", 50),
    ("thb", 1000),
];

/// Approximate units of each currency per US dollar, used only for Stripe's "Amount must convert
/// to at least ..." check when the charge currency has no minimum of its own. Fixed numbers: the
/// sandbox has no exchange-rate feed, and tests only need the order of magnitude.
const PER_USD: &[(&str, f64)] = &[
    ("usd", 1.0),
    ("eur", 0.92),
    ("gbp", 0.79),
    ("jpy", 150.0),
    ("aud", 1.5),
    ("cad", 1.36),
    ("chf", 0.88),
    ("inr", 83.0),
    ("pkr", 280.0),
    ("kes", 130.0),
    ("ngn", 1500.0),
    ("idr", 16000.0),
    ("php", 57.0),
    ("vnd", 25000.0),
    ("krw", 1350.0),
    ("clp", 950.0),
    ("cop", 4000.0),
    ("isk", 138.0),
    ("ugx", 3700.0),
    ("egp", 48.0),
    ("zar", 18.0),
    ("try", 34.0),
    ("twd", 32.0),
    ("ils", 3.7),
    ("sar", 3.75),
    ("aed", 3.67),
    ("kwd", 0.31),
    ("bhd", 0.376),
    ("jod", 0.71),
    ("omr", 0.385),
    ("tnd", 3.1),
    ("mxn", 17.0),
    ("brl", 5.0),
    ("sek", 10.5),
    ("nok", 10.7),
    ("dkk", 6.9),
    ("pln", 4.0),
    ("czk", 23.0),
    ("huf", 360.0),
    ("ron", 4.6),
    ("bgn", 1.8),
    ("hkd", 7.8),
    ("sgd", 1.35),
    ("nzd", 1.65),
    ("myr", 4.7),
    ("thb", 36.0),
];

/// Largest amount Stripe accepts: eight digits.
pub const MAX_AMOUNT: i64 = 99_999_999;

/// Whether Stripe supports `code` (lowercase ISO 4217) as a presentment currency.
pub fn is_supported(code: &str) -> bool {
    SUPPORTED.contains(&code)
}

/// Digits after the decimal point in the API's amounts for `code`.
pub fn decimals(code: &str) -> u32 {
    if ZERO_DECIMAL.contains(&code) {
        0
    } else if THREE_DECIMAL.contains(&code) {
        3
    } else {
        2
    }
}

/// The minimum charge in `code`, in minor units, if Stripe publishes one.
pub fn minimum(code: &str) -> Option<i64> {
    MINIMUMS.iter().find(|(c, _)| *c == code).map(|(_, m)| *m)
}

fn symbol(code: &str) -> Option<&'static str> {
    Some(match code {
        "usd" | "aud" | "cad" | "nzd" | "sgd" | "hkd" | "mxn" => "$",
        "eur" => "€",
        "gbp" => "£",
        "jpy" => "¥",
        "inr" => "₹",
        "krw" => "₩",
        "brl" => "R$",
        "chf" => "CHF",
        "dkk" | "nok" | "sek" | "isk" => "kr",
        "pln" => "zł",
        "czk" => "Kč",
        "huf" => "Ft",
        "ron" => "lei",
        "bgn" => "лв",
        "myr" => "RM",
        "thb" => "฿",
        "aed" => "د.إ",
        "pkr" => "₨",
        _ => return None,
    })
}

fn group_thousands(digits: &str) -> String {
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// An amount as Stripe's messages print it: `$0.50`, `¥50`, `£1,234.00` (the symbol first, or
/// the upper-case code and a space when the sandbox knows no symbol).
pub fn format(amount: i64, code: &str) -> String {
    let d = decimals(code);
    let sign = if amount < 0 { "-" } else { "" };
    let abs = amount.unsigned_abs();
    let number = if d == 0 {
        group_thousands(&abs.to_string())
    } else {
        let unit = 10u64.pow(d);
        format!(
            "{}.{:0width$}",
            group_thousands(&(abs / unit).to_string()),
            abs % unit,
            width = d as usize
        )
    };
    match symbol(code) {
        Some(s) => format!("{sign}{s}{number}"),
        None => format!("{sign}{} {number}", code.to_uppercase()),
    }
}

fn per_usd(code: &str) -> Option<f64> {
    PER_USD.iter().find(|(c, _)| *c == code).map(|(_, r)| *r)
}

/// Validates a currency parameter (`currency=usd`).
pub fn parse(code: &str, param: &str) -> Result<String, ApiError> {
    let lower = code.trim().to_ascii_lowercase();
    if is_supported(&lower) {
        Ok(lower)
    } else {
        Err(ApiError::validation(
            format!(
                "Invalid currency: {}. Stripe currently supports these currencies: {}",
                code,
                SUPPORTED.join(", ")
            ),
            "parameter_invalid_string",
            param,
        ))
    }
}

/// Stripe's decimals rules for an amount: three-decimal currencies need a last digit of 0, ISK
/// and UGX amounts must be whole units (divisible by 100).
pub fn check_decimals(amount: i64, code: &str, param: &str) -> Result<(), ApiError> {
    if WHOLE_UNITS_ONLY.contains(&code) && amount % 100 != 0 {
        let upper = code.to_uppercase();
        return Err(ApiError::invalid(format!(
            "Invalid amount. Currency {upper} has become effectively zero-decimal and charged \
             amounts must be evenly divisible by 100. See \
             https://stripe.com/docs/currencies#special-cases for more information."
        ))
        .code("invalid_charge_amount_no_decimal_compatible")
        .param(param));
    }
    if THREE_DECIMAL.contains(&code) && amount % 10 != 0 {
        let upper = code.to_uppercase();
        return Err(ApiError::invalid(format!(
            "Invalid amount. Currency {upper} is a three-decimal currency and the least \
             significant digit of the amount must be 0 to ensure compatibility with Stripe's \
             payments partners. See https://stripe.com/docs/currencies#three-decimal for more \
             information."
        ))
        .code("invalid_amount")
        .param(param));
    }
    Ok(())
}

/// Stripe's checks on a charge amount: positive, at most eight digits, decimals rules, and the
/// minimum for the account's settlement currency (`amount_too_small`).
pub fn check_amount(
    amount: i64,
    code: &str,
    settlement: &str,
    param: &str,
) -> Result<(), ApiError> {
    if amount < 1 {
        return Err(ApiError::validation(
            "This value must be greater than or equal to 1.",
            "parameter_invalid_integer",
            param,
        ));
    }
    if amount > MAX_AMOUNT {
        return Err(ApiError::invalid(format!(
            "Amount must be no more than {}",
            format(MAX_AMOUNT, code)
        ))
        .code("amount_too_large")
        .param(param));
    }
    check_decimals(amount, code, param)?;
    if let Some(min) = minimum(code) {
        if amount < min {
            return Err(ApiError::invalid(format!(
                "Amount must be at least {} {}",
                format(min, code),
                code
            ))
            .code("amount_too_small")
            .param(param));
        }
        return Ok(());
    }
    // No minimum of its own: Stripe converts to the settlement currency.
    let (Some(min), Some(rate_from), Some(rate_to)) =
        (minimum(settlement), per_usd(code), per_usd(settlement))
    else {
        return Ok(());
    };
    let major = amount as f64 / 10f64.powi(decimals(code) as i32);
    let converted_major = major / rate_from * rate_to;
    let converted = (converted_major * 10f64.powi(decimals(settlement) as i32)).round() as i64;
    if converted < min {
        let min_words = match settlement {
            "usd" | "eur" | "aud" | "cad" | "nzd" | "sgd" | "hkd" => format!("{min} cents"),
            "gbp" => format!("{min} pence"),
            _ => format(min, settlement),
        };
        return Err(ApiError::invalid(format!(
            "Amount must convert to at least {min_words}. {} converts to approximately {}.",
            format(amount, code),
            format(converted, settlement)
        ))
        .code("amount_too_small")
        .param(param));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_stripe_messages() {
        assert_eq!(format(50, "usd"), "$0.50");
        assert_eq!(format(50, "jpy"), "¥50");
        assert_eq!(format(99_999_999, "usd"), "$999,999.99");
        assert_eq!(format(5120, "kwd"), "KWD 5.120");
        assert_eq!(format(9390, "gbp"), "£93.90");
    }

    #[test]
    fn minimums_per_currency() {
        let e = check_amount(49, "usd", "usd", "amount").unwrap_err();
        assert_eq!(e.message, "Amount must be at least $0.50 usd");
        assert_eq!(e.code_str(), Some("amount_too_small"));
        assert!(check_amount(50, "usd", "usd", "amount").is_ok());
        assert_eq!(
            check_amount(29, "gbp", "gbp", "amount")
                .unwrap_err()
                .message,
            "Amount must be at least £0.30 gbp"
        );
        assert_eq!(
            check_amount(49, "jpy", "usd", "amount")
                .unwrap_err()
                .message,
            "Amount must be at least ¥50 jpy"
        );
        assert!(check_amount(17_499, "huf", "huf", "amount").is_err());
        assert!(check_amount(17_500, "huf", "huf", "amount").is_ok());
    }

    #[test]
    fn conversion_minimum_for_currencies_without_a_table_entry() {
        let e = check_amount(5000, "pkr", "usd", "amount").unwrap_err();
        assert!(
            e.message
                .starts_with("Amount must convert to at least 50 cents."),
            "{}",
            e.message
        );
        assert!(check_amount(50_000, "pkr", "usd", "amount").is_ok());
    }

    #[test]
    fn maximum_and_decimals() {
        assert_eq!(
            check_amount(100_000_000, "usd", "usd", "amount")
                .unwrap_err()
                .code_str(),
            Some("amount_too_large")
        );
        assert_eq!(
            check_amount(5125, "kwd", "usd", "amount")
                .unwrap_err()
                .code_str(),
            Some("invalid_amount")
        );
        assert!(check_amount(5120, "kwd", "usd", "amount").is_ok());
        assert_eq!(
            check_amount(10_050, "isk", "usd", "amount")
                .unwrap_err()
                .code_str(),
            Some("invalid_charge_amount_no_decimal_compatible")
        );
        assert!(check_amount(10_000, "isk", "usd", "amount").is_ok());
        assert!(check_amount(0, "usd", "usd", "amount").is_err());
    }
}
