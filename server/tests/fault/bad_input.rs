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

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use slotpay_core::ErrorCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{self, spawn_app, Backend, TestApp};
use crate::support::{self, Findings, Run};

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

fn case(route: &'static str, what: &str, method: Method, path: String, expect: Expect) -> Case {
    Case {
        route,
        what: what.to_owned(),
        method,
        path,
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

/// A body of `n` bytes of valid JSON (a long string).
fn huge_json(n: usize) -> String {
    format!("{{\"name\": \"{}\"}}", "x".repeat(n))
}

fn cases(ids: &Ids) -> Vec<Case> {
    use Expect::*;
    let (m, s, open, paid) = (&ids.merchant, &ids.service, &ids.open, &ids.paid);
    let mut v: Vec<Case> = Vec::new();
    let get = Method::GET;
    let post = Method::POST;
    let unicode_token = "cs_ñ€😀".to_owned();
    let long_token = format!("cs_{}", "a".repeat(4000));

    // ---------------------------------------------------------------- public: the widget's
    for (what, token) in [
        (
            "unknown token",
            "cs_0000000000000000000000000000000000000000000000".to_owned(),
        ),
        ("not a token", "nope".into()),
        ("unicode token", unicode_token.clone()),
        ("4 KB token", long_token.clone()),
        ("encoded traversal", "..%2F..%2Fadmin".into()),
    ] {
        v.push(case(
            "/v1/checkouts/{token}",
            what,
            get.clone(),
            format!("/v1/checkouts/{token}"),
            Code("checkout_not_found"),
        ));
        v.push(case(
            "/v1/checkouts/{token}/refresh",
            what,
            post.clone(),
            format!("/v1/checkouts/{token}/refresh"),
            Code("checkout_not_found"),
        ));
        v.push(
            case("/v1/checkouts/{token}/pay", what, post.clone(), format!("/v1/checkouts/{token}/pay"), Code("checkout_not_found"))
                .header("Idempotency-Key", "k-1")
                .json(r#"{"payment_method": "pm_card_visa", "email": "lea@example.com", "save_card": false}"#),
        );
    }
    v.push(case(
        "/v1/checkouts/{token}/refresh",
        "an open checkout nobody paid",
        post.clone(),
        format!("/v1/checkouts/{open}/refresh"),
        Code("conflict"),
    ));
    let pay = format!("/v1/checkouts/{open}/pay");
    let good_pay =
        r#"{"payment_method": "pm_card_visa", "email": "lea@example.com", "save_card": false}"#;
    for body in MALFORMED {
        v.push(
            case(
                "/v1/checkouts/{token}/pay",
                &format!("malformed JSON {body}"),
                post.clone(),
                pay.clone(),
                Code("invalid_json"),
            )
            .header("Idempotency-Key", "k-1")
            .json(*body),
        );
    }
    for (what, body, code) in [
        (
            "wrong types",
            r#"{"payment_method": 42, "email": true, "save_card": "yes"}"#,
            "invalid_json",
        ),
        ("no fields", "{}", "invalid_json"),
        ("null", "null", "invalid_json"),
        ("an array", "[]", "invalid_json"),
        (
            "not a pm_ token",
            r#"{"payment_method": "card_4242", "email": "lea@example.com", "save_card": false}"#,
            "invalid_json",
        ),
        (
            "unicode in the token",
            r#"{"payment_method": "pm_ñ😀", "email": "lea@example.com", "save_card": false}"#,
            "invalid_json",
        ),
        (
            "a bad email",
            r#"{"payment_method": "pm_card_visa", "email": "lea@", "save_card": false}"#,
            "invalid_json",
        ),
        (
            "CR LF in the email",
            r#"{"payment_method": "pm_card_visa", "email": "lea@example.com\r\nBcc: x@evil.example", "save_card": false}"#,
            "invalid_json",
        ),
        (
            "an unknown field with a unicode key",
            r#"{"payment_method": "pm_card_visa", "email": "lea@example.com", "save_card": false, "ämount": 1}"#,
            "invalid_json",
        ),
        (
            "an amount sneaked in",
            r#"{"payment_method": "pm_card_visa", "email": "lea@example.com", "save_card": false, "amount": 1}"#,
            "invalid_json",
        ),
        ("1 MB of JSON", &huge_json(1 << 20), "payload_too_large"),
    ] {
        v.push(
            case(
                "/v1/checkouts/{token}/pay",
                what,
                post.clone(),
                pay.clone(),
                Code(code),
            )
            .header("Idempotency-Key", "k-1")
            .json(body),
        );
    }
    v.push(
        case(
            "/v1/checkouts/{token}/pay",
            "text/plain body",
            post.clone(),
            pay.clone(),
            Code("invalid_request"),
        )
        .header("Idempotency-Key", "k-1")
        .raw_body("text/plain", good_pay.as_bytes().to_vec()),
    );
    v.push(
        case(
            "/v1/checkouts/{token}/pay",
            "no content type",
            post.clone(),
            pay.clone(),
            Code("invalid_request"),
        )
        .header("Idempotency-Key", "k-1")
        .raw_body("", good_pay.as_bytes().to_vec()),
    );
    v.push(
        case(
            "/v1/checkouts/{token}/pay",
            "invalid UTF-8",
            post.clone(),
            pay.clone(),
            Code("invalid_json"),
        )
        .header("Idempotency-Key", "k-1")
        .raw_body(
            "application/json",
            b"{\"payment_method\": \"pm_\xff\xfe\"}".to_vec(),
        ),
    );
    for (what, key, code) in [
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
    ] {
        let mut c = case(
            "/v1/checkouts/{token}/pay",
            what,
            post.clone(),
            pay.clone(),
            Code(code),
        )
        .json(good_pay);
        if let Some(k) = key {
            c = c.header("Idempotency-Key", k);
        }
        v.push(c);
    }
    for (what, origin) in [
        ("a foreign Origin", "https://evil.example"),
        ("Origin null", "null"),
        ("a look-alike Origin", "https://salon.example.evil.example"),
        ("an Origin with a path", "https://salon.example/pay"),
    ] {
        v.push(
            case(
                "/v1/checkouts/{token}/pay",
                what,
                post.clone(),
                pay.clone(),
                Code("forbidden_origin"),
            )
            .header("Idempotency-Key", "k-1")
            .header("Origin", origin)
            .json(good_pay),
        );
        v.push(
            case(
                "/v1/checkouts/{token}",
                what,
                get.clone(),
                format!("/v1/checkouts/{open}"),
                Code("forbidden_origin"),
            )
            .header("Origin", origin),
        );
    }
    v.push(
        case(
            "/v1/checkouts/{token}",
            "a UTF-8 Origin",
            get.clone(),
            format!("/v1/checkouts/{open}"),
            Code("forbidden_origin"),
        )
        .header("Origin", "https://sålon.example".as_bytes()),
    );
    let from_service = format!("/v1/merchants/{m}/checkouts");
    for body in MALFORMED {
        v.push(
            case(
                "/v1/merchants/{merchant_id}/checkouts",
                &format!("malformed JSON {body}"),
                post.clone(),
                from_service.clone(),
                Code("invalid_json"),
            )
            .json(*body),
        );
    }
    for (what, body, code) in [
        (
            "an unknown service",
            r#"{"service_id": "svc_000000000000000000000000"}"#,
            "not_found",
        ),
        (
            "a service id with unicode",
            r#"{"service_id": "svc_ñ😀"}"#,
            "not_found",
        ),
        (
            "a number for the service",
            r#"{"service_id": 7}"#,
            "invalid_json",
        ),
        (
            "an amount of one's own",
            &format!(r#"{{"service_id": "{s}", "amount": 1}}"#),
            "invalid_json",
        ),
        ("1 MB", &huge_json(1 << 20), "payload_too_large"),
    ] {
        v.push(
            case(
                "/v1/merchants/{merchant_id}/checkouts",
                what,
                post.clone(),
                from_service.clone(),
                Code(code),
            )
            .json(body),
        );
    }
    for (what, merchant) in [
        ("an unknown merchant", "mer_000000000000000000000000"),
        ("a unicode merchant", "mer_ñ😀"),
    ] {
        v.push(
            case(
                "/v1/merchants/{merchant_id}/checkouts",
                what,
                post.clone(),
                format!("/v1/merchants/{merchant}/checkouts"),
                Code("not_found"),
            )
            .json(format!(r#"{{"service_id": "{s}"}}"#)),
        );
    }
    v.push(
        case(
            "/v1/merchants/{merchant_id}/checkouts",
            "a foreign Origin",
            post.clone(),
            from_service.clone(),
            Code("forbidden_origin"),
        )
        .header("Origin", "https://evil.example")
        .json(format!(r#"{{"service_id": "{s}"}}"#)),
    );

    // ---------------------------------------------------------------- Stripe's webhooks
    let hook = format!("/v1/webhooks/stripe/{m}");
    let event = r#"{"id": "evt_fault_1", "object": "event", "type": "payment_intent.succeeded", "created": 1, "data": {"object": {"id": "pi_x"}}}"#;
    let now = slotpay_server::db::now();
    let sign = |body: &str, t: i64, secret: &str| {
        slotpay_core::webhook_signature::signature_header(t, &[secret], body.as_bytes())
    };
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
        let mut c = case(
            "/v1/webhooks/stripe/{merchant_id}",
            what,
            post.clone(),
            hook.clone(),
            Code("invalid_signature"),
        )
        .json(event);
        if let Some(sig) = signature {
            c = c.header("Stripe-Signature", sig.into_bytes());
        }
        v.push(c);
    }
    for (what, body) in [
        ("signed malformed JSON", "{\"id\": "),
        ("a signed array", "[1, 2]"),
        (
            "a signed event without an id",
            "{\"type\": \"charge.succeeded\"}",
        ),
    ] {
        v.push(
            case(
                "/v1/webhooks/stripe/{merchant_id}",
                what,
                post.clone(),
                hook.clone(),
                Code("invalid_json"),
            )
            .header(
                "Stripe-Signature",
                sign(body, now, &ids.webhook_secret).into_bytes(),
            )
            .json(body),
        );
    }
    v.push(
        case(
            "/v1/webhooks/stripe/{merchant_id}",
            "2 MB",
            post.clone(),
            hook.clone(),
            Code("payload_too_large"),
        )
        .json(huge_json(2 << 20)),
    );
    v.push(
        case(
            "/v1/webhooks/stripe/{merchant_id}",
            "an unknown merchant",
            post.clone(),
            "/v1/webhooks/stripe/mer_000000000000000000000000".into(),
            Code("invalid_signature"),
        )
        .header(
            "Stripe-Signature",
            sign(event, now, &ids.webhook_secret).into_bytes(),
        )
        .json(event),
    );

    // ---------------------------------------------------------------- the platform API
    let bad_ids = ["mer_000000000000000000000000", "mer_ñ😀", "x"];
    let admin_routes: &[(&'static str, Method, &str, Option<&str>)] = &[
        (
            "/v1/admin/merchants/{merchant_id}",
            Method::GET,
            "/v1/admin/merchants/{}",
            None,
        ),
        (
            "/v1/admin/merchants/{merchant_id}",
            Method::PATCH,
            "/v1/admin/merchants/{}",
            Some(r#"{"name": "X"}"#),
        ),
        (
            "/v1/admin/merchants/{merchant_id}",
            Method::DELETE,
            "/v1/admin/merchants/{}",
            None,
        ),
        (
            "/v1/admin/merchants/{merchant_id}/integration",
            Method::GET,
            "/v1/admin/merchants/{}/integration",
            None,
        ),
        (
            "/v1/admin/merchants/{merchant_id}/integration",
            Method::DELETE,
            "/v1/admin/merchants/{}/integration",
            None,
        ),
        (
            "/v1/admin/merchants/{merchant_id}/integration/verify",
            Method::POST,
            "/v1/admin/merchants/{}/integration/verify",
            None,
        ),
        (
            "/v1/admin/merchants/{merchant_id}/integration/activate",
            Method::POST,
            "/v1/admin/merchants/{}/integration/activate",
            None,
        ),
        (
            "/v1/admin/merchants/{merchant_id}/integration/deactivate",
            Method::POST,
            "/v1/admin/merchants/{}/integration/deactivate",
            None,
        ),
        (
            "/v1/admin/merchants/{merchant_id}/services",
            Method::GET,
            "/v1/admin/merchants/{}/services",
            None,
        ),
        (
            "/v1/admin/merchants/{merchant_id}/checkouts",
            Method::GET,
            "/v1/admin/merchants/{}/checkouts",
            None,
        ),
        (
            "/v1/admin/merchants/{merchant_id}/payments",
            Method::GET,
            "/v1/admin/merchants/{}/payments",
            None,
        ),
    ];
    for (route, method, pattern, body) in admin_routes {
        for id in bad_ids {
            let mut c = case(
                route,
                &format!("merchant {id}"),
                method.clone(),
                pattern.replace("{}", id),
                Code("not_found"),
            )
            .admin();
            if let Some(b) = body {
                c = c.json(*b);
            }
            v.push(c);
        }
        // Without the token, with a wrong one, with unicode in it.
        for (what, value) in [
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
        ] {
            let mut c = case(
                route,
                what,
                method.clone(),
                pattern.replace("{}", m),
                Code("unauthorized"),
            );
            if let Some(h) = value {
                c = c.header("Authorization", h);
            }
            v.push(c);
        }
    }
    let merchants = "/v1/admin/merchants".to_owned();
    let merchant = format!("/v1/admin/merchants/{m}");
    for (route, method, path) in [
        ("/v1/admin/merchants", Method::POST, merchants.clone()),
        (
            "/v1/admin/merchants/{merchant_id}",
            Method::PATCH,
            merchant.clone(),
        ),
    ] {
        for body in MALFORMED {
            v.push(
                case(
                    route,
                    &format!("malformed JSON {body}"),
                    method.clone(),
                    path.clone(),
                    Code("invalid_json"),
                )
                .admin()
                .json(*body),
            );
        }
        for (what, body, expect) in [
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
            ("1 MB", &huge_json(1 << 20), Code("payload_too_large")),
        ] {
            v.push(
                case(route, what, method.clone(), path.clone(), expect)
                    .admin()
                    .json(body),
            );
        }
    }
    v.push(
        case(
            "/v1/admin/merchants",
            "an empty name",
            post.clone(),
            merchants.clone(),
            AnyCode,
        )
        .admin()
        .json(r#"{"name": "   ", "allowed_origins": []}"#),
    );
    v.push(
        case(
            "/v1/admin/merchants",
            "a 10,000-character name",
            post.clone(),
            merchants.clone(),
            AnyCode,
        )
        .admin()
        .json(format!(r#"{{"name": "{}"}}"#, "é".repeat(10_000))),
    );
    v.push(case(
        "/v1/admin/merchants",
        "the list without a token",
        get.clone(),
        "/v1/admin/merchants".into(),
        Code("unauthorized"),
    ));
    let integration = format!("/v1/admin/merchants/{m}/integration");
    let pk = "pk_test_51FaultHarnessPublishableKey0000000000";
    let sk = "sk_test_51FaultHarnessSecretKey00000000000000";
    for (what, body, code) in [
        (
            "a secret key as publishable",
            format!(r#"{{"publishable_key": "{sk}", "secret_key": "{sk}", "mode": "sandbox"}}"#),
            "secret_key_in_publishable_field",
        ),
        (
            "a publishable key as secret",
            format!(r#"{{"publishable_key": "{pk}", "secret_key": "{pk}", "mode": "sandbox"}}"#),
            "publishable_key_in_secret_field",
        ),
        (
            "test keys in live mode",
            format!(r#"{{"publishable_key": "{pk}", "secret_key": "{sk}", "mode": "live"}}"#),
            "key_mode_mismatch",
        ),
        (
            "a live and a test key",
            format!(
                r#"{{"publishable_key": "pk_live_51FaultHarness0000000000000000000", "secret_key": "{sk}", "mode": "sandbox"}}"#
            ),
            "mixed_key_modes",
        ),
        (
            "a space inside a key",
            format!(
                r#"{{"publishable_key": "{pk}", "secret_key": "sk_test_51Fault Harness000000000000000", "mode": "sandbox"}}"#
            ),
            "key_contains_whitespace",
        ),
        (
            "CR LF inside a key",
            format!(
                r#"{{"publishable_key": "{pk}", "secret_key": "sk_test_51Fault\r\nHarness000000000000000", "mode": "sandbox"}}"#
            ),
            "key_contains_whitespace",
        ),
        (
            "unicode in a key",
            format!(
                r#"{{"publishable_key": "pk_test_51Fäült😀000000000000000000", "secret_key": "{sk}", "mode": "sandbox"}}"#
            ),
            "invalid_publishable_key",
        ),
        (
            "an unknown prefix",
            format!(
                r#"{{"publishable_key": "{pk}", "secret_key": "xk_test_51FaultHarness0000000000000", "mode": "sandbox"}}"#
            ),
            "unknown_key_prefix",
        ),
        (
            "a space in the signing secret",
            format!(
                r#"{{"publishable_key": "{pk}", "secret_key": "{sk}", "webhook_secret": "whsec_ bad", "mode": "sandbox"}}"#
            ),
            "key_contains_whitespace",
        ),
        (
            "unicode in the signing secret",
            format!(
                r#"{{"publishable_key": "{pk}", "secret_key": "{sk}", "webhook_secret": "whsec_ñ😀", "mode": "sandbox"}}"#
            ),
            "invalid_webhook_secret",
        ),
        (
            "an unknown mode",
            format!(r#"{{"publishable_key": "{pk}", "secret_key": "{sk}", "mode": "production"}}"#),
            "invalid_request",
        ),
        (
            "a number for a key",
            format!(r#"{{"publishable_key": 42, "secret_key": "{sk}", "mode": "sandbox"}}"#),
            "invalid_json",
        ),
        (
            "an unknown card brand",
            format!(
                r#"{{"publishable_key": "{pk}", "secret_key": "{sk}", "mode": "sandbox", "card_brands": ["visa", "💳"]}}"#
            ),
            "invalid_request",
        ),
    ] {
        v.push(
            case(
                "/v1/admin/merchants/{merchant_id}/integration",
                what,
                Method::PUT,
                integration.clone(),
                Code(code),
            )
            .admin()
            .json(body.clone()),
        );
        v.push(
            case(
                "/v1/admin/merchants/{merchant_id}/integration",
                what,
                Method::POST,
                integration.clone(),
                AnyCode,
            )
            .admin()
            .json(body),
        );
    }
    for body in MALFORMED.iter().take(3) {
        v.push(
            case(
                "/v1/admin/merchants/{merchant_id}/integration",
                &format!("malformed JSON {body}"),
                Method::PUT,
                integration.clone(),
                Code("invalid_json"),
            )
            .admin()
            .json(*body),
        );
    }
    let services = format!("/v1/admin/merchants/{m}/services");
    let service = format!("/v1/admin/merchants/{m}/services/{s}");
    let bad_prices: &[(&str, &str, Expect)] = &[
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
        ("1 MB", "", Code("payload_too_large")),
    ];
    for (route, method, path) in [
        (
            "/v1/admin/merchants/{merchant_id}/services",
            Method::POST,
            services.clone(),
        ),
        (
            "/v1/admin/merchants/{merchant_id}/services/{service_id}",
            Method::PATCH,
            service.clone(),
        ),
    ] {
        for (what, body, expect) in bad_prices {
            let body = if body.is_empty() {
                huge_json(1 << 20)
            } else {
                body.to_string()
            };
            v.push(
                case(route, what, method.clone(), path.clone(), *expect)
                    .admin()
                    .json(body),
            );
        }
        for body in MALFORMED.iter().take(3) {
            v.push(
                case(
                    route,
                    &format!("malformed JSON {body}"),
                    method.clone(),
                    path.clone(),
                    Code("invalid_json"),
                )
                .admin()
                .json(*body),
            );
        }
    }
    for (method, what) in [
        (Method::GET, "unknown"),
        (Method::DELETE, "unknown"),
        (Method::PATCH, "unknown"),
    ] {
        for id in ["svc_000000000000000000000000", "svc_ñ😀"] {
            v.push(
                case(
                    "/v1/admin/merchants/{merchant_id}/services/{service_id}",
                    what,
                    method.clone(),
                    format!("/v1/admin/merchants/{m}/services/{id}"),
                    Code("not_found"),
                )
                .admin()
                .json(r#"{"name": "X"}"#),
            );
        }
    }
    let checkouts = format!("/v1/admin/merchants/{m}/checkouts");
    for (what, body, expect) in [
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
        ("1 MB", &huge_json(1 << 20), Code("payload_too_large")),
    ] {
        v.push(
            case(
                "/v1/admin/merchants/{merchant_id}/checkouts",
                what,
                post.clone(),
                checkouts.clone(),
                expect,
            )
            .admin()
            .json(body),
        );
    }
    for body in MALFORMED {
        v.push(
            case(
                "/v1/admin/merchants/{merchant_id}/checkouts",
                &format!("malformed JSON {body}"),
                post.clone(),
                checkouts.clone(),
                Code("invalid_json"),
            )
            .admin()
            .json(*body),
        );
    }
    for q in [
        "limit=-1",
        "limit=abc",
        "status=bogus",
        "from=yesterday",
        "link=maybe",
        "limit=99999999999999999999",
    ] {
        v.push(
            case(
                "/v1/admin/merchants/{merchant_id}/checkouts",
                &format!("query {q}"),
                get.clone(),
                format!("{checkouts}?{q}"),
                Code("invalid_request"),
            )
            .admin(),
        );
    }
    for q in ["format=xml", "from=notadate", "to=2026-13-45", "status=%00"] {
        v.push(
            case(
                "/v1/admin/merchants/{merchant_id}/payments",
                &format!("query {q}"),
                get.clone(),
                format!("/v1/admin/merchants/{m}/payments?{q}"),
                Code("invalid_request"),
            )
            .admin(),
        );
    }
    let tokens = [
        (
            "an unknown checkout",
            "cs_0000000000000000000000000000000000000000000000".to_owned(),
        ),
        ("a unicode checkout", unicode_token.clone()),
    ];
    for (route, method, suffix, body) in [
        ("/v1/admin/checkouts/{token}", Method::GET, "", None),
        (
            "/v1/admin/checkouts/{token}/refunds",
            Method::POST,
            "/refunds",
            Some("{}"),
        ),
        (
            "/v1/admin/checkouts/{token}/capture",
            Method::POST,
            "/capture",
            Some("{}"),
        ),
        (
            "/v1/admin/checkouts/{token}/cancel",
            Method::POST,
            "/cancel",
            None,
        ),
        (
            "/v1/admin/checkouts/{token}/resend",
            Method::POST,
            "/resend",
            Some("{}"),
        ),
        (
            "/v1/admin/checkouts/{token}/cancellation-fee",
            Method::POST,
            "/cancellation-fee",
            Some(r#"{"amount": 500}"#),
        ),
    ] {
        for (what, t) in &tokens {
            let mut c = case(
                route,
                what,
                method.clone(),
                format!("/v1/admin/checkouts/{t}{suffix}"),
                AnyCode,
            )
            .admin()
            .header("Idempotency-Key", "fee-1");
            if let Some(b) = body {
                c = c.json(b);
            }
            v.push(c);
        }
        v.push(case(
            route,
            "no token",
            method.clone(),
            format!("/v1/admin/checkouts/{open}{suffix}"),
            Code("unauthorized"),
        ));
    }
    let refunds = format!("/v1/admin/checkouts/{paid}/refunds");
    for (what, body, key, expect) in [
        (
            "a negative refund",
            r#"{"amount": -100}"#,
            Some("r-x"),
            Code("invalid_amount"),
        ),
        (
            "a zero refund",
            r#"{"amount": 0}"#,
            Some("r-x"),
            Code("invalid_amount"),
        ),
        (
            "more than was paid",
            r#"{"amount": 999999}"#,
            Some("r-x"),
            Code("refund_exceeds_remaining"),
        ),
        (
            "an overflowing refund",
            r#"{"amount": 99999999999999999999999}"#,
            Some("r-x"),
            Code("invalid_json"),
        ),
        (
            "a string amount",
            r#"{"amount": "10"}"#,
            Some("r-x"),
            Code("invalid_json"),
        ),
        (
            "a unicode key",
            r#"{"ämount": 10}"#,
            Some("r-x"),
            Code("invalid_json"),
        ),
        (
            "malformed JSON",
            "{\"amount\": ",
            Some("r-x"),
            Code("invalid_json"),
        ),
        (
            "no Idempotency-Key",
            r#"{"amount": 100}"#,
            None,
            Code("missing_idempotency_key"),
        ),
        (
            "a 300-character key",
            r#"{"amount": 100}"#,
            Some(&*"k".repeat(300)),
            Code("invalid_request"),
        ),
    ] {
        let mut c = case(
            "/v1/admin/checkouts/{token}/refunds",
            what,
            post.clone(),
            refunds.clone(),
            expect,
        )
        .admin()
        .json(body);
        if let Some(k) = key {
            c = c.header("Idempotency-Key", k.as_bytes().to_vec());
        }
        v.push(c);
    }
    v.push(
        case(
            "/v1/admin/checkouts/{token}/refunds",
            "a refund of an unpaid checkout",
            post.clone(),
            format!("/v1/admin/checkouts/{open}/refunds"),
            Code("conflict"),
        )
        .admin()
        .header("Idempotency-Key", "r-y")
        .json("{}"),
    );
    for (what, body, expect) in [
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
    ] {
        v.push(
            case(
                "/v1/admin/checkouts/{token}/capture",
                what,
                post.clone(),
                format!("/v1/admin/checkouts/{paid}/capture"),
                expect,
            )
            .admin()
            .json(body),
        );
    }
    v.push(
        case(
            "/v1/admin/checkouts/{token}/cancel",
            "a cancel of a paid checkout",
            post.clone(),
            format!("/v1/admin/checkouts/{paid}/cancel"),
            Code("conflict"),
        )
        .admin(),
    );
    for (what, body, expect) in [
        ("a negative expiry", r#"{"expires_in": -1}"#, AnyCode),
        (
            "a string expiry",
            r#"{"expires_in": "soon"}"#,
            Code("invalid_json"),
        ),
        ("a resend of a paid checkout", "{}", AnyCode),
    ] {
        v.push(
            case(
                "/v1/admin/checkouts/{token}/resend",
                what,
                post.clone(),
                format!("/v1/admin/checkouts/{paid}/resend"),
                expect,
            )
            .admin()
            .json(body),
        );
    }
    for (what, body, key, expect) in [
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
    ] {
        let mut c = case(
            "/v1/admin/checkouts/{token}/cancellation-fee",
            what,
            post.clone(),
            format!("/v1/admin/checkouts/{paid}/cancellation-fee"),
            expect,
        )
        .admin()
        .json(body);
        if let Some(k) = key {
            c = c.header("Idempotency-Key", k);
        }
        v.push(c);
    }

    // ---------------------------------------------------------------- the admin pages
    let page_posts: &[(&'static str, String)] = &[
        ("/admin/sign-out", "/admin/sign-out".into()),
        ("/admin/merchants", "/admin/merchants".into()),
        (
            "/admin/merchants/{merchant_id}",
            format!("/admin/merchants/{m}"),
        ),
        (
            "/admin/merchants/{merchant_id}/delete",
            format!("/admin/merchants/{m}/delete"),
        ),
        (
            "/admin/merchants/{merchant_id}/integrations",
            format!("/admin/merchants/{m}/integrations"),
        ),
        (
            "/admin/merchants/{merchant_id}/integration",
            format!("/admin/merchants/{m}/integration"),
        ),
        (
            "/admin/merchants/{merchant_id}/integration/delete",
            format!("/admin/merchants/{m}/integration/delete"),
        ),
        (
            "/admin/merchants/{merchant_id}/integration/verify",
            format!("/admin/merchants/{m}/integration/verify"),
        ),
        (
            "/admin/merchants/{merchant_id}/integration/activate",
            format!("/admin/merchants/{m}/integration/activate"),
        ),
        (
            "/admin/merchants/{merchant_id}/integration/deactivate",
            format!("/admin/merchants/{m}/integration/deactivate"),
        ),
        (
            "/admin/merchants/{merchant_id}/services",
            format!("/admin/merchants/{m}/services"),
        ),
        (
            "/admin/merchants/{merchant_id}/services/{service_id}",
            format!("/admin/merchants/{m}/services/{s}"),
        ),
        (
            "/admin/merchants/{merchant_id}/services/{service_id}/delete",
            format!("/admin/merchants/{m}/services/{s}/delete"),
        ),
        (
            "/admin/merchants/{merchant_id}/links",
            format!("/admin/merchants/{m}/links"),
        ),
        (
            "/admin/checkouts/{token}/refund",
            format!("/admin/checkouts/{paid}/refund"),
        ),
        (
            "/admin/checkouts/{token}/capture",
            format!("/admin/checkouts/{paid}/capture"),
        ),
        (
            "/admin/checkouts/{token}/cancel",
            format!("/admin/checkouts/{paid}/cancel"),
        ),
        (
            "/admin/checkouts/{token}/resend",
            format!("/admin/checkouts/{paid}/resend"),
        ),
        (
            "/admin/checkouts/{token}/cancellation-fee",
            format!("/admin/checkouts/{paid}/cancellation-fee"),
        ),
    ];
    let csrf = &ids.csrf;
    for (route, path) in page_posts {
        v.push(
            case(
                route,
                "no CSRF token",
                post.clone(),
                path.clone(),
                Page("csrf_token_invalid"),
            )
            .session()
            .form("name=X&amount=100"),
        );
        v.push(
            case(
                route,
                "a wrong CSRF token",
                post.clone(),
                path.clone(),
                Page("csrf_token_invalid"),
            )
            .session()
            .form("csrf_token=forged&name=X"),
        );
        v.push(
            case(
                route,
                "a CSRF token with CR LF",
                post.clone(),
                path.clone(),
                Page("csrf_token_invalid"),
            )
            .session()
            .form(format!("csrf_token={csrf}%0D%0AX-Injected%3A%201")),
        );
        v.push(
            case(
                route,
                "a foreign Origin",
                post.clone(),
                path.clone(),
                Page("forbidden_origin"),
            )
            .session()
            .header("Origin", "https://evil.example")
            .form(format!("csrf_token={csrf}")),
        );
        v.push(
            case(route, "a 70 KB form", post.clone(), path.clone(), AnyPage)
                .session()
                .form(format!("csrf_token={csrf}&name={}", "x".repeat(70_000))),
        );
    }
    // The forms of the pages, each with values that cannot be saved (the page shows them
    // again with their codes, or the action is refused); CR LF and unicode throughout.
    let hostile = "Salon%0D%0ASet-Cookie%3A%20x%3D1%20%F0%9F%98%80";
    for (route, path, fields) in [
        ("/admin/merchants", "/admin/merchants".to_owned(), format!("name={hostile}&allowed_origins=javascript%3Aalert(1)&locale=fr")),
        ("/admin/merchants/{merchant_id}", format!("/admin/merchants/{m}"), format!("name={hostile}&allowed_origins=https%3A%2F%2Fa.example%0D%0Ahttps%3A%2F%2Fb.example%2Fpath&locale=fr")),
        ("/admin/merchants/{merchant_id}/integrations", format!("/admin/merchants/{m}/integrations"), format!("name={hostile}&publishable_key=sk_test_x%0D%0A&secret_key=pk_test_%C3%A9&mode=live")),
        ("/admin/merchants/{merchant_id}/integration", format!("/admin/merchants/{m}/integration"), format!("name={hostile}&publishable_key=pk_live_%F0%9F%98%80&secret_key=sk_test_a%20b&mode=sandbox")),
        ("/admin/merchants/{merchant_id}/services", format!("/admin/merchants/{m}/services"), format!("name={hostile}&price=-12.345&currency=XYZ&prepayment=percent&percent=101")),
        ("/admin/merchants/{merchant_id}/services/{service_id}", format!("/admin/merchants/{m}/services/{s}"), format!("name={hostile}&price=99999999999999999999&currency=EUR&prepayment=fixed&deposit=-1")),
        ("/admin/merchants/{merchant_id}/links", format!("/admin/merchants/{m}/links"), format!("description={hostile}&amount=0.001&currency=%E2%82%AC&expires_in_days=-7&customer_email=a%40b%0D%0ABcc")),
        ("/admin/checkouts/{token}/refund", format!("/admin/checkouts/{paid}/refund"), "amount=-5".to_owned()),
        ("/admin/checkouts/{token}/refund", format!("/admin/checkouts/{paid}/refund"), "amount=99999999999999999999999".to_owned()),
        ("/admin/checkouts/{token}/capture", format!("/admin/checkouts/{paid}/capture"), "amount=1".to_owned()),
        ("/admin/checkouts/{token}/cancellation-fee", format!("/admin/checkouts/{paid}/cancellation-fee"), "amount=%F0%9F%98%80".to_owned()),
    ] {
        v.push(case(route, &format!("hostile fields {fields}"), post.clone(), path, AnyPage).session().form(format!("csrf_token={csrf}&{fields}")));
    }
    v.push(
        case(
            "/admin/sign-in",
            "a wrong token",
            post.clone(),
            "/admin/sign-in".into(),
            AnyPage,
        )
        .form("method=token&token=not-the-token%0D%0A&next=%2Fadmin")
        .header("Origin", b"SELF".to_vec()),
    );
    v.push(
        case(
            "/admin/sign-in",
            "an open redirect",
            post.clone(),
            "/admin/sign-in".into(),
            AnyPage,
        )
        .form("method=token&token=%F0%9F%98%80&next=https%3A%2F%2Fevil.example")
        .header("Origin", b"SELF".to_vec()),
    );
    v.push(
        case(
            "/admin/sign-in",
            "a foreign Origin",
            post.clone(),
            "/admin/sign-in".into(),
            Page("forbidden_origin"),
        )
        .form("method=token&token=x")
        .header("Origin", "https://evil.example"),
    );
    let page_gets: &[(&'static str, String)] = &[
        (
            "/admin/merchants/{merchant_id}",
            "/admin/merchants/{}".into(),
        ),
        (
            "/admin/merchants/{merchant_id}/edit",
            "/admin/merchants/{}/edit".into(),
        ),
        (
            "/admin/merchants/{merchant_id}/delete",
            "/admin/merchants/{}/delete".into(),
        ),
        (
            "/admin/merchants/{merchant_id}/integrations",
            "/admin/merchants/{}/integrations".into(),
        ),
        (
            "/admin/merchants/{merchant_id}/integrations/new",
            "/admin/merchants/{}/integrations/new".into(),
        ),
        (
            "/admin/merchants/{merchant_id}/integration",
            "/admin/merchants/{}/integration".into(),
        ),
        (
            "/admin/merchants/{merchant_id}/integration/edit",
            "/admin/merchants/{}/integration/edit".into(),
        ),
        (
            "/admin/merchants/{merchant_id}/integration/delete",
            "/admin/merchants/{}/integration/delete".into(),
        ),
        (
            "/admin/merchants/{merchant_id}/services",
            "/admin/merchants/{}/services".into(),
        ),
        (
            "/admin/merchants/{merchant_id}/services/new",
            "/admin/merchants/{}/services/new".into(),
        ),
        (
            "/admin/merchants/{merchant_id}/links",
            "/admin/merchants/{}/links".into(),
        ),
        (
            "/admin/merchants/{merchant_id}/links/new",
            "/admin/merchants/{}/links/new".into(),
        ),
        (
            "/admin/merchants/{merchant_id}/payments",
            "/admin/merchants/{}/payments".into(),
        ),
        (
            "/admin/merchants/{merchant_id}/payments.csv",
            "/admin/merchants/{}/payments.csv".into(),
        ),
    ];
    for (route, pattern) in page_gets {
        for id in ["mer_000000000000000000000000", "mer_ñ😀"] {
            v.push(
                case(
                    route,
                    &format!("merchant {id}"),
                    get.clone(),
                    pattern.replace("{}", id),
                    Page("not_found"),
                )
                .session(),
            );
        }
    }
    for (route, path) in [
        (
            "/admin/merchants/{merchant_id}/services/{service_id}/edit",
            format!("/admin/merchants/{m}/services/svc_ñ😀/edit"),
        ),
        (
            "/admin/merchants/{merchant_id}/services/{service_id}/delete",
            format!("/admin/merchants/{m}/services/svc_000000000000000000000000/delete"),
        ),
        (
            "/admin/checkouts/{token}",
            format!("/admin/checkouts/{unicode_token}"),
        ),
    ] {
        let expect = if route.starts_with("/admin/checkouts") {
            Page("checkout_not_found")
        } else {
            Page("not_found")
        };
        v.push(case(route, "an unknown id", get.clone(), path, expect).session());
    }
    for q in ["from=notadate", "status=%F0%9F%98%80"] {
        v.push(
            case(
                "/admin/merchants/{merchant_id}/payments",
                &format!("query {q}"),
                get.clone(),
                format!("/admin/merchants/{m}/payments?{q}"),
                AnyPage,
            )
            .session(),
        );
    }

    // ---------------------------------------------------------------- pages, assets, ops
    for (what, token) in [
        (
            "an unknown token",
            "cs_0000000000000000000000000000000000000000000000",
        ),
        ("a unicode token", "cs_ñ😀"),
        ("a script", "<script>alert(1)</script>"),
    ] {
        v.push(case(
            "/pay/{token}",
            what,
            get.clone(),
            format!("/pay/{}", urlencode(token)),
            Html,
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
            get.clone(),
            path.into(),
            Code("not_found"),
        ));
    }
    for (route, path) in [
        ("/healthz", "/healthz"),
        ("/metrics", "/metrics"),
        ("/admin", "/admin"),
        ("/admin/", "/admin/"),
        ("/admin/merchants/new", "/admin/merchants/new"),
        ("/assets/slotpay-admin.css", "/assets/slotpay-admin.css"),
        ("/assets/slotpay-admin.js", "/assets/slotpay-admin.js"),
        ("/assets/slotpay-page.css", "/assets/slotpay-page.css"),
    ] {
        v.push(
            case(
                route,
                "a method it does not have",
                Method::DELETE,
                path.into(),
                Http,
            )
            .session()
            .json("{}"),
        );
    }

    // ---------------------------------------------------------------- header injection
    let raw = |method: &str, path: &str, headers: &str, body: &str| -> Vec<u8> {
        format!(
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{headers}Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    };
    // A body without a declared length, over the limit: cut while it is read.
    let chunk = huge_json(100 * 1024);
    let chunked = format!(
        "POST {pay} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/json\r\nIdempotency-Key: k-1\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{chunk}\r\n0\r\n\r\n",
        chunk.len()
    );
    let mut c = case(
        "/v1/checkouts/{token}/pay",
        "100 KB chunked, no length",
        post.clone(),
        String::new(),
        Code("payload_too_large"),
    );
    c.raw = Some(chunked.into_bytes());
    v.push(c);
    for (route, what, bytes) in [
        (
            "/v1/checkouts/{token}/pay",
            "a bare CR in Idempotency-Key",
            raw(
                "POST",
                &pay,
                "Content-Type: application/json\r\nIdempotency-Key: k\rX-Injected: 1\r\n",
                "{}",
            ),
        ),
        (
            "/v1/checkouts/{token}/pay",
            "a bare LF in Idempotency-Key",
            raw(
                "POST",
                &pay,
                "Content-Type: application/json\r\nIdempotency-Key: k\nX-Injected: 1\r\n",
                "{}",
            ),
        ),
        (
            "/v1/checkouts/{token}/pay",
            "a folded Idempotency-Key",
            raw(
                "POST",
                &pay,
                "Content-Type: application/json\r\nIdempotency-Key: k\r\n X-Injected: 1\r\n",
                "{}",
            ),
        ),
        (
            "/v1/checkouts/{token}/pay",
            "a NUL in Idempotency-Key",
            raw(
                "POST",
                &pay,
                "Content-Type: application/json\r\nIdempotency-Key: k\0x\r\n",
                "{}",
            ),
        ),
        (
            "/v1/checkouts/{token}",
            "a bare CR in Origin",
            raw(
                "GET",
                &format!("/v1/checkouts/{open}"),
                "Origin: https://salon.example\rAccess-Control-Allow-Origin: *\r\n",
                "",
            ),
        ),
        (
            "/v1/checkouts/{token}",
            "a bare LF in Origin",
            raw(
                "GET",
                &format!("/v1/checkouts/{open}"),
                "Origin: https://evil.example\nSet-Cookie: x=1\r\n",
                "",
            ),
        ),
        (
            "/v1/admin/merchants",
            "a bare CR in Authorization",
            raw(
                "GET",
                "/v1/admin/merchants",
                "Authorization: Bearer x\rX-Admin: 1\r\n",
                "",
            ),
        ),
        (
            "/v1/webhooks/stripe/{merchant_id}",
            "a folded Stripe-Signature",
            raw(
                "POST",
                &hook,
                "Content-Type: application/json\r\nStripe-Signature: t=1,\r\n v1=00\r\n",
                "{}",
            ),
        ),
        (
            "/v1/checkouts/{token}/pay",
            "a space in the request line",
            raw(
                "POST",
                &format!("/v1/checkouts/{open}/pay X"),
                "Content-Type: application/json\r\nIdempotency-Key: k\r\n",
                "{}",
            ),
        ),
    ] {
        let mut c = case(route, what, post.clone(), String::new(), Http);
        c.raw = Some(bytes);
        v.push(c);
    }
    v
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
    req = match &c.body {
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
    };
    let r = helpers::into_resp(req.send().await.map_err(|e| e.to_string())?).await;
    support::keep(&r);
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
    Ok(Answer {
        status: r.status.as_u16(),
        code,
        bare: r.text.trim().is_empty(),
        html,
        reflected,
    })
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

/// The route templates `server/src/routes/` declares.
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
    let mut out = BTreeSet::new();
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
    // An admin session: signed in with the token, its cookie and CSRF token kept.
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
        let Some(app) = spawn_app(backend, Box::new(|_| {})).await else {
            continue;
        };
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
        let mut labels = Vec::new();
        let mut per_route: BTreeMap<&str, usize> = BTreeMap::new();
        for c in &table {
            *per_route.entry(c.route).or_default() += 1;
            match send(&app, &http, &ids, c).await.and_then(|a| judge(c, &a)) {
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
            per_route.len(),
            declared.len(),
            support::tally(labels),
            before.len(),
            diff.len()
        ));
        total += table.len();
        tallies.push(format!("{backend:?}"));
        support::keep_database(&format!("bad-input-{backend:?}"), &app).await;
        app.teardown().await;
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
