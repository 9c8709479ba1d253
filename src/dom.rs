//! The widget's DOM: one constant piece of markup in a shadow root on the host element,
//! then updated from the state machine by [`Ui::render`], which only shows, hides and rewords
//! nodes. The Payment Element's container is the one node in the host's light DOM (Stripe.js
//! refuses to mount inside a shadow root), projected into the form through a `<slot>`.
//!
//! The markup is a constant with no inline style or script, so it passes a strict
//! Content-Security-Policy; everything from the server (names, descriptions, consent text)
//! goes in as text, never as markup. Building it from one string rather than node by node
//! keeps about 3 KB of `createElement` calls out of the wasm.

use slotpay_core::{hold, Appearance, Locale, Money, Receipt};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Element, EventTarget, HtmlElement, HtmlInputElement, ShadowRoot, ShadowRootInit};

use crate::i18n::{fill, fill_time, problem_text, Words};
use crate::js::{format_money, object};
use crate::machine::{Machine, Phase, Problem};
use slotpay_core::words::Text;

/// The widget's markup; ids are scoped to the shadow root.
const MARKUP: &str = concat!(
    r#"<link id="css" rel="stylesheet">"#,
    r#"<div id="frame" class="sp" role="region" part="frame">"#,
    r#"<div id="skeleton" class="sp-skeleton" aria-hidden="true"><div id="bone-summary" class="sp-skeleton">"#,
    r#"<div class="sp-bone sp-bone-title"></div><div class="sp-bone"></div></div><div class="sp-bone sp-bone-field"></div>"#,
    r#"<div class="sp-bone sp-bone-field"></div><div class="sp-bone sp-bone-button"></div></div>"#,
    r#"<p id="badge" class="sp-badge"><strong id="badge-title" class="sp-badge-title"></strong> "#,
    r#"<span id="badge-hint"></span></p>"#,
    r#"<div id="summary" class="sp-summary"><p id="merchant" class="sp-merchant"></p>"#,
    r#"<p id="description" class="sp-description"></p><p id="amount" class="sp-amount"></p>"#,
    r#"<p id="hold" class="sp-hold"></p></div>"#,
    // Stripe's Express Checkout Element (the wallets' buttons), shown once it has one.
    r#"<form id="form" class="sp-form" novalidate><slot name="express"></slot>"#,
    r#"<label id="email-label" class="sp-label" for="email"></label>"#,
    r#"<input id="email" class="sp-input" type="email" name="email" required autocomplete="email" "#,
    r#"inputmode="email" aria-describedby="email-hint">"#,
    r#"<p id="email-hint" class="sp-hint"></p>"#,
    // Stripe's Payment Element labels its own fields and tabs.
    r#"<div class="sp-card"><slot name="card"></slot></div>"#,
    r#"<label id="consent" class="sp-consent"><input id="save-card" type="checkbox" name="save_card">"#,
    r#"<span id="consent-text"></span></label>"#,
    r#"<button id="pay" class="sp-pay" type="submit"><span id="spinner" class="sp-spinner" aria-hidden="true"></span>"#,
    r#"<span id="pay-text"></span></button></form>"#,
    r#"<div id="result" class="sp-result"><h2 id="result-title" class="sp-result-title" tabindex="-1"></h2>"#,
    r#"<dl id="receipt" class="sp-receipt">"#,
    r#"<div id="row-0" class="sp-receipt-row"><dt id="key-0"></dt><dd id="value-0"></dd></div>"#,
    r#"<div id="row-1" class="sp-receipt-row"><dt id="key-1"></dt><dd id="value-1"></dd></div>"#,
    r#"<div id="row-2" class="sp-receipt-row"><dt id="key-2"></dt><dd id="value-2"></dd></div>"#,
    r#"<div id="row-3" class="sp-receipt-row"><dt id="key-3"></dt><dd id="value-3"></dd></div></dl>"#,
    r#"<button id="retry" class="sp-retry" type="button"></button></div>"#,
    r#"<p id="status" class="sp-status" role="status"></p>"#,
    r#"<p id="alert" class="sp-alert" role="alert"></p></div>"#,
);

/// A DOM event listener the widget owns: removed from its target when dropped, so
/// unmounting (which drops them all) leaves no listener behind.
pub struct Listener {
    target: EventTarget,
    kind: &'static str,
    // The event as a plain `JsValue`: the closure type Stripe's handlers have too, so the
    // wasm carries one closure shim for both.
    callback: Closure<dyn FnMut(JsValue)>,
}

impl Listener {
    /// Calls `handler` with each `kind` event on `target` for as long as the listener lives.
    /// (`handler` comes boxed: one copy of the closure's wrapping for every listener.)
    pub fn new(
        target: &EventTarget,
        kind: &'static str,
        handler: Box<dyn FnMut(JsValue)>,
    ) -> Listener {
        let callback = Closure::wrap(handler);
        let _ = target.add_event_listener_with_callback(kind, callback.as_ref().unchecked_ref());
        Listener {
            target: target.clone(),
            kind,
            callback,
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let callback = self.callback.as_ref().unchecked_ref();
        let _ = self
            .target
            .remove_event_listener_with_callback(self.kind, callback);
    }
}

/// The tag of the Payment Element's container in the host's light DOM.
pub const CARD_HOST_TAG: &str = "slotpay-card";

/// The tag of the Express Checkout Element's container in the host's light DOM.
pub const EXPRESS_HOST_TAG: &str = "slotpay-express";

/// The nodes the widget updates.
pub struct Ui {
    /// The element the widget was mounted on.
    pub host: Element,
    root: ShadowRoot,
    /// The stylesheet link, whose `load` re-themes the Payment Element.
    pub link: Element,
    frame: Element,
    /// The payment form; its `submit` is Pay.
    pub form: Element,
    /// The email field.
    pub email: HtmlInputElement,
    /// The save-card consent box.
    pub consent_box: HtmlInputElement,
    /// Where Stripe mounts the Payment Element (light DOM, slotted).
    pub card_host: Element,
    /// Where Stripe mounts the Express Checkout Element (light DOM, slotted; hidden until it
    /// shows a button).
    pub express_host: Element,
    /// "Try another card".
    pub retry: Element,
    result_title: HtmlElement,
    prefilled: bool,
    /// The words shown: none until the checkout's language arrives.
    pub words: Words,
}

fn attr(element: &Element, name: &str, value: &str) {
    let _ = element.set_attribute(name, value);
}

/// Sets or removes a boolean attribute.
fn toggle(element: &Element, name: &str, on: bool) {
    let _ = element.toggle_attribute_with_force(name, on);
}

/// Sets `hidden`, which slotpay.css makes win over any `display`.
fn show(element: &Element, visible: bool) {
    toggle(element, "hidden", !visible);
}

/// The node with this id in `root`; the ids are MARKUP's, so it is there.
fn node(root: &ShadowRoot, id: &str) -> Element {
    root.get_element_by_id(id)
        .unwrap_or_else(|| wasm_bindgen::throw_str("slotpay: widget markup is missing a node"))
}

/// Sets the text only when it changes, so live regions do not announce twice.
fn set_text(element: &Element, value: &str) {
    if element.text_content().as_deref() != Some(value) {
        element.set_text_content(Some(value));
    }
}

impl Ui {
    /// Builds the widget's DOM in `host`'s shadow root (reusing one a previous mount left),
    /// linking `style_url`.
    pub fn build(host: &Element, style_url: &str) -> Result<Ui, JsValue> {
        let root = match host.shadow_root() {
            Some(root) => root,
            None => host.attach_shadow(
                // `{mode: "open"}`, as a plain object (one binding less than the setters).
                &object(&[("mode", "open".into())]).unchecked_into::<ShadowRootInit>(),
            )?,
        };
        root.set_inner_html(MARKUP);
        let document = host.owner_document().ok_or(JsValue::NULL)?;
        let card_host = document.create_element(CARD_HOST_TAG)?;
        attr(&card_host, "slot", "card");
        let express_host = document.create_element(EXPRESS_HOST_TAG)?;
        attr(&express_host, "slot", "express");
        show(&express_host, false);
        host.append_with_node_2(&express_host, &card_host)?;
        let ui = Ui {
            host: host.clone(),
            link: node(&root, "css"),
            frame: node(&root, "frame"),
            form: node(&root, "form"),
            email: node(&root, "email").unchecked_into(),
            consent_box: node(&root, "save-card").unchecked_into(),
            card_host,
            express_host,
            retry: node(&root, "retry"),
            result_title: node(&root, "result-title").unchecked_into(),
            root,
            prefilled: false,
            words: Words::none(),
        };
        attr(&ui.link, "href", style_url);
        Ok(ui)
    }

    /// The node with this id in the shadow root.
    fn get(&self, id: &str) -> Element {
        node(&self.root, id)
    }

    fn show(&self, id: &str, visible: bool) {
        show(&self.get(id), visible);
    }

    fn text(&self, id: &str, value: &str) {
        set_text(&self.get(id), value);
    }

    /// Shows the machine's state.
    pub fn render(&mut self, machine: &Machine) {
        // The language of the words at hand, so the texts, the amounts and `lang` agree.
        let locale = self.words.shown(machine.locale());
        let words = &self.words;
        let t = |which| words.get(which);
        let money = |m: Money| format_money(locale, m);
        let phase = machine.phase();
        let view = machine.view();
        let busy = phase.is_busy();
        let loading = matches!(phase, Phase::Loading);
        let flag = |on: bool| if on { "true" } else { "false" };

        attr(&self.frame, "lang", locale.as_str());
        attr(&self.frame, "aria-label", t(Text::Region));
        attr(&self.frame, "aria-busy", flag(loading || busy));
        attr(&self.frame, "data-state", phase_name(phase));
        // While Stripe's fields load, the booking (merchant, what, amount) is shown already,
        // above the form's bones; the form itself comes with the card field.
        self.show("skeleton", loading);
        self.show("bone-summary", view.is_none());

        self.show("badge", machine.is_test_mode());
        self.text("badge-title", t(Text::TestMode));
        self.text("badge-hint", t(Text::TestCardHint));

        let paid = matches!(phase, Phase::Paid(_));
        self.show("summary", view.is_some() && !paid);
        if let Some(view) = view {
            let amount = money(view.amount);
            self.text("merchant", &view.merchant_name);
            self.text("description", &view.description);
            self.text("amount", &amount);
            self.text("pay-text", &fill(t(Text::Pay), &amount));
            let left = machine.hold_left();
            self.show("hold", left.is_some());
            if let Some(left) = left {
                self.text("hold", &fill_time(t(Text::HoldLeft), &hold::clock(left)));
            }
            if let Some(color) = &view.brand_color {
                // The merchant's colour, under the page's own `--slotpay-color-primary`
                // (slotpay.css); set through the CSSOM, which a strict CSP allows.
                let frame = self.frame.unchecked_ref::<HtmlElement>();
                let _ = frame.style().set_property("--sp-brand", color.as_str());
            }
            self.show_look(&view.appearance);
            self.show("consent", view.save_card.is_some());
            if let Some(offer) = &view.save_card {
                self.text("consent-text", &offer.consent_text);
            }
            if !self.prefilled {
                self.prefilled = true;
                if let Some(email) = &view.email {
                    if self.email.value().is_empty() {
                        self.email.set_value(email.as_str());
                    }
                }
            }
        }

        show(&self.form, matches!(phase, Phase::Ready(_)) || busy);
        self.text("email-label", t(Text::Email));
        self.text("email-hint", t(Text::EmailHint));
        toggle(&self.email, "readonly", busy);
        toggle(&self.consent_box, "disabled", busy);
        toggle(&self.get("pay"), "disabled", busy);
        self.show("spinner", busy);
        let email_wrong = matches!(phase, Phase::Ready(Some(Problem::Email)));
        attr(&self.email, "aria-invalid", flag(email_wrong));

        self.text(
            "status",
            match phase {
                Phase::Loading => t(Text::Loading),
                Phase::Paying => t(Text::Paying),
                Phase::Authenticating => t(Text::Authenticating),
                Phase::Processing => t(Text::Processing),
                Phase::Pending => t(Text::Pending),
                _ => "",
            },
        );
        let problem = match phase {
            Phase::Ready(Some(p)) | Phase::Failed(p) | Phase::Refused(p) | Phase::Broken(p) => {
                problem_text(words, locale, p, &money)
            }
            _ => String::new(),
        };
        let closed = match phase {
            Phase::Unavailable => Some(Text::Unavailable),
            Phase::Expired if machine.hold_lapsed() => Some(Text::HoldExpired),
            Phase::Expired => Some(Text::Expired),
            Phase::Canceled => Some(Text::Canceled),
            _ => None,
        };
        self.text("alert", closed.map_or(&problem, t));

        let failed = matches!(phase, Phase::Failed(_));
        let pending = matches!(phase, Phase::Pending);
        self.show("result", paid || failed || pending);
        self.show("receipt", paid);
        show(&self.retry, failed);
        set_text(&self.retry, t(Text::TryAnotherCard));
        set_text(
            &self.result_title,
            t(if paid {
                Text::PaidTitle
            } else if pending {
                Text::PendingTitle
            } else {
                Text::FailedTitle
            }),
        );
        if let (Phase::Paid(receipt), Some(view)) = (phase, view) {
            self.render_receipt(locale, &view.merchant_name, view.amount, receipt.as_ref());
        }
    }

    fn render_receipt(
        &self,
        locale: Locale,
        merchant: &str,
        amount: Money,
        receipt: Option<&Receipt>,
    ) {
        // `Visa •••• 4242` for a card, else the method's name (`iDEAL`).
        let mut card = String::new();
        let (label, paid_with) = match receipt {
            None => (Text::Card, None),
            Some(r) => match (r.brand, &r.last4) {
                (Some(brand), Some(last4)) => {
                    card.push_str(brand.display_name());
                    card.push_str(" •••• ");
                    card.push_str(last4.as_str());
                    (Text::Card, Some(card.as_str()))
                }
                _ => (Text::PaidWith, Some(r.method.display_name())),
            },
        };
        let paid = format_money(locale, receipt.map_or(amount, |r| r.amount));
        let rows = [
            (Text::PaidTo, Some(merchant)),
            (Text::Amount, Some(paid.as_str())),
            (label, paid_with),
            (
                Text::Reference,
                receipt.and_then(|r| r.reference.as_deref()),
            ),
        ];
        // MARKUP's ids of each row, its label and its value.
        const IDS: [[&str; 3]; 4] = [
            ["row-0", "key-0", "value-0"],
            ["row-1", "key-1", "value-1"],
            ["row-2", "key-2", "value-2"],
            ["row-3", "key-3", "value-3"],
        ];
        for ((label, value), [row, key, text]) in rows.into_iter().zip(IDS) {
            self.show(row, value.is_some());
            self.text(key, self.words.get(label));
            self.text(text, value.unwrap_or(""));
        }
    }

    /// Moves focus to the result's title, so a screen reader reads the outcome.
    pub fn focus_result(&self) {
        crate::js::focus(&self.result_title);
    }

    /// The email field's focus.
    pub fn focus_email(&self) {
        crate::js::focus(&self.email);
    }

    /// The merchant's corners, font and light or dark, as attributes slotpay.css turns into
    /// its defaults (still under the page's own `--slotpay-*`). Kept out of `render` (which
    /// it would make larger than it is).
    #[inline(never)]
    fn show_look(&self, look: &Appearance) {
        for (name, value) in look.attributes() {
            if let Some(value) = value {
                attr(&self.frame, name, value);
            }
        }
    }

    /// Stripe's appearance, from the frame's resolved custom properties (which browsers give
    /// trimmed, as CSS Variables Level 1 says).
    pub fn appearance(&self) -> js_sys::Object {
        let style = crate::js::computed_style(&self.frame);
        crate::stripe::appearance(|name| style.property(name))
    }

    /// Shows the Express Checkout Element once it has a button to show.
    pub fn show_express(&self) {
        show(&self.express_host, true);
    }

    /// Removes everything the widget added: its shadow content and Stripe's containers.
    pub fn remove(&self) {
        self.root.set_inner_html("");
        self.card_host.remove();
        self.express_host.remove();
    }
}

/// The phase as `data-state` (for styles and tests): `loading`, `ready`, `paying`, ...
fn phase_name(phase: &Phase) -> &'static str {
    match phase {
        Phase::Loading => "loading",
        Phase::Ready(_) => "ready",
        Phase::Paying => "paying",
        Phase::Authenticating => "authenticating",
        Phase::Processing => "processing",
        Phase::Pending => "pending",
        Phase::Paid(_) => "paid",
        Phase::Failed(_) => "failed",
        Phase::Refused(_) => "refused",
        Phase::Unavailable => "unavailable",
        Phase::Expired => "expired",
        Phase::Canceled => "canceled",
        Phase::Broken(_) => "broken",
    }
}
