//! Every answer an API test receives through `TestApp::request` is checked against the API
//! document (`slotpay_server::routes::openapi::document`): its status must be one the
//! document lists for that operation, its content type one listed for that status, and a
//! JSON body must match the listed schema (JSON Schema 2020-12, as OpenAPI 3.1 uses, checked
//! by the `jsonschema` crate). New tests get the check by using the helpers.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use serde_json::Value;

/// The document as JSON.
pub fn doc() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        serde_json::to_value(slotpay_server::routes::openapi::document()).expect("serialises")
    })
}

/// The document's path template a concrete path is an instance of (`{x}` matches one
/// segment; a template without parameters wins over one with).
fn template_of(path: &str) -> Option<&'static str> {
    let segments: Vec<&str> = path.split('/').collect();
    let mut best: Option<(&'static str, usize)> = None;
    for template in doc()["paths"].as_object()?.keys() {
        let parts: Vec<&str> = template.split('/').collect();
        if parts.len() != segments.len() {
            continue;
        }
        let mut params = 0;
        let fits = parts.iter().zip(&segments).all(|(t, s)| {
            if t.starts_with('{') {
                params += 1;
                !s.is_empty()
            } else {
                t == s
            }
        });
        if fits && best.is_none_or(|(_, p)| params < p) {
            best = Some((template.as_str(), params));
        }
    }
    best.map(|(t, _)| t)
}

/// Checks one answer; `Err` says how it differs from the document.
pub fn check(
    method: &str,
    path: &str,
    status: u16,
    content_type: &str,
    body: &str,
) -> Result<(), String> {
    let path = path.split('?').next().unwrap_or(path);
    let Some(template) = template_of(path) else {
        // Not a documented path (a test of an unknown route, a page): nothing to hold to.
        return Ok(());
    };
    let method = method.to_ascii_lowercase();
    let Some(op) = doc()["paths"][template].get(&method) else {
        return Ok(());
    };
    let Some(mut response) = op["responses"].get(status.to_string()) else {
        return Err(format!(
            "{method} {template} answered {status}, which the document does not list"
        ));
    };
    if let Some(reference) = response.get("$ref").and_then(Value::as_str) {
        let name = reference.rsplit('/').next().unwrap_or_default();
        response = &doc()["components"]["responses"][name];
    }
    let Some(content) = response.get("content").and_then(Value::as_object) else {
        return if body.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{method} {template} {status}: a body the document does not list"
            ))
        };
    };
    let media = content_type.split(';').next().unwrap_or("").trim();
    let Some(listed) = content
        .iter()
        .find(|(m, _)| m.split(';').next().unwrap_or("").trim() == media)
        .map(|(_, c)| c)
    else {
        return Err(format!(
            "{method} {template} {status}: content type {content_type:?}, the document lists {:?}",
            content.keys().collect::<Vec<_>>()
        ));
    };
    if media != "application/json" {
        return Ok(());
    }
    let value: Value = serde_json::from_str(body)
        .map_err(|e| format!("{method} {template} {status}: not JSON ({e}): {body}"))?;
    let key = format!("{method} {template} {status}");
    matches(&key, &listed["schema"], &value)
}

/// Whether `value` matches `schema`, a schema of the document (its `#/components/...`
/// references resolved against the document); `key` names the schema in messages and in the
/// cache of compiled schemas.
pub fn matches(key: &str, schema: &Value, value: &Value) -> Result<(), String> {
    if schema.is_null() {
        return Ok(());
    }
    // The schema with the document's components beside it, so its references resolve.
    let mut schema = schema.clone();
    if let Some(object) = schema.as_object_mut() {
        object.insert("components".into(), doc()["components"].clone());
    }
    validate(key, &schema, value)
}

fn validate(key: &str, schema: &Value, value: &Value) -> Result<(), String> {
    static CACHE: OnceLock<Mutex<HashMap<String, &'static jsonschema::Validator>>> =
        OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let validator = {
        let mut cache = cache.lock().unwrap();
        match cache.get(key) {
            Some(v) => *v,
            None => {
                let v = jsonschema::options()
                    .with_draft(jsonschema::Draft::Draft202012)
                    .build(schema)
                    .map_err(|e| format!("{key}: the document's schema does not compile: {e}"))?;
                let v: &'static jsonschema::Validator = Box::leak(Box::new(v));
                cache.insert(key.to_owned(), v);
                v
            }
        }
    };
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{key}: does not match the document: {}\n{value}",
            errors.join("; ")
        ))
    }
}
