//! Fuzzes the prepayment rules the platform API and the admin pages accept as JSON: a rule
//! parsed from arbitrary bytes, applied to a price taken from the input, never panics, and an
//! amount it accepts is positive, in the price's currency, no more than the price (rounded up
//! to the currency's step) and chargeable; accepted rules serialise to themselves.
#![no_main]

use libfuzzer_sys::fuzz_target;
use slotpay_core::{check_chargeable, Currency, Money, PrepaymentRule};

fuzz_target!(|data: &[u8]| {
    // 1 byte picks the currency, 8 the price, the rest is the rule's JSON.
    if data.len() < 9 {
        return;
    }
    let currency = Currency::ALL[usize::from(data[0]) % Currency::ALL.len()];
    let minor = i64::from_le_bytes(data[1..9].try_into().expect("8 bytes"));
    let Ok(rule) = serde_json::from_slice::<PrepaymentRule>(&data[9..]) else {
        return;
    };
    let again: PrepaymentRule =
        serde_json::from_slice(&serde_json::to_vec(&rule).expect("serialise")).expect("parse");
    assert_eq!(again, rule);
    let price = Money::from_minor(minor, currency);
    if let Ok(amount) = rule.prepayment(price) {
        assert_eq!(amount.currency(), currency);
        assert!(
            amount.minor() > 0,
            "{rule:?} of {minor}: {}",
            amount.minor()
        );
        let step = currency.step();
        let ceiling = minor
            .checked_add(step - 1)
            .map(|m| m / step * step)
            .unwrap_or(i64::MAX);
        assert!(
            amount.minor() <= ceiling,
            "{rule:?} of {minor} {currency:?}: {}",
            amount.minor()
        );
        assert!(check_chargeable(amount).is_ok());
    }
});
