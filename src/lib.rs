//! slotpay's checkout widget, compiled to WebAssembly.
//!
//! The widget is a thin shell over `slotpay-core`: every money rule it applies (minimum charge,
//! currency decimals) comes from core, so the browser and the server refuse the same amounts with
//! the same words.
#![deny(missing_docs)]

use slotpay_core::{check_chargeable, Currency, Money};
use wasm_bindgen::prelude::*;

/// Why `amount` minor units of `currency` cannot be charged, as the message a client reads
/// ("Your payment must be no less than 0.50 USD"), or `None` when it can be.
///
/// An unknown currency code is answered with the parser's message, which names the code.
#[wasm_bindgen(js_name = chargeRefusal)]
pub fn charge_refusal(amount: i64, currency: &str) -> Option<String> {
    let currency = match Currency::parse(currency) {
        Ok(currency) => currency,
        Err(error) => return Some(error.to_string()),
    };
    check_chargeable(Money::from_minor(amount, currency))
        .err()
        .map(|refusal| refusal.to_string())
}
