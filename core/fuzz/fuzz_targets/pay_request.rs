//! Fuzzes `PayRequest` deserialisation from JSON bytes: never panics, and every accepted
//! request serialises to JSON that deserialises to the same request.
#![no_main]

use libfuzzer_sys::fuzz_target;
use slotpay_core::{Email, PayRequest, PaymentMethodId};

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = serde_json::from_slice::<PayRequest>(data) {
        let json = serde_json::to_vec(&request).expect("serialise");
        let again: PayRequest = serde_json::from_slice(&json).expect("round trip");
        assert_eq!(again, request);
        // Accepted values satisfy their own parsers unchanged.
        assert_eq!(
            Email::parse(request.email.as_str()).as_ref(),
            Ok(&request.email)
        );
        assert_eq!(
            PaymentMethodId::parse(request.payment_method.as_str()).as_ref(),
            Ok(&request.payment_method)
        );
    }
});
