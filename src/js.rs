//! Small helpers over JavaScript values: plain objects, property and global reads, timers,
//! focus, random bytes and `Intl` money formatting. Kept in one place so the rest of the glue
//! reads as what it does, not how `Reflect` is called.

use js_sys::{Function, Object, Promise, Reflect};
use slotpay_core::{Locale, Money};
use wasm_bindgen::prelude::*;
use web_sys::{Element, RequestInit};

use crate::task::waiting;

// The browser's globals the widget calls, bound as globals rather than through
// `web_sys::window()`, which would check `globalThis` is a `Window` on every call: one binding
// per function, and none for `window` or `window.crypto`.
#[wasm_bindgen]
extern "C" {
    /// `globalThis`, which every browser that runs this wasm has (js-sys's `global()` also
    /// tries `self`, `window` and `global`: one binding each).
    #[wasm_bindgen(thread_local_v2, js_name = globalThis)]
    static GLOBAL: JsValue;

    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(callback: &Function, ms: i32) -> JsValue;

    #[wasm_bindgen(catch, js_namespace = crypto, js_name = getRandomValues)]
    fn get_random_values(bytes: &mut [u8]) -> Result<JsValue, JsValue>;

    /// `fetch(url, init)`: a promise of the `Response`.
    #[wasm_bindgen(js_name = fetch)]
    pub fn fetch(url: &str, init: &RequestInit) -> Promise;

    /// `getComputedStyle(element)`.
    #[wasm_bindgen(js_name = getComputedStyle)]
    pub fn computed_style(element: &Element) -> Style;

    /// A computed style (`CSSStyleDeclaration`).
    pub type Style;

    /// `style.getPropertyValue(name)`, left a JavaScript string (it goes on to Stripe.js).
    #[wasm_bindgen(method, js_name = getPropertyValue)]
    pub fn property(this: &Style, name: &str) -> js_sys::JsString;

    /// `Intl.NumberFormat`, constructed from one locale tag.
    #[wasm_bindgen(js_namespace = Intl)]
    type NumberFormat;

    #[wasm_bindgen(constructor, catch, js_namespace = Intl)]
    fn new(locale: &str, options: &Object) -> Result<NumberFormat, JsValue>;

    #[wasm_bindgen(method)]
    fn format(this: &NumberFormat, value: f64) -> String;

    /// Something with a `focus()`: an element of the page or a Stripe Element, one binding
    /// for both.
    type Focusable;

    #[wasm_bindgen(catch, method, js_name = focus)]
    fn focus(this: &Focusable) -> Result<(), JsValue>;
}

/// `object[key]`, `undefined` when absent or when `object` is not an object.
pub fn get(object: &JsValue, key: &str) -> JsValue {
    if !object.is_object() {
        return JsValue::UNDEFINED;
    }
    Reflect::get(object, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// The global `name` (`location`, `Stripe`), read when asked for.
pub fn global(name: &str) -> JsValue {
    GLOBAL.with(|global| get(global, name))
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
    let ms = ms.min(i32::MAX as u32) as i32;
    let _ = waiting(|resolve, _| {
        set_timeout(resolve, ms);
    })
    .await;
}

/// 16 bytes from `crypto.getRandomValues`, or `None` when the browser has no crypto.
pub fn random_bytes() -> Option<[u8; 16]> {
    let mut bytes = [0_u8; 16];
    get_random_values(&mut bytes).ok()?;
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
    // Only the four two-letter tags and core's ISO codes reach Intl: it should not throw, but
    // if it does, the amount reads as core writes it.
    match NumberFormat::new(locale.as_str(), &options) {
        Ok(format) => format.format(money.major_units_f64_for_display()),
        Err(_) => crate::i18n::core_money(money),
    }
}

/// Moves focus to `target` (an element, or a Stripe Element): `target.focus()`.
pub fn focus(target: &JsValue) {
    let _ = target.unchecked_ref::<Focusable>().focus();
}

/// A JavaScript value as a function, when it is one.
pub fn as_function(value: JsValue) -> Option<Function> {
    value.dyn_into::<Function>().ok()
}
