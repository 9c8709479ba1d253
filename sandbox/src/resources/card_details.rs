//! The card that a PaymentMethod, a charge and a token carry: `card[...]` parameters checked into
//! a [`CardInfo`] (with a fingerprint stable per number), and the `card` hash Stripe renders for
//! it.

use hmac::{Hmac, Mac};
use serde_json::{json, Map, Value};
use sha2::Sha256;

use crate::cards::{self, Behavior};
use crate::clock::year_month;
use crate::errors::{ApiError, ApiResult};
use crate::form::missing;
use crate::state::CardInfo;

/// Renders the `card` hash of a PaymentMethod.
pub fn render_card(c: &CardInfo) -> Value {
    let cvc_check = if !c.cvc_given {
        Value::Null
    } else if cards::details(&c.number).behavior == Behavior::Decline(cards::INCORRECT_CVC) {
        json!("fail")
    } else {
        json!("pass")
    };
    json!({
        "brand": c.brand,
        "checks": {"address_line1_check": null, "address_postal_code_check": null, "cvc_check": cvc_check},
        "country": c.country,
        "display_brand": c.brand,
        "exp_month": c.exp_month,
        "exp_year": c.exp_year,
        "fingerprint": c.fingerprint,
        "funding": c.funding,
        "generated_from": null,
        "last4": c.last4,
        "networks": {"available": [c.brand], "preferred": null},
        "regulated_status": "unregulated",
        "three_d_secure_usage": {"supported": true},
        "wallet": c.wallet.map(|w| json!({"dynamic_last4": c.last4, "type": w, w: {}})),
    })
}

/// A stable fingerprint per card number (Stripe's is per account; stable is what matters).
pub fn fingerprint(number: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(b"stripe-sandbox card fingerprint").expect("any key");
    mac.update(number.as_bytes());
    let bytes = mac.finalize().into_bytes();
    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    bytes
        .iter()
        .take(16)
        .map(|b| ALNUM[*b as usize % ALNUM.len()] as char)
        .collect()
}

/// The card details kept for `number` (a test card's brand, funding and country).
pub fn card_info(number: &str, exp_month: i64, exp_year: i64, cvc_given: bool) -> CardInfo {
    let d = cards::details(number);
    CardInfo {
        number: number.to_string(),
        brand: d.brand.to_string(),
        last4: number[number.len().saturating_sub(4)..].to_string(),
        exp_month,
        exp_year,
        funding: d.funding.to_string(),
        country: d.country.to_string(),
        fingerprint: fingerprint(number),
        cvc_given,
        wallet: None,
    }
}

fn card_param_error(message: &str, code: &str, param: &str) -> ApiError {
    ApiError::card(message, code).param(param)
}

/// `card[k]`, trimmed; `None` when absent or blank.
fn field<'a>(card: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    card.get(k)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// `card[number]` without its spaces and dashes: 12 to 19 digits that pass the Luhn check.
fn card_number(card: &Map<String, Value>) -> ApiResult<String> {
    let raw = field(card, "number").ok_or_else(|| missing("card[number]"))?;
    let number: String = raw
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    if !number.chars().all(|c| c.is_ascii_digit()) || number.len() < 12 || number.len() > 19 {
        return Err(card_param_error(
            "Your card number is incorrect.",
            "invalid_number",
            "card[number]",
        ));
    }
    if !cards::luhn_valid(&number) {
        return Err(card_param_error(
            "Your card number is incorrect.",
            "incorrect_number",
            "card[number]",
        ));
    }
    Ok(number)
}

/// `card[exp_month]` and `card[exp_year]` (two digits mean 20xx): a month from now up to
/// 50 years ahead.
fn expiry(card: &Map<String, Value>, now: i64) -> ApiResult<(i64, i64)> {
    let bad_month = || {
        card_param_error(
            "Your card's expiration month is invalid.",
            "invalid_expiry_month",
            "card[exp_month]",
        )
    };
    let bad_year = || {
        card_param_error(
            "Your card's expiration year is invalid.",
            "invalid_expiry_year",
            "card[exp_year]",
        )
    };
    let month: i64 = match field(card, "exp_month") {
        None => return Err(missing("card[exp_month]")),
        Some(s) => s.parse().map_err(|_| bad_month())?,
    };
    if !(1..=12).contains(&month) {
        return Err(bad_month());
    }
    let mut year: i64 = match field(card, "exp_year") {
        None => return Err(missing("card[exp_year]")),
        Some(s) => s.parse().map_err(|_| bad_year())?,
    };
    if year < 100 {
        year += 2000;
    }
    let (this_year, this_month) = year_month(now);
    if year < this_year || year > this_year + 50 {
        return Err(bad_year());
    }
    if year == this_year && month < i64::from(this_month) {
        return Err(bad_month());
    }
    Ok((month, year))
}

/// `card[cvc]`: four digits on an American Express card, three on the others.
fn check_cvc(cvc: &str, number: &str) -> ApiResult<()> {
    let want = if cards::details(number).brand == "amex" {
        4
    } else {
        3
    };
    if cvc.len() != want || !cvc.chars().all(|x| x.is_ascii_digit()) {
        return Err(card_param_error(
            "Your card's security code is invalid.",
            "invalid_cvc",
            "card[cvc]",
        ));
    }
    Ok(())
}

/// Validates `card[...]` and returns the card.
pub fn parse_card(card: &Map<String, Value>, now: i64) -> ApiResult<CardInfo> {
    let number = card_number(card)?;
    let (month, year) = expiry(card, now)?;
    let cvc = field(card, "cvc");
    if let Some(c) = cvc {
        check_cvc(c, &number)?;
    }
    Ok(card_info(&number, month, year, cvc.is_some()))
}
