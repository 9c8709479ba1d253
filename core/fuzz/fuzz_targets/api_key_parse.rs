//! Fuzzes the API-key parsers: never panic; parsed keys re-parse to themselves untrimmed,
//! and their `Debug`/`Display` show only the masked form.
#![no_main]

use libfuzzer_sys::fuzz_target;
use slotpay_core::{PublishableKey, ServerKey, WebhookSecret};

fn check_masked(full: &str, masked: &str, shown: [String; 2]) {
    assert!(masked.len() < full.len(), "{masked}");
    assert!(masked.ends_with(&full[full.len() - 4..]));
    for text in shown {
        assert_eq!(text, masked);
        assert!(!text.contains(full));
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(parsed) = PublishableKey::parse(text) {
        let key = parsed.key;
        let again = PublishableKey::parse(key.as_str()).expect("re-parse");
        assert!(!again.trimmed);
        assert_eq!(again.key, key);
        check_masked(
            key.as_str(),
            &key.masked(),
            [format!("{key:?}"), format!("{key}")],
        );
    }
    if let Ok(parsed) = ServerKey::parse(text) {
        let key = parsed.key;
        let full = key.expose_secret();
        let again = ServerKey::parse(full).expect("re-parse");
        assert!(!again.trimmed);
        assert_eq!(again.key.expose_secret(), full);
        assert_eq!(
            (again.key.kind(), again.key.mode()),
            (key.kind(), key.mode())
        );
        check_masked(full, &key.masked(), [format!("{key:?}"), format!("{key}")]);
    }
    if let Ok(parsed) = WebhookSecret::parse(text) {
        let secret = parsed.key;
        let full = secret.expose_secret();
        assert_eq!(
            WebhookSecret::parse(full)
                .expect("re-parse")
                .key
                .expose_secret(),
            full
        );
        check_masked(
            full,
            &secret.masked(),
            [format!("{secret:?}"), format!("{secret}")],
        );
    }
});
