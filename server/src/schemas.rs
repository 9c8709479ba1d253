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

/// A request body of raw bytes (an uploaded image), described by its media type.
pub struct ImageBytes;

impl utoipa::PartialSchema for ImageBytes {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Binary,
            )))
            .description(Some("The bytes of an image file, as they are."))
            .into()
    }
}

impl ToSchema for ImageBytes {}

/// A list answer: `{"data": [...]}`.
#[derive(Serialize, ToSchema)]
pub struct List<T> {
    /// The items.
    pub data: Vec<T>,
}

/// slotpay's own ids in the document: a prefix and 24 hex digits (`domain::new_id`). The
/// handlers take and answer them as strings; these types only describe them.
macro_rules! ids {
    ($($(#[doc = $doc:literal])* $name:ident = $prefix:literal;)*) => {$(
        $(#[doc = $doc])*
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .description(Some(concat!($(concat!($doc, " ")),*).trim()))
                    .pattern(Some(concat!("^", $prefix, "[0-9a-f]{24}$")))
                    .examples([concat!($prefix, "5c1e8a3f0b7d2e9a4c6f1b08")])
                    .into()
            }
        }

        impl ToSchema for $name {}
    )*};
}

ids! {
    /// A merchant.
    MerchantId = "mer_";
    /// A service of a merchant's catalogue.
    ServiceId = "svc_";
    /// A platform's webhook endpoint.
    EndpointId = "we_";
    /// An event to the booking platform.
    EventId = "evt_";
    /// An email slotpay sent or will send.
    EmailId = "em_";
    /// A cancellation-fee charge.
    FeeId = "fee_";
}
