//! slotpay's checkout widget, compiled to WebAssembly: the checkout a client sees when paying
//! a prepayment, a deposit or a payment link, mounted in a shadow root on any element.
//!
//! The widget is a thin shell over `slotpay-core`: every money rule it applies (minimum
//! charge, currency decimals) and every wire type comes from core, so the browser and the
//! server refuse the same amounts with the same words. The pure parts (the state machine in
//! `machine`, the words in `i18n`, idempotency keys in `key`) are tested natively; the
//! browser glue (`widget`, `dom`, `api`, `stripe`, `js`, `task`) by `tests/web.rs` in Chromium.
//!
//! JavaScript API (what `www/slotpay.js` calls):
//! - `mount(host, options) -> Widget`: a shadow root on `host` plus the light-DOM containers
//!   of Stripe's Payment Element and Express Checkout Element. Options: `{checkout:
//!   "cs_..."}` or `{merchant: "mer_...", service: "svc_..."}`, with `apiBase` (the slotpay server, required) and
//!   optionally `locale` ("fr", "de-AT", ...), `styleUrl` (default `apiBase + "/slotpay.css"`),
//!   `view` (a promise of the view request's `Response`, already started by the loader),
//!   `words` (a promise of `GET /words/{locale}.json`'s parsed body, or `null`, for the language
//!   the loader expects; the widget fetches its language itself when they are not its) and
//!   `stripe` (a promise of the global `Stripe` function; without it `window.Stripe` must
//!   exist). Throws a `TypeError` when the options name no checkout or no API.
//! - `Widget.unmount()`: removes the DOM, listeners and Stripe's Elements; answers still in
//!   flight are ignored; safe to call twice. `Widget.free()` (wasm-bindgen's) after it.
#![deny(missing_docs)]

mod api;
mod dom;
mod i18n;
mod js;
mod key;
mod machine;
mod stripe;
mod task;
mod widget;
mod wire;

use js_sys::Promise;
use slotpay_core::{CheckoutToken, Locale};
use wasm_bindgen::prelude::*;
use web_sys::Element;

use crate::api::{Api, Source};
use crate::js::get_string;
use crate::widget::{Mounted, Options};

/// The allocator in the browser: TLSF from `rlsf` instead of std's dlmalloc, for a smaller
/// wasm. It frees memory as dlmalloc does (a widget can be mounted and unmounted many times
/// on one page); its code-size options suit a widget whose allocations are small strings.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: rlsf::SmallGlobalTlsf = rlsf::SmallGlobalTlsf::new();

/// A mounted checkout. `unmount()` removes everything the widget added to the page.
#[wasm_bindgen]
pub struct Widget {
    mounted: Mounted,
}

#[wasm_bindgen]
impl Widget {
    /// Removes everything the widget added; safe to call twice.
    pub fn unmount(&self) {
        self.mounted.unmount();
    }
}

/// Mounts the checkout in `host`; options and errors: see the crate documentation.
#[wasm_bindgen]
pub fn mount(host: &Element, options: JsValue) -> Result<Widget, JsValue> {
    let options = parse_options(&options).map_err(|m| JsValue::from(js_sys::TypeError::new(m)))?;
    let mounted = Mounted::start(host, options)?;
    Ok(Widget { mounted })
}

fn parse_options(options: &JsValue) -> Result<Options, &'static str> {
    let text = |key| get_string(options, key).filter(|s| !s.trim().is_empty());
    let source = match (text("checkout"), text("merchant"), text("service")) {
        (Some(token), _, _) => Source::Checkout(
            CheckoutToken::parse(token.trim())
                .map_err(|_| "slotpay: `checkout` is not a checkout token (cs_...)")?,
        ),
        (None, Some(merchant), Some(service)) => Source::Service {
            merchant: merchant.trim().to_owned(),
            service: service.trim().to_owned(),
        },
        _ => return Err("slotpay: pass `checkout`, or `merchant` and `service`"),
    };
    let base =
        text("apiBase").ok_or("slotpay: `apiBase` (the slotpay server's URL) is required")?;
    let api = Api::new(&base);
    let style_url = text("styleUrl").unwrap_or_else(|| api.url(&["/slotpay.css"]));
    let promise = |key| {
        let value = js::get(options, key);
        (!value.is_undefined() && !value.is_null()).then(|| Promise::resolve(&value))
    };
    Ok(Options {
        source,
        locale: text("locale").and_then(|l| Locale::parse(&l)),
        api,
        style_url,
        view: promise("view"),
        words: promise("words"),
        stripe: promise("stripe"),
        returned: js::get(options, "returned").as_bool() == Some(true),
    })
}
