//! The widget's glue, run in headless Chromium by `wasm-bindgen-test-runner`
//! (`cargo test -p slotpay-widget --target wasm32-unknown-unknown`).
#![cfg(target_arch = "wasm32")]

use slotpay_widget::charge_refusal;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn below_minimum_is_refused_with_the_core_message() {
    assert_eq!(
        charge_refusal(49, "usd").as_deref(),
        Some("Your payment must be no less than 0.50 USD")
    );
    assert_eq!(
        charge_refusal(49, "JPY").as_deref(),
        Some("Your payment must be no less than 50 JPY")
    );
}

#[wasm_bindgen_test]
fn the_minimum_itself_is_accepted() {
    assert_eq!(charge_refusal(50, "usd"), None);
    assert_eq!(charge_refusal(30, "gbp"), None);
}

#[wasm_bindgen_test]
fn an_unknown_currency_is_named() {
    let message = charge_refusal(5000, "abc").expect("unknown currency must be refused");
    assert!(message.contains("ABC") || message.contains("abc"), "{message}");
}
