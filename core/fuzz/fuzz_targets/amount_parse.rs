//! Fuzzes `Money::parse`: never panics, and every parsed amount displays back to a string
//! that parses to the same amount; the charge check never panics either.
#![no_main]

use libfuzzer_sys::fuzz_target;
use slotpay_core::{check_chargeable, Currency, Money};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, text)) = data.split_first() else {
        return;
    };
    let currency = Currency::ALL[usize::from(pick) % Currency::ALL.len()];
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    if let Ok(money) = Money::parse(text, currency) {
        assert!(money.minor() >= 0);
        assert_eq!(money.currency(), currency);
        let shown = money.to_major_string();
        assert_eq!(
            Money::parse(&shown, currency),
            Ok(money),
            "{text:?} -> {shown:?}"
        );
        let _ = check_chargeable(money).map_err(|e| e.to_string());
        let _ = money.to_string();
    }
});
