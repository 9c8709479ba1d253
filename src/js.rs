//! Small helpers over JavaScript values: plain objects, property reads, timers, random
//! bytes and `Intl` money formatting. Kept in one place so the rest of the glue reads as
//! what it does, not how `Reflect` is called.

use js_sys::{Array, Function, Intl, Object, Promise, Reflect};
use slotpay_core::{Locale, Money};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// `object[key]`, `undefined` when absent or when `object` is not an object.
pub fn get(object: &JsValue, key: &str) -> JsValue {
    if !object.is_object() {
        return JsValue::UNDEFINED;
    }
    Reflect::get(object, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// `object[key]` when it is a string.
pub fn get_string(object: &JsValue, key: &str) -> Option<String> {
    get(object, key).as_string()
}

/// A plain object from `(key, value)` pairs.
pub fn object(entries: &[(&str, JsValue)]) -> Object {
    let object = Object::new();
    for (key, value) in entries {
        // Setting a property on a fresh plain object cannot fail.
        let _ = Reflect::set(&object, &JsValue::from_str(key), value);
    }
    object
}

/// Resolves after `ms` milliseconds.
pub async fn sleep(ms: u32) {
    if ms == 0 {
        return;
    }
    let promise = Promise::new(&mut |resolve: Function, _reject| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
                &resolve,
                ms.min(i32::MAX as u32) as i32,
            );
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// 16 bytes from `crypto.getRandomValues`, or `None` when the browser has no crypto.
pub fn random_bytes() -> Option<[u8; 16]> {
    let mut bytes = [0_u8; 16];
    web_sys::window()?
        .crypto()
        .ok()?
        .get_random_values_with_u8_array(&mut bytes)
        .ok()?;
    Some(bytes)
}

/// `money` as `Intl.NumberFormat(locale, {style: 'currency', currency})` writes it, with
/// the decimals core says the currency shows ("12,50 €", "¥500", "KWD 5.120").
pub fn format_money(locale: Locale, money: Money) -> String {
    let currency = money.currency();
    let decimals = JsValue::from(currency.display_decimals());
    let options = object(&[
        ("style", "currency".into()),
        ("currency", currency.code().to_ascii_uppercase().into()),
        ("minimumFractionDigits", decimals.clone()),
        ("maximumFractionDigits", decimals),
    ]);
    // Only the four two-letter tags reach Intl, so the constructor cannot throw on a tag.
    let format = Intl::NumberFormat::new(&Array::of1(&locale.as_str().into()), &options);
    format
        .format()
        .call1(&format, &money.major_units_f64_for_display().into())
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_else(|| crate::i18n::core_money(money))
}

/// A JavaScript value as a function, when it is one.
pub fn as_function(value: JsValue) -> Option<Function> {
    value.dyn_into::<Function>().ok()
}
