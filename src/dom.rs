//! The widget's DOM: built once in a shadow root on the host element, then updated from the
//! state machine by [`Ui::render`], which only shows, hides and rewords nodes. The card
//! element's container is the one node in the host's light DOM (Stripe.js refuses to mount
//! inside a shadow root), projected into the form through a `<slot>`.
//!
//! No inline styles and no `innerHTML`: the page may run under a strict Content-Security-
//! Policy, and every text from the server goes in as text.

use slotpay_core::{Locale, Money, Receipt};
use wasm_bindgen::JsCast;
use web_sys::{
    Document, Element, HtmlButtonElement, HtmlElement, HtmlInputElement, ShadowRoot,
    ShadowRootInit, ShadowRootMode,
};

use crate::i18n::{fill, problem_text, text, Text};
use crate::js::format_money;
use crate::machine::{Machine, Phase, Problem};
use crate::stripe::Theme;

/// The tag of the card element's container in the host's light DOM.
pub const CARD_HOST_TAG: &str = "slotpay-card";

/// The nodes the widget updates.
pub struct Ui {
    /// The element the widget was mounted on.
    pub host: Element,
    root: ShadowRoot,
    /// The stylesheet link, whose `load` re-themes the card element.
    pub link: Element,
    frame: Element,
    skeleton: Element,
    badge: Element,
    badge_title: Element,
    badge_hint: Element,
    summary: Element,
    merchant: Element,
    description: Element,
    amount: Element,
    /// The payment form; its `submit` is Pay.
    pub form: Element,
    email_label: Element,
    /// The email field.
    pub email: HtmlInputElement,
    email_hint: Element,
    /// The card field's label; a click focuses the card element.
    pub card_label: Element,
    /// Where Stripe mounts the card element (light DOM, slotted).
    pub card_host: Element,
    /// Stripe's live validation message for the card fields.
    pub card_error: Element,
    consent: Element,
    /// The save-card consent box.
    pub consent_box: HtmlInputElement,
    consent_text: Element,
    pay: HtmlButtonElement,
    pay_text: Element,
    spinner: Element,
    status: Element,
    alert: Element,
    result: Element,
    result_title: HtmlElement,
    receipt: Element,
    receipt_rows: [(Element, Element); 4],
    /// "Try another card".
    pub retry: HtmlButtonElement,
    prefilled: bool,
}

/// Creates `<tag class="class">` under `parent`.
fn add(doc: &Document, parent: &impl AsRef<web_sys::Node>, tag: &str, class: &str) -> Element {
    // `createElement` only throws for invalid tag names; ours are literals.
    let element = doc.create_element(tag).unwrap_or_else(|_| unreachable_element(doc));
    if !class.is_empty() {
        element.set_class_name(class);
    }
    let _ = parent.as_ref().append_child(&element);
    element
}

fn unreachable_element(doc: &Document) -> Element {
    doc.create_element("div")
        .unwrap_or_else(|_| wasm_bindgen::throw_str("slotpay: cannot create elements"))
}

fn attr(element: &Element, name: &str, value: &str) {
    let _ = element.set_attribute(name, value);
}

/// Sets `hidden`, which slotpay.css makes win over any `display`.
fn show(element: &Element, visible: bool) {
    let _ = element.toggle_attribute_with_force("hidden", !visible);
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
    pub fn build(host: &Element, style_url: &str) -> Result<Ui, wasm_bindgen::JsValue> {
        let doc = host
            .owner_document()
            .ok_or_else(|| wasm_bindgen::JsValue::from_str("slotpay: host has no document"))?;
        let root = match host.shadow_root() {
            Some(root) => root,
            None => host.attach_shadow(&ShadowRootInit::new(ShadowRootMode::Open))?,
        };
        let link = add(&doc, &root, "link", "");
        attr(&link, "rel", "stylesheet");
        attr(&link, "href", style_url);

        let frame = add(&doc, &root, "div", "sp");
        attr(&frame, "role", "region");
        attr(&frame, "part", "frame");

        let skeleton = add(&doc, &frame, "div", "sp-skeleton");
        attr(&skeleton, "aria-hidden", "true");
        for class in ["sp-bone sp-bone-title", "sp-bone", "sp-bone sp-bone-field", "sp-bone sp-bone-field", "sp-bone sp-bone-button"] {
            add(&doc, &skeleton, "div", class);
        }

        let badge = add(&doc, &frame, "p", "sp-badge");
        let badge_title = add(&doc, &badge, "strong", "sp-badge-title");
        let badge_hint = add(&doc, &badge, "span", "sp-badge-hint");

        let summary = add(&doc, &frame, "div", "sp-summary");
        let merchant = add(&doc, &summary, "p", "sp-merchant");
        let description = add(&doc, &summary, "p", "sp-description");
        let amount = add(&doc, &summary, "p", "sp-amount");

        let form = add(&doc, &frame, "form", "sp-form");
        attr(&form, "novalidate", "");
        let email_label = add(&doc, &form, "label", "sp-label");
        attr(&email_label, "for", "sp-email");
        let email: HtmlInputElement = add(&doc, &form, "input", "sp-input").unchecked_into();
        email.set_id("sp-email");
        email.set_type("email");
        email.set_name("email");
        email.set_required(true);
        attr(&email, "autocomplete", "email");
        attr(&email, "inputmode", "email");
        attr(&email, "aria-describedby", "sp-email-hint");
        let email_hint = add(&doc, &form, "p", "sp-hint");
        email_hint.set_id("sp-email-hint");

        let card_label = add(&doc, &form, "span", "sp-label");
        card_label.set_id("sp-card-label");
        let card_box = add(&doc, &form, "div", "sp-card");
        attr(&card_box, "role", "group");
        attr(&card_box, "aria-labelledby", "sp-card-label");
        let slot = add(&doc, &card_box, "slot", "");
        attr(&slot, "name", "card");
        let card_host = add(&doc, host, CARD_HOST_TAG, "");
        attr(&card_host, "slot", "card");
        let card_error = add(&doc, &form, "p", "sp-field-error");
        attr(&card_error, "aria-live", "polite");

        let consent = add(&doc, &form, "label", "sp-consent");
        let consent_box: HtmlInputElement = add(&doc, &consent, "input", "").unchecked_into();
        consent_box.set_type("checkbox");
        consent_box.set_name("save_card");
        let consent_text = add(&doc, &consent, "span", "");

        let pay: HtmlButtonElement = add(&doc, &form, "button", "sp-pay").unchecked_into();
        pay.set_type("submit");
        let spinner = add(&doc, &pay, "span", "sp-spinner");
        attr(&spinner, "aria-hidden", "true");
        let pay_text = add(&doc, &pay, "span", "sp-pay-text");

        let result = add(&doc, &frame, "div", "sp-result");
        let result_title: HtmlElement = add(&doc, &result, "h2", "sp-result-title").unchecked_into();
        result_title.set_tab_index(-1);
        let receipt = add(&doc, &result, "dl", "sp-receipt");
        let receipt_rows = [(); 4].map(|_| {
            let row = add(&doc, &receipt, "div", "sp-receipt-row");
            (add(&doc, &row, "dt", ""), add(&doc, &row, "dd", ""))
        });
        let retry: HtmlButtonElement = add(&doc, &result, "button", "sp-retry").unchecked_into();
        retry.set_type("button");

        let status = add(&doc, &frame, "p", "sp-status");
        attr(&status, "role", "status");
        let alert = add(&doc, &frame, "p", "sp-alert");
        attr(&alert, "role", "alert");

        Ok(Ui {
            host: host.clone(),
            root,
            link,
            frame,
            skeleton,
            badge,
            badge_title,
            badge_hint,
            summary,
            merchant,
            description,
            amount,
            form,
            email_label,
            email,
            email_hint,
            card_label,
            card_host,
            card_error,
            consent,
            consent_box,
            consent_text,
            pay,
            pay_text,
            spinner,
            status,
            alert,
            result,
            result_title,
            receipt,
            receipt_rows,
            retry,
            prefilled: false,
        })
    }

    /// Shows the machine's state.
    pub fn render(&mut self, machine: &Machine) {
        let locale = machine.locale();
        let t = |which| text(locale, which);
        let money = |m: Money| format_money(locale, m);
        let phase = machine.phase();
        let view = machine.view();
        let busy = phase.is_busy();
        let loading = *phase == Phase::Loading;

        attr(&self.frame, "lang", locale.as_str());
        attr(&self.frame, "aria-label", t(Text::Region));
        attr(&self.frame, "aria-busy", if loading || busy { "true" } else { "false" });
        attr(&self.frame, "data-state", phase_name(phase));
        show(&self.skeleton, loading);

        show(&self.badge, machine.is_test_mode());
        set_text(&self.badge_title, t(Text::TestMode));
        set_text(&self.badge_hint, t(Text::TestCardHint));

        let paid = matches!(phase, Phase::Paid(_));
        show(&self.summary, view.is_some() && !loading && !paid);
        if let Some(view) = view {
            set_text(&self.merchant, &view.merchant_name);
            set_text(&self.description, &view.description);
            set_text(&self.amount, &money(view.amount));
            set_text(&self.pay_text, &fill(t(Text::Pay), &money(view.amount)));
            show(&self.consent, view.save_card.is_some());
            if let Some(offer) = &view.save_card {
                set_text(&self.consent_text, &offer.consent_text);
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
        set_text(&self.email_label, t(Text::Email));
        set_text(&self.email_hint, t(Text::EmailHint));
        set_text(&self.card_label, t(Text::Card));
        self.email.set_read_only(busy);
        self.consent_box.set_disabled(busy);
        self.pay.set_disabled(busy);
        show(&self.spinner, busy);
        let email_wrong = *phase == Phase::Ready(Some(Problem::Email));
        attr(&self.email, "aria-invalid", if email_wrong { "true" } else { "false" });

        set_text(
            &self.status,
            match phase {
                Phase::Loading => t(Text::Loading),
                Phase::Paying => t(Text::Paying),
                Phase::Authenticating => t(Text::Authenticating),
                Phase::Processing => t(Text::Processing),
                _ => "",
            },
        );
        let alert = match phase {
            Phase::Ready(Some(p)) | Phase::Failed(p) | Phase::Refused(p) | Phase::Broken(p) => {
                problem_text(locale, p, &money)
            }
            Phase::Unavailable => t(Text::Unavailable).to_owned(),
            Phase::Expired => t(Text::Expired).to_owned(),
            Phase::Canceled => t(Text::Canceled).to_owned(),
            _ => String::new(),
        };
        set_text(&self.alert, &alert);

        let failed = matches!(phase, Phase::Failed(_));
        show(&self.result, paid || failed);
        show(&self.receipt, paid);
        show(&self.retry, failed);
        set_text(&self.retry, t(Text::TryAnotherCard));
        set_text(
            &self.result_title,
            t(if paid { Text::PaidTitle } else { Text::FailedTitle }),
        );
        if let (Phase::Paid(receipt), Some(view)) = (phase, view) {
            self.render_receipt(locale, &view.merchant_name, view.amount, receipt.as_ref());
        }
    }

    fn render_receipt(&self, locale: Locale, merchant: &str, amount: Money, receipt: Option<&Receipt>) {
        let t = |which| text(locale, which);
        let card = receipt.map(|r| {
            let mut card = r.brand.display_name().to_owned();
            card.push_str(" •••• ");
            card.push_str(r.last4.as_str());
            card
        });
        let rows = [
            (Text::PaidTo, Some(merchant.to_owned())),
            (Text::Amount, Some(format_money(locale, receipt.map_or(amount, |r| r.amount)))),
            (Text::Card, card),
            (Text::Reference, receipt.map(|r| r.reference.clone())),
        ];
        for ((label, value), (dt, dd)) in rows.into_iter().zip(&self.receipt_rows) {
            let row = dt.parent_element();
            if let Some(row) = row {
                show(&row, value.is_some());
            }
            set_text(dt, t(label));
            set_text(dd, value.as_deref().unwrap_or(""));
        }
    }

    /// Moves focus to the result's title, so a screen reader reads the outcome.
    pub fn focus_result(&self) {
        let _ = self.result_title.focus();
    }

    /// The email field's focus.
    pub fn focus_email(&self) {
        let _ = self.email.focus();
    }

    /// The theme from the widget's resolved custom properties (`--sp-*` in slotpay.css,
    /// which fall back from the `--slotpay-*` ones the page may set).
    pub fn theme(&self) -> Theme {
        let read = |name: &str| -> String {
            web_sys::window()
                .and_then(|w| w.get_computed_style(&self.frame).ok().flatten())
                .and_then(|style| style.get_property_value(name).ok())
                .map(|v| v.trim().to_owned())
                .unwrap_or_default()
        };
        Theme {
            primary: read("--sp-color-primary"),
            text: read("--sp-color-text"),
            danger: read("--sp-color-danger"),
            font: read("--sp-font-family"),
            radius: read("--sp-radius"),
        }
    }

    /// Removes everything the widget added: its shadow content and the card's container.
    pub fn remove(&self) {
        while let Some(child) = self.root.first_child() {
            let _ = self.root.remove_child(&child);
        }
        self.card_host.remove();
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
        Phase::Paid(_) => "paid",
        Phase::Failed(_) => "failed",
        Phase::Refused(_) => "refused",
        Phase::Unavailable => "unavailable",
        Phase::Expired => "expired",
        Phase::Canceled => "canceled",
        Phase::Broken(_) => "broken",
    }
}
