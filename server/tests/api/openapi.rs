//! The API document against the server: every API route the router serves is in the
//! document and every operation the document names is served; the served document is the
//! generated one, and the copy kept in the repository (`docs/openapi.json`) is up to date.

use std::collections::BTreeSet;

use reqwest::Method;
use slotpay_server::routes::openapi;

use crate::helpers::{spawn_app, Backend};

/// The paths of an axum router, read from its `Debug` form (axum keeps no other list).
fn served_paths(router: &axum::Router) -> BTreeSet<String> {
    let debug = format!("{router:?}");
    let mut paths = BTreeSet::new();
    let mut rest = debug.as_str();
    while let Some(at) = rest.find("RouteId(") {
        rest = &rest[at + "RouteId(".len()..];
        // `RouteId(n): "path"` names a path; `RouteId(n): MethodRouter(...)` does not.
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if let Some(quoted) = rest[digits..].strip_prefix("): \"") {
            let end = quoted.find('"').expect("a closing quote");
            paths.insert(quoted[..end].to_owned());
        }
    }
    paths
}

/// The routes a program calls: the public and platform APIs, Stripe's webhooks, operations
/// (the admin pages, the payment-link pages and static files are for people).
fn is_api(path: &str) -> bool {
    path.starts_with("/v1/") || path == "/healthz" || path == "/metrics"
}

/// A value for a path parameter that reaches its handler.
fn sample(param: &str) -> &'static str {
    match param {
        "token" => "cs_aaaaaaaaaaaaaaaaaaaaaaaa",
        _ => "unknown",
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_and_the_router_name_the_same_routes() {
    let app = spawn_app(Backend::Sqlite, Box::new(|_| {})).await.unwrap();
    let doc = openapi::document();
    let documented: BTreeSet<String> = doc.paths.paths.keys().cloned().collect();
    let router = slotpay_server::app::app(app.state.clone());
    let served: BTreeSet<String> = served_paths(&router)
        .into_iter()
        .filter(|p| is_api(p))
        .collect();
    assert!(
        served.len() > 30,
        "the router's paths were read: {served:?}"
    );
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let unserved: Vec<_> = documented.difference(&served).collect();
    assert!(
        undocumented.is_empty(),
        "served but not in the document: {undocumented:?}"
    );
    assert!(
        unserved.is_empty(),
        "in the document but not served: {unserved:?}"
    );

    // Each documented method reaches a handler: neither 405 nor the static files' 404.
    let mut probed = 0;
    for (path, item) in &doc.paths.paths {
        let mut url = path.clone();
        for param in [
            "token",
            "merchant_id",
            "service_id",
            "endpoint_id",
            "event_id",
            "email_id",
        ] {
            url = url.replace(&format!("{{{param}}}"), sample(param));
        }
        for (method, op) in [
            (Method::GET, &item.get),
            (Method::POST, &item.post),
            (Method::PUT, &item.put),
            (Method::PATCH, &item.patch),
            (Method::DELETE, &item.delete),
        ] {
            if op.is_none() {
                continue;
            }
            let r = app.request(method.clone(), &url, None, &[]).await;
            // An unrouted path falls through to the static files, which answer this.
            let fell_through = r.status == 404 && r.json["error"]["message"] == "No such endpoint";
            assert!(
                r.status != 405 && !fell_through,
                "{method} {url} is not served: {} {}",
                r.status,
                r.text
            );
            probed += 1;
        }
    }
    assert!(probed > 40, "{probed} operations probed");
    app.teardown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_served_and_kept_documents_are_the_generated_one() {
    let app = spawn_app(Backend::Sqlite, Box::new(|_| {})).await.unwrap();
    let generated = openapi::document().to_pretty_json().unwrap();
    let served = app.get("/v1/openapi.json").await.expect(200);
    assert_eq!(
        served.json,
        serde_json::from_str::<serde_json::Value>(&generated).unwrap()
    );
    assert_eq!(served.json["openapi"], "3.1.0");
    let kept =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.json"))
            .unwrap_or_default();
    assert!(
        kept.trim_end() == generated.trim_end(),
        "docs/openapi.json is not the document the code generates: run ./dev openapi"
    );
    app.teardown().await;
}

/// The check every API test's answers go through refuses what the document does not say.
#[test]
fn the_contract_check_can_fail() {
    use crate::contract::check;
    let json = "application/json";
    assert!(check(
        "GET",
        "/healthz",
        200,
        json,
        r#"{"status": "ok", "database": "ok"}"#
    )
    .is_ok());
    let wrong = check(
        "GET",
        "/healthz",
        200,
        json,
        r#"{"status": 5, "database": "ok"}"#,
    );
    assert!(wrong.unwrap_err().contains("does not match the document"));
    assert!(
        check("GET", "/healthz", 418, json, "{}").is_err(),
        "an unlisted status"
    );
    assert!(
        check("GET", "/healthz", 200, "text/html", "<p>").is_err(),
        "an unlisted type"
    );
    let error = r#"{"error": {"code": "checkout_not_found", "message": "No such checkout"}}"#;
    assert!(check("GET", "/v1/checkouts/cs_x", 404, json, error).is_ok());
    let wrong_code = r#"{"error": {"code": "card_declined", "message": "x"}}"#;
    assert!(
        check("GET", "/v1/checkouts/cs_x", 404, json, wrong_code).is_err(),
        "a code of another status"
    );
    assert!(
        check("GET", "/v1/admin/merchants/mer_x", 404, json, error).is_err(),
        "a code of the status that the operation does not answer"
    );
    let not_found = r#"{"error": {"code": "not_found", "message": "No such merchant"}}"#;
    assert!(check("GET", "/v1/admin/merchants/mer_x", 404, json, not_found).is_ok());
}

/// `/docs`: the reference for people, from the same document, under the strict CSP.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_page_shows_every_operation() {
    let app = spawn_app(Backend::Sqlite, Box::new(|_| {})).await.unwrap();
    let page = app.get("/docs").await.expect(200);
    assert!(page.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'self'"), "{csp}");
    assert!(!page.text.contains("<script") && !page.text.contains("style="));
    let doc = openapi::document();
    for (path, item) in &doc.paths.paths {
        for op in [&item.get, &item.post, &item.put, &item.patch, &item.delete]
            .into_iter()
            .flatten()
        {
            let id = op.operation_id.as_deref().unwrap();
            assert!(
                page.text.contains(&format!("id=\"{id}\"")),
                "{id} ({path}) not on the page"
            );
        }
    }
    for name in doc.components.as_ref().unwrap().schemas.keys() {
        assert!(
            page.text.contains(&format!("id=\"schema-{name}\"")),
            "{name}"
        );
    }
    // The main operations' examples, request and answer.
    assert!(page.text.contains("Example request") && page.text.contains("Example answer (200)"));
    assert!(page.text.contains("pm_1QxYz2AbCdEfGhIjKlMnOpQr"));
    // Types link to their schemas.
    assert!(
        page.text.contains("href=\"#schema-MerchantView\""),
        "{}",
        page.text
    );
    app.teardown().await;
}

/// The examples of the main operations' bodies and answers are ones the document accepts.
#[test]
fn the_examples_match_their_schemas() {
    let doc = crate::contract::doc();
    let (mut requests, mut answers) = (0, 0);
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let mut bodies = vec![(
                "request",
                op.pointer("/requestBody/content/application~1json"),
            )];
            for (status, response) in op["responses"].as_object().into_iter().flatten() {
                bodies.push((
                    status.as_str(),
                    response.pointer("/content/application~1json"),
                ));
            }
            for (what, json) in bodies {
                let Some(example) = json.and_then(|j| j.get("example")) else {
                    continue;
                };
                let key = format!("the {what} example of {method} {path}");
                crate::contract::matches(&key, &json.unwrap()["schema"], example).unwrap();
                if what == "request" {
                    requests += 1;
                } else {
                    answers += 1;
                }
            }
        }
    }
    assert!(requests >= 8, "{requests} request examples");
    assert!(answers >= 2, "{answers} answer examples");
}
