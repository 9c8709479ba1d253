//! OpenAPI schemas of the strings the server's own types serialise by hand (closed sets,
//! Stripe's open sets, checked strings) and the list answer. A leaf: `model` and `stripe` use it, and the API
//! document (`routes::openapi`) is built above them.

use serde::Serialize;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::ToSchema;

/// A string with a description and an example.
pub fn string(description: &str, example: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .examples([example])
        .into()
}

/// One of a closed set of strings.
pub fn string_enum<'a>(values: impl Iterator<Item = &'a str>) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values.map(str::to_owned)))
        .into()
}

/// Stripe's value: one of `known`, or one Stripe added since (passed on as it came).
pub fn open_enum(known: &[&str]) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(format!(
            "Stripe's value: `{}`, or another that Stripe may add.",
            known.join("`, `")
        )))
        .examples(known.first().copied())
        .into()
}

/// A list answer: `{"data": [...]}`.
#[derive(Serialize, ToSchema)]
pub struct List<T> {
    /// The items.
    pub data: Vec<T>,
}
