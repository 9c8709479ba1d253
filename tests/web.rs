//! The widget's glue, run in headless Chromium by `wasm-bindgen-test-runner`
//! (`CHROMEDRIVER=/usr/bin/chromedriver cargo test -p slotpay-widget --target
//! wasm32-unknown-unknown`).
//!
//! Each test mounts the real widget (the exported `mount`) on a fresh element with a
//! `CheckoutView` built from core's types, a stand-in for Stripe.js that records its calls,
//! and a stand-in for `fetch` that answers like the slotpay server and records every request,
//! then reads the shadow DOM and the DOM events the host page would see.
#![cfg(target_arch = "wasm32")]

use js_sys::Promise;
use slotpay_core::words;
use slotpay_core::{
    ApiError, CardBrand, CheckoutStatus, CheckoutToken, CheckoutView, Currency, ErrorCode,
    IntegrationMode, Last4, Locale, Money, PayResponse, PayStatus, Receipt, SaveCardOffer,
};
use slotpay_widget::{mount, Widget};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use web_sys::Element;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(inline_js = r#"
// Stand-ins for the slotpay server, one per test on its own origin (so a widget left over
// from an earlier test cannot reach a later test's server): answers queued per route
// ("POST /v1/checkouts/{token}/pay"), the last one repeating; every request recorded.
const servers = {};
let serverCount = 0;
const realFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const request = new Request(input, init);
  const url = new URL(request.url);
  // The test runner's own requests (the wasm) go to the network.
  if (!url.hostname.endsWith('.test')) return realFetch(input, init);
  const server = servers[url.origin];
  if (!server) throw new TypeError('Failed to fetch: no stand-in for ' + url.origin);
  const path = url.pathname.replace(/cs_[A-Za-z0-9_-]+/, '{token}');
  const body = request.method === 'GET' ? null : await request.text();
  const route = request.method + ' ' + path;
  server.calls.push({ route, url: request.url, key: request.headers.get('Idempotency-Key'),
    type: request.headers.get('Content-Type'), body });
  const queue = server.queues[route] || [];
  const next = queue.length > 1 ? queue.shift() : queue[0];
  if (!next) return new Response('{"error":{"code":"not_found","message":"no route"}}', { status: 404 });
  if (next.down) throw new TypeError('Failed to fetch');
  return new Response(next.body, { status: next.status, headers: { 'Content-Type': 'application/json' } });
};
export function installServer() {
  serverCount += 1;
  const server = { calls: [], queues: {}, origin: 'https://pay-' + serverCount + '.test' };
  servers[server.origin] = server;
  return server;
}
export function origin(server) { return server.origin; }
export function answer(server, route, status, body) {
  (server.queues[route] ||= []).push({ status, body });
}
export function down(server, route) {
  (server.queues[route] ||= []).push({ down: true });
}
export function callCount(server, route) {
  return server.calls.filter((c) => route === '' || c.route === route).length;
}
export function callField(server, route, index, field) {
  const calls = server.calls.filter((c) => c.route === route);
  return calls[index] ? String(calls[index][field]) : 'missing';
}

// A stand-in for Stripe.js with its documented shape, recording calls.
export function fakeStripe() {
  const log = { calls: [], handlers: {}, destroyed: 0,
    pm: { paymentMethod: { id: 'pm_card_visa', type: 'card' } }, submitted: { selectedPaymentMethod: 'card' },
    confirm: { paymentIntent: { status: 'succeeded' } } };
  log.factory = function Stripe(key, options) {
    log.calls.push('Stripe ' + key + ' ' + options.locale);
    return {
      elements(groupOptions) {
        log.group = groupOptions;
        return {
          submit() { log.calls.push('submit'); return Promise.resolve(log.submitted); },
          create(type, cardOptions) {
            log.calls.push('create ' + type);
            if (type === 'expressCheckout') return fakeExpress(log, cardOptions);
            log.card = cardOptions;
            const element = {
              mount(container) {
                log.container = container;
                const frame = document.createElement('iframe');
                frame.title = 'card';
                container.appendChild(frame);
                setTimeout(() => (log.handlers.ready || []).forEach((h) => h({ elementType: 'card' })), 0);
              },
              on(type, handler) { (log.handlers[type] ||= []).push(handler); return element; },
              update(options) { log.card = options; },
              focus() { log.calls.push('focus'); },
              clear() { log.calls.push('clear'); },
              destroy() { log.destroyed += 1; log.handlers = {}; if (log.container) log.container.replaceChildren(); },
            };
            return element;
          },
          update(options) { log.group = options; },
        };
      },
      createPaymentMethod(data) {
        log.calls.push('createPaymentMethod ' + (data.elements ? 'elements' : data.type) + ' ' + data.params.billing_details.email);
        return Promise.resolve(log.pm);
      },
      handleNextAction(options) {
        log.calls.push('handleNextAction ' + options.clientSecret);
        return Promise.resolve(log.confirm);
      },
    };
  };
  return log;
}
// The Express Checkout Element: its events come when a test sends them.
function fakeExpress(log, options) {
  const express = { handlers: {}, options,
    mount(container) { log.calls.push('mount expressCheckout ' + container.localName); },
    on(type, handler) { (express.handlers[type] ||= []).push(handler); return express; },
    destroy() { log.calls.push('destroy expressCheckout'); express.handlers = {}; } };
  log.express = express;
  return express;
}
export function expressReady(log, available) {
  const methods = available
    ? { applePay: false, googlePay: true, link: false, paypal: false, amazonPay: false, klarna: false } : undefined;
  (log.express.handlers.ready || []).forEach((h) => h({ elementType: 'expressCheckout', availablePaymentMethods: methods }));
}
export function expressConfirm(log, email) {
  (log.express.handlers.confirm || []).forEach((h) => h({ elementType: 'expressCheckout', expressPaymentType: 'google_pay',
    billingDetails: email ? { name: 'Client', email } : undefined,
    paymentFailed() { log.calls.push('paymentFailed'); } }));
}
export function paymentOptions(log) { return JSON.stringify(log.card); }
export function expressOptions(log) { return JSON.stringify(log.express ? log.express.options : null); }
export function expressHidden(host) {
  const container = host.querySelector('slotpay-express');
  return !container || container.hidden;
}
export function stripeCalls(log, prefix) {
  return log.calls.filter((c) => c.startsWith(prefix)).length;
}
export function stripeFactory(log) { return Promise.resolve(log.factory); }
export function setConfirm(log, json) { log.confirm = JSON.parse(json); }
export function destroyed(log) { return log.destroyed; }
export function cardStyle(log) { return JSON.stringify(log.group); }
export function setSubmitted(log, json) { log.submitted = JSON.parse(json); }

export function responsePromise(status, body) {
  return Promise.resolve(new Response(body, { status, headers: { 'Content-Type': 'application/json' } }));
}
export function jsonPromise(body) { return Promise.resolve(JSON.parse(body)); }
export function forget(server, route) { delete server.queues[route]; }
export function rejectedPromise() {
  const p = Promise.reject(new TypeError('Failed to fetch'));
  p.catch(() => {});
  return p;
}

// The page: the host element and what the host page sees.
export function newHost(css) {
  const host = document.createElement('div');
  if (css) host.setAttribute('style', css);
  document.body.appendChild(host);
  const events = [];
  for (const type of ['slotpay:ready', 'slotpay:succeeded', 'slotpay:failed']) {
    // On the document: the events bubble out of the host.
    document.addEventListener(type, (e) => {
      if (e.target === host) events.push({ type, detail: e.detail, composed: e.composed });
    });
  }
  host.events = events;
  return host;
}
export function events(host) { return JSON.stringify(host.events); }
export function state(host) {
  const frame = host.shadowRoot && host.shadowRoot.getElementById('frame');
  return frame ? frame.dataset.state : 'none';
}
export function text(host, id) {
  const node = host.shadowRoot.getElementById(id);
  return node ? node.textContent.replace(/[\u00a0\u202f]/g, ' ') : 'missing';
}
export function visible(host, id) {
  const node = host.shadowRoot.getElementById(id);
  return !!node && !node.closest('[hidden]');
}
export function attribute(host, id, name) {
  const node = host.shadowRoot.getElementById(id);
  return node ? String(node.getAttribute(name)) : 'missing';
}
export function typeEmail(host, value) { host.shadowRoot.getElementById('email').value = value; }
export function tick(host, id) { host.shadowRoot.getElementById(id).checked = true; }
export function click(host, id) { host.shadowRoot.getElementById(id).click(); }
export function node(host, id) { return host.shadowRoot.getElementById(id); }
export function clickNode(node) { node.click(); }
export function childCount(host) { return host.children.length; }
export function emptied(host) {
  return host.children.length === 0 && host.shadowRoot.childNodes.length === 0;
}
export function sleep(ms) { return new Promise((resolve) => setTimeout(resolve, ms)); }
export function dataUrl(css) { return 'data:text/css,' + encodeURIComponent(css); }
"#)]
extern "C" {
    type Server;
    #[wasm_bindgen(js_name = installServer)]
    fn install_server() -> Server;
    fn origin(server: &Server) -> String;
    fn answer(server: &Server, route: &str, status: u16, body: &str);
    fn down(server: &Server, route: &str);
    #[wasm_bindgen(js_name = callCount)]
    fn call_count(server: &Server, route: &str) -> u32;
    #[wasm_bindgen(js_name = callField)]
    fn call_field(server: &Server, route: &str, index: u32, field: &str) -> String;

    type Stripe;
    #[wasm_bindgen(js_name = fakeStripe)]
    fn fake_stripe() -> Stripe;
    #[wasm_bindgen(js_name = stripeCalls)]
    fn stripe_calls(log: &Stripe, prefix: &str) -> u32;
    #[wasm_bindgen(js_name = stripeFactory)]
    fn stripe_factory(log: &Stripe) -> Promise;
    #[wasm_bindgen(js_name = expressReady)]
    fn express_ready(log: &Stripe, available: bool);
    #[wasm_bindgen(js_name = expressConfirm)]
    fn express_confirm(log: &Stripe, email: &str);
    #[wasm_bindgen(js_name = paymentOptions)]
    fn payment_options(log: &Stripe) -> String;
    #[wasm_bindgen(js_name = expressOptions)]
    fn express_options(log: &Stripe) -> String;
    #[wasm_bindgen(js_name = expressHidden)]
    fn express_hidden(host: &Element) -> bool;
    #[wasm_bindgen(js_name = setConfirm)]
    fn set_confirm(log: &Stripe, json: &str);
    fn destroyed(log: &Stripe) -> u32;
    /// The Elements group's options, as the widget last gave them.
    #[wasm_bindgen(js_name = cardStyle)]
    fn card_style(log: &Stripe) -> String;
    #[wasm_bindgen(js_name = setSubmitted)]
    fn set_submitted(log: &Stripe, json: &str);

    #[wasm_bindgen(js_name = responsePromise)]
    fn response_promise(status: u16, body: &str) -> Promise;
    #[wasm_bindgen(js_name = jsonPromise)]
    fn json_promise(body: &str) -> Promise;
    fn forget(server: &Server, route: &str);
    #[wasm_bindgen(js_name = rejectedPromise)]
    fn rejected_promise() -> Promise;

    #[wasm_bindgen(js_name = newHost)]
    fn new_host(css: &str) -> Element;
    fn events(host: &Element) -> String;
    fn state(host: &Element) -> String;
    fn text(host: &Element, id: &str) -> String;
    fn visible(host: &Element, id: &str) -> bool;
    fn attribute(host: &Element, id: &str, name: &str) -> String;
    #[wasm_bindgen(js_name = typeEmail)]
    fn type_email(host: &Element, value: &str);
    fn tick(host: &Element, id: &str);
    fn click(host: &Element, id: &str);
    fn node(host: &Element, id: &str) -> JsValue;
    #[wasm_bindgen(js_name = clickNode)]
    fn click_node(node: &JsValue);
    fn emptied(host: &Element) -> bool;
    #[wasm_bindgen(js_name = childCount)]
    fn child_count(host: &Element) -> u32;
    #[wasm_bindgen(js_name = sleep)]
    fn sleep_promise(ms: u32) -> Promise;
    #[wasm_bindgen(js_name = dataUrl)]
    fn data_url(css: &str) -> String;
}

const TOKEN: &str = "cs_abcdefghijklmnopqrstuvwx";
const PAY: &str = "POST /v1/checkouts/{token}/pay";
const REFRESH: &str = "POST /v1/checkouts/{token}/refresh";

fn view(amount: i64, currency: Currency, locale: Locale) -> CheckoutView {
    CheckoutView {
        token: CheckoutToken::parse(TOKEN).unwrap(),
        status: CheckoutStatus::Open,
        merchant_name: "Salon Léa".into(),
        description: "Haircut, Tuesday 14:00".into(),
        booking_ref: Some("BK-1042".into()),
        amount: Money::from_minor(amount, currency),
        minimum_amount: None,
        publishable_key: "pk_test_widget".into(),
        stripe_js_url: "https://js.stripe.com/v3/".into(),
        mode: IntegrationMode::Sandbox,
        card_brands: vec![CardBrand::Visa, CardBrand::Mastercard],
        payment_methods: vec![slotpay_core::MethodType::Card],
        wallets: true,
        locale,
        save_card: None,
        email: None,
        expires_at: None,
        receipt: None,
        brand_color: None,
        appearance: Default::default(),
    }
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap()
}

fn paid(amount: Money) -> String {
    json(&PayResponse {
        status: PayStatus::Succeeded,
        client_secret: None,
        error: None,
        receipt: Some(Receipt {
            method: slotpay_core::MethodType::Card,
            brand: Some(CardBrand::Visa),
            last4: Some(Last4::parse("4242").unwrap()),
            amount,
            reference: Some("BK-1042".into()),
        }),
    })
}

/// One mounted widget with its stand-ins.
struct Page {
    host: Element,
    widget: Widget,
    server: Server,
    stripe: Stripe,
}

fn options(entries: &[(&str, JsValue)]) -> JsValue {
    let object = js_sys::Object::new();
    for (key, value) in entries {
        js_sys::Reflect::set(&object, &(*key).into(), value).unwrap();
    }
    object.into()
}

/// Mounts the widget for `view` (already fetched, as the loader does) with `extra` options,
/// and the words of the view's language as the loader fetches them beside it unless `extra`
/// says otherwise.
fn mount_view(view: &CheckoutView, extra: &[(&str, JsValue)]) -> Page {
    let mut entries = extra.to_vec();
    if !extra.iter().any(|(key, _)| *key == "words") {
        entries.push(("words", json_promise(&words_body(view.locale)).into()));
    }
    mount_with(Some(response_promise(200, &json(view))), "", &entries)
}

/// `locale`'s words as the server sends them (`GET /words/{locale}.json`).
fn words_body(locale: Locale) -> String {
    serde_json::to_string(&words::language(locale)).unwrap()
}

/// Makes `server` answer 404 for `locale`'s words.
fn page_without_words(server: &Server, locale: Locale) {
    forget(server, &["GET /words/", locale.as_str(), ".json"].concat());
}

fn mount_with(view: Option<Promise>, css: &str, extra: &[(&str, JsValue)]) -> Page {
    let server = install_server();
    // The words of each language, for when the widget fetches them itself.
    for &locale in Locale::ALL {
        let route = ["GET /words/", locale.as_str(), ".json"].concat();
        answer(&server, &route, 200, &words_body(locale));
    }
    let stripe = fake_stripe();
    let host = new_host(css);
    let mut entries = vec![
        ("checkout", JsValue::from(TOKEN)),
        ("apiBase", [origin(&server), "/".into()].concat().into()),
        (
            "styleUrl",
            data_url(include_str!("../www/slotpay.css")).into(),
        ),
        ("stripe", stripe_factory(&stripe).into()),
    ];
    if let Some(view) = view {
        entries.push(("view", view.into()));
    }
    entries.extend(extra.iter().cloned());
    let widget = mount(&host, options(&entries)).expect("mount");
    Page {
        host,
        widget,
        server,
        stripe,
    }
}

async fn sleep(ms: u32) {
    JsFuture::from(sleep_promise(ms)).await.unwrap();
}

/// Waits up to `ms` for `ok`, failing the test with `what` and the widget's state.
async fn until(page: &Page, what: &str, ms: u32, ok: impl Fn() -> bool) {
    for _ in 0..ms / 10 {
        if ok() {
            return;
        }
        sleep(10).await;
    }
    panic!(
        "timed out waiting for {what}; state {}, alert {:?}",
        state(&page.host),
        text(&page.host, "alert")
    );
}

async fn ready(page: &Page) {
    until(page, "ready", 3000, || state(&page.host) == "ready").await;
    until(page, "slotpay:ready", 3000, || {
        events(&page.host).contains("slotpay:ready")
    })
    .await;
}

async fn pay(page: &Page, email: &str) {
    type_email(&page.host, email);
    click(&page.host, "pay");
}

#[wasm_bindgen_test]
async fn loading_then_ready_with_amount_badge_and_ready_event() {
    let page = mount_view(&view(1250, Currency::Eur, Locale::En), &[]);
    // Synchronously after mount: the skeleton, not a blank box.
    assert_eq!(state(&page.host), "loading");
    assert!(visible(&page.host, "skeleton"));
    assert!(!visible(&page.host, "form"));
    ready(&page).await;
    assert!(!visible(&page.host, "skeleton"));
    assert_eq!(text(&page.host, "pay-text"), "Pay €12.50");
    assert_eq!(text(&page.host, "amount"), "€12.50");
    assert_eq!(text(&page.host, "merchant"), "Salon Léa");
    assert!(visible(&page.host, "badge"));
    assert!(text(&page.host, "badge").contains("4242 4242 4242 4242"));
    assert_eq!(text(&page.host, "email-label"), "Email");
    assert_eq!(attribute(&page.host, "frame", "lang"), "en");
    // Stripe.js got the publishable key and the locale; the Elements' containers are in the
    // light DOM, the Express Checkout Element's hidden until it has a button.
    assert_eq!(stripe_calls(&page.stripe, "Stripe pk_test_widget en"), 1);
    assert_eq!(stripe_calls(&page.stripe, "create payment"), 1);
    assert_eq!(stripe_calls(&page.stripe, "create expressCheckout"), 1);
    assert_eq!(child_count(&page.host), 2);
    let events = events(&page.host);
    assert!(
        events.contains(
            r#"{"type":"slotpay:ready","detail":{"token":"cs_abcdefghijklmnopqrstuvwx","amount":1250,"currency":"eur"},"composed":true}"#
        ),
        "{events}"
    );
    // Nothing was fetched: the view came from the loader's request.
    assert_eq!(call_count(&page.server, ""), 0);
}

/// While Stripe.js still loads, the client sees the booking (merchant, amount) above the
/// form's skeleton; the form, and its Pay button, come with the card field.
#[wasm_bindgen_test]
async fn the_booking_shows_before_stripes_fields() {
    let stripe = fake_stripe();
    let mut resolve_stripe = None;
    let later = Promise::new(&mut |resolve, _| resolve_stripe = Some(resolve));
    let page = mount_view(
        &view(1250, Currency::Eur, Locale::En),
        &[("stripe", later.into())],
    );
    until(&page, "the booking shown", 3000, || {
        visible(&page.host, "summary")
    })
    .await;
    assert_eq!(state(&page.host), "loading");
    assert_eq!(text(&page.host, "merchant"), "Salon Léa");
    assert_eq!(text(&page.host, "amount"), "€12.50");
    assert!(visible(&page.host, "skeleton"));
    assert!(!visible(&page.host, "bone-summary"));
    assert!(!visible(&page.host, "form"));
    resolve_stripe
        .unwrap()
        .call1(&JsValue::NULL, &stripe_factory(&stripe))
        .unwrap();
    ready(&page).await;
    assert!(visible(&page.host, "summary") && visible(&page.host, "form"));
    assert!(!visible(&page.host, "skeleton"));
}

/// The Express Checkout Element above the Payment Element (which shows no wallets itself): it
/// shows once Stripe says it has a button; the wallet's confirm pays with the wallet's email
/// through the same calls as Pay; a confirm the checkout cannot start (no email, already
/// paying) is told to the wallet as failed. A merchant without wallets gets none.
#[wasm_bindgen_test]
async fn the_express_checkout_pays_with_the_wallets_email() {
    let page = mount_view(&view(1250, Currency::Eur, Locale::En), &[]);
    ready(&page).await;
    assert_eq!(
        stripe_calls(&page.stripe, "mount expressCheckout slotpay-express"),
        1
    );
    assert_eq!(
        express_options(&page.stripe),
        r#"{"emailRequired":true,"buttonType":{"applePay":"book","googlePay":"book"}}"#
    );
    let payment = payment_options(&page.stripe);
    assert!(
        payment.contains(r#""wallets":{"applePay":"never","googlePay":"never"}"#),
        "{payment}"
    );
    assert!(express_hidden(&page.host));
    express_ready(&page.stripe, false);
    assert!(express_hidden(&page.host), "no button, no room taken");
    express_ready(&page.stripe, true);
    assert!(!express_hidden(&page.host));

    express_confirm(&page.stripe, "");
    assert_eq!(stripe_calls(&page.stripe, "paymentFailed"), 1);
    assert_eq!(state(&page.host), "ready");
    assert_eq!(stripe_calls(&page.stripe, "createPaymentMethod"), 0);

    answer(
        &page.server,
        PAY,
        200,
        &paid(Money::from_minor(1250, Currency::Eur)),
    );
    express_confirm(&page.stripe, "wallet@example.com");
    assert_eq!(state(&page.host), "paying");
    express_confirm(&page.stripe, "wallet@example.com");
    assert_eq!(stripe_calls(&page.stripe, "paymentFailed"), 2);
    until(&page, "paid", 3000, || state(&page.host) == "paid").await;
    assert_eq!(
        stripe_calls(
            &page.stripe,
            "createPaymentMethod elements wallet@example.com"
        ),
        1
    );
    assert_eq!(call_count(&page.server, PAY), 1);
    assert!(call_field(&page.server, PAY, 0, "body").contains(r#""email":"wallet@example.com""#));
    page.widget.unmount();
    assert_eq!(stripe_calls(&page.stripe, "destroy expressCheckout"), 1);
    assert_eq!(child_count(&page.host), 0);

    let mut without = view(1250, Currency::Eur, Locale::En);
    without.wallets = false;
    let page = mount_view(&without, &[]);
    ready(&page).await;
    assert_eq!(stripe_calls(&page.stripe, "create expressCheckout"), 0);
    assert!(express_hidden(&page.host));
}

/// A checkout paid without a card (iDEAL) names the method on its receipt.
#[wasm_bindgen_test]
async fn a_receipt_without_a_card_names_the_method() {
    let mut paid = view(2500, Currency::Eur, Locale::En);
    paid.status = CheckoutStatus::Paid;
    paid.receipt = Some(Receipt {
        method: slotpay_core::MethodType::Ideal,
        brand: None,
        last4: None,
        amount: Money::from_minor(2500, Currency::Eur),
        reference: None,
    });
    let page = mount_view(&paid, &[]);
    until(&page, "paid", 3000, || state(&page.host) == "paid").await;
    assert_eq!(text(&page.host, "key-2"), "Paid with");
    assert_eq!(text(&page.host, "value-2"), "iDEAL");
    assert!(!visible(&page.host, "row-3"), "no booking reference");
}

#[wasm_bindgen_test]
async fn pays_shows_the_receipt_and_says_succeeded() {
    let page = mount_view(&view(1250, Currency::Eur, Locale::En), &[]);
    ready(&page).await;
    answer(
        &page.server,
        PAY,
        200,
        &paid(Money::from_minor(1250, Currency::Eur)),
    );
    pay(&page, " lea@Example.COM ").await;
    until(&page, "paid", 3000, || state(&page.host) == "paid").await;
    assert_eq!(text(&page.host, "result-title"), "Payment successful");
    assert_eq!(text(&page.host, "value-0"), "Salon Léa");
    assert_eq!(text(&page.host, "value-1"), "€12.50");
    assert_eq!(text(&page.host, "key-2"), "Card");
    assert_eq!(text(&page.host, "value-2"), "Visa •••• 4242");
    assert_eq!(text(&page.host, "value-3"), "BK-1042");
    assert!(!visible(&page.host, "form"));
    // One card token, one pay request with an idempotency key and core's normalised email.
    assert_eq!(
        stripe_calls(&page.stripe, "createPaymentMethod elements lea@example.com"),
        1
    );
    assert_eq!(call_count(&page.server, PAY), 1);
    let key = call_field(&page.server, PAY, 0, "key");
    assert_eq!(key.len(), 36, "{key}");
    assert_eq!(&key[14..15], "4", "a version 4 UUID: {key}");
    assert_eq!(
        call_field(&page.server, PAY, 0, "body"),
        r#"{"payment_method":"pm_card_visa","email":"lea@example.com","save_card":false}"#
    );
    assert_eq!(
        call_field(&page.server, PAY, 0, "url"),
        [
            &origin(&page.server),
            "/v1/checkouts/cs_abcdefghijklmnopqrstuvwx/pay"
        ]
        .concat()
    );
    assert_eq!(call_field(&page.server, PAY, 0, "type"), "application/json");
    let events = events(&page.host);
    assert!(
        events.contains(
            r#"{"type":"slotpay:succeeded","detail":{"token":"cs_abcdefghijklmnopqrstuvwx","amount":1250,"currency":"eur"},"composed":true}"#
        ),
        "{events}"
    );
}

#[wasm_bindgen_test]
async fn a_second_click_while_paying_sends_nothing_more() {
    let page = mount_view(&view(1250, Currency::Eur, Locale::En), &[]);
    ready(&page).await;
    answer(
        &page.server,
        PAY,
        200,
        &paid(Money::from_minor(1250, Currency::Eur)),
    );
    pay(&page, "lea@example.com").await;
    // The first click disabled the button at once.
    assert_eq!(state(&page.host), "paying");
    assert_eq!(attribute(&page.host, "pay", "disabled"), "");
    assert!(visible(&page.host, "spinner"));
    assert_eq!(text(&page.host, "status"), "Processing your payment…");
    click(&page.host, "pay");
    click(&page.host, "pay");
    until(&page, "paid", 3000, || state(&page.host) == "paid").await;
    assert_eq!(stripe_calls(&page.stripe, "createPaymentMethod"), 1);
    assert_eq!(call_count(&page.server, PAY), 1);
}

#[wasm_bindgen_test]
async fn below_minimum_is_refused_without_any_call() {
    let page = mount_view(&view(49, Currency::Usd, Locale::En), &[]);
    until(&page, "refused", 3000, || state(&page.host) == "refused").await;
    assert_eq!(
        text(&page.host, "alert"),
        "Your payment must be no less than 0.50 USD"
    );
    assert_eq!(attribute(&page.host, "alert", "role"), "alert");
    assert!(!visible(&page.host, "form"));
    assert!(visible(&page.host, "summary"));
    // Give any stray work time to happen, then check none did.
    sleep(50).await;
    assert_eq!(call_count(&page.server, ""), 0, "no request");
    assert_eq!(
        stripe_calls(&page.stripe, ""),
        0,
        "Stripe.js not even started"
    );
    let events = events(&page.host);
    assert!(
        events.contains(r#""type":"slotpay:failed","detail":{"code":"amount_too_small","message":"Your payment must be no less than 0.50 USD","token":"cs_abcdefghijklmnopqrstuvwx"}"#),
        "{events}"
    );
}

#[wasm_bindgen_test]
async fn invalid_email_is_refused_before_any_call() {
    let page = mount_view(&view(1250, Currency::Eur, Locale::En), &[]);
    ready(&page).await;
    pay(&page, "lea@").await;
    assert_eq!(state(&page.host), "ready");
    assert_eq!(
        text(&page.host, "alert"),
        "Enter an email address such as name@example.com."
    );
    assert_eq!(attribute(&page.host, "email", "aria-invalid"), "true");
    sleep(50).await;
    assert_eq!(stripe_calls(&page.stripe, "createPaymentMethod"), 0);
    assert_eq!(call_count(&page.server, ""), 0);
}

#[wasm_bindgen_test]
async fn a_decline_shows_its_message_and_another_card_can_pay() {
    let page = mount_view(&view(1250, Currency::Eur, Locale::En), &[]);
    ready(&page).await;
    let declined = PayResponse {
        status: PayStatus::Failed,
        client_secret: None,
        error: Some(
            ApiError::new(ErrorCode::CardDeclined, "Your card has insufficient funds.")
                .with_decline_code("insufficient_funds"),
        ),
        receipt: None,
    };
    answer(&page.server, PAY, 402, &json(&declined));
    answer(
        &page.server,
        PAY,
        200,
        &paid(Money::from_minor(1250, Currency::Eur)),
    );
    pay(&page, "lea@example.com").await;
    until(&page, "failed", 3000, || state(&page.host) == "failed").await;
    assert_eq!(text(&page.host, "result-title"), "Payment failed");
    assert_eq!(
        text(&page.host, "alert"),
        "Your card has insufficient funds."
    );
    assert!(visible(&page.host, "retry"));
    assert_eq!(text(&page.host, "retry"), "Try another card");
    assert!(events(&page.host).contains(
        r#""detail":{"code":"card_declined","message":"Your card has insufficient funds.""#
    ));
    click(&page.host, "retry");
    assert_eq!(state(&page.host), "ready");
    assert_eq!(
        stripe_calls(&page.stripe, "clear"),
        1,
        "the card is emptied"
    );
    assert_eq!(text(&page.host, "alert"), "");
    click(&page.host, "pay");
    until(&page, "paid", 3000, || state(&page.host) == "paid").await;
    // A new attempt, a new idempotency key.
    assert_eq!(call_count(&page.server, PAY), 2);
    assert_ne!(
        call_field(&page.server, PAY, 0, "key"),
        call_field(&page.server, PAY, 1, "key")
    );
}

#[wasm_bindgen_test]
async fn three_d_secure_is_confirmed_then_refreshed() {
    let page = mount_view(&view(1250, Currency::Eur, Locale::En), &[]);
    ready(&page).await;
    let action = PayResponse {
        status: PayStatus::RequiresAction,
        client_secret: Some("pi_123_secret_456".into()),
        error: None,
        receipt: None,
    };
    answer(&page.server, PAY, 200, &json(&action));
    answer(
        &page.server,
        REFRESH,
        200,
        &paid(Money::from_minor(1250, Currency::Eur)),
    );
    pay(&page, "lea@example.com").await;
    until(&page, "paid", 3000, || state(&page.host) == "paid").await;
    assert_eq!(
        stripe_calls(&page.stripe, "handleNextAction pi_123_secret_456"),
        1
    );
    assert_eq!(call_count(&page.server, REFRESH), 1);
}

#[wasm_bindgen_test]
async fn three_d_secure_failure_fails_with_the_authentication_message() {
    let page = mount_view(&view(1250, Currency::Eur, Locale::En), &[]);
    ready(&page).await;
    let action = PayResponse {
        status: PayStatus::RequiresAction,
        client_secret: Some("pi_123_secret_456".into()),
        error: None,
        receipt: None,
    };
    answer(&page.server, PAY, 200, &json(&action));
    // The server has not seen the failure yet: it still says requires_action.
    answer(&page.server, REFRESH, 200, &json(&action));
    set_confirm(
        &page.stripe,
        r#"{"error":{"type":"card_error","code":"payment_intent_authentication_failure","message":"We are unable to authenticate your payment method."}}"#,
    );
    pay(&page, "lea@example.com").await;
    until(&page, "failed", 3000, || state(&page.host) == "failed").await;
    assert_eq!(
        text(&page.host, "alert"),
        "We could not authenticate your payment. Try again or use another card."
    );
    assert!(events(&page.host).contains(r#""code":"authentication_required""#));
}

#[wasm_bindgen_test]
async fn a_network_failure_is_retried_with_the_same_key() {
    let page = mount_view(&view(1250, Currency::Eur, Locale::En), &[]);
    ready(&page).await;
    down(&page.server, PAY);
    answer(
        &page.server,
        PAY,
        503,
        r#"{"error":{"code":"stripe_unavailable","message":"Stripe could not be reached"}}"#,
    );
    answer(
        &page.server,
        PAY,
        200,
        &paid(Money::from_minor(1250, Currency::Eur)),
    );
    pay(&page, "lea@example.com").await;
    until(&page, "paid", 6000, || state(&page.host) == "paid").await;
    assert_eq!(call_count(&page.server, PAY), 3);
    let key = call_field(&page.server, PAY, 0, "key");
    assert_eq!(call_field(&page.server, PAY, 1, "key"), key);
    assert_eq!(call_field(&page.server, PAY, 2, "key"), key);
}

#[wasm_bindgen_test]
async fn a_server_that_stays_down_is_reported_and_the_form_kept() {
    let page = mount_view(&view(1250, Currency::Eur, Locale::En), &[]);
    ready(&page).await;
    down(&page.server, PAY);
    pay(&page, "lea@example.com").await;
    until(&page, "the network message", 12_000, || {
        text(&page.host, "alert").starts_with("We could not reach the payment server")
    })
    .await;
    assert_eq!(state(&page.host), "ready");
    assert_eq!(call_count(&page.server, PAY), 4, "four tries in all");
    assert!(visible(&page.host, "form"));
    assert_eq!(attribute(&page.host, "pay", "disabled"), "null");
    assert!(events(&page.host).contains(r#""code":"network_error""#));
}

#[wasm_bindgen_test]
async fn expired_and_unavailable_checkouts() {
    let expired = r#"{"error":{"code":"checkout_expired","message":"This checkout expired."}}"#;
    let page = mount_with(Some(response_promise(410, expired)), "", &[]);
    until(&page, "expired", 3000, || state(&page.host) == "expired").await;
    assert_eq!(text(&page.host, "alert"), "This payment link has expired.");
    assert!(!visible(&page.host, "form"));
    assert!(events(&page.host).contains(r#""code":"checkout_expired""#));

    let off = r#"{"error":{"code":"payments_unavailable","message":"Online payment is off."}}"#;
    let page = mount_with(
        Some(response_promise(409, off)),
        "",
        &[("locale", "fr".into())],
    );
    until(&page, "unavailable", 3000, || {
        state(&page.host) == "unavailable"
    })
    .await;
    assert_eq!(
        text(&page.host, "alert"),
        "Le paiement en ligne n'est pas disponible pour ce commerçant pour le moment."
    );
    assert_eq!(stripe_calls(&page.stripe, ""), 0);
}

#[wasm_bindgen_test]
async fn french_strings_and_amounts() {
    let page = mount_view(&view(1250, Currency::Eur, Locale::Fr), &[]);
    ready(&page).await;
    assert_eq!(text(&page.host, "pay-text"), "Payer 12,50 €");
    assert_eq!(text(&page.host, "email-label"), "E-mail");
    assert_eq!(text(&page.host, "badge-title"), "Mode test");
    assert_eq!(attribute(&page.host, "frame", "lang"), "fr");
    assert_eq!(
        attribute(&page.host, "frame", "aria-label"),
        "Paiement sécurisé"
    );
    assert_eq!(stripe_calls(&page.stripe, "Stripe pk_test_widget fr"), 1);

    // Below the minimum, in French, with Intl's "0,50 €".
    let page = mount_view(&view(49, Currency::Eur, Locale::Fr), &[]);
    until(&page, "refused", 3000, || state(&page.host) == "refused").await;
    assert_eq!(
        text(&page.host, "alert"),
        "Votre paiement doit être d'au moins 0,50 €"
    );

    // The embedder's locale wins over the checkout's.
    let page = mount_view(
        &view(1250, Currency::Eur, Locale::Fr),
        &[("locale", "de-AT".into())],
    );
    ready(&page).await;
    assert_eq!(text(&page.host, "pay-text"), "12,50 € bezahlen");
}

#[wasm_bindgen_test]
async fn the_words_come_from_the_loader_or_are_fetched() {
    // The loader's words are used when they are the checkout's language: nothing is fetched.
    let french = json_promise(&words_body(Locale::Fr));
    let page = mount_view(
        &view(1250, Currency::Eur, Locale::Fr),
        &[("words", french.into())],
    );
    ready(&page).await;
    assert_eq!(text(&page.host, "pay-text"), "Payer 12,50 €");
    assert_eq!(call_count(&page.server, ""), 0);

    // The loader guessed another language (or had none): the widget fetches its own.
    let german = json_promise(&words_body(Locale::De));
    let page = mount_view(
        &view(1250, Currency::Eur, Locale::Fr),
        &[("words", german.into())],
    );
    ready(&page).await;
    assert_eq!(text(&page.host, "pay-text"), "Payer 12,50 €");
    assert_eq!(call_count(&page.server, "GET /words/fr.json"), 1);
    assert_eq!(call_count(&page.server, ""), 1);

    // English is fetched like any other language (the widget carries none).
    let page = mount_view(
        &view(1250, Currency::Eur, Locale::En),
        &[("words", JsValue::NULL)],
    );
    ready(&page).await;
    assert_eq!(text(&page.host, "pay-text"), "Pay €12.50");
    assert_eq!(call_count(&page.server, "GET /words/en.json"), 1);
    assert_eq!(call_count(&page.server, ""), 1);

    // Without its words (the server answers 404), the checkout still works, in English
    // throughout: texts, amounts and `lang` agree.
    let page = mount_view(
        &view(1250, Currency::Eur, Locale::Fr),
        &[("locale", "es".into()), ("words", JsValue::NULL)],
    );
    page_without_words(&page.server, Locale::Es);
    ready(&page).await;
    assert_eq!(text(&page.host, "pay-text"), "Pay €12.50");
    assert_eq!(attribute(&page.host, "frame", "lang"), "en");
    assert_eq!(call_count(&page.server, "GET /words/en.json"), 1);

    // No words at all (the server went away after the view): no form, whose labels would be
    // empty, but the one sentence the widget carries, and `slotpay:failed` says why.
    let page = mount_view(
        &view(1250, Currency::Eur, Locale::Fr),
        &[("words", JsValue::NULL)],
    );
    page_without_words(&page.server, Locale::Fr);
    page_without_words(&page.server, Locale::En);
    until(&page, "the failure", 3000, || {
        state(&page.host) != "loading"
    })
    .await;
    assert!(!visible(&page.host, "form"));
    assert_eq!(
        text(&page.host, "alert"),
        words::EN[words::Text::Unreachable as usize]
    );
    assert!(
        events(&page.host).contains("network_error"),
        "{}",
        events(&page.host)
    );
}

#[wasm_bindgen_test]
async fn zero_and_three_decimal_currencies() {
    let page = mount_view(&view(500, Currency::Jpy, Locale::En), &[]);
    ready(&page).await;
    assert_eq!(text(&page.host, "pay-text"), "Pay ¥500");

    let page = mount_view(&view(5120, Currency::Kwd, Locale::En), &[]);
    ready(&page).await;
    assert_eq!(text(&page.host, "pay-text"), "Pay KWD 5.120");

    let page = mount_view(&view(5120, Currency::Kwd, Locale::Fr), &[]);
    ready(&page).await;
    assert_eq!(text(&page.host, "pay-text"), "Payer 5,120 KWD");
}

#[wasm_bindgen_test]
async fn unmount_removes_the_dom_the_card_and_the_listeners() {
    let page = mount_view(&view(1250, Currency::Eur, Locale::En), &[]);
    ready(&page).await;
    answer(
        &page.server,
        PAY,
        200,
        &paid(Money::from_minor(1250, Currency::Eur)),
    );
    type_email(&page.host, "lea@example.com");
    let button = node(&page.host, "pay");
    let before = events(&page.host);
    page.widget.unmount();
    assert!(emptied(&page.host), "host and shadow root are empty");
    assert_eq!(destroyed(&page.stripe), 1, "the card element was destroyed");
    // The detached button still exists in JavaScript; clicking it does nothing.
    click_node(&button);
    sleep(50).await;
    assert_eq!(stripe_calls(&page.stripe, "createPaymentMethod"), 0);
    assert_eq!(call_count(&page.server, ""), 0);
    assert_eq!(events(&page.host), before, "no event after unmount");
    page.widget.unmount();
    assert!(emptied(&page.host));
}

#[wasm_bindgen_test]
async fn an_answer_after_unmount_changes_nothing() {
    let page = mount_view(&view(1250, Currency::Eur, Locale::En), &[]);
    ready(&page).await;
    answer(
        &page.server,
        PAY,
        200,
        &paid(Money::from_minor(1250, Currency::Eur)),
    );
    pay(&page, "lea@example.com").await;
    page.widget.unmount();
    sleep(100).await;
    assert!(emptied(&page.host));
    assert!(!events(&page.host).contains("slotpay:succeeded"));
}

#[wasm_bindgen_test]
async fn the_merchant_and_service_embedding_creates_a_checkout() {
    let server_view = view(3000, Currency::Eur, Locale::En);
    let server = install_server();
    answer(
        &server,
        "POST /v1/merchants/mer_1/checkouts",
        503,
        r#"{"error":{"code":"internal_error","message":"x"}}"#,
    );
    answer(
        &server,
        "POST /v1/merchants/mer_1/checkouts",
        201,
        &json(&server_view),
    );
    answer(&server, "GET /words/en.json", 200, &words_body(Locale::En));
    let stripe = fake_stripe();
    let host = new_host("");
    let widget = mount(
        &host,
        options(&[
            ("merchant", "mer_1".into()),
            ("service", "svc_cut".into()),
            ("apiBase", origin(&server).into()),
            ("styleUrl", "data:text/css,".into()),
            ("stripe", stripe_factory(&stripe).into()),
        ]),
    )
    .unwrap();
    let page = Page {
        host,
        widget,
        server,
        stripe,
    };
    until(&page, "ready", 4000, || state(&page.host) == "ready").await;
    assert_eq!(text(&page.host, "pay-text"), "Pay €30.00");
    let route = "POST /v1/merchants/mer_1/checkouts";
    assert_eq!(call_count(&page.server, route), 2, "the 503 was retried");
    assert_eq!(
        call_field(&page.server, route, 0, "body"),
        r#"{"service_id":"svc_cut"}"#
    );
}

#[wasm_bindgen_test]
async fn the_view_is_fetched_again_when_the_loaders_request_failed() {
    let page = mount_with(Some(rejected_promise()), "", &[]);
    answer(
        &page.server,
        "GET /v1/checkouts/{token}",
        200,
        &json(&view(1250, Currency::Eur, Locale::En)),
    );
    until(&page, "ready", 4000, || state(&page.host) == "ready").await;
    assert_eq!(call_count(&page.server, "GET /v1/checkouts/{token}"), 1);
}

#[wasm_bindgen_test]
async fn consent_is_offered_and_sent() {
    let mut offered = view(1250, Currency::Eur, Locale::En);
    offered.save_card = Some(SaveCardOffer {
        consent_text: "Save my card for cancellation fees at Salon Léa".into(),
    });
    offered.email = Some(slotpay_core::Email::parse("lea@example.com").unwrap());
    let page = mount_view(&offered, &[]);
    ready(&page).await;
    assert!(visible(&page.host, "consent"));
    assert_eq!(
        text(&page.host, "consent-text"),
        "Save my card for cancellation fees at Salon Léa"
    );
    answer(
        &page.server,
        PAY,
        200,
        &paid(Money::from_minor(1250, Currency::Eur)),
    );
    tick(&page.host, "save-card");
    // The email came prefilled from the checkout.
    click(&page.host, "pay");
    until(&page, "paid", 3000, || state(&page.host) == "paid").await;
    assert_eq!(
        call_field(&page.server, PAY, 0, "body"),
        r#"{"payment_method":"pm_card_visa","email":"lea@example.com","save_card":true}"#
    );
}

#[wasm_bindgen_test]
async fn details_the_payment_element_refuses_make_no_payment_method() {
    let page = mount_view(&view(1250, Currency::Eur, Locale::En), &[]);
    ready(&page).await;
    // Deferred intent: the group knows the amount, the currency and the ways to pay.
    let group = card_style(&page.stripe);
    assert!(
        group.contains(r#""mode":"payment","amount":1250,"currency":"eur""#),
        "{group}"
    );
    assert!(
        group.contains(r#""paymentMethodCreation":"manual","paymentMethodTypes":["card"]"#),
        "{group}"
    );
    set_submitted(
        &page.stripe,
        r#"{"error":{"type":"validation_error","code":"incomplete_number","message":"Your card number is incomplete."}}"#,
    );
    pay(&page, "lea@example.com").await;
    until(&page, "the card message", 3000, || {
        text(&page.host, "alert") == "Your card number is incomplete."
    })
    .await;
    assert_eq!(state(&page.host), "ready");
    assert_eq!(stripe_calls(&page.stripe, "createPaymentMethod"), 0);
    assert_eq!(call_count(&page.server, ""), 0);
}

#[wasm_bindgen_test]
async fn the_theme_reaches_stripe_elements() {
    let page = mount_with(
        Some(response_promise(
            200,
            &json(&view(1250, Currency::Eur, Locale::En)),
        )),
        "--slotpay-color-primary: #ff0000; --slotpay-font-family: Georgia",
        &[],
    );
    ready(&page).await;
    until(&page, "the themed elements", 3000, || {
        card_style(&page.stripe).contains(r##""colorPrimary":"#ff0000""##)
    })
    .await;
    let style = card_style(&page.stripe);
    assert!(style.contains(r#""fontFamily":"Georgia""#), "{style}");
    // Defaults from slotpay.css fill what the page did not set; light unless the merchant
    // chose dark.
    assert!(style.contains(r##""colorDanger":"#b91c1c""##), "{style}");
    assert!(style.contains(r#""theme":"stripe""#), "{style}");
    assert_eq!(attribute(&page.host, "frame", "data-scheme"), "null");
}

#[wasm_bindgen_test]
async fn the_merchants_look_reaches_the_frame_and_stripe_under_the_pages_own() {
    let mut v = view(1250, Currency::Eur, Locale::En);
    v.appearance = slotpay_core::Appearance {
        corners: Some(slotpay_core::Corners::Large),
        font: Some(slotpay_core::Font::Serif),
        scheme: Some(slotpay_core::Scheme::Dark),
    };
    // The page sets its own font: it wins over the merchant's.
    let page = mount_with(
        Some(response_promise(200, &json(&v))),
        "--slotpay-font-family: Georgia",
        &[],
    );
    ready(&page).await;
    assert_eq!(attribute(&page.host, "frame", "data-corners"), "large");
    assert_eq!(attribute(&page.host, "frame", "data-font"), "serif");
    assert_eq!(attribute(&page.host, "frame", "data-scheme"), "dark");
    until(&page, "the dark elements", 3000, || {
        card_style(&page.stripe).contains(r#""theme":"night""#)
    })
    .await;
    let style = card_style(&page.stripe);
    assert!(style.contains(r#""borderRadius":"16px""#), "{style}");
    assert!(
        style.contains(r##""colorBackground":"#111827""##),
        "{style}"
    );
    assert!(style.contains(r##""colorText":"#f3f4f6""##), "{style}");
    assert!(style.contains(r#""fontFamily":"Georgia""#), "{style}");
}

#[wasm_bindgen_test]
fn mount_refuses_options_without_a_checkout() {
    let host = new_host("");
    let error = mount(&host, options(&[("apiBase", "https://pay.test".into())]))
        .err()
        .expect("refused");
    let message = js_sys::Error::from(error).message();
    assert!(String::from(message).contains("checkout"));
    let error = mount(
        &host,
        options(&[
            ("checkout", "cs_short".into()),
            ("apiBase", "https://pay.test".into()),
        ]),
    )
    .err()
    .expect("refused");
    assert!(error.is_instance_of::<js_sys::TypeError>());
}
