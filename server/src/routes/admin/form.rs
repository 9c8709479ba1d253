//! Form plumbing of the admin pages: the posted fields (`application/x-www-form-urlencoded`,
//! repeated names kept, as checkboxes send them; or `multipart/form-data`, whose files are
//! kept apart), and what a page shows again after a refusal: the values as typed (never a
//! secret: secret fields are not put back) and each error both in the summary and next to
//! its field.

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header;
use slotpay_core::{ApiError, Currency, Money};

use crate::domain::DomainError;
use crate::error::ApiFailure;

/// A file posted in a `multipart/form-data` form.
#[derive(Clone, Debug, Default)]
pub struct Upload {
    /// The name it had on the sender's device (empty when no file was chosen).
    pub file_name: String,
    /// The type the browser named (from the file's extension; none or
    /// `application/octet-stream` when it could not tell).
    pub content_type: Option<String>,
    /// Its bytes.
    pub bytes: Bytes,
}

impl Upload {
    /// Whether the form's file input was left empty (the browser then sends a nameless,
    /// empty part).
    pub fn is_none_chosen(&self) -> bool {
        self.file_name.is_empty() && self.bytes.is_empty()
    }
}

/// The fields of a posted form, in order, and its files.
#[derive(Clone, Debug, Default)]
pub struct FormData {
    fields: Vec<(String, String)>,
    files: Vec<(String, Upload)>,
}

impl FormData {
    /// Parses a body; `None` when it is not URL-encoded.
    pub fn parse(body: &[u8]) -> Option<FormData> {
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
            .ok()
            .map(|fields| FormData {
                fields,
                files: Vec::new(),
            })
    }

    /// Parses a `multipart/form-data` body sent with `content_type` (which names its
    /// boundary): its text fields as [`FormData::parse`]'s, its files apart; `None` when it
    /// is not one.
    pub async fn parse_multipart(content_type: &str, body: Bytes) -> Option<FormData> {
        let request = Request::builder()
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .ok()?;
        let mut multipart = Multipart::from_request(request, &()).await.ok()?;
        let mut form = FormData::default();
        while let Some(field) = multipart.next_field().await.ok()? {
            let name = field.name().unwrap_or_default().to_owned();
            match field.file_name().map(str::to_owned) {
                Some(file_name) => {
                    let content_type = field.content_type().map(str::to_owned);
                    let bytes = field.bytes().await.ok()?;
                    form.files.push((
                        name,
                        Upload {
                            file_name,
                            content_type,
                            bytes,
                        },
                    ));
                }
                None => {
                    let value = field.text().await.ok()?;
                    form.fields.push((name, value));
                }
            }
        }
        Some(form)
    }

    /// The first file posted as `name`.
    pub fn file(&self, name: &str) -> Option<&Upload> {
        self.files.iter().find(|(n, _)| n == name).map(|(_, f)| f)
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of `name`, or `""`.
    pub fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or("").to_owned()
    }

    /// The value of `name` unless it is absent or blank.
    pub fn given(&self, name: &str) -> Option<String> {
        self.get(name)
            .filter(|v| !v.trim().is_empty())
            .map(str::to_owned)
    }

    /// Every value of `name`.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.fields
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Whether a checkbox was ticked.
    pub fn checked(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

/// An error shown on a form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// The field's name (its input's id is `f-<name>`), or `None` for the form as a whole.
    pub field: Option<String>,
    /// core's code (`invalid_secret_key`).
    pub code: String,
    /// For people.
    pub message: String,
}

/// A form's values and errors, as a template shows them.
#[derive(Clone, Debug, Default)]
pub struct Fields {
    values: Vec<(String, String)>,
    errors: Vec<FieldError>,
}

impl Fields {
    /// Sets `name` (replacing its values).
    pub fn set(&mut self, name: &str, value: impl Into<String>) -> &mut Fields {
        self.values.retain(|(n, _)| n != name);
        self.values.push((name.to_owned(), value.into()));
        self
    }

    /// Adds a value of `name` (a ticked checkbox among several).
    pub fn add(&mut self, name: &str, value: impl Into<String>) -> &mut Fields {
        self.values.push((name.to_owned(), value.into()));
        self
    }

    /// Keeps the posted values of `names` (never pass a secret field).
    pub fn keep(&mut self, form: &FormData, names: &[&str]) -> &mut Fields {
        for name in names {
            self.values.retain(|(n, _)| n != name);
            for v in form.all(name) {
                self.values.push(((*name).to_owned(), v));
            }
        }
        self
    }

    /// The value of `name`, or `""`.
    pub fn value(&self, name: &str) -> &str {
        self.values
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Whether `name` holds `value` (a ticked checkbox, a chosen radio button or option).
    pub fn has(&self, name: &str, value: &str) -> bool {
        self.values.iter().any(|(n, v)| n == name && v == value)
    }

    /// The first error of `name`.
    pub fn error(&self, name: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.field.as_deref() == Some(name))
            .map(|e| e.message.as_str())
    }

    /// Whether `name` has an error.
    pub fn invalid(&self, name: &str) -> bool {
        self.error(name).is_some()
    }

    /// The ids an input of `name` is described by (its hint, its error).
    pub fn describedby(&self, name: &str, hint: bool) -> String {
        let mut ids = Vec::new();
        if hint {
            ids.push(format!("f-{name}-hint"));
        }
        if self.invalid(name) {
            ids.push(format!("f-{name}-error"));
        }
        ids.join(" ")
    }

    /// Every error, in order.
    pub fn errors(&self) -> &[FieldError] {
        &self.errors
    }

    /// Whether anything was refused.
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }

    /// Adds an error at `field`.
    pub fn refuse(&mut self, field: Option<&str>, code: &str, message: impl Into<String>) {
        self.errors.push(FieldError {
            field: field.map(str::to_owned),
            code: code.to_owned(),
            message: message.into(),
        });
    }

    /// Adds an API error, placing it at the field `place` names for its `param` (the part
    /// before any `[` or `.`: `allowed_origins[2]` is `allowed_origins`).
    pub fn refuse_api(&mut self, e: &ApiError, place: &dyn Fn(&str) -> Option<String>) {
        let field = e.param.as_deref().and_then(|p| {
            let base = p.split(['[', '.']).next().unwrap_or(p);
            place(base)
        });
        self.refuse(field.as_deref(), e.code.as_str(), e.message.clone());
    }

    /// Shows a domain refusal: every field error of an invalid input, or the one error of
    /// a refusal; anything else (Stripe unreachable, our fault) in the summary, with its
    /// detail logged, never shown.
    pub fn refuse_domain(&mut self, e: DomainError, place: &dyn Fn(&str) -> Option<String>) {
        match e {
            DomainError::Invalid(errors) => {
                for e in errors.all() {
                    self.refuse_api(e, place);
                }
            }
            DomainError::Refused(e) => self.refuse_api(&e, place),
            other => {
                let e = ApiFailure::from(other).into_public();
                self.refuse_api(&e, place);
            }
        }
    }
}

/// The same field name (most forms name their inputs as the API names its parameters).
pub fn same(param: &str) -> Option<String> {
    Some(param.to_owned())
}

/// A decimal amount typed in a form (`12.50`), in minor units of `currency`, parsed by
/// core; the error names `param`.
pub fn minor_units(text: &str, currency: Currency, param: &str) -> Result<i64, ApiError> {
    Money::parse(text.trim(), currency)
        .map(|m| m.minor())
        .map_err(|e| ApiError::from(e).with_param(param))
}

#[cfg(test)]
mod tests {
    use super::*;
    use slotpay_core::ErrorCode;

    #[test]
    fn repeated_names_and_blanks() {
        let f = FormData::parse(b"card_brands=visa&card_brands=amex&name=+Salon+&empty=+").unwrap();
        assert_eq!(f.all("card_brands"), ["visa", "amex"]);
        assert_eq!(f.get("name"), Some(" Salon "));
        assert_eq!(f.given("empty"), None);
        assert!(f.checked("empty") && !f.checked("missing"));
    }

    #[tokio::test]
    async fn multipart_fields_and_files_are_kept_apart() {
        let body = "--b\r\n\
             Content-Disposition: form-data; name=\"csrf_token\"\r\n\r\n\
             abc\r\n\
             --b\r\n\
             Content-Disposition: form-data; name=\"logo\"; filename=\"logo.png\"\r\n\
             Content-Type: image/png\r\n\r\n\
             \u{89}PNG\r\n\
             --b\r\n\
             Content-Disposition: form-data; name=\"empty\"; filename=\"\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n\
             \r\n\
             --b--\r\n";
        let f = FormData::parse_multipart("multipart/form-data; boundary=b", Bytes::from(body))
            .await
            .unwrap();
        assert_eq!(f.get("csrf_token"), Some("abc"));
        assert_eq!(f.get("logo"), None, "a file is no text field");
        let logo = f.file("logo").unwrap();
        assert_eq!(logo.file_name, "logo.png");
        assert_eq!(logo.content_type.as_deref(), Some("image/png"));
        assert_eq!(&logo.bytes[..], "\u{89}PNG".as_bytes());
        assert!(!logo.is_none_chosen());
        assert!(f.file("empty").unwrap().is_none_chosen());
        assert!(f.file("csrf_token").is_none());
        // Not multipart, or cut short: not a form.
        assert!(FormData::parse_multipart(
            "multipart/form-data; boundary=b",
            Bytes::from("--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx")
        )
        .await
        .is_none());
        assert!(FormData::parse_multipart("text/plain", Bytes::from("a=b"))
            .await
            .is_none());
    }

    #[test]
    fn errors_land_on_their_fields() {
        let mut fields = Fields::default();
        let e =
            ApiError::new(ErrorCode::InvalidOrigin, "Not a URL").with_param("allowed_origins[1]");
        fields.refuse_api(&e, &same);
        fields.refuse_api(&ApiError::new(ErrorCode::MixedKeyModes, "Mixed"), &same);
        assert_eq!(fields.error("allowed_origins"), Some("Not a URL"));
        assert_eq!(fields.errors()[1].field, None);
        assert_eq!(
            fields.describedby("allowed_origins", true),
            "f-allowed_origins-hint f-allowed_origins-error"
        );
        assert_eq!(fields.describedby("name", false), "");
    }

    #[test]
    fn amounts_are_parsed_by_core() {
        assert_eq!(
            minor_units(" 12.50 ", Currency::Eur, "amount").unwrap(),
            1250
        );
        assert_eq!(minor_units("500", Currency::Jpy, "amount").unwrap(), 500);
        let e = minor_units("12.505", Currency::Eur, "amount").unwrap_err();
        assert_eq!(e.param.as_deref(), Some("amount"));
    }
}
