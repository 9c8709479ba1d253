//! Scenario 5, bad input: a table of malformed JSON, wrong types, huge bodies, unknown currencies,
//! negative and overflowing amounts, wrong decimals, unicode in keys and ids, header
//! injection attempts (a bare CR or LF, a folded line or a NUL in `Idempotency-Key`,
//! `Origin`, `Authorization`, `Stripe-Signature`) and path tricks, sent to every route the
//! server declares in `server/src/routes/` (the table is checked against them), on SQLite and
//! PostgreSQL. Every answer must be a 4xx carrying one of core's `ErrorCode`s with the status
//! documented for it (an admin page shows it as `data-code`); never a 5xx. A dump of every
//! table before and after must be identical.
//!
//! A request the HTTP layer itself refuses (hyper's bare 400 for a malformed header, axum's
//! bare 405 for a method a route does not have) never reaches slotpay's code and has no body
//! to carry a code: those are counted apart and must still be 4xx.

use std::collections::BTreeSet;
use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use slotpay_core::ErrorCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{self, spawn_app, Backend, TestApp};
use crate::support::{self, Findings, Run};

use Expect::{AnyCode, AnyPage, Code, Html, Http, Page};

/// What an answer must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    /// This code, with its documented status.
    Code(&'static str),
    /// Any documented code, with its status.
    AnyCode,
    /// An admin page with this `data-code`.
    Page(&'static str),
    /// An admin page (or a JSON error) with any documented code.
    AnyPage,
    /// Refused before slotpay's code runs (hyper or axum: any 4xx, no body), or by slotpay
    /// with a documented code.
    Http,
    /// A page for people (the payment link's): a 4xx HTML page.
    Html,
}

/// How a request authenticates.
#[derive(Clone, Debug)]
enum Auth {
    None,
    /// The admin API's bearer token.
    Admin,
    /// The admin pages' session cookie, from the server's own origin.
    Session,
}

/// The body.
#[derive(Clone, Debug)]
enum Body {
    None,
    /// `application/json` with this exact text.
    Json(String),
    /// `application/x-www-form-urlencoded` with this exact text.
    Form(String),
    /// Any bytes with this content type.
    Raw(&'static str, Vec<u8>),
}

/// One row of the table.
#[derive(Clone, Debug)]
struct Case {
    /// The route template it exercises (as `server/src/routes/` declares it).
    route: &'static str,
    what: String,
    method: Method,
    path: String,
    headers: Vec<(String, Vec<u8>)>,
    auth: Auth,
    body: Body,
    /// A whole request sent over a raw socket (header injection).
    raw: Option<Vec<u8>>,
    expect: Expect,
}

fn case(
    route: &'static str,
    what: &str,
    method: Method,
    path: impl Into<String>,
    expect: Expect,
) -> Case {
    Case {
        route,
        what: what.to_owned(),
        method,
        path: path.into(),
        headers: Vec::new(),
        auth: Auth::None,
        body: Body::None,
        raw: None,
        expect,
    }
}

impl Case {
    fn admin(mut self) -> Case {
        self.auth = Auth::Admin;
        self
    }
    fn session(mut self) -> Case {
        self.auth = Auth::Session;
        self
    }
    fn json(mut self, text: impl Into<String>) -> Case {
        self.body = Body::Json(text.into());
        self
    }
    fn form(mut self, text: impl Into<String>) -> Case {
        self.body = Body::Form(text.into());
        self
    }
    fn raw_body(mut self, content_type: &'static str, bytes: Vec<u8>) -> Case {
        self.body = Body::Raw(content_type, bytes);
        self
    }
    fn header(mut self, name: &str, value: impl Into<Vec<u8>>) -> Case {
        self.headers.push((name.to_owned(), value.into()));
        self
    }
    /// The header when there is a value, none when there is not.
    fn header_if(self, name: &str, value: Option<impl Into<Vec<u8>>>) -> Case {
        match value {
            Some(v) => self.header(name, v),
            None => self,
        }
    }
}

/// The ids the table points at.
struct Ids {
    merchant: String,
    service: String,
    open: String,
    paid: String,
    csrf: String,
    cookie: String,
    webhook_secret: String,
}

impl Ids {
    /// `route` with this merchant and service in place of `{merchant_id}` and `{service_id}`,
    /// and `token` in place of `{token}`.
    fn path(&self, route: &str, token: &str) -> String {
        route
            .replace("{merchant_id}", &self.merchant)
            .replace("{service_id}", &self.service)
            .replace("{token}", token)
            .replace("{endpoint_id}", UNKNOWN_ENDPOINT)
            .replace("{event_id}", "evt_nope")
            .replace("{email_id}", "em_nope")
    }
    /// The open checkout's payment.
    fn pay_path(&self) -> String {
        format!("/v1/checkouts/{}/pay", self.open)
    }
    /// Stripe's webhooks to this merchant.
    fn hook_path(&self) -> String {
        format!("/v1/webhooks/stripe/{}", self.merchant)
    }
}

/// Malformed JSON bodies, each refused as `invalid_json`.
const MALFORMED: &[&str] = &[
    "{",
    "{\"amount\": }",
    "[1, 2",
    "\"just a string\"",
    "{\"a\": 1}}",
    "{\"a\": \"\\ud800\"}",
    "nul",
    "{\"a\": 1,}",
];

/// A token of the right shape that no checkout has.
const UNKNOWN_TOKEN: &str = "cs_0000000000000000000000000000000000000000000000";
/// A token in unicode.
const UNICODE_TOKEN: &str = "cs_ñ€😀";
/// A merchant id of the right shape that no merchant has.
const UNKNOWN_MERCHANT: &str = "mer_000000000000000000000000";
/// A service id of the right shape that no service has.
const UNKNOWN_SERVICE: &str = "svc_000000000000000000000000";

/// The widget's payment.
const PAY: &str = "/v1/checkouts/{token}/pay";
/// A payment body as the widget sends it, good in every field.
const GOOD_PAY: &str =
    r#"{"payment_method": "pm_card_visa", "email": "lea@example.com", "save_card": false}"#;

/// Payment bodies the widget never sends (a 1 MB one comes after them).
const BAD_PAYMENTS: &[(&str, &str, Expect)] = &[
    (
        "wrong types",
        r#"{"payment_method": 42, "email": true, "save_card": "yes"}"#,
        Code("invalid_json"),
    ),
    ("no fields", "{}", Code("invalid_json")),
    ("null", "null", Code("invalid_json")),
    ("an array", "[]", Code("invalid_json")),
    (
        "not a pm_ token",
        r#"{"payment_method": "card_4242", "email": "lea@example.com", "save_card": false}"#,
        Code("invalid_json"),
    ),
    (
        "unicode in the token",
        r#"{"payment_method": "pm_ñ😀", "email": "lea@example.com", "save_card": false}"#,
        Code("invalid_json"),
    ),
    (
        "a bad email",
        r#"{"payment_method": "pm_card_visa", "email": "lea@", "save_card": false}"#,
        Code("invalid_json"),
    ),
    (
        "CR LF in the email",
        r#"{"payment_method": "pm_card_visa", "email": "lea@example.com\r\nBcc: x@evil.example", "save_card": false}"#,
        Code("invalid_json"),
    ),
    (
        "an unknown field with a unicode key",
        r#"{"payment_method": "pm_card_visa", "email": "lea@example.com", "save_card": false, "ämount": 1}"#,
        Code("invalid_json"),
    ),
    (
        "an amount sneaked in",
        r#"{"payment_method": "pm_card_visa", "email": "lea@example.com", "save_card": false, "amount": 1}"#,
        Code("invalid_json"),
    ),
    (
        "a javascript: return URL",
        r#"{"payment_method": "pm_card_visa", "email": "lea@example.com", "return_url": "javascript:alert(1)"}"#,
        Code("invalid_json"),
    ),
    (
        "a return URL with CR LF",
        r#"{"payment_method": "pm_card_visa", "email": "lea@example.com", "return_url": "https://salon.example/\r\nSet-Cookie: x=1"}"#,
        Code("invalid_json"),
    ),
    (
        "another site's return URL",
        r#"{"payment_method": "pm_card_visa", "email": "lea@example.com", "return_url": "https://evil.example/"}"#,
        Code("invalid_request"),
    ),
];

/// Merchants the admin API cannot save (a 1 MB one comes after them).
const BAD_MERCHANTS: &[(&str, &str, Expect)] = &[
    (
        "a number for a name",
        r#"{"name": 5, "allowed_origins": []}"#,
        Code("invalid_json"),
    ),
    (
        "origins as a string",
        r#"{"name": "X", "allowed_origins": "https://a.example"}"#,
        Code("invalid_json"),
    ),
    ("a unicode key", r#"{"nàme": "X"}"#, Code("invalid_json")),
    (
        "a javascript: origin",
        r#"{"name": "X", "allowed_origins": ["javascript:alert(1)"]}"#,
        Code("invalid_origin"),
    ),
    (
        "an origin with CR LF",
        r#"{"name": "X", "allowed_origins": ["https://a.example\r\nSet-Cookie: x=1"]}"#,
        Code("invalid_origin"),
    ),
    (
        "an origin with a path",
        r#"{"name": "X", "allowed_origins": ["https://a.example/x"]}"#,
        Code("invalid_origin"),
    ),
    (
        "a NUL inside a unicode origin (CR, LF and tab are dropped by URL parsing)",
        r#"{"name": "X", "allowed_origins": ["https://så\u0000lon.example"]}"#,
        Code("invalid_origin"),
    ),
    (
        "an unknown locale",
        r#"{"name": "X", "locale": "klingon-😀"}"#,
        AnyCode,
    ),
];

/// Services the admin API cannot save, created or changed (a 1 MB one comes after them).
const BAD_PRICES: &[(&str, &str, Expect)] = &[
    (
        "a negative price",
        r#"{"name": "Cut", "price": {"amount": -100, "currency": "eur"}}"#,
        Code("invalid_amount"),
    ),
    (
        "a zero price",
        r#"{"name": "Cut", "price": {"amount": 0, "currency": "eur"}}"#,
        AnyCode,
    ),
    (
        "an overflowing price",
        r#"{"name": "Cut", "price": {"amount": 9223372036854775808, "currency": "eur"}}"#,
        AnyCode,
    ),
    (
        "i64::MAX",
        r#"{"name": "Cut", "price": {"amount": 9223372036854775807, "currency": "eur"}}"#,
        AnyCode,
    ),
    (
        "a float price",
        r#"{"name": "Cut", "price": {"amount": 12.5, "currency": "eur"}}"#,
        AnyCode,
    ),
    (
        "three decimals in euros",
        r#"{"name": "Cut", "price": "12.345", "currency": "eur"}"#,
        Code("invalid_amount"),
    ),
    (
        "decimals in yen",
        r#"{"name": "Cut", "price": "1200.5", "currency": "jpy"}"#,
        Code("invalid_amount"),
    ),
    (
        "an exponent",
        r#"{"name": "Cut", "price": "1e5", "currency": "eur"}"#,
        Code("invalid_amount"),
    ),
    (
        "a price with unicode digits",
        r#"{"name": "Cut", "price": "١٢", "currency": "eur"}"#,
        Code("invalid_amount"),
    ),
    (
        "an unknown currency",
        r#"{"name": "Cut", "price": {"amount": 1000, "currency": "xyz"}}"#,
        Code("invalid_currency"),
    ),
    (
        "a currency sign",
        r#"{"name": "Cut", "price": {"amount": 1000, "currency": "€"}}"#,
        Code("invalid_currency"),
    ),
    (
        "KWD not ending in 0",
        r#"{"name": "Cut", "price": {"amount": 10005, "currency": "kwd"}}"#,
        Code("invalid_amount_step"),
    ),
    (
        "ISK with decimals",
        r#"{"name": "Cut", "price": {"amount": 150050, "currency": "isk"}}"#,
        Code("invalid_amount_step"),
    ),
    (
        "a percent of 101",
        r#"{"name": "Cut", "price": {"amount": 1000, "currency": "eur"}, "prepayment": {"type": "percent", "percent": 101}}"#,
        Code("invalid_prepayment"),
    ),
    (
        "a deposit above the price",
        r#"{"name": "Cut", "price": {"amount": 1000, "currency": "eur"}, "prepayment": {"type": "fixed", "amount": 5000}}"#,
        Code("invalid_prepayment"),
    ),
    (
        "an unknown rule",
        r#"{"name": "Cut", "price": {"amount": 1000, "currency": "eur"}, "prepayment": {"type": "all-of-it"}}"#,
        AnyCode,
    ),
    (
        "a unicode key",
        r#"{"nämé": "Cut", "price": {"amount": 1000, "currency": "eur"}}"#,
        Code("invalid_json"),
    ),
];

/// Checkouts (payment links) the admin API cannot create (a 1 MB one comes after them).
const BAD_CHECKOUTS: &[(&str, &str, Expect)] = &[
    (
        "a negative amount",
        r#"{"amount": -2500, "currency": "eur", "description": "x"}"#,
        Code("invalid_amount"),
    ),
    (
        "an overflowing amount",
        r#"{"amount": 92233720368547758070, "currency": "eur", "description": "x"}"#,
        AnyCode,
    ),
    (
        "i64::MIN",
        r#"{"amount": -9223372036854775808, "currency": "eur", "description": "x"}"#,
        Code("invalid_amount"),
    ),
    (
        "three decimals",
        r#"{"amount": "25.005", "currency": "eur", "description": "x"}"#,
        Code("invalid_amount"),
    ),
    (
        "a comma",
        r#"{"amount": "25,00", "currency": "eur", "description": "x"}"#,
        Code("invalid_amount"),
    ),
    (
        "NaN",
        r#"{"amount": "NaN", "currency": "eur", "description": "x"}"#,
        Code("invalid_amount"),
    ),
    (
        "below the minimum",
        r#"{"amount": 10, "currency": "eur", "description": "x"}"#,
        Code("amount_too_small"),
    ),
    (
        "above the maximum",
        r#"{"amount": 100000000000, "currency": "eur", "description": "x"}"#,
        Code("amount_too_large"),
    ),
    (
        "an unknown currency",
        r#"{"amount": 2500, "currency": "xyz", "description": "x"}"#,
        Code("invalid_currency"),
    ),
    (
        "a currency in unicode",
        r#"{"amount": 2500, "currency": "€ur", "description": "x"}"#,
        Code("invalid_currency"),
    ),
    (
        "no currency",
        r#"{"amount": 2500, "description": "x"}"#,
        AnyCode,
    ),
    (
        "KWD not ending in 0",
        r#"{"amount": 10005, "currency": "kwd", "description": "x"}"#,
        Code("invalid_amount_step"),
    ),
    (
        "a bad email",
        r#"{"amount": 2500, "currency": "eur", "description": "x", "customer_email": "not-an-email"}"#,
        Code("invalid_email"),
    ),
    (
        "an email with CR LF",
        r#"{"amount": 2500, "currency": "eur", "description": "x", "customer_email": "a@b.example\r\nBcc: c@d.example"}"#,
        Code("invalid_email"),
    ),
    (
        "a negative expiry",
        r#"{"amount": 2500, "currency": "eur", "description": "x", "expires_in": -60}"#,
        AnyCode,
    ),
    (
        "an unknown service",
        r#"{"service_id": "svc_000000000000000000000000"}"#,
        Code("not_found"),
    ),
    (
        "a unicode key",
        r#"{"amöunt": 2500, "currency": "eur", "description": "x"}"#,
        Code("invalid_json"),
    ),
    (
        "a string for link",
        r#"{"amount": 2500, "currency": "eur", "description": "x", "link": "yes"}"#,
        Code("invalid_json"),
    ),
];

/// Refunds of the paid checkout with the key `r-x` that cannot be made.
const BAD_REFUNDS: &[(&str, &str, Expect)] = &[
    (
        "a negative refund",
        r#"{"amount": -100}"#,
        Code("invalid_amount"),
    ),
    ("a zero refund", r#"{"amount": 0}"#, Code("invalid_amount")),
    (
        "more than was paid",
        r#"{"amount": 999999}"#,
        Code("refund_exceeds_remaining"),
    ),
    (
        "an overflowing refund",
        r#"{"amount": 99999999999999999999999}"#,
        Code("invalid_json"),
    ),
    (
        "a string amount",
        r#"{"amount": "10"}"#,
        Code("invalid_json"),
    ),
    ("a unicode key", r#"{"ämount": 10}"#, Code("invalid_json")),
    ("malformed JSON", "{\"amount\": ", Code("invalid_json")),
];

/// The admin pages' forms (each a POST from a signed-in session; `{token}` is the paid
/// checkout).
/// A webhook endpoint id nobody has.
const UNKNOWN_ENDPOINT: &str = "we_000000000000000000000000";

const PAGE_POSTS: &[&str] = &[
    "/admin/sign-out",
    "/admin/merchants",
    "/admin/merchants/{merchant_id}",
    "/admin/merchants/{merchant_id}/delete",
    "/admin/merchants/{merchant_id}/logo",
    "/admin/merchants/{merchant_id}/logo/delete",
    "/admin/merchants/{merchant_id}/integrations",
    "/admin/merchants/{merchant_id}/integration",
    "/admin/merchants/{merchant_id}/integration/delete",
    "/admin/merchants/{merchant_id}/integration/verify",
    "/admin/merchants/{merchant_id}/integration/activate",
    "/admin/merchants/{merchant_id}/integration/deactivate",
    "/admin/merchants/{merchant_id}/services",
    "/admin/merchants/{merchant_id}/services/{service_id}",
    "/admin/merchants/{merchant_id}/services/{service_id}/delete",
    "/admin/merchants/{merchant_id}/links",
    "/admin/checkouts/{token}/refund",
    "/admin/checkouts/{token}/capture",
    "/admin/checkouts/{token}/cancel",
    "/admin/checkouts/{token}/resend",
    "/admin/checkouts/{token}/send-link",
    "/admin/emails/{email_id}/retry",
    "/admin/checkouts/{token}/cancellation-fee",
    "/admin/webhooks",
    "/admin/webhooks/{endpoint_id}",
    "/admin/webhooks/{endpoint_id}/disable",
    "/admin/webhooks/{endpoint_id}/enable",
    "/admin/webhooks/{endpoint_id}/rotate-secret",
    "/admin/webhooks/{endpoint_id}/reveal-secret",
    "/admin/webhooks/{endpoint_id}/delete",
    "/admin/events/{event_id}/resend",
];

/// The admin pages about one merchant (each a GET from a signed-in session).
const PAGE_GETS: &[&str] = &[
    "/admin/merchants/{merchant_id}",
    "/admin/merchants/{merchant_id}/edit",
    "/admin/merchants/{merchant_id}/delete",
    "/admin/merchants/{merchant_id}/logo/delete",
    "/admin/merchants/{merchant_id}/integrations",
    "/admin/merchants/{merchant_id}/integrations/new",
    "/admin/merchants/{merchant_id}/integration",
    "/admin/merchants/{merchant_id}/integration/edit",
    "/admin/merchants/{merchant_id}/integration/delete",
    "/admin/merchants/{merchant_id}/services",
    "/admin/merchants/{merchant_id}/services/new",
    "/admin/merchants/{merchant_id}/links",
    "/admin/merchants/{merchant_id}/links/new",
    "/admin/merchants/{merchant_id}/payments",
    "/admin/merchants/{merchant_id}/payments.csv",
];

/// Routes without parameters that have no DELETE (their route and their path are the same).
const NO_DELETE: &[&str] = &[
    "/healthz",
    "/metrics",
    "/admin",
    "/admin/",
    "/admin/merchants/new",
    "/admin/webhooks",
    "/assets/slotpay-admin.css",
    "/assets/slotpay-admin.js",
    "/assets/slotpay-page.css",
    "/docs",
    "/slotpay.js",
    "/v1/openapi.json",
];

/// A body of `n` bytes of valid JSON (a long string).
fn huge_json(n: usize) -> String {
    format!("{{\"name\": \"{}\"}}", "x".repeat(n))
}

/// The `Idempotency-Key` the widget's payments carry in the table.
fn pay_key(c: Case) -> Case {
    c.header("Idempotency-Key", "k-1")
}

/// `route` asked at `path` with each body of `rows` (what it is, its JSON text, the answer it
/// must get), each request finished by `dress` (its authentication and headers).
fn with_bodies(
    route: &'static str,
    method: Method,
    path: &str,
    rows: &[(&str, &str, Expect)],
    dress: impl Fn(Case) -> Case,
) -> Vec<Case> {
    rows.iter()
        .map(|(what, body, expect)| {
            dress(case(route, what, method.clone(), path, *expect).json(*body))
        })
        .collect()
}

/// `route` asked at `path` with each of `bodies` (some of `MALFORMED`), each refused as
/// `invalid_json` and described as "malformed JSON" and the body.
fn with_malformed(
    route: &'static str,
    method: Method,
    path: &str,
    bodies: &[&str],
    dress: impl Fn(Case) -> Case,
) -> Vec<Case> {
    bodies
        .iter()
        .map(|body| {
            let what = format!("malformed JSON {body}");
            let c = case(route, &what, method.clone(), path, Code("invalid_json"));
            dress(c.json(*body))
        })
        .collect()
}

/// `route` asked with a JSON body of `bytes` bytes, refused as `payload_too_large`.
fn oversized(route: &'static str, what: &str, method: Method, path: &str, bytes: usize) -> Case {
    case(route, what, method, path, Code("payload_too_large")).json(huge_json(bytes))
}

/// `route` with each of `merchants` for its `{merchant_id}` (described as "merchant" and the
/// id), each answered with `expect`.
fn unknown_merchants(
    route: &'static str,
    method: &Method,
    merchants: &[&str],
    expect: Expect,
    dress: impl Fn(Case) -> Case,
) -> Vec<Case> {
    merchants
        .iter()
        .map(|id| {
            let path = route.replace("{merchant_id}", id);
            dress(case(
                route,
                &format!("merchant {id}"),
                method.clone(),
                path,
                expect,
            ))
        })
        .collect()
}

/// `route` asked at `path` without the admin API's token: none, a wrong one, one in unicode,
/// Basic auth; each refused as `unauthorized`.
fn without_admin_token(route: &'static str, method: &Method, path: &str) -> Vec<Case> {
    [
        ("no token", None),
        (
            "a wrong token",
            Some(b"Bearer not-the-admin-token-at-all".to_vec()),
        ),
        (
            "a unicode token",
            Some("Bearer tökén😀".as_bytes().to_vec()),
        ),
        ("Basic auth", Some(b"Basic YWRtaW46YWRtaW4=".to_vec())),
    ]
    .into_iter()
    .map(|(what, value)| {
        case(route, what, method.clone(), path, Code("unauthorized"))
            .header_if("Authorization", value)
    })
    .collect()
}

/// The whole table, in the order it is sent: one group of rows per audience or route family.
fn cases(ids: &Ids) -> Vec<Case> {
    [
        checkout_token_cases(ids),
        pay_body_cases(ids),
        pay_key_cases(ids),
        widget_origin_cases(ids),
        from_service_cases(ids),
        webhook_cases(ids),
        merchant_id_cases(ids),
        merchant_body_cases(ids),
        logo_cases(ids),
        integration_cases(ids),
        service_cases(ids),
        admin_checkout_cases(ids),
        checkout_action_auth_cases(ids),
        refund_cases(ids),
        capture_cancel_resend_cases(ids),
        cancellation_fee_cases(ids),
        platform_event_cases(),
        page_csrf_cases(ids),
        page_form_cases(ids),
        sign_in_cases(),
        page_not_found_cases(ids),
        pay_page_and_path_cases(),
        header_injection_cases(ids),
    ]
    .concat()
}

// ---------------------------------------------------------------- public: the widget's

/// The widget's routes with tokens that are no checkout's, and a refresh of an open checkout
/// (nothing to refresh).
fn checkout_token_cases(ids: &Ids) -> Vec<Case> {
    let long_token = format!("cs_{}", "a".repeat(4000));
    let mut v = Vec::new();
    for (what, token) in [
        ("unknown token", UNKNOWN_TOKEN),
        ("not a token", "nope"),
        ("unicode token", UNICODE_TOKEN),
        ("4 KB token", long_token.as_str()),
        ("encoded traversal", "..%2F..%2Fadmin"),
    ] {
        let not_found = Code("checkout_not_found");
        let checkout = format!("/v1/checkouts/{token}");
        let refresh = format!("/v1/checkouts/{token}/refresh");
        let pay = format!("/v1/checkouts/{token}/pay");
        v.push(case(
            "/v1/checkouts/{token}",
            what,
            Method::GET,
            checkout,
            not_found,
        ));
        v.push(case(
            "/v1/checkouts/{token}/refresh",
            what,
            Method::POST,
            refresh,
            not_found,
        ));
        v.push(pay_key(case(PAY, what, Method::POST, pay, not_found)).json(GOOD_PAY));
    }
    v.push(case(
        "/v1/checkouts/{token}/refresh",
        "an open checkout nobody paid",
        Method::POST,
        format!("/v1/checkouts/{}/refresh", ids.open),
        Code("conflict"),
    ));
    v
}

/// The open checkout's payment with bodies the widget never sends.
fn pay_body_cases(ids: &Ids) -> Vec<Case> {
    let pay = ids.pay_path();
    let mut v = with_malformed(PAY, Method::POST, &pay, MALFORMED, pay_key);
    v.extend(with_bodies(PAY, Method::POST, &pay, BAD_PAYMENTS, pay_key));
    v.push(pay_key(oversized(
        PAY,
        "1 MB of JSON",
        Method::POST,
        &pay,
        1 << 20,
    )));
    for (what, content_type, body, code) in [
        (
            "text/plain body",
            "text/plain",
            GOOD_PAY.as_bytes(),
            "invalid_request",
        ),
        (
            "no content type",
            "",
            GOOD_PAY.as_bytes(),
            "invalid_request",
        ),
        (
            "invalid UTF-8",
            "application/json",
            b"{\"payment_method\": \"pm_\xff\xfe\"}".as_slice(),
            "invalid_json",
        ),
    ] {
        let c = case(PAY, what, Method::POST, &pay, Code(code));
        v.push(pay_key(c).raw_body(content_type, body.to_vec()));
    }
    v
}

/// The open checkout's payment with a good body and an `Idempotency-Key` missing or unusable.
fn pay_key_cases(ids: &Ids) -> Vec<Case> {
    let pay = ids.pay_path();
    [
        ("no Idempotency-Key", None, "missing_idempotency_key"),
        (
            "an empty Idempotency-Key",
            Some(b"".to_vec()),
            "missing_idempotency_key",
        ),
        (
            "a 300-character Idempotency-Key",
            Some(vec![b'k'; 300]),
            "invalid_request",
        ),
        (
            "a space in the Idempotency-Key",
            Some(b"two words".to_vec()),
            "invalid_request",
        ),
        (
            "a tab in the Idempotency-Key",
            Some(b"tab\there".to_vec()),
            "invalid_request",
        ),
        (
            "UTF-8 in the Idempotency-Key",
            Some("clé-😀".as_bytes().to_vec()),
            "missing_idempotency_key",
        ),
        (
            "Latin-1 bytes in the Idempotency-Key",
            Some(b"cl\xe9".to_vec()),
            "missing_idempotency_key",
        ),
    ]
    .into_iter()
    .map(|(what, key, code)| {
        case(PAY, what, Method::POST, &pay, Code(code))
            .json(GOOD_PAY)
            .header_if("Idempotency-Key", key)
    })
    .collect()
}

/// The open checkout read and paid from origins the merchant did not allow.
fn widget_origin_cases(ids: &Ids) -> Vec<Case> {
    let pay = ids.pay_path();
    let checkout = format!("/v1/checkouts/{}", ids.open);
    let forbidden = Code("forbidden_origin");
    let mut v = Vec::new();
    for (what, origin) in [
        ("a foreign Origin", "https://evil.example"),
        ("Origin null", "null"),
        ("a look-alike Origin", "https://salon.example.evil.example"),
        ("an Origin with a path", "https://salon.example/pay"),
    ] {
        let c = case(PAY, what, Method::POST, &pay, forbidden);
        v.push(pay_key(c).header("Origin", origin).json(GOOD_PAY));
        let c = case(
            "/v1/checkouts/{token}",
            what,
            Method::GET,
            &checkout,
            forbidden,
        );
        v.push(c.header("Origin", origin));
    }
    v.push(
        case(
            "/v1/checkouts/{token}",
            "a UTF-8 Origin",
            Method::GET,
            &checkout,
            forbidden,
        )
        .header("Origin", "https://sålon.example".as_bytes()),
    );
    v
}

/// A checkout started from a service (the widget's booking flow) with bodies, merchants and
/// an origin it cannot start from.
fn from_service_cases(ids: &Ids) -> Vec<Case> {
    const ROUTE: &str = "/v1/merchants/{merchant_id}/checkouts";
    let path = format!("/v1/merchants/{}/checkouts", ids.merchant);
    let good = format!(r#"{{"service_id": "{}"}}"#, ids.service);
    let own_amount = format!(r#"{{"service_id": "{}", "amount": 1}}"#, ids.service);
    let keep = |c: Case| c;
    let mut v = with_malformed(ROUTE, Method::POST, &path, MALFORMED, keep);
    let rows = [
        (
            "an unknown service",
            r#"{"service_id": "svc_000000000000000000000000"}"#,
            Code("not_found"),
        ),
        (
            "a service id with unicode",
            r#"{"service_id": "svc_ñ😀"}"#,
            Code("not_found"),
        ),
        (
            "a number for the service",
            r#"{"service_id": 7}"#,
            Code("invalid_json"),
        ),
        (
            "an amount of one's own",
            own_amount.as_str(),
            Code("invalid_json"),
        ),
    ];
    v.extend(with_bodies(ROUTE, Method::POST, &path, &rows, keep));
    v.push(oversized(ROUTE, "1 MB", Method::POST, &path, 1 << 20));
    for (what, merchant) in [
        ("an unknown merchant", UNKNOWN_MERCHANT),
        ("a unicode merchant", "mer_ñ😀"),
    ] {
        let path = format!("/v1/merchants/{merchant}/checkouts");
        v.push(case(ROUTE, what, Method::POST, path, Code("not_found")).json(good.clone()));
    }
    v.push(
        case(
            ROUTE,
            "a foreign Origin",
            Method::POST,
            &path,
            Code("forbidden_origin"),
        )
        .header("Origin", "https://evil.example")
        .json(good),
    );
    v
}

// ---------------------------------------------------------------- Stripe's webhooks

/// Stripe's webhooks to the merchant: signatures that are not the merchant's secret's, now,
/// bodies that are signed but no event, a body too large, a merchant nobody has.
fn webhook_cases(ids: &Ids) -> Vec<Case> {
    const ROUTE: &str = "/v1/webhooks/stripe/{merchant_id}";
    let event = r#"{"id": "evt_fault_1", "object": "event", "type": "payment_intent.succeeded", "created": 1, "data": {"object": {"id": "pi_x"}}}"#;
    let hook = ids.hook_path();
    let now = slotpay_server::db::now();
    let sign = |body: &str, t: i64, secret: &str| {
        slotpay_core::webhook_signature::signature_header(t, &[secret], body.as_bytes())
    };
    let mut v = Vec::new();
    for (what, signature) in [
        ("no signature", None),
        ("a garbage signature", Some("nonsense".to_owned())),
        (
            "a signature by another secret",
            Some(sign(event, now, "whsec_not_the_merchants_secret_1234")),
        ),
        (
            "a signature an hour old",
            Some(sign(event, now - 3600, &ids.webhook_secret)),
        ),
        ("a signature with unicode", Some(format!("t={now},v1=ñ😀"))),
    ] {
        let c = case(ROUTE, what, Method::POST, &hook, Code("invalid_signature"));
        v.push(c.json(event).header_if("Stripe-Signature", signature));
    }
    for (what, body) in [
        ("signed malformed JSON", "{\"id\": "),
        ("a signed array", "[1, 2]"),
        (
            "a signed event without an id",
            "{\"type\": \"charge.succeeded\"}",
        ),
    ] {
        let c = case(ROUTE, what, Method::POST, &hook, Code("invalid_json"));
        v.push(
            c.header("Stripe-Signature", sign(body, now, &ids.webhook_secret))
                .json(body),
        );
    }
    v.push(oversized(ROUTE, "2 MB", Method::POST, &hook, 2 << 20));
    v.push(
        case(
            ROUTE,
            "an unknown merchant",
            Method::POST,
            format!("/v1/webhooks/stripe/{UNKNOWN_MERCHANT}"),
            Code("invalid_signature"),
        )
        .header("Stripe-Signature", sign(event, now, &ids.webhook_secret))
        .json(event),
    );
    v
}

// ---------------------------------------------------------------- the platform API

/// The admin API's routes about one merchant (method and route template).
const MERCHANT_API: &[&str] = &[
    "GET /v1/admin/merchants/{merchant_id}",
    "PATCH /v1/admin/merchants/{merchant_id}",
    "DELETE /v1/admin/merchants/{merchant_id}",
    "GET /v1/admin/merchants/{merchant_id}/integration",
    "DELETE /v1/admin/merchants/{merchant_id}/integration",
    "POST /v1/admin/merchants/{merchant_id}/integration/verify",
    "POST /v1/admin/merchants/{merchant_id}/integration/activate",
    "POST /v1/admin/merchants/{merchant_id}/integration/deactivate",
    "GET /v1/admin/merchants/{merchant_id}/services",
    "GET /v1/admin/merchants/{merchant_id}/checkouts",
    "GET /v1/admin/merchants/{merchant_id}/payments",
    "PUT /v1/admin/merchants/{merchant_id}/logo",
    "DELETE /v1/admin/merchants/{merchant_id}/logo",
];

/// The start of a PNG image: its signature and header chunk (slotpay reads no further).
const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

/// The admin API's routes about one merchant, for merchants nobody has (a PATCH with a name)
/// and without the admin token.
fn merchant_id_cases(ids: &Ids) -> Vec<Case> {
    let mut v = Vec::new();
    for line in MERCHANT_API {
        let (method, route) = line.split_once(' ').expect("a method and a route");
        let method = Method::from_bytes(method.as_bytes()).expect("a method");
        let patch = method == Method::PATCH;
        let put = method == Method::PUT;
        let dress = |c: Case| {
            let c = c.admin();
            if patch {
                c.json(r#"{"name": "X"}"#)
            } else if put {
                c.raw_body("image/png", PNG.to_vec())
            } else {
                c
            }
        };
        let merchants = [UNKNOWN_MERCHANT, "mer_ñ😀", "x"];
        let not_found = Code("not_found");
        v.extend(unknown_merchants(
            route, &method, &merchants, not_found, dress,
        ));
        let path = route.replace("{merchant_id}", &ids.merchant);
        v.extend(without_admin_token(route, &method, &path));
    }
    v
}

/// Merchants the admin API cannot create or change, and the merchant list without a token.
fn merchant_body_cases(ids: &Ids) -> Vec<Case> {
    const LIST: &str = "/v1/admin/merchants";
    const ONE: &str = "/v1/admin/merchants/{merchant_id}";
    let mut v = Vec::new();
    for (route, method, path) in [
        (LIST, Method::POST, LIST.to_owned()),
        (
            ONE,
            Method::PATCH,
            format!("/v1/admin/merchants/{}", ids.merchant),
        ),
    ] {
        v.extend(with_malformed(
            route,
            method.clone(),
            &path,
            MALFORMED,
            Case::admin,
        ));
        v.extend(with_bodies(
            route,
            method.clone(),
            &path,
            BAD_MERCHANTS,
            Case::admin,
        ));
        v.push(oversized(route, "1 MB", method, &path, 1 << 20).admin());
    }
    let long_name = format!(r#"{{"name": "{}"}}"#, "é".repeat(10_000));
    let rows = [
        (
            "an empty name",
            r#"{"name": "   ", "allowed_origins": []}"#,
            AnyCode,
        ),
        ("a 10,000-character name", long_name.as_str(), AnyCode),
    ];
    v.extend(with_bodies(LIST, Method::POST, LIST, &rows, Case::admin));
    v.push(case(
        LIST,
        "the list without a token",
        Method::GET,
        LIST,
        Code("unauthorized"),
    ));
    v
}

/// Logos that are not images of the accepted types (SVG, HTML, garbage, nothing, a body
/// larger than any upload) through the API and the merchant's page, and served logos nobody
/// uploaded; each refused with its code, nothing stored.
fn logo_cases(ids: &Ids) -> Vec<Case> {
    const API: &str = "/v1/admin/merchants/{merchant_id}/logo";
    const PAGE: &str = "/admin/merchants/{merchant_id}/logo";
    const SERVED: &str = "/logos/{merchant_id}/{file}";
    const MULTIPART: &str = "multipart/form-data; boundary=b";
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>"#;
    let api = ids.path(API, "");
    let mut v: Vec<Case> = [
        ("an SVG", "image/svg+xml", svg.to_vec()),
        ("an SVG sent as PNG", "image/png", svg.to_vec()),
        (
            "HTML",
            "text/html",
            b"<!doctype html><script>alert(1)</script>".to_vec(),
        ),
        ("garbage", "image/png", b"\0\x01\x02garbage".to_vec()),
        (
            "a JSON body",
            "application/json",
            br#"{"logo": "x"}"#.to_vec(),
        ),
        ("nothing", "image/png", Vec::new()),
        ("a PNG sent as JPEG", "image/jpeg", PNG.to_vec()),
    ]
    .into_iter()
    .map(|(what, content_type, body)| {
        case(API, what, Method::PUT, &api, Code("invalid_logo"))
            .admin()
            .raw_body(content_type, body)
    })
    .collect();
    let mut huge = PNG.to_vec();
    huge.resize(2 << 20, 0);
    v.push(
        case(API, "2 MB", Method::PUT, &api, Code("payload_too_large"))
            .admin()
            .raw_body("image/png", huge),
    );
    let page = ids.path(PAGE, "");
    let part = |csrf: &str, file_name: &str, content_type: &str, bytes: &[u8]| {
        let mut body = format!(
            "--b\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{csrf}\r\n\
             --b\r\nContent-Disposition: form-data; name=\"logo\"; filename=\"{file_name}\"\r\n\
             Content-Type: {content_type}\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n--b--\r\n");
        body
    };
    for (what, body, expect) in [
        (
            "an SVG file",
            part(&ids.csrf, "logo.svg", "image/svg+xml", svg),
            Page("invalid_logo"),
        ),
        (
            "an HTML file named as a PNG",
            part(
                &ids.csrf,
                "logo.png",
                "image/png",
                b"<html><script>alert(1)</script>",
            ),
            Page("invalid_logo"),
        ),
        (
            "no file chosen",
            part(&ids.csrf, "", "application/octet-stream", b""),
            Page("invalid_logo"),
        ),
        (
            "a PNG without the CSRF token",
            part("forged", "logo.png", "image/png", PNG),
            Page("csrf_token_invalid"),
        ),
        (
            "a multipart body cut short",
            b"--b\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\nx".to_vec(),
            Page("invalid_form"),
        ),
    ] {
        v.push(
            case(PAGE, what, Method::POST, &page, expect)
                .session()
                .raw_body(MULTIPART, body),
        );
    }
    let m = &ids.merchant;
    let hash = "0".repeat(64);
    for (what, path) in [
        ("a hash nobody uploaded", format!("/logos/{m}/{hash}.png")),
        ("an SVG", format!("/logos/{m}/{hash}.svg")),
        ("no extension", format!("/logos/{m}/{hash}")),
        (
            "an unknown merchant",
            format!("/logos/{UNKNOWN_MERCHANT}/{hash}.png"),
        ),
        ("a unicode name", format!("/logos/{m}/%F0%9F%98%80.png")),
        (
            "a path out of the logos",
            format!("/logos/{m}/..%2F..%2F.data%2Fmaster.key"),
        ),
    ] {
        v.push(case(SERVED, what, Method::GET, path, Code("not_found")));
    }
    v
}

/// A merchant's Stripe keys saved (PUT: each refused with its code) or tested (POST: any
/// documented code) with keys in the wrong field or mode, with characters no key has, or with
/// another field wrong.
fn integration_cases(ids: &Ids) -> Vec<Case> {
    const ROUTE: &str = "/v1/admin/merchants/{merchant_id}/integration";
    let path = format!("/v1/admin/merchants/{}/integration", ids.merchant);
    let mut v = Vec::new();
    for (what, body, code) in [
        misplaced_keys(),
        malformed_keys(),
        other_integration_fields(),
    ]
    .concat()
    {
        let put = case(ROUTE, what, Method::PUT, &path, Code(code));
        v.push(put.admin().json(body.clone()));
        v.push(
            case(ROUTE, what, Method::POST, &path, AnyCode)
                .admin()
                .json(body),
        );
    }
    v.extend(with_malformed(
        ROUTE,
        Method::PUT,
        &path,
        &MALFORMED[..3],
        Case::admin,
    ));
    v
}

/// A sandbox publishable key and secret key of the right shape.
const PK: &str = "pk_test_51FaultHarnessPublishableKey0000000000";
const SK: &str = "sk_test_51FaultHarnessSecretKey00000000000000";

/// Integration bodies with good keys in the wrong field, or keys of modes that do not match:
/// what each is, its JSON text, the code it must be refused with.
fn misplaced_keys() -> Vec<(&'static str, String, &'static str)> {
    vec![
        (
            "a secret key as publishable",
            format!(r#"{{"publishable_key": "{SK}", "secret_key": "{SK}", "mode": "sandbox"}}"#),
            "secret_key_in_publishable_field",
        ),
        (
            "a publishable key as secret",
            format!(r#"{{"publishable_key": "{PK}", "secret_key": "{PK}", "mode": "sandbox"}}"#),
            "publishable_key_in_secret_field",
        ),
        (
            "test keys in live mode",
            format!(r#"{{"publishable_key": "{PK}", "secret_key": "{SK}", "mode": "live"}}"#),
            "key_mode_mismatch",
        ),
        (
            "a live and a test key",
            format!(
                r#"{{"publishable_key": "pk_live_51FaultHarness0000000000000000000", "secret_key": "{SK}", "mode": "sandbox"}}"#
            ),
            "mixed_key_modes",
        ),
    ]
}

/// Integration bodies with whitespace, unicode or an unknown prefix in a key or the signing
/// secret: what each is, its JSON text, the code it must be refused with.
fn malformed_keys() -> Vec<(&'static str, String, &'static str)> {
    vec![
        (
            "a space inside a key",
            format!(
                r#"{{"publishable_key": "{PK}", "secret_key": "sk_test_51Fault Harness000000000000000", "mode": "sandbox"}}"#
            ),
            "key_contains_whitespace",
        ),
        (
            "CR LF inside a key",
            format!(
                r#"{{"publishable_key": "{PK}", "secret_key": "sk_test_51Fault\r\nHarness000000000000000", "mode": "sandbox"}}"#
            ),
            "key_contains_whitespace",
        ),
        (
            "unicode in a key",
            format!(
                r#"{{"publishable_key": "pk_test_51Fäült😀000000000000000000", "secret_key": "{SK}", "mode": "sandbox"}}"#
            ),
            "invalid_publishable_key",
        ),
        (
            "an unknown prefix",
            format!(
                r#"{{"publishable_key": "{PK}", "secret_key": "xk_test_51FaultHarness0000000000000", "mode": "sandbox"}}"#
            ),
            "unknown_key_prefix",
        ),
        (
            "a space in the signing secret",
            format!(
                r#"{{"publishable_key": "{PK}", "secret_key": "{SK}", "webhook_secret": "whsec_ bad", "mode": "sandbox"}}"#
            ),
            "key_contains_whitespace",
        ),
        (
            "unicode in the signing secret",
            format!(
                r#"{{"publishable_key": "{PK}", "secret_key": "{SK}", "webhook_secret": "whsec_ñ😀", "mode": "sandbox"}}"#
            ),
            "invalid_webhook_secret",
        ),
    ]
}

/// Integration bodies with good keys and another field wrong: what each is, its JSON text,
/// the code it must be refused with.
fn other_integration_fields() -> Vec<(&'static str, String, &'static str)> {
    vec![
        (
            "an unknown mode",
            format!(r#"{{"publishable_key": "{PK}", "secret_key": "{SK}", "mode": "production"}}"#),
            "invalid_request",
        ),
        (
            "a number for a key",
            format!(r#"{{"publishable_key": 42, "secret_key": "{SK}", "mode": "sandbox"}}"#),
            "invalid_json",
        ),
        (
            "an unknown card brand",
            format!(
                r#"{{"publishable_key": "{PK}", "secret_key": "{SK}", "mode": "sandbox", "card_brands": ["visa", "💳"]}}"#
            ),
            "invalid_request",
        ),
        (
            "ways to pay without card",
            format!(
                r#"{{"publishable_key": "{PK}", "secret_key": "{SK}", "mode": "sandbox", "payment_methods": ["ideal"]}}"#
            ),
            "invalid_request",
        ),
        (
            "an unknown way to pay",
            format!(
                r#"{{"publishable_key": "{PK}", "secret_key": "{SK}", "mode": "sandbox", "payment_methods": ["card", "paypal"]}}"#
            ),
            "invalid_request",
        ),
        (
            "a string for wallets",
            format!(
                r#"{{"publishable_key": "{PK}", "secret_key": "{SK}", "mode": "sandbox", "wallets": "yes"}}"#
            ),
            "invalid_json",
        ),
    ]
}

/// Services the admin API cannot create or change, and services nobody has.
fn service_cases(ids: &Ids) -> Vec<Case> {
    const LIST: &str = "/v1/admin/merchants/{merchant_id}/services";
    const ONE: &str = "/v1/admin/merchants/{merchant_id}/services/{service_id}";
    let mut v = Vec::new();
    for (route, method) in [(LIST, Method::POST), (ONE, Method::PATCH)] {
        let path = ids.path(route, "");
        v.extend(with_bodies(
            route,
            method.clone(),
            &path,
            BAD_PRICES,
            Case::admin,
        ));
        v.push(oversized(route, "1 MB", method.clone(), &path, 1 << 20).admin());
        v.extend(with_malformed(
            route,
            method,
            &path,
            &MALFORMED[..3],
            Case::admin,
        ));
    }
    for method in [Method::GET, Method::DELETE, Method::PATCH] {
        for id in [UNKNOWN_SERVICE, "svc_ñ😀"] {
            let path = format!("/v1/admin/merchants/{}/services/{id}", ids.merchant);
            let c = case(ONE, "unknown", method.clone(), path, Code("not_found"));
            v.push(c.admin().json(r#"{"name": "X"}"#));
        }
    }
    v
}

/// Payment links the admin API cannot create, and list queries it cannot read.
fn admin_checkout_cases(ids: &Ids) -> Vec<Case> {
    const CHECKOUTS: &str = "/v1/admin/merchants/{merchant_id}/checkouts";
    const PAYMENTS: &str = "/v1/admin/merchants/{merchant_id}/payments";
    let checkouts = ids.path(CHECKOUTS, "");
    let mut v = with_bodies(
        CHECKOUTS,
        Method::POST,
        &checkouts,
        BAD_CHECKOUTS,
        Case::admin,
    );
    v.push(oversized(CHECKOUTS, "1 MB", Method::POST, &checkouts, 1 << 20).admin());
    v.extend(with_malformed(
        CHECKOUTS,
        Method::POST,
        &checkouts,
        MALFORMED,
        Case::admin,
    ));
    let checkout_queries = [
        "limit=-1",
        "limit=abc",
        "status=bogus",
        "from=yesterday",
        "link=maybe",
        "limit=99999999999999999999",
    ];
    let payment_queries = ["format=xml", "from=notadate", "to=2026-13-45", "status=%00"];
    for (route, queries) in [
        (CHECKOUTS, checkout_queries.as_slice()),
        (PAYMENTS, payment_queries.as_slice()),
    ] {
        for q in queries {
            let path = format!("{}?{q}", ids.path(route, ""));
            let c = case(
                route,
                &format!("query {q}"),
                Method::GET,
                path,
                Code("invalid_request"),
            );
            v.push(c.admin());
        }
    }
    v
}

// ---------------------------------------------------------------- checkouts, refunds, fees

/// The admin API's actions on one checkout, for checkouts nobody has (with the admin token)
/// and for the open checkout without it.
fn checkout_action_auth_cases(ids: &Ids) -> Vec<Case> {
    let empty = Some("{}");
    let mut v = Vec::new();
    for (route, method, body) in [
        ("/v1/admin/checkouts/{token}", Method::GET, None),
        ("/v1/admin/checkouts/{token}/refunds", Method::POST, empty),
        ("/v1/admin/checkouts/{token}/capture", Method::POST, empty),
        ("/v1/admin/checkouts/{token}/cancel", Method::POST, None),
        ("/v1/admin/checkouts/{token}/resend", Method::POST, empty),
        ("/v1/admin/checkouts/{token}/send-link", Method::POST, empty),
        (
            "/v1/admin/checkouts/{token}/cancellation-fee",
            Method::POST,
            Some(r#"{"amount": 500}"#),
        ),
    ] {
        for (what, token) in [
            ("an unknown checkout", UNKNOWN_TOKEN),
            ("a unicode checkout", UNICODE_TOKEN),
        ] {
            let path = route.replace("{token}", token);
            let c = case(route, what, method.clone(), path, AnyCode).admin();
            let c = c.header("Idempotency-Key", "fee-1");
            v.push(match body {
                Some(b) => c.json(b),
                None => c,
            });
        }
        let path = route.replace("{token}", &ids.open);
        v.push(case(route, "no token", method, path, Code("unauthorized")));
    }
    v
}

/// Refunds that cannot be made: of the paid checkout (bad amounts, bad keys) and of the open
/// one (nothing paid).
fn refund_cases(ids: &Ids) -> Vec<Case> {
    const ROUTE: &str = "/v1/admin/checkouts/{token}/refunds";
    let paid = ids.path(ROUTE, &ids.paid);
    let mut v = with_bodies(ROUTE, Method::POST, &paid, BAD_REFUNDS, |c| {
        c.admin().header("Idempotency-Key", "r-x")
    });
    let long_key = "k".repeat(300);
    for (what, key, code) in [
        ("no Idempotency-Key", None, "missing_idempotency_key"),
        ("a 300-character key", Some(long_key), "invalid_request"),
    ] {
        let c = case(ROUTE, what, Method::POST, &paid, Code(code));
        v.push(
            c.admin()
                .json(r#"{"amount": 100}"#)
                .header_if("Idempotency-Key", key),
        );
    }
    v.push(
        case(
            ROUTE,
            "a refund of an unpaid checkout",
            Method::POST,
            ids.path(ROUTE, &ids.open),
            Code("conflict"),
        )
        .admin()
        .header("Idempotency-Key", "r-y")
        .json("{}"),
    );
    v
}

/// Captures, a cancel and resends of the paid checkout that it cannot take.
fn capture_cancel_resend_cases(ids: &Ids) -> Vec<Case> {
    const CAPTURE: &str = "/v1/admin/checkouts/{token}/capture";
    const CANCEL: &str = "/v1/admin/checkouts/{token}/cancel";
    const RESEND: &str = "/v1/admin/checkouts/{token}/resend";
    let captures = [
        (
            "a capture of a paid checkout",
            "{}",
            Code("nothing_to_capture"),
        ),
        (
            "a negative capture",
            r#"{"amount": -1}"#,
            Code("nothing_to_capture"),
        ),
        ("malformed JSON", "{", Code("invalid_json")),
    ];
    let resends = [
        ("a negative expiry", r#"{"expires_in": -1}"#, AnyCode),
        (
            "a string expiry",
            r#"{"expires_in": "soon"}"#,
            Code("invalid_json"),
        ),
        ("a resend of a paid checkout", "{}", AnyCode),
    ];
    let mut v = with_bodies(
        CAPTURE,
        Method::POST,
        &ids.path(CAPTURE, &ids.paid),
        &captures,
        Case::admin,
    );
    let cancel = ids.path(CANCEL, &ids.paid);
    let what = "a cancel of a paid checkout";
    v.push(case(CANCEL, what, Method::POST, cancel, Code("conflict")).admin());
    let resend = ids.path(RESEND, &ids.paid);
    v.extend(with_bodies(
        RESEND,
        Method::POST,
        &resend,
        &resends,
        Case::admin,
    ));
    // Emails: a link to a paid checkout or to no address (this server has no SMTP), an
    // email nobody has.
    const SEND: &str = "/v1/admin/checkouts/{token}/send-link";
    let sends = [
        ("a link of a paid checkout", "{}", Code("conflict")),
        ("not an address", r#"{"email": "nobody"}"#, Code("conflict")),
        (
            "an unknown field",
            r#"{"to": "a@b.example"}"#,
            Code("invalid_json"),
        ),
        ("malformed JSON", "{", Code("invalid_json")),
    ];
    v.extend(with_bodies(
        SEND,
        Method::POST,
        &ids.path(SEND, &ids.paid),
        &sends,
        Case::admin,
    ));
    const RETRY: &str = "/v1/admin/emails/{email_id}/retry";
    let retry = ids.path(RETRY, &ids.paid);
    v.push(
        case(
            RETRY,
            "an unknown email",
            Method::POST,
            &retry,
            Code("not_found"),
        )
        .admin(),
    );
    v.push(case(
        RETRY,
        "no token",
        Method::POST,
        retry,
        Code("unauthorized"),
    ));
    v
}

/// Webhook endpoints the platform cannot add or find, and events it cannot find or list so.
fn platform_event_cases() -> Vec<Case> {
    const ENDPOINTS: &str = "/v1/admin/webhook-endpoints";
    const ENDPOINT: &str = "/v1/admin/webhook-endpoints/{endpoint_id}";
    const ROTATE: &str = "/v1/admin/webhook-endpoints/{endpoint_id}/rotate-secret";
    const REVEAL: &str = "/v1/admin/webhook-endpoints/{endpoint_id}/reveal-secret";
    const EVENTS: &str = "/v1/admin/events";
    const EVENT: &str = "/v1/admin/events/{event_id}";
    const RESEND: &str = "/v1/admin/events/{event_id}/resend";
    let long_url = format!(r#"{{"url": "https://book.example/{}"}}"#, "a".repeat(3000));
    let endpoints = [
        ("no url", "{}", Code("invalid_json")),
        (
            "an ftp url",
            r#"{"url": "ftp://book.example/h"}"#,
            Code("invalid_request"),
        ),
        (
            "a relative url",
            r#"{"url": "/hooks"}"#,
            Code("invalid_request"),
        ),
        (
            "credentials in the url",
            r#"{"url": "https://u:p@book.example/h"}"#,
            Code("invalid_request"),
        ),
        (
            "a url of 3000 characters",
            long_url.as_str(),
            Code("invalid_request"),
        ),
        (
            "an unknown event type",
            r#"{"url": "https://book.example/h", "events": ["checkout.payed"]}"#,
            Code("invalid_request"),
        ),
        (
            "events as a string",
            r#"{"url": "https://book.example/h", "events": "checkout.paid"}"#,
            Code("invalid_json"),
        ),
        (
            "an unknown merchant",
            r#"{"url": "https://book.example/h", "merchant_id": "mer_nope"}"#,
            Code("not_found"),
        ),
        (
            "an unknown field",
            r#"{"url": "https://book.example/h", "secret": "whsec_mine"}"#,
            Code("invalid_json"),
        ),
    ];
    let mut v = with_bodies(ENDPOINTS, Method::POST, ENDPOINTS, &endpoints, Case::admin);
    v.extend(with_malformed(
        ENDPOINTS,
        Method::POST,
        ENDPOINTS,
        &MALFORMED[..3],
        Case::admin,
    ));
    v.push(oversized(ENDPOINTS, "1 MB", Method::POST, ENDPOINTS, 1 << 20).admin());
    v.extend(without_admin_token(ENDPOINTS, &Method::GET, ENDPOINTS));
    for id in ["we_nope", "we_ñ😀"] {
        let one = format!("/v1/admin/webhook-endpoints/{id}");
        for method in [Method::GET, Method::DELETE, Method::PATCH] {
            let c = case(ENDPOINT, "unknown", method, one.clone(), Code("not_found"));
            v.push(c.admin().json(r#"{"disabled": true}"#));
        }
        for (route, action) in [(ROTATE, "rotate-secret"), (REVEAL, "reveal-secret")] {
            let path = format!("{one}/{action}");
            v.push(case(route, "unknown", Method::POST, path, Code("not_found")).admin());
        }
    }
    v.extend(without_admin_token(
        REVEAL,
        &Method::POST,
        "/v1/admin/webhook-endpoints/we_nope/reveal-secret",
    ));
    for (what, query, code) in [
        ("an unknown type", "?type=checkout.payed", "invalid_request"),
        ("a limit of 0", "?limit=0", "invalid_request"),
        ("a limit of 1000", "?limit=1000", "invalid_request"),
        ("a text limit", "?limit=many", "invalid_request"),
        ("a bad time", "?created_after=yesterday", "invalid_request"),
        (
            "an unknown cursor",
            "?starting_after=evt_nope",
            "invalid_request",
        ),
        ("an unknown filter", "?colour=red", "invalid_request"),
    ] {
        let path = format!("{EVENTS}{query}");
        v.push(case(EVENTS, what, Method::GET, path, Code(code)).admin());
    }
    v.extend(without_admin_token(EVENTS, &Method::GET, EVENTS));
    for id in ["evt_nope", "evt_ñ😀"] {
        let one = format!("/v1/admin/events/{id}");
        v.push(
            case(
                EVENT,
                "unknown",
                Method::GET,
                one.clone(),
                Code("not_found"),
            )
            .admin(),
        );
        let resend = format!("{one}/resend");
        v.push(case(RESEND, "unknown", Method::POST, resend, Code("not_found")).admin());
    }
    v
}

/// Cancellation fees the paid checkout cannot be charged.
fn cancellation_fee_cases(ids: &Ids) -> Vec<Case> {
    const ROUTE: &str = "/v1/admin/checkouts/{token}/cancellation-fee";
    let path = ids.path(ROUTE, &ids.paid);
    [
        (
            "a negative fee",
            r#"{"amount": -500}"#,
            Some("f-1"),
            AnyCode,
        ),
        (
            "a fee without a saved card",
            r#"{"amount": 500}"#,
            Some("f-1"),
            AnyCode,
        ),
        (
            "no key",
            r#"{"amount": 500}"#,
            None,
            Code("missing_idempotency_key"),
        ),
        (
            "a float fee",
            r#"{"amount": 5.5}"#,
            Some("f-1"),
            Code("invalid_json"),
        ),
    ]
    .into_iter()
    .map(|(what, body, key, expect)| {
        case(ROUTE, what, Method::POST, &path, expect)
            .admin()
            .json(body)
            .header_if("Idempotency-Key", key)
    })
    .collect()
}

// ---------------------------------------------------------------- the admin pages

/// Every form of the admin pages posted without a good CSRF token, from a foreign origin, or
/// too large.
fn page_csrf_cases(ids: &Ids) -> Vec<Case> {
    let csrf = &ids.csrf;
    let mut v = Vec::new();
    for &route in PAGE_POSTS {
        let path = ids.path(route, &ids.paid);
        let refused = |what: &str, form: String| {
            case(route, what, Method::POST, &path, Page("csrf_token_invalid"))
                .session()
                .form(form)
        };
        v.push(refused("no CSRF token", "name=X&amount=100".into()));
        v.push(refused(
            "a wrong CSRF token",
            "csrf_token=forged&name=X".into(),
        ));
        let injected = format!("csrf_token={csrf}%0D%0AX-Injected%3A%201");
        v.push(refused("a CSRF token with CR LF", injected));
        v.push(
            case(
                route,
                "a foreign Origin",
                Method::POST,
                &path,
                Page("forbidden_origin"),
            )
            .session()
            .header("Origin", "https://evil.example")
            .form(format!("csrf_token={csrf}")),
        );
        let big = format!("csrf_token={csrf}&name={}", "x".repeat(70_000));
        v.push(
            case(route, "a 70 KB form", Method::POST, &path, AnyPage)
                .session()
                .form(big),
        );
    }
    v
}

/// The forms of the pages, each with values that cannot be saved (the page shows them again
/// with their codes, or the action is refused); CR LF and unicode throughout.
fn page_form_cases(ids: &Ids) -> Vec<Case> {
    let hostile = "Salon%0D%0ASet-Cookie%3A%20x%3D1%20%F0%9F%98%80";
    [
        (
            "/admin/merchants",
            format!("name={hostile}&allowed_origins=javascript%3Aalert(1)&locale=fr"),
        ),
        (
            "/admin/merchants/{merchant_id}",
            format!(
                "name={hostile}&allowed_origins=https%3A%2F%2Fa.example%0D%0Ahttps%3A%2F%2Fb.example%2Fpath&locale=fr"
            ),
        ),
        (
            "/admin/merchants/{merchant_id}/integrations",
            format!("name={hostile}&publishable_key=sk_test_x%0D%0A&secret_key=pk_test_%C3%A9&mode=live"),
        ),
        (
            "/admin/merchants/{merchant_id}/integration",
            format!("name={hostile}&publishable_key=pk_live_%F0%9F%98%80&secret_key=sk_test_a%20b&mode=sandbox"),
        ),
        (
            "/admin/merchants/{merchant_id}/services",
            format!("name={hostile}&price=-12.345&currency=XYZ&prepayment=percent&percent=101"),
        ),
        (
            "/admin/merchants/{merchant_id}/services/{service_id}",
            format!("name={hostile}&price=99999999999999999999&currency=EUR&prepayment=fixed&deposit=-1"),
        ),
        (
            "/admin/merchants/{merchant_id}/links",
            format!("description={hostile}&amount=0.001&currency=%E2%82%AC&expires_in_days=-7&customer_email=a%40b%0D%0ABcc"),
        ),
        ("/admin/checkouts/{token}/refund", "amount=-5".to_owned()),
        ("/admin/checkouts/{token}/refund", "amount=99999999999999999999999".to_owned()),
        ("/admin/checkouts/{token}/capture", "amount=1".to_owned()),
        ("/admin/checkouts/{token}/cancellation-fee", "amount=%F0%9F%98%80".to_owned()),
    ]
    .into_iter()
    .map(|(route, fields)| {
        let what = format!("hostile fields {fields}");
        case(route, &what, Method::POST, ids.path(route, &ids.paid), AnyPage)
            .session()
            .form(format!("csrf_token={}&{fields}", ids.csrf))
    })
    .collect()
}

/// Signing in to the admin pages with a wrong token, towards another site, from a foreign
/// origin (`SELF` is the server's own origin).
fn sign_in_cases() -> Vec<Case> {
    const ROUTE: &str = "/admin/sign-in";
    [
        (
            "a wrong token",
            "method=token&token=not-the-token%0D%0A&next=%2Fadmin",
            b"SELF".as_slice(),
            AnyPage,
        ),
        (
            "an open redirect",
            "method=token&token=%F0%9F%98%80&next=https%3A%2F%2Fevil.example",
            b"SELF".as_slice(),
            AnyPage,
        ),
        (
            "a foreign Origin",
            "method=token&token=x",
            b"https://evil.example".as_slice(),
            Page("forbidden_origin"),
        ),
    ]
    .into_iter()
    .map(|(what, form, origin, expect)| {
        case(ROUTE, what, Method::POST, ROUTE, expect)
            .form(form)
            .header("Origin", origin)
    })
    .collect()
}

/// The admin pages for merchants, services, checkouts and webhook endpoints nobody has, and
/// payment queries they cannot read.
fn page_not_found_cases(ids: &Ids) -> Vec<Case> {
    let m = &ids.merchant;
    let mut v = Vec::new();
    for route in [
        "/admin/webhooks/{endpoint_id}",
        "/admin/webhooks/{endpoint_id}/edit",
        "/admin/webhooks/{endpoint_id}/rotate-secret",
        "/admin/webhooks/{endpoint_id}/delete",
    ] {
        for id in [UNKNOWN_ENDPOINT, "we_ñ😀"] {
            let path = route.replace("{endpoint_id}", id);
            v.push(
                case(
                    route,
                    "an unknown endpoint",
                    Method::GET,
                    path,
                    Page("not_found"),
                )
                .session(),
            );
        }
    }
    for &route in PAGE_GETS {
        let merchants = [UNKNOWN_MERCHANT, "mer_ñ😀"];
        v.extend(unknown_merchants(
            route,
            &Method::GET,
            &merchants,
            Page("not_found"),
            Case::session,
        ));
    }
    for (route, path, code) in [
        (
            "/admin/merchants/{merchant_id}/services/{service_id}/edit",
            format!("/admin/merchants/{m}/services/svc_ñ😀/edit"),
            "not_found",
        ),
        (
            "/admin/merchants/{merchant_id}/services/{service_id}/delete",
            format!("/admin/merchants/{m}/services/{UNKNOWN_SERVICE}/delete"),
            "not_found",
        ),
        (
            "/admin/checkouts/{token}",
            format!("/admin/checkouts/{UNICODE_TOKEN}"),
            "checkout_not_found",
        ),
    ] {
        v.push(case(route, "an unknown id", Method::GET, path, Page(code)).session());
    }
    for q in ["from=notadate", "status=%F0%9F%98%80"] {
        let path = format!("/admin/merchants/{m}/payments?{q}");
        let route = "/admin/merchants/{merchant_id}/payments";
        v.push(case(route, &format!("query {q}"), Method::GET, path, AnyPage).session());
    }
    v
}

// ---------------------------------------------------------------- pages, assets, ops, paths

/// The payment link's page for tokens that are no checkout's, path tricks at the static
/// files, and a method that routes without parameters do not have.
fn pay_page_and_path_cases() -> Vec<Case> {
    let mut v = Vec::new();
    for (what, token) in [
        ("an unknown token", UNKNOWN_TOKEN),
        ("a unicode token", "cs_ñ😀"),
        ("a script", "<script>alert(1)</script>"),
    ] {
        let path = format!("/pay/{}", urlencode(token));
        v.push(case("/pay/{token}", what, Method::GET, path, Html));
    }
    for (what, path) in [
        ("a language the widget does not speak", "/words/it.json"),
        ("no extension", "/words/fr"),
        (
            "a path out of the words",
            "/words/..%2F..%2F.data%2Fmaster.key",
        ),
        ("a unicode name", "/words/fr%F0%9F%98%80.json"),
    ] {
        v.push(case(
            "/words/{file}",
            what,
            Method::GET,
            path.to_owned(),
            Code("not_found"),
        ));
    }
    for (what, path) in [
        ("a dot-dot path", "/../../etc/passwd"),
        ("an encoded dot-dot path", "/%2e%2e/%2e%2e/etc/passwd"),
        (
            "an encoded backslash path",
            "/..%5C..%5Cserver%5CCargo.toml",
        ),
        ("a NUL in the path", "/slotpay.js%00.html"),
        ("the master key file", "/.data/master.key"),
        ("an unknown path", "/v1/nothing"),
    ] {
        v.push(case(
            "(www fallback)",
            what,
            Method::GET,
            path,
            Code("not_found"),
        ));
    }
    for &route in NO_DELETE {
        let what = "a method it does not have";
        v.push(
            case(route, what, Method::DELETE, route, Http)
                .session()
                .json("{}"),
        );
    }
    v
}

// ---------------------------------------------------------------- header injection

/// A whole HTTP/1.1 request as bytes, with `headers` (each ending in CR LF) as they are.
fn raw_request(method: &str, path: &str, headers: &str, body: &str) -> Vec<u8> {
    format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{headers}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A row sent as these bytes over a raw socket (its method and path are not used), refused
/// by the HTTP layer or by slotpay with a documented code.
fn raw_case(route: &'static str, what: &str, bytes: Vec<u8>) -> Case {
    let mut c = case(route, what, Method::POST, String::new(), Http);
    c.raw = Some(bytes);
    c
}

/// Requests the HTTP layer must refuse or cut: a chunked body over the limit, and a bare CR
/// or LF, a folded line or a NUL in `Idempotency-Key`, `Origin`, `Authorization` and
/// `Stripe-Signature`, or a space in the request line.
fn header_injection_cases(ids: &Ids) -> Vec<Case> {
    const JSON: &str = "Content-Type: application/json\r\n";
    let pay = ids.pay_path();
    let checkout = format!("/v1/checkouts/{}", ids.open);
    let mut v = vec![chunked_case(&pay)];
    for (what, key) in [
        ("a bare CR in Idempotency-Key", "k\rX-Injected: 1"),
        ("a bare LF in Idempotency-Key", "k\nX-Injected: 1"),
        ("a folded Idempotency-Key", "k\r\n X-Injected: 1"),
        ("a NUL in Idempotency-Key", "k\0x"),
    ] {
        let headers = format!("{JSON}Idempotency-Key: {key}\r\n");
        v.push(raw_case(
            PAY,
            what,
            raw_request("POST", &pay, &headers, "{}"),
        ));
    }
    for (what, origin) in [
        (
            "a bare CR in Origin",
            "https://salon.example\rAccess-Control-Allow-Origin: *",
        ),
        (
            "a bare LF in Origin",
            "https://evil.example\nSet-Cookie: x=1",
        ),
    ] {
        let headers = format!("Origin: {origin}\r\n");
        let bytes = raw_request("GET", &checkout, &headers, "");
        v.push(raw_case("/v1/checkouts/{token}", what, bytes));
    }
    let (route, auth) = (
        "/v1/admin/merchants",
        "Authorization: Bearer x\rX-Admin: 1\r\n",
    );
    let bytes = raw_request("GET", route, auth, "");
    v.push(raw_case(route, "a bare CR in Authorization", bytes));
    let signature = format!("{JSON}Stripe-Signature: t=1,\r\n v1=00\r\n");
    let bytes = raw_request("POST", &ids.hook_path(), &signature, "{}");
    v.push(raw_case(
        "/v1/webhooks/stripe/{merchant_id}",
        "a folded Stripe-Signature",
        bytes,
    ));
    let key = format!("{JSON}Idempotency-Key: k\r\n");
    let bytes = raw_request("POST", &format!("{pay} X"), &key, "{}");
    v.push(raw_case(PAY, "a space in the request line", bytes));
    v
}

/// The open checkout's payment with a chunked body of 100 KB and no declared length: cut
/// while it is read, as `payload_too_large`.
fn chunked_case(pay: &str) -> Case {
    let chunk = huge_json(100 * 1024);
    let chunked = format!(
        "POST {pay} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/json\r\nIdempotency-Key: k-1\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{chunk}\r\n0\r\n\r\n",
        chunk.len()
    );
    let mut c = raw_case(PAY, "100 KB chunked, no length", chunked.into_bytes());
    c.expect = Code("payload_too_large");
    c
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// What an answer came to.
struct Answer {
    status: u16,
    code: Option<String>,
    bare: bool,
    html: bool,
    /// An injected header came back in the answer's headers.
    reflected: bool,
}

/// Sends raw bytes and reads the answer (write errors are ignored: a server may answer and
/// close before reading everything).
async fn exchange(app: &TestApp, bytes: &[u8]) -> Result<Answer, String> {
    let addr = app.url.trim_start_matches("http://").to_owned();
    let mut s = tokio::net::TcpStream::connect(&addr)
        .await
        .map_err(|e| e.to_string())?;
    let _ = s.write_all(bytes).await;
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out)).await;
    support::keep_raw(&out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("no HTTP answer: {text:?}"))?;
    let head = text
        .split("\r\n\r\n")
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    let reflected =
        head.contains("x-injected") || head.contains("set-cookie: x=1") || head.contains("x-admin");
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("");
    let code = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["error"]["code"].as_str().map(str::to_owned));
    Ok(Answer {
        status,
        code,
        bare: body.trim().is_empty(),
        html: head.contains("content-type: text/html"),
        reflected,
    })
}

/// A huge body is declared, not sent: the server must refuse it from its `Content-Length`
/// (sending megabytes it will not read only races its closing of the connection).
fn declared_only(app: &TestApp, ids: &Ids, c: &Case, content_type: &str, len: usize) -> Vec<u8> {
    let mut head = format!(
        "{} {} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: {content_type}\r\nContent-Length: {len}\r\n",
        c.method, c.path
    );
    match c.auth {
        Auth::None => {}
        Auth::Admin => head.push_str(&format!("Authorization: Bearer {}\r\n", app.admin_token)),
        Auth::Session => head.push_str(&format!(
            "Cookie: slotpay_admin={}\r\nOrigin: {}\r\n",
            ids.cookie, app.url
        )),
    }
    for (name, value) in &c.headers {
        head.push_str(&format!("{name}: {}\r\n", String::from_utf8_lossy(value)));
    }
    head.push_str("\r\n");
    head.into_bytes()
}

/// Sends one row and reads its answer: over a raw socket when the row is raw bytes or its body
/// is too large to send, otherwise with reqwest.
async fn send(
    app: &TestApp,
    http: &reqwest::Client,
    ids: &Ids,
    c: &Case,
) -> Result<Answer, String> {
    if let Some(bytes) = &c.raw {
        return exchange(app, bytes).await;
    }
    let (content_type, len) = match &c.body {
        Body::None => ("", 0),
        Body::Json(t) => ("application/json", t.len()),
        Body::Form(t) => ("application/x-www-form-urlencoded", t.len()),
        Body::Raw(ct, b) => (*ct, b.len()),
    };
    if len > 256 * 1024 {
        return exchange(app, &declared_only(app, ids, c, content_type, len)).await;
    }
    let req = request(app, http, ids, c)?;
    let r = helpers::into_resp(req.send().await.map_err(|e| e.to_string())?).await;
    support::keep(&r);
    // An API route's answer is one its document lists: status, content type and body.
    let content_type = r
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    crate::contract::check(
        c.method.as_str(),
        c.route,
        r.status.as_u16(),
        content_type,
        &r.text,
    )
    .map_err(|e| format!("not as the API document says: {e}"))?;
    Ok(answer(&r))
}

/// The row as a reqwest request: its authentication, its headers (`SELF` stands for the
/// server's own origin), its body.
fn request(
    app: &TestApp,
    http: &reqwest::Client,
    ids: &Ids,
    c: &Case,
) -> Result<reqwest::RequestBuilder, String> {
    let mut req = http.request(c.method.clone(), format!("{}{}", app.url, c.path));
    match c.auth {
        Auth::None => {}
        Auth::Admin => req = req.bearer_auth(&app.admin_token),
        Auth::Session => {
            req = req.header("Cookie", format!("slotpay_admin={}", ids.cookie));
            if !c
                .headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case("origin"))
            {
                req = req.header("Origin", app.url.clone());
            }
        }
    }
    for (name, value) in &c.headers {
        let value = if value == b"SELF" {
            app.url.clone().into_bytes()
        } else {
            value.clone()
        };
        let v =
            reqwest::header::HeaderValue::from_bytes(&value).map_err(|e| format!("{name}: {e}"))?;
        req = req.header(name.as_str(), v);
    }
    Ok(match &c.body {
        Body::None => req,
        Body::Json(t) => req
            .header("Content-Type", "application/json")
            .body(t.clone()),
        Body::Form(t) => req
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(t.clone()),
        Body::Raw(ct, bytes) => {
            let r = req.body(bytes.clone());
            if ct.is_empty() {
                r
            } else {
                r.header("Content-Type", *ct)
            }
        }
    })
}

/// What a response came to: its JSON error's code, or an admin page's first `data-code`.
fn answer(r: &helpers::Resp) -> Answer {
    let code = r.json["error"]["code"]
        .as_str()
        .map(str::to_owned)
        .or_else(|| {
            // An admin page: the first data-code.
            r.text
                .split("data-code=\"")
                .nth(1)
                .and_then(|s| s.split('"').next())
                .map(str::to_owned)
        });
    let html = r
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let reflected = r.headers.contains_key("x-injected");
    Answer {
        status: r.status.as_u16(),
        code,
        bare: r.text.trim().is_empty(),
        html,
        reflected,
    }
}

/// Codes the admin pages add to core's for their own refusals.
const PAGE_CODES: &[&str] = &[
    "csrf_token_invalid",
    "forbidden_origin",
    "invalid_form",
    "sign_in_failed",
    "too_many_sign_ins",
];

fn documented_status(code: &str) -> Option<u16> {
    ErrorCode::ALL
        .iter()
        .find(|c| c.as_str() == code)
        .map(|c| c.http_status())
}

fn judge(c: &Case, a: &Answer) -> Result<String, String> {
    if !(400..500).contains(&a.status) {
        return Err(format!("answered {} {:?}", a.status, a.code));
    }
    if a.reflected {
        return Err("the injected header came back in the answer".into());
    }
    let label = format!("{} {}", a.status, a.code.as_deref().unwrap_or("(no body)"));
    let code_ok = |code: &str| -> bool {
        match documented_status(code) {
            Some(s) => {
                s == a.status
                    || matches!(c.expect, Expect::Page(_) | Expect::AnyPage)
                        && (400..500).contains(&s)
            }
            None => {
                PAGE_CODES.contains(&code) && matches!(c.expect, Expect::Page(_) | Expect::AnyPage)
            }
        }
    };
    match (c.expect, a.code.as_deref()) {
        (Expect::Http, None) if a.bare => Ok(format!("{} (HTTP layer, no body)", a.status)),
        (Expect::Http, Some(got)) if code_ok(got) => Ok(label),
        (Expect::Html, _) if a.html => Ok(format!("{} (page for people)", a.status)),
        (Expect::Code(want) | Expect::Page(want), Some(got)) if got == want && code_ok(got) => {
            Ok(label)
        }
        (Expect::AnyCode | Expect::AnyPage, Some(got)) if code_ok(got) => Ok(label),
        (_, got) => Err(format!(
            "answered {} {:?}, expected {:?}",
            a.status, got, c.expect
        )),
    }
}

/// The route templates the server declares: the API document's paths (the API routers
/// register a route only with its description) and the `.route("...")` of the pages.
fn declared_routes() -> BTreeSet<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/routes");
    let mut files = vec![dir.join("admin/mod.rs")];
    for name in [
        "public.rs",
        "admin_api.rs",
        "webhooks.rs",
        "ops.rs",
        "pages.rs",
    ] {
        files.push(dir.join(name));
    }
    let mut out: BTreeSet<String> = slotpay_server::routes::openapi::document()
        .paths
        .paths
        .into_keys()
        .collect();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        for part in text.split(".route(").skip(1) {
            if let Some(lit) = part.trim_start().strip_prefix('"') {
                if let Some(end) = lit.find('"') {
                    out.insert(lit[..end].to_owned());
                }
            }
        }
    }
    out
}

/// The merchant, service and checkouts (one open, one paid) the table points at, and an
/// admin session.
async fn setup(app: &TestApp) -> Ids {
    let m = support::merchant("bad-input", app).await;
    let service = app
        .post(
            &format!("/v1/admin/merchants/{}/services", m.id),
            json!({"name": "Cut", "price": {"amount": 4000, "currency": "eur"}}),
        )
        .await
        .expect(201);
    let open = app
        .checkout(
            &m.id,
            json!({"amount": 2500, "currency": "eur", "description": "Open"}),
        )
        .await;
    let paid = app
        .checkout(
            &m.id,
            json!({"amount": 3000, "currency": "eur", "description": "Paid"}),
        )
        .await;
    let pm = app.card("4242424242424242").await;
    app.pay(&paid, &pm, "k").await.expect(200);
    app.settle_webhooks().await;
    let (cookie, csrf) = admin_session(app).await;
    Ids {
        merchant: m.id,
        service: service.json["id"].as_str().expect("svc id").to_owned(),
        open,
        paid,
        csrf,
        cookie,
        webhook_secret: m.webhook_secret,
    }
}

/// An admin session: signed in with the token, its cookie and a page's CSRF token kept.
async fn admin_session(app: &TestApp) -> (String, String) {
    let http = support::client();
    let r = http
        .post(format!("{}/admin/sign-in", app.url))
        .header("Origin", app.url.clone())
        .form(&[
            ("method", "token"),
            ("token", app.admin_token.as_str()),
            ("next", "/admin/merchants"),
        ])
        .send()
        .await
        .expect("sign-in answers");
    let cookie = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            v.strip_prefix("slotpay_admin=")
                .map(|s| s.split(';').next().unwrap_or("").to_owned())
        })
        .expect("a session cookie");
    let page = http
        .get(format!("{}/admin/merchants", app.url))
        .header("Cookie", format!("slotpay_admin={cookie}"))
        .send()
        .await
        .expect("a page")
        .text()
        .await
        .expect("its text");
    let marker = "name=\"csrf_token\" value=\"";
    let at = page.find(marker).expect("a CSRF token on the page") + marker.len();
    let csrf = page[at..].split('"').next().unwrap_or("").to_owned();
    (cookie, csrf)
}

pub async fn run(run: Run) -> Findings {
    let mut f = Findings::start(
        "bad-input",
        "malformed, hostile and oversized requests at every route: 4xx with a documented code, no write",
    );
    let _ = run;
    let mut backends = vec![Backend::Sqlite];
    if std::env::var("SLOTPAY_TEST_POSTGRES_URL").is_ok() {
        backends.push(Backend::Postgres);
    }
    let declared = declared_routes();
    let mut total = 0;
    let mut tallies = Vec::new();
    for backend in backends {
        if let Some(sent) = run_on(&mut f, backend, &declared).await {
            total += sent;
            tallies.push(format!("{backend:?}"));
        }
    }
    f.tried(format!(
        "{total} requests in all ({})",
        tallies.join(" and ")
    ));
    f.headline = format!(
        "{total} hostile requests on {}: {} wrong answers, database unchanged: {}",
        tallies.join("+"),
        f.failures
            .iter()
            .filter(|x| !x.contains("database changed"))
            .count(),
        !f.failures.iter().any(|x| x.contains("database changed"))
    );
    f
}

/// The whole table against a fresh server on `backend`: every declared route covered, every
/// answer judged, the server still healthy and the database unchanged after. Returns how many
/// requests it sent, or `None` when the backend is not available.
async fn run_on(f: &mut Findings, backend: Backend, declared: &BTreeSet<String>) -> Option<usize> {
    let app = spawn_app(backend, Box::new(|_| {})).await?;
    support::app_secrets(&format!("bad-input {backend:?}"), &app);
    let ids = setup(&app).await;
    let table = cases(&ids);
    let covered: BTreeSet<&str> = table.iter().map(|c| c.route).collect();
    let missing: Vec<&String> = declared
        .iter()
        .filter(|r| !covered.contains(r.as_str()))
        .collect();
    f.check(missing.is_empty(), || {
        format!("routes without a case: {missing:?}")
    });
    let before = support::dump(&app.state.db).await;
    let http = support::client();
    let labels = send_all(f, backend, &app, &http, &ids, &table).await;
    // The server still answers, and nothing was written.
    let health = http.get(format!("{}/healthz", app.url)).send().await;
    f.check(health.is_ok_and(|h| h.status().is_success()), || {
        format!("{backend:?}: /healthz fails after the table")
    });
    let after = support::dump(&app.state.db).await;
    let diff = support::dump_diff(&before, &after);
    for d in &diff {
        f.fail(format!("{backend:?}: the database changed: {d}"));
    }
    let rows: usize = before.values().map(Vec::len).sum();
    f.found(format!(
        "{backend:?}: {} requests over {} routes ({} declared in server/src/routes/); answers: {}; \
         database: {} tables, {rows} rows, {} changed",
        table.len(),
        covered.len(),
        declared.len(),
        support::tally(labels),
        before.len(),
        diff.len()
    ));
    support::keep_database(&format!("bad-input-{backend:?}"), &app).await;
    app.teardown().await;
    Some(table.len())
}

/// Sends every row in order and judges its answer; a wrong one is a failure. Returns each
/// answer's label (`WRONG` for a wrong one).
async fn send_all(
    f: &mut Findings,
    backend: Backend,
    app: &TestApp,
    http: &reqwest::Client,
    ids: &Ids,
    table: &[Case],
) -> Vec<String> {
    let mut labels = Vec::new();
    for c in table {
        match send(app, http, ids, c).await.and_then(|a| judge(c, &a)) {
            Ok(label) => labels.push(label),
            Err(e) => {
                labels.push("WRONG".into());
                f.fail(format!(
                    "{backend:?} {} {} ({}): {e}",
                    c.method,
                    c.path.chars().take(90).collect::<String>(),
                    c.what
                ));
            }
        }
    }
    labels
}
