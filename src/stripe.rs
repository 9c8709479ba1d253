//! Bindings to the documented part of Stripe.js v3 the widget uses: `Stripe(key, {locale})`,
//! `stripe.elements({appearance, locale})`, `elements.create('card', {style})`, the card
//! element's `mount`, `on`, `focus`, `clear`, `update` and `destroy`,
//! `stripe.createPaymentMethod` and `stripe.confirmCardPayment`. Nothing else, so the real
//! `https://js.stripe.com/v3/` and the sandbox's copy both fit.
//!
//! Every call is `catch`: Stripe.js throws `IntegrationError` for misuse, and a JavaScript
//! exception must not unwind through wasm while the widget's state is borrowed.

use js_sys::{Function, Object, Promise};
use slotpay_core::{Email, PaymentMethodId};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;
use web_sys::Element;

use crate::js::{get, get_string, object};
use crate::machine::Problem;

#[wasm_bindgen]
extern "C" {
    /// A `Stripe(publishableKey)` instance.
    pub type Stripe;

    #[wasm_bindgen(method, catch)]
    fn elements(this: &Stripe, options: &Object) -> Result<Elements, JsValue>;

    #[wasm_bindgen(method, catch, js_name = createPaymentMethod)]
    fn create_payment_method(this: &Stripe, data: &Object) -> Result<Promise, JsValue>;

    #[wasm_bindgen(method, catch, js_name = confirmCardPayment)]
    fn confirm_card_payment(this: &Stripe, client_secret: &str) -> Result<Promise, JsValue>;

    /// A `stripe.elements()` group.
    pub type Elements;

    #[wasm_bindgen(method, catch)]
    fn create(this: &Elements, kind: &str, options: &Object) -> Result<CardElement, JsValue>;

    #[wasm_bindgen(method, catch, js_name = update)]
    fn update_group(this: &Elements, options: &Object) -> Result<JsValue, JsValue>;

    /// The card element.
    pub type CardElement;

    #[wasm_bindgen(method, catch)]
    fn mount(this: &CardElement, container: &Element) -> Result<(), JsValue>;

    #[wasm_bindgen(method, catch)]
    fn on(this: &CardElement, event: &str, handler: &Function) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(method, catch)]
    fn update(this: &CardElement, options: &Object) -> Result<(), JsValue>;

    #[wasm_bindgen(method, catch)]
    fn focus(this: &CardElement) -> Result<(), JsValue>;

    #[wasm_bindgen(method, catch)]
    fn clear(this: &CardElement) -> Result<(), JsValue>;

    #[wasm_bindgen(method, catch)]
    fn destroy(this: &CardElement) -> Result<(), JsValue>;
}

/// The widget's theme, read from its CSS custom properties, in the shapes Stripe wants:
/// `appearance.variables` for the Elements group, `style` for the card element (which the
/// Appearance API does not reach).
#[derive(Default, Clone, PartialEq, Eq, Debug)]
pub struct Theme {
    /// `--slotpay-color-primary`.
    pub primary: String,
    /// `--slotpay-color-text`.
    pub text: String,
    /// `--slotpay-color-danger`.
    pub danger: String,
    /// `--slotpay-font-family`.
    pub font: String,
    /// `--slotpay-radius`.
    pub radius: String,
}

impl Theme {
    /// `{variables: {...}}`, only with the values that are set.
    fn appearance(&self) -> Object {
        let variables = Object::new();
        for (key, value) in [
            ("colorPrimary", &self.primary),
            ("colorText", &self.text),
            ("colorDanger", &self.danger),
            ("fontFamily", &self.font),
            ("borderRadius", &self.radius),
        ] {
            set_if(&variables, key, value);
        }
        object(&[("variables", variables.into())])
    }

    /// `{style: {base: {...}, invalid: {...}}}` for the card element.
    fn card_options(&self) -> Object {
        let base = Object::new();
        set_if(&base, "color", &self.text);
        set_if(&base, "iconColor", &self.primary);
        set_if(&base, "fontFamily", &self.font);
        let invalid = Object::new();
        set_if(&invalid, "color", &self.danger);
        set_if(&invalid, "iconColor", &self.danger);
        let style = object(&[("base", base.into()), ("invalid", invalid.into())]);
        object(&[("style", style.into())])
    }
}

fn set_if(target: &Object, key: &str, value: &str) {
    if !value.is_empty() {
        let _ = js_sys::Reflect::set(target, &key.into(), &value.into());
    }
}

/// A mounted card element with the Stripe instance that made it. Dropping it destroys the
/// element (its iframe leaves the page) and frees its event handlers.
pub struct Card {
    stripe: Stripe,
    elements: Elements,
    element: CardElement,
    handlers: Vec<Closure<dyn FnMut(JsValue)>>,
}

impl Card {
    /// `Stripe(key, {locale})`, one card element themed with `theme`, mounted in
    /// `container`. `factory` is the global `Stripe` function.
    pub fn mount(
        factory: &Function,
        publishable_key: &str,
        locale: &str,
        theme: &Theme,
        container: &Element,
    ) -> Result<Card, JsValue> {
        let options = object(&[("locale", locale.into())]);
        let stripe: Stripe = factory
            .call2(&JsValue::NULL, &publishable_key.into(), &options)?
            .unchecked_into();
        let group = theme.appearance();
        let _ = js_sys::Reflect::set(&group, &"locale".into(), &locale.into());
        let elements = stripe.elements(&group)?;
        let element = elements.create("card", &theme.card_options())?;
        element.mount(container)?;
        Ok(Card {
            stripe,
            elements,
            element,
            handlers: Vec::new(),
        })
    }

    /// Calls `handler` with each `event` (`ready`, `change`) of the card element, for as
    /// long as this card lives.
    pub fn on(&mut self, event: &str, handler: impl FnMut(JsValue) + 'static) {
        let closure = Closure::<dyn FnMut(JsValue)>::new(handler);
        if self
            .element
            .on(event, closure.as_ref().unchecked_ref())
            .is_ok()
        {
            self.handlers.push(closure);
        }
    }

    /// Applies a new theme (the stylesheet loaded after the card was made).
    pub fn set_theme(&self, theme: &Theme) {
        let _ = self.elements.update_group(&theme.appearance());
        let _ = self.element.update(&theme.card_options());
    }

    /// Moves focus into the card number field.
    pub fn focus(&self) {
        let _ = self.element.focus();
    }

    /// Empties the fields for another card.
    pub fn clear(&self) {
        let _ = self.element.clear();
    }

    /// `stripe.createPaymentMethod({type: 'card', card, billing_details: {email}})`.
    pub fn create_payment_method(&self, email: &Email) -> Result<Promise, JsValue> {
        let billing = object(&[("email", email.as_str().into())]);
        let data = object(&[
            ("type", "card".into()),
            ("card", self.element.clone()),
            ("billing_details", billing.into()),
        ]);
        self.stripe.create_payment_method(&data)
    }

    /// `stripe.confirmCardPayment(clientSecret)`: runs 3-D Secure.
    pub fn confirm_card_payment(&self, client_secret: &str) -> Result<Promise, JsValue> {
        self.stripe.confirm_card_payment(client_secret)
    }
}

impl Drop for Card {
    fn drop(&mut self) {
        let _ = self.element.destroy();
    }
}

/// Reads `createPaymentMethod`'s `{paymentMethod}` or `{error}`.
pub fn payment_method_result(result: &JsValue) -> Result<PaymentMethodId, Problem> {
    let id = get_string(&get(result, "paymentMethod"), "id");
    match id.as_deref().map(PaymentMethodId::parse) {
        Some(Ok(id)) => Ok(id),
        _ => Err(card_problem(result)),
    }
}

/// Stripe's `{error: {code, message}}` as a card problem.
pub fn card_problem(result: &JsValue) -> Problem {
    let error = get(result, "error");
    match get_string(&error, "message") {
        Some(message) => Problem::Card {
            code: get_string(&error, "code"),
            message,
        },
        None => Problem::StripeJs,
    }
}

/// The `error.message` of a `confirmCardPayment` result, if it failed.
pub fn confirm_error(result: &JsValue) -> Option<String> {
    let error = get(result, "error");
    if error.is_undefined() || error.is_null() {
        None
    } else {
        Some(get_string(&error, "message").unwrap_or_default())
    }
}

/// The `error.message` of a card element `change` event, if the fields are invalid.
pub fn change_error(event: &JsValue) -> Option<String> {
    get_string(&get(event, "error"), "message")
}
