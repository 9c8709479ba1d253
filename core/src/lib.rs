//! slotpay's pure core: money and currency rules, Stripe's charge limits, API-key parsing,
//! webhook signing and verification, the widget's words, and the wire types shared by the widget and the
//! server.
//!
//! No I/O, no clock (functions that need the time take `now` in unix seconds), no async
//! runtime: the same code runs natively in the server and as wasm in the browser widget.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod api;
pub mod appearance;
pub mod currency;
pub mod error;
pub mod hold;
pub mod intl;
pub mod keys;
pub mod limits;
pub mod methods;
pub mod money;
#[cfg(feature = "openapi")]
mod openapi;
pub mod prepayment;
pub mod standard_webhooks;
pub mod webhook_signature;
pub mod words;

pub use api::{
    BrandColor, CardBrand, CheckoutStatus, CheckoutToken, CheckoutView, Email, FieldError,
    IntegrationMode, Last4, Locale, PayRequest, PayResponse, PayStatus, PaymentMethodId, Receipt,
    ReturnUrl, SaveCardOffer,
};
pub use appearance::{Appearance, Corners, Font, Scheme};
pub use currency::{Currency, CurrencyError};
pub use error::{ApiError, ErrorBody, ErrorCode};
pub use keys::{
    KeyError, KeyField, KeyKind, KeyMode, KeyPair, Parsed, PublishableKey, ServerKey, WebhookSecret,
};
pub use limits::{check_chargeable, maximum_charge, minimum_charge, ChargeError};
pub use methods::MethodType;
pub use money::{AmountError, Money, MoneyError};
pub use prepayment::{PrepaymentError, PrepaymentRule};
pub use webhook_signature::{SignatureError, DEFAULT_TOLERANCE_SECS};
