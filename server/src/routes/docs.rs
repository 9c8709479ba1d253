//! `GET /docs`: the API reference for people, rendered by slotpay from its own OpenAPI
//! document (no third-party script or stylesheet: it works offline and under the same strict
//! Content-Security-Policy as every other page). Operations are grouped by tag, each with its
//! parameters, body and answers; the schemas follow, each field with its type and meaning.

use std::sync::OnceLock;

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde_json::Value;

use super::openapi;

/// One parameter, body field or answer line.
struct Row {
    name: String,
    kind: String,
    /// `#schema-Name` when the type is a named schema.
    link: Option<String>,
    required: bool,
    text: String,
}

struct Operation {
    anchor: String,
    method: String,
    path: String,
    summary: String,
    description: String,
    admin: bool,
    params: Vec<Row>,
    body: Option<Row>,
    answers: Vec<Row>,
    /// ("Example request", its JSON), then each answer's example.
    examples: Vec<(String, String)>,
}

struct Section {
    name: String,
    description: String,
    operations: Vec<Operation>,
}

struct SchemaDoc {
    name: String,
    description: String,
    fields: Vec<Row>,
    /// For a string enum: its values.
    values: Vec<String>,
}

#[derive(Template)]
#[template(path = "docs.html")]
struct DocsPage {
    lang: &'static str,
    description: String,
    sections: Vec<Section>,
    schemas: Vec<SchemaDoc>,
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// A schema's type for people, and the schema it names (if any).
fn kind(schema: &Value) -> (String, Option<String>) {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or(r).to_owned();
        return (name.clone(), Some(format!("#schema-{name}")));
    }
    for combined in ["oneOf", "anyOf", "allOf"] {
        if let Some(items) = schema.get(combined).and_then(Value::as_array) {
            let parts: Vec<String> = items
                .iter()
                .map(|s| kind(s).0)
                .filter(|k| k != "null" && !k.is_empty())
                .collect();
            let link = items.iter().find_map(|s| kind(s).1);
            let joined = if combined == "allOf" { " and " } else { " or " };
            return (parts.join(joined), link);
        }
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let values: Vec<String> = values
            .iter()
            .filter_map(Value::as_str)
            .map(|v| format!("\"{v}\""))
            .collect();
        if values.len() <= 8 {
            return (values.join(" | "), None);
        }
        return (format!("string ({} values)", values.len()), None);
    }
    let types: Vec<String> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    };
    let main = types
        .iter()
        .find(|t| *t != "null")
        .cloned()
        .unwrap_or_default();
    if main == "array" {
        let (item, link) = schema.get("items").map(kind).unwrap_or_default();
        return (format!("array of {item}"), link);
    }
    let format = schema.get("format").and_then(Value::as_str);
    (
        match format {
            Some(f) => format!("{main} ({f})"),
            None if main.is_empty() => "any".to_owned(),
            None => main,
        },
        None,
    )
}

fn operations(doc: &Value) -> Vec<(String, Operation)> {
    let mut out = Vec::new();
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return out;
    };
    for (path, item) in paths {
        for method in ["get", "post", "put", "patch", "delete"] {
            let Some(op) = item.get(method) else { continue };
            let tag = op["tags"][0].as_str().unwrap_or("other").to_owned();
            let params = op
                .get("parameters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|p| {
                    let (kind, link) = p.get("schema").map(kind).unwrap_or_default();
                    Row {
                        name: format!("{} ({})", text(p, "name"), text(p, "in")),
                        kind,
                        link,
                        required: p["required"].as_bool().unwrap_or(false),
                        text: text(p, "description"),
                    }
                })
                .collect();
            let body = op.get("requestBody").map(|b| {
                let content = b["content"].as_object();
                // Every media type the body may be sent as (an image: four), the first's schema.
                let media = content
                    .map(|c| c.keys().cloned().collect::<Vec<_>>().join(", "))
                    .unwrap_or_default();
                let schema = content
                    .and_then(|c| c.values().next())
                    .map(|c| c["schema"].clone())
                    .unwrap_or_default();
                let (kind, link) = kind(&schema);
                Row {
                    name: media,
                    kind,
                    link,
                    required: b["required"].as_bool().unwrap_or(false),
                    text: text(b, "description"),
                }
            });
            let pretty = |json: Option<&Value>| {
                json.and_then(|j| j.get("example"))
                    .map(|e| serde_json::to_string_pretty(e).unwrap_or_default())
            };
            let mut examples: Vec<(String, String)> =
                pretty(op.pointer("/requestBody/content/application~1json"))
                    .map(|e| ("Example request".to_owned(), e))
                    .into_iter()
                    .collect();
            let answers = op["responses"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(status, r)| {
                    let r = match r.get("$ref").and_then(Value::as_str) {
                        Some(reference) => {
                            let name = reference.rsplit('/').next().unwrap_or_default();
                            &doc["components"]["responses"][name]
                        }
                        None => r,
                    };
                    if let Some(e) = pretty(r.pointer("/content/application~1json")) {
                        examples.push((format!("Example answer ({status})"), e));
                    }
                    let schema = r["content"]
                        .as_object()
                        .and_then(|c| c.values().next())
                        .map(|c| c["schema"].clone())
                        .unwrap_or(Value::Null);
                    let (kind, link) = if schema.is_null() {
                        (String::new(), None)
                    } else {
                        kind(&schema)
                    };
                    Row {
                        name: status.clone(),
                        kind,
                        link,
                        required: false,
                        text: text(r, "description"),
                    }
                })
                .collect();
            out.push((
                tag,
                Operation {
                    anchor: text(op, "operationId"),
                    method: method.to_uppercase(),
                    path: path.clone(),
                    summary: text(op, "summary"),
                    description: text(op, "description"),
                    admin: op.get("security").is_some(),
                    params,
                    body,
                    answers,
                    examples,
                },
            ));
        }
    }
    out
}

fn page() -> String {
    let doc = serde_json::to_value(openapi::document()).expect("the document serialises");
    let mut sections: Vec<Section> = doc["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| Section {
            name: text(t, "name"),
            description: text(t, "description"),
            operations: Vec::new(),
        })
        .collect();
    for (tag, op) in operations(&doc) {
        if let Some(section) = sections.iter_mut().find(|s| s.name == tag) {
            section.operations.push(op);
        }
    }
    let schemas = doc["components"]["schemas"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, s)| {
            let required: Vec<&str> = s["required"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let fields = s["properties"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(field, f)| {
                    let (kind, link) = kind(f);
                    Row {
                        name: field.clone(),
                        kind,
                        link,
                        required: required.contains(&field.as_str()),
                        text: text(f, "description"),
                    }
                })
                .collect();
            SchemaDoc {
                name: name.clone(),
                description: text(s, "description"),
                fields,
                values: s["enum"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect(),
            }
        })
        .collect();
    DocsPage {
        lang: "en",
        description: text(&doc["info"], "description"),
        sections,
        schemas,
    }
    .render()
    .expect("the reference renders")
}

/// `GET /docs`.
pub async fn docs() -> Response {
    static PAGE: OnceLock<String> = OnceLock::new();
    (StatusCode::OK, Html(PAGE.get_or_init(page).as_str())).into_response()
}
