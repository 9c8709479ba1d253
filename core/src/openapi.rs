//! OpenAPI schemas (the `openapi` feature, which only the server turns on) of the wire types
//! whose JSON a derive cannot see: checked strings with their patterns, currency codes,
//! publishable keys, and `Money` (minor units with a currency).

use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

use crate::currency::Currency;
use crate::keys::PublishableKey;
use crate::money::Money;

/// A string matching `pattern`, with an example.
pub(crate) fn string(pattern: Option<&str>, example: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(pattern)
        .examples([example])
        .into()
}

impl PartialSchema for Currency {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "A currency Stripe charges in: its ISO 4217 code in lowercase (uppercase and \
                 mixed case are accepted in requests).",
            ))
            .enum_values(Some(Currency::ALL.iter().map(|c| c.code())))
            .examples(["eur"])
            .into()
    }
}

impl ToSchema for Currency {}

impl PartialSchema for Money {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .property(
                "amount",
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                        utoipa::openapi::KnownFormat::Int64,
                    )))
                    .description(Some(
                        "In the currency's minor unit, as Stripe counts it: 1250 is 12.50 EUR, \
                         500 is 500 JPY, 5120 is 5.120 KWD, 500 is 5 ISK.",
                    ))
                    .examples([4500]),
            )
            .required("amount")
            .property("currency", Currency::schema())
            .required("currency")
            .into()
    }
}

impl ToSchema for Money {}

impl PartialSchema for PublishableKey {
    fn schema() -> RefOr<Schema> {
        string(
            Some("^pk_(test|live)_[A-Za-z0-9]+$"),
            "pk_test_51Hs0meTestKey",
        )
    }
}

impl ToSchema for PublishableKey {}
