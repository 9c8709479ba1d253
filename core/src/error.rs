//! Errors as the API answers them: [`ErrorCode`], the stable machine code of every refusal
//! with the HTTP status it is answered with; [`ApiError`], a code with a message for people
//! and the parameter at fault; and [`ErrorBody`], its wire form. Each module of core turns
//! its own typed errors into an [`ApiError`], so this module depends on none of them.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Declares [`ErrorCode`] with its wire string and HTTP status from one table.
macro_rules! error_codes {
    ($($(#[doc = $doc:literal])* $variant:ident = $code:literal, $status:literal;)*) => {
        /// A stable, documented machine code for an API error (`"amount_too_small"`).
        /// Clients may branch on it; the accompanying message is for people.
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum ErrorCode {
            $($(#[doc = $doc])* $variant,)*
        }

        impl ErrorCode {
            /// Every code.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The wire string, e.g. `"amount_too_small"`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                }
            }

            /// Parses [`ErrorCode::as_str`]'s form (a stored code).
            pub fn parse(s: &str) -> Option<ErrorCode> {
                match s {
                    $($code => Some(ErrorCode::$variant),)*
                    _ => None,
                }
            }

            /// The HTTP status the server answers with for this code.
            pub const fn http_status(self) -> u16 {
                match self {
                    $(ErrorCode::$variant => $status,)*
                }
            }
        }
    };
}

error_codes! {
    /// The request is malformed in a way no more specific code describes.
    InvalidRequest = "invalid_request", 400;
    /// The body is not valid JSON or not the expected shape.
    InvalidJson = "invalid_json", 400;
    /// The amount is not a number, not positive, has too many decimals or overflows.
    InvalidAmount = "invalid_amount", 400;
    /// The currency code is not one Stripe charges in, or currencies differ.
    InvalidCurrency = "invalid_currency", 400;
    /// The amount is below Stripe's minimum charge for the currency.
    AmountTooSmall = "amount_too_small", 400;
    /// The amount is above Stripe's maximum charge for the currency.
    AmountTooLarge = "amount_too_large", 400;
    /// The amount is not a multiple of the currency's step (KWD last digit, whole ISK).
    InvalidAmountStep = "invalid_amount_step", 400;
    /// The email address is not usable for a receipt.
    InvalidEmail = "invalid_email", 400;
    /// The card token is not a `pm_...` id, or Stripe does not know it.
    InvalidPaymentMethod = "invalid_payment_method", 400;
    /// A pay request without an `Idempotency-Key` header.
    MissingIdempotencyKey = "missing_idempotency_key", 400;
    /// An `Idempotency-Key` reused with a different request body.
    IdempotencyConflict = "idempotency_conflict", 409;
    /// The publishable key is empty or malformed.
    InvalidPublishableKey = "invalid_publishable_key", 400;
    /// The secret or restricted key is empty or malformed, or Stripe rejected it.
    InvalidSecretKey = "invalid_secret_key", 400;
    /// A publishable key was pasted into the secret key field.
    PublishableKeyInSecretField = "publishable_key_in_secret_field", 400;
    /// A secret or restricted key was pasted into the publishable key field.
    SecretKeyInPublishableField = "secret_key_in_publishable_field", 400;
    /// One key is a test key, the other a live key.
    MixedKeyModes = "mixed_key_modes", 400;
    /// The keys' mode does not fit the integration's mode (test keys in Live mode).
    KeyModeMismatch = "key_mode_mismatch", 400;
    /// A pasted key has a space or line break inside it.
    KeyContainsWhitespace = "key_contains_whitespace", 400;
    /// A pasted key does not start with a prefix Stripe uses for that field.
    UnknownKeyPrefix = "unknown_key_prefix", 400;
    /// The webhook signing secret is empty or malformed.
    InvalidWebhookSecret = "invalid_webhook_secret", 400;
    /// No checkout has this token.
    CheckoutNotFound = "checkout_not_found", 404;
    /// The checkout expired before it was paid.
    CheckoutExpired = "checkout_expired", 410;
    /// The checkout is already paid.
    CheckoutAlreadyPaid = "checkout_already_paid", 409;
    /// The merchant canceled the checkout.
    CheckoutCanceled = "checkout_canceled", 410;
    /// The merchant's online payments are off or its integration is not active.
    PaymentsUnavailable = "payments_unavailable", 409;
    /// The card issuer declined the payment (see `decline_code`).
    CardDeclined = "card_declined", 402;
    /// The merchant does not accept this card brand.
    CardBrandNotAccepted = "card_brand_not_accepted", 402;
    /// The checkout does not offer this way to pay (a type the merchant did not choose, or
    /// one the checkout's currency, amount or capture rules out; a wallet where wallets are
    /// off; saving for later a method that cannot be charged again).
    PaymentMethodNotOffered = "payment_method_not_offered", 402;
    /// The bank asked for 3-D Secure and it was not completed.
    AuthenticationRequired = "authentication_required", 402;
    /// The checkout had too many declined cards and takes no more payments (card testing).
    CheckoutLocked = "checkout_locked", 403;
    /// The merchant had too many declined payments just now: its payments are paused for a
    /// few minutes (card testing).
    PaymentsPaused = "payments_paused", 429;
    /// Another payment attempt for this checkout is still in flight.
    PaymentInProgress = "payment_in_progress", 409;
    /// Stripe could not be reached or timed out; trying again later may work.
    StripeUnavailable = "stripe_unavailable", 503;
    /// Stripe answered with an error not covered by a more specific code.
    StripeError = "stripe_error", 502;
    /// A refund larger than what remains refundable.
    RefundExceedsRemaining = "refund_exceeds_remaining", 409;
    /// Cancellation fees above the amount the client agreed to when saving the card (one fee,
    /// or all of a checkout's fees together).
    FeeExceedsConsent = "fee_exceeds_consent", 409;
    /// A capture on a checkout with no authorised, uncaptured payment.
    NothingToCapture = "nothing_to_capture", 409;
    /// Missing or wrong bearer token or session.
    Unauthorized = "unauthorized", 401;
    /// The request's `Origin` is not one of the merchant's registered origins.
    ForbiddenOrigin = "forbidden_origin", 403;
    /// Too many requests; retry after the `Retry-After` delay.
    RateLimited = "rate_limited", 429;
    /// No such resource.
    NotFound = "not_found", 404;
    /// The request conflicts with the resource's current state.
    Conflict = "conflict", 409;
    /// The request body is larger than the endpoint accepts.
    PayloadTooLarge = "payload_too_large", 413;
    /// A webhook whose `Stripe-Signature` is missing, malformed, wrong or stale.
    InvalidSignature = "invalid_signature", 400;
    /// An unexpected failure on the server; details are in its log, not here.
    InternalError = "internal_error", 500;
    /// Stripe says the secret or restricted key was revoked or has expired.
    ApiKeyExpired = "api_key_expired", 400;
    /// A restricted key lacks a permission slotpay needs; the message names it.
    KeyMissingPermission = "key_missing_permission", 400;
    /// The key cannot register a webhook endpoint: paste the endpoint's signing secret.
    WebhookSecretRequired = "webhook_secret_required", 409;
    /// An allowed origin is not an `http(s)://host[:port]` origin.
    InvalidOrigin = "invalid_origin", 400;
    /// A prepayment rule that cannot apply to the price (a percentage outside 1 to 100, a
    /// deposit larger than the price).
    InvalidPrepayment = "invalid_prepayment", 400;
    /// An uploaded logo that is empty, is not a PNG, JPEG, WebP or GIF image (decided by its
    /// first bytes: SVG is refused, as it can carry script), or was sent as another type than
    /// it is.
    InvalidLogo = "invalid_logo", 400;
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An API error as clients see it: a stable `code`, a `message` for people, and the
/// request parameter it is about. Wrapped in [`ErrorBody`] on the wire.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ApiError {
    /// The machine code.
    pub code: ErrorCode,
    /// A sentence for people, in English.
    pub message: String,
    /// The request parameter at fault (`"amount"`, `"email"`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
    /// Stripe's `decline_code` for [`ErrorCode::CardDeclined`] (`"insufficient_funds"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decline_code: Option<String>,
}

impl ApiError {
    /// An error with a code and message, and no parameter.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
            param: None,
            decline_code: None,
        }
    }

    /// The same error about request parameter `param`.
    pub fn with_param(mut self, param: impl Into<String>) -> ApiError {
        self.param = Some(param.into());
        self
    }

    /// The same error with Stripe's decline code.
    pub fn with_decline_code(mut self, decline_code: impl Into<String>) -> ApiError {
        self.decline_code = Some(decline_code.into());
        self
    }

    /// Wraps the error for the wire: `{"error": {...}}`.
    pub fn into_body(self) -> ErrorBody {
        ErrorBody { error: self }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

/// The body of every error response: `{"error": {"code": ..., "message": ..., "param": ...}}`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error.
    pub error: ApiError,
}
