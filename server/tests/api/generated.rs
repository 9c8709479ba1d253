//! Inputs generated from the API document: for every operation that takes a JSON body, bodies
//! built from its schema (one of the documented shape, then each field dropped, given the
//! wrong type, null, an extreme value, and an unknown field added); for every operation with
//! query parameters, query strings built the same way from theirs. Sent to real ids and to
//! unknown ones. Whatever comes back must be what the document promises (the contract check
//! every `TestApp::request` makes) and never a 5xx. Seeded: the same run every time.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::Method;
use serde_json::{json, Map, Value};

use crate::contract::doc;
use crate::helpers::{both_backends, TestApp};

both_backends!(generated_bodies_get_documented_answers);

/// The schema a `$ref` names, or the schema itself.
fn resolve(schema: &Value) -> &Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r.rsplit('/').next().unwrap_or_default();
            resolve(&doc()["components"]["schemas"][name])
        }
        None => schema,
    }
}

/// A value of the documented shape (required fields only, plus every optional field
/// half the time).
fn sample(schema: &Value, rng: &mut StdRng, depth: usize) -> Value {
    let schema = resolve(schema);
    if depth > 6 {
        return Value::Null;
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        return values[rng.gen_range(0..values.len())].clone();
    }
    if let Some(examples) = schema.get("examples").and_then(Value::as_array) {
        if let Some(e) = examples.first() {
            return e.clone();
        }
    }
    for combined in ["oneOf", "anyOf"] {
        if let Some(items) = schema.get(combined).and_then(Value::as_array) {
            let usable: Vec<&Value> = items
                .iter()
                .filter(|s| resolve(s).get("type") != Some(&json!("null")))
                .collect();
            if !usable.is_empty() {
                return sample(usable[rng.gen_range(0..usable.len())], rng, depth + 1);
            }
        }
    }
    if let Some(items) = schema.get("allOf").and_then(Value::as_array) {
        let mut merged = Map::new();
        for item in items {
            if let Value::Object(part) = sample(item, rng, depth + 1) {
                merged.extend(part);
            }
        }
        return Value::Object(merged);
    }
    let kind = match schema.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null"),
        _ if schema.get("properties").is_some() => "object",
        _ => "string",
    };
    match kind {
        "object" => {
            let required: Vec<&str> = schema["required"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let mut out = Map::new();
            for (name, field) in schema["properties"].as_object().into_iter().flatten() {
                if required.contains(&name.as_str()) || rng.gen_bool(0.5) {
                    out.insert(name.clone(), sample(field, rng, depth + 1));
                }
            }
            Value::Object(out)
        }
        "array" => {
            let n = rng.gen_range(0..3);
            Value::Array(
                (0..n)
                    .map(|_| sample(&schema["items"], rng, depth + 1))
                    .collect(),
            )
        }
        "integer" => json!(rng.gen_range(1..100_000)),
        "number" => json!(rng.gen_range(0.0..1000.0)),
        "boolean" => json!(rng.gen_bool(0.5)),
        "null" => Value::Null,
        _ => json!(["x", "Salon", "eur", "https://salon.example", ""][rng.gen_range(0..5)]),
    }
}

/// What a field may be given instead of its documented value.
fn hostile(rng: &mut StdRng) -> Value {
    let values = [
        Value::Null,
        json!(-1),
        json!(0),
        json!(i64::MAX),
        json!(1e308),
        json!(""),
        json!("\u{0}\u{202e}<script>"),
        json!("x".repeat(5000)),
        json!([]),
        json!({}),
        json!(true),
    ];
    values[rng.gen_range(0..values.len())].clone()
}

/// The bodies tried for one schema: the documented shape, then each field dropped, made
/// hostile, and an unknown field.
fn bodies(schema: &Value, rng: &mut StdRng) -> Vec<Value> {
    let base = sample(schema, rng, 0);
    let mut out = vec![base.clone(), Value::Null, json!([]), json!("text")];
    if let Value::Object(fields) = &base {
        for name in fields.keys() {
            let mut dropped = fields.clone();
            dropped.remove(name);
            out.push(Value::Object(dropped));
            let mut changed = fields.clone();
            changed.insert(name.clone(), hostile(rng));
            out.push(Value::Object(changed));
        }
        let mut extra = fields.clone();
        extra.insert("unexpected".into(), json!(1));
        out.push(Value::Object(extra));
    }
    out
}

/// The query strings tried for an operation's query parameters: all of them documented, each
/// alone, and each given a hostile value.
fn queries(params: &[Value], rng: &mut StdRng) -> Vec<String> {
    let text = |v: Value| match v {
        Value::String(s) => s,
        other => other.to_string(),
    };
    let documented: Vec<(String, String)> = params
        .iter()
        .filter(|p| p["in"] == "query")
        .map(|p| (text(p["name"].clone()), text(sample(&p["schema"], rng, 0))))
        .collect();
    let encode = |pairs: &[(String, String)]| {
        format!("?{}", serde_urlencoded::to_string(pairs).expect("encodes"))
    };
    if documented.is_empty() {
        return Vec::new();
    }
    let mut out = vec![encode(&documented)];
    for i in 0..documented.len() {
        out.push(encode(&documented[i..=i]));
        let mut changed = documented.clone();
        changed[i].1 = text(hostile(rng));
        out.push(encode(&changed));
    }
    out
}

async fn generated_bodies_get_documented_answers(app: TestApp) {
    let m = app.pay_merchant(None).await;
    let token = app
        .checkout(
            &m.id,
            json!({"amount": 2500, "currency": "eur", "description": "Generated", "link": true}),
        )
        .await;
    let service = app
        .post(
            &format!("/v1/admin/merchants/{}/services", m.id),
            json!({"name": "Cut", "price": {"amount": 4000, "currency": "eur"}}),
        )
        .await
        .expect(201)
        .json["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut rng = StdRng::seed_from_u64(16);
    let (mut sent, mut queried) = (0, 0);
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for (path, item) in doc()["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            // (body, query string) pairs: generated bodies, then generated queries.
            let mut inputs: Vec<(Option<Value>, String)> = op
                .pointer("/requestBody/content/application~1json/schema")
                .map(|schema| bodies(schema, &mut rng))
                .unwrap_or_default()
                .into_iter()
                .map(|b| (Some(b), String::new()))
                .collect();
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            inputs.extend(queries(&params, &mut rng).into_iter().map(|q| (None, q)));
            // Bodies that would remove what the rest of the run needs are sent to unknown ids only.
            let destructive = method == "delete" || path.ends_with("/integration");
            let targets: Vec<String> = [true, false]
                .into_iter()
                .filter(|real| !(*real && destructive))
                .map(|real| {
                    path.replace("{merchant_id}", if real { &m.id } else { "mer_unknown" })
                        .replace(
                            "{token}",
                            if real {
                                &token
                            } else {
                                "cs_unknownunknownunknown0"
                            },
                        )
                        .replace("{service_id}", if real { &service } else { "svc_unknown" })
                        .replace("{endpoint_id}", "we_unknown")
                        .replace("{event_id}", "evt_unknown")
                        .replace("{email_id}", "em_unknown")
                })
                .collect();
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            for (body, query) in &inputs {
                for url in &targets {
                    let key = format!("gen-{sent}");
                    let url = format!("{url}{query}");
                    // The contract check runs inside `request`: an answer the document does not
                    // list fails here.
                    let r = app
                        .request(
                            method.clone(),
                            &url,
                            body.clone(),
                            &[("idempotency-key", &key)],
                        )
                        .await;
                    assert!(
                        r.status.as_u16() < 500,
                        "{method} {url} with {body:?} answered {}: {}",
                        r.status,
                        r.text
                    );
                    sent += 1;
                    queried += usize::from(!query.is_empty());
                    *statuses.entry(r.status.as_u16()).or_default() += 1;
                }
            }
        }
    }
    println!(
        "{sent} generated requests ({queried} with generated queries), by status: {statuses:?}"
    );
    assert!(sent > 200, "{sent} requests");
    assert!(queried > 20, "{queried} requests with generated queries");
    // The documented shape is accepted somewhere: the generator makes real requests, not
    // only refusals.
    let accepted: usize = statuses.range(200..300).map(|(_, n)| n).sum();
    assert!(accepted > 0, "nothing accepted: {statuses:?}");
}
