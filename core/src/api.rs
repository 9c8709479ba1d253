//! The wire types of slotpay's public HTTP API, shared by the widget and the server so they
//! cannot drift: the checkout's public view, the pay request and answer, and the small
//! domain enums they carry (status, mode, card brand, locale). Error codes and the error
//! body are in [`crate::error`]. Every field that carries a rule is a type that checks it when
//! deserialised.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::appearance::Appearance;
use crate::error::{ApiError, ErrorCode};
use crate::keys::KeyMode;
use crate::methods::MethodType;
use crate::money::Money;

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> ApiError {
        ApiError::new(e.code(), e.to_string()).with_param(e.param())
    }
}

/// A value of the public API that does not follow its rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    /// Not `cs_` followed by 24 to 64 letters, digits, `-` or `_`.
    #[error("not a checkout token")]
    CheckoutToken,
    /// Not `pm_` followed by letters, digits or `_`.
    #[error("not a card token (pm_...)")]
    PaymentMethod,
    /// Not a usable email address.
    #[error("enter an email address such as name@example.com")]
    Email,
    /// Not four digits.
    #[error("not the last 4 digits of a card")]
    Last4,
    /// Not a colour written `#rrggbb`.
    #[error("not a colour written #rrggbb")]
    BrandColor,
    /// Not an http or https URL.
    #[error("not the address of a page (http:// or https://)")]
    ReturnUrl,
}

impl FieldError {
    /// The stable machine code for this error. A malformed token is reported as an
    /// unknown checkout: to a client both are a checkout that does not exist.
    pub fn code(&self) -> ErrorCode {
        match self {
            FieldError::CheckoutToken => ErrorCode::CheckoutNotFound,
            FieldError::PaymentMethod => ErrorCode::InvalidPaymentMethod,
            FieldError::Email => ErrorCode::InvalidEmail,
            FieldError::Last4 | FieldError::BrandColor | FieldError::ReturnUrl => {
                ErrorCode::InvalidRequest
            }
        }
    }

    /// The request parameter holding the value.
    pub fn param(&self) -> &'static str {
        match self {
            FieldError::CheckoutToken => "token",
            FieldError::PaymentMethod => "payment_method",
            FieldError::Email => "email",
            FieldError::Last4 => "last4",
            FieldError::BrandColor => "brand_color",
            FieldError::ReturnUrl => "return_url",
        }
    }
}

/// Implements `as_str`, `Display`, `FromStr`, `TryFrom<String>` and `Into<String>` for a
/// validated string newtype whose `parse` returns `Result<Self, FieldError>`.
macro_rules! string_newtype {
    ($ty:ident, $pattern:literal, $example:literal) => {
        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $ty {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                crate::openapi::string(Some($pattern), $example)
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $ty {}

        impl $ty {
            /// The value as a string.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $ty {
            type Err = FieldError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $ty::parse(s)
            }
        }

        impl TryFrom<String> for $ty {
            type Error = FieldError;

            fn try_from(s: String) -> Result<Self, Self::Error> {
                $ty::parse(&s)
            }
        }

        impl From<$ty> for String {
            fn from(v: $ty) -> String {
                v.0
            }
        }
    };
}

/// The public, unguessable handle of a checkout: `cs_` followed by 24 to 64 URL-safe
/// characters (`A-Z a-z 0-9 - _`). It appears in payment-link URLs.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CheckoutToken(String);

impl CheckoutToken {
    /// Parses a token.
    pub fn parse(s: &str) -> Result<CheckoutToken, FieldError> {
        let body = s.strip_prefix("cs_").ok_or(FieldError::CheckoutToken)?;
        let url_safe = body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if (24..=64).contains(&body.len()) && url_safe {
            Ok(CheckoutToken(s.to_owned()))
        } else {
            Err(FieldError::CheckoutToken)
        }
    }

    /// A token from 24 random bytes (the caller's CSPRNG), as `cs_` + 48 hex digits.
    pub fn from_random_bytes(bytes: [u8; 24]) -> CheckoutToken {
        CheckoutToken(format!("cs_{}", hex::encode(bytes)))
    }
}

string_newtype!(
    CheckoutToken,
    "^cs_[A-Za-z0-9_-]{24,64}$",
    "cs_6f1c0e9a2b7d4c3e8f5a1b2c3d4e5f6a7b8c9d0e1f2a3b4c"
);

/// A Stripe PaymentMethod id (`pm_...`), the card token Stripe.js gives the widget.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PaymentMethodId(String);

impl PaymentMethodId {
    /// Parses an id: `pm_` followed by 1 to 252 letters, digits or `_`.
    pub fn parse(s: &str) -> Result<PaymentMethodId, FieldError> {
        let body = s.strip_prefix("pm_").ok_or(FieldError::PaymentMethod)?;
        let ok = !body.is_empty()
            && s.len() <= 255
            && body.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if ok {
            Ok(PaymentMethodId(s.to_owned()))
        } else {
            Err(FieldError::PaymentMethod)
        }
    }
}

string_newtype!(
    PaymentMethodId,
    "^pm_[A-Za-z0-9_]{1,252}$",
    "pm_1QxYz2AbCdEfGhIjKlMnOpQr"
);

/// An email address for receipts: surrounding whitespace trimmed, at most 254 characters,
/// one `@` between a non-empty local part and a domain of non-empty dot-separated labels,
/// no whitespace or control characters. The domain's ASCII letters are lowercased (DNS
/// compares them case-insensitively; folding the case of other letters is IDNA's business);
/// the local part is kept as typed (it may be case-sensitive).
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// Parses and normalises an address.
    pub fn parse(s: &str) -> Result<Email, FieldError> {
        let s = s.trim();
        // `@` and `.` are ASCII: looked for as bytes, which needs less code in the
        // size-budgeted widget (which validates with this same function) than `char` patterns.
        let bytes = s.as_bytes();
        let at = bytes
            .iter()
            .position(|&b| b == b'@')
            .ok_or(FieldError::Email)?;
        let (local, domain) = bytes.split_at(at);
        let domain = &domain[1..];
        #[expect(
            clippy::manual_contains,
            reason = "`[u8]::contains` links a larger search into the size-budgeted widget"
        )]
        let ok = s.len() <= 254
            && !local.is_empty()
            && !domain.iter().any(|&b| b == b'@')
            && domain.iter().any(|&b| b == b'.')
            && domain.split(|&b| b == b'.').all(|label| !label.is_empty())
            && !s.chars().any(|c| c.is_whitespace() || c.is_control());
        if ok {
            // ASCII only: Unicode case tables and `str::to_lowercase`'s slicing panic would
            // add 25 KB to the size-budgeted widget; and no `format!`, which would link
            // `core::fmt` into it.
            let mut email = s.to_owned();
            if let Some(domain) = email.get_mut(at + 1..) {
                domain.make_ascii_lowercase();
            }
            Ok(Email(email))
        } else {
            Err(FieldError::Email)
        }
    }
}

string_newtype!(Email, "^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", "lea@example.com");

/// The page a client comes back to after approving a payment at their bank: an `http` or
/// `https` URL with a host, at most 2048 characters, no whitespace or control characters.
/// Whose page it may be (the merchant's origins, slotpay's own) is the server's rule.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ReturnUrl(String);

impl ReturnUrl {
    /// Parses a URL.
    pub fn parse(s: &str) -> Result<ReturnUrl, FieldError> {
        let rest = s
            .strip_prefix("https://")
            .or_else(|| s.strip_prefix("http://"))
            .ok_or(FieldError::ReturnUrl)?;
        let host_given = !rest.is_empty() && !rest.starts_with(['/', '?', '#']);
        let ok = host_given
            && s.len() <= 2048
            && !s.chars().any(|c| c.is_whitespace() || c.is_control());
        if ok {
            Ok(ReturnUrl(s.to_owned()))
        } else {
            Err(FieldError::ReturnUrl)
        }
    }
}

/// The address parameter that names the checkout on the page a bank sends the client back
/// to, so a page that creates its checkout when it loads shows the one the client paid.
pub const RETURN_CHECKOUT_PARAM: &str = "slotpay_checkout";

/// The parameters Stripe adds to a return URL (and slotpay's own), dropped from a page's
/// address before it becomes the next return URL.
const RETURN_PARAMS: [&str; 4] = [
    "payment_intent",
    "payment_intent_client_secret",
    "redirect_status",
    RETURN_CHECKOUT_PARAM,
];

impl ReturnUrl {
    /// The page at `page` (a browser's `location.href`) as the place to come back to for
    /// `checkout`: without its fragment and the parameters of an earlier return, with
    /// `slotpay_checkout={token}` added. `None` for a page that cannot be returned to (a
    /// `file:` page, an address over the length limit).
    pub fn back_to(page: &str, checkout: &CheckoutToken) -> Option<ReturnUrl> {
        let page = page.split('#').next().unwrap_or_default();
        let (path, query) = page.split_once('?').unwrap_or((page, ""));
        let mut url = path.to_owned();
        let mut sep = '?';
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let key = pair.split('=').next().unwrap_or_default();
            if !RETURN_PARAMS.contains(&key) {
                url.push(sep);
                url.push_str(pair);
                sep = '&';
            }
        }
        url.push(sep);
        url.push_str(RETURN_CHECKOUT_PARAM);
        url.push('=');
        url.push_str(checkout.as_str());
        ReturnUrl::parse(&url).ok()
    }
}

string_newtype!(
    ReturnUrl,
    "^https?://[^\\s/?#][^\\s]*$",
    "https://salon.example/book"
);

/// The last 4 digits of a card, for receipts.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Last4(String);

impl Last4 {
    /// Parses exactly four ASCII digits.
    pub fn parse(s: &str) -> Result<Last4, FieldError> {
        if s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Last4(s.to_owned()))
        } else {
            Err(FieldError::Last4)
        }
    }
}

string_newtype!(Last4, "^[0-9]{4}$", "4242");

/// A merchant's brand colour, `#rrggbb` (stored and sent in lowercase): the checkout's primary
/// colour (the Pay button, focus rings, Stripe's fields) unless the page sets its own.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BrandColor(String);

impl BrandColor {
    /// Parses `#` and six hex digits, in any case.
    pub fn parse(s: &str) -> Result<BrandColor, FieldError> {
        match s.as_bytes() {
            [b'#', hex @ ..] if hex.len() == 6 && hex.iter().all(u8::is_ascii_hexdigit) => {
                Ok(BrandColor(s.to_ascii_lowercase()))
            }
            _ => Err(FieldError::BrandColor),
        }
    }
}

string_newtype!(BrandColor, "^#[0-9a-fA-F]{6}$", "#2f6f5e");

/// The languages the widget speaks.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    /// English (the fallback).
    #[default]
    En,
    /// French.
    Fr,
    /// German.
    De,
    /// Spanish.
    Es,
}

impl Locale {
    /// Every locale.
    pub const ALL: &'static [Locale] = &[Locale::En, Locale::Fr, Locale::De, Locale::Es];

    /// The locale of a language tag, by its primary subtag, case-insensitively: `"fr"`,
    /// `"fr-FR"`, `"FR_ca"` are French. `None` for languages the widget does not speak;
    /// falling back to English is the caller's choice.
    pub fn parse(tag: &str) -> Option<Locale> {
        // Split as bytes rather than with a `char` pattern: the same split (both separators
        // are ASCII), and less code in the size-budgeted widget.
        let primary = tag.as_bytes().split(|&b| b == b'-' || b == b'_').next();
        let primary = primary.unwrap_or_default();
        Locale::ALL
            .iter()
            .copied()
            .find(|l| primary.eq_ignore_ascii_case(l.as_str().as_bytes()))
    }

    /// The two-letter code, e.g. `"fr"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Fr => "fr",
            Locale::De => "de",
            Locale::Es => "es",
        }
    }
}

/// A card brand, as Stripe's `card.brand` and Stripe.js's card element name it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CardBrand {
    /// Visa.
    Visa,
    /// Mastercard.
    Mastercard,
    /// American Express (`"amex"`).
    Amex,
    /// Discover.
    Discover,
    /// JCB.
    Jcb,
    /// Diners Club (`"diners"`).
    Diners,
    /// China UnionPay (`"unionpay"`).
    Unionpay,
    /// Any brand not listed (Stripe's own `"unknown"`, and brands it may add).
    #[serde(other)]
    Unknown,
}

impl CardBrand {
    /// The brands slotpay knows, `Unknown` last.
    pub const ALL: &'static [CardBrand] = &[
        CardBrand::Visa,
        CardBrand::Mastercard,
        CardBrand::Amex,
        CardBrand::Discover,
        CardBrand::Jcb,
        CardBrand::Diners,
        CardBrand::Unionpay,
        CardBrand::Unknown,
    ];

    /// Stripe's string, e.g. `"amex"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            CardBrand::Visa => "visa",
            CardBrand::Mastercard => "mastercard",
            CardBrand::Amex => "amex",
            CardBrand::Discover => "discover",
            CardBrand::Jcb => "jcb",
            CardBrand::Diners => "diners",
            CardBrand::Unionpay => "unionpay",
            CardBrand::Unknown => "unknown",
        }
    }

    /// The brand of one of Stripe's strings; anything unlisted is `Unknown`.
    pub fn from_stripe(s: &str) -> CardBrand {
        CardBrand::ALL
            .iter()
            .copied()
            .find(|b| b.as_str() == s)
            .unwrap_or(CardBrand::Unknown)
    }

    /// The brand's name for people, e.g. `"American Express"`.
    pub const fn display_name(self) -> &'static str {
        match self {
            CardBrand::Visa => "Visa",
            CardBrand::Mastercard => "Mastercard",
            CardBrand::Amex => "American Express",
            CardBrand::Discover => "Discover",
            CardBrand::Jcb => "JCB",
            CardBrand::Diners => "Diners Club",
            CardBrand::Unionpay => "UnionPay",
            CardBrand::Unknown => "Card",
        }
    }
}

/// A merchant's payment mode.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IntegrationMode {
    /// Online payment is hidden.
    Off,
    /// Test keys only; test cards work.
    Sandbox,
    /// Live keys only; real money.
    Live,
}

impl IntegrationMode {
    /// `"off"`, `"sandbox"` or `"live"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            IntegrationMode::Off => "off",
            IntegrationMode::Sandbox => "sandbox",
            IntegrationMode::Live => "live",
        }
    }

    /// Parses [`IntegrationMode::as_str`]'s form.
    pub fn parse(s: &str) -> Option<IntegrationMode> {
        [
            IntegrationMode::Off,
            IntegrationMode::Sandbox,
            IntegrationMode::Live,
        ]
        .into_iter()
        .find(|m| m.as_str() == s)
    }

    /// The key mode this payment mode requires (`None` for `Off`, which charges nothing).
    pub const fn required_key_mode(self) -> Option<KeyMode> {
        match self {
            IntegrationMode::Off => None,
            IntegrationMode::Sandbox => Some(KeyMode::Test),
            IntegrationMode::Live => Some(KeyMode::Live),
        }
    }
}

/// Where a checkout is in its life. States only move forward (see
/// [`CheckoutStatus::can_transition_to`]), so late or repeated webhooks change nothing.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckoutStatus {
    /// Waiting for the client to pay.
    Open,
    /// A payment was submitted and Stripe is processing it.
    Processing,
    /// The bank asked for 3-D Secure; the widget is handling it.
    RequiresAction,
    /// The card was authorised; capture is pending (manual capture).
    Authorized,
    /// The money was captured.
    Paid,
    /// The last attempt failed; the client may try again.
    Failed,
    /// Part of the payment was refunded.
    PartiallyRefunded,
    /// The whole payment was refunded.
    Refunded,
    /// The checkout expired unpaid (or its authorisation lapsed).
    Expired,
    /// The merchant canceled it.
    Canceled,
}

impl CheckoutStatus {
    /// Every status.
    pub const ALL: &'static [CheckoutStatus] = &[
        CheckoutStatus::Open,
        CheckoutStatus::Processing,
        CheckoutStatus::RequiresAction,
        CheckoutStatus::Authorized,
        CheckoutStatus::Paid,
        CheckoutStatus::Failed,
        CheckoutStatus::PartiallyRefunded,
        CheckoutStatus::Refunded,
        CheckoutStatus::Expired,
        CheckoutStatus::Canceled,
    ];

    /// The wire string, e.g. `"requires_action"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            CheckoutStatus::Open => "open",
            CheckoutStatus::Processing => "processing",
            CheckoutStatus::RequiresAction => "requires_action",
            CheckoutStatus::Authorized => "authorized",
            CheckoutStatus::Paid => "paid",
            CheckoutStatus::Failed => "failed",
            CheckoutStatus::PartiallyRefunded => "partially_refunded",
            CheckoutStatus::Refunded => "refunded",
            CheckoutStatus::Expired => "expired",
            CheckoutStatus::Canceled => "canceled",
        }
    }

    /// Parses [`CheckoutStatus::as_str`]'s form (for storage).
    pub fn parse(s: &str) -> Option<CheckoutStatus> {
        CheckoutStatus::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == s)
    }

    /// Whether a checkout in `self` may move to `next`. Staying in the same state is
    /// allowed (a repeated event is a no-op). Otherwise states only move forward:
    /// - `open` → any state of an attempt (`processing`, `requires_action`, `authorized`,
    ///   `paid`, `failed`) or an end (`expired`, `canceled`);
    /// - `processing` and `requires_action` → each other, `authorized`, `paid`, `failed`,
    ///   `canceled`;
    /// - `failed` → `open` for a retry, or anything `open` could reach (a late success);
    /// - `authorized` → `paid` (captured), `canceled`, `expired` (authorisation lapsed);
    /// - `paid` → `partially_refunded`, `refunded`; `partially_refunded` → `refunded`;
    /// - `refunded`, `expired`, `canceled` are final; nothing paid goes back to `open`.
    pub fn can_transition_to(self, next: CheckoutStatus) -> bool {
        use CheckoutStatus::*;
        if self == next {
            return true;
        }
        match self {
            Open | Failed => matches!(
                next,
                Open | Processing
                    | RequiresAction
                    | Authorized
                    | Paid
                    | Failed
                    | Expired
                    | Canceled
            ),
            // Expired: a hold lapsed and its PaymentIntent was canceled at Stripe.
            Processing | RequiresAction => matches!(
                next,
                Processing | RequiresAction | Authorized | Paid | Failed | Canceled | Expired
            ),
            Authorized => matches!(next, Paid | Canceled | Expired),
            Paid => matches!(next, PartiallyRefunded | Refunded),
            PartiallyRefunded => next == Refunded,
            Refunded | Expired | Canceled => false,
        }
    }

    /// Whether a checkout in this state holds the client's money (paid or authorised,
    /// refunded or not).
    pub fn is_settled(self) -> bool {
        matches!(
            self,
            CheckoutStatus::Paid
                | CheckoutStatus::Authorized
                | CheckoutStatus::PartiallyRefunded
                | CheckoutStatus::Refunded
        )
    }

    /// True for states nothing can leave.
    pub fn is_final(self) -> bool {
        CheckoutStatus::ALL
            .iter()
            .all(|&next| next == self || !self.can_transition_to(next))
    }
}

impl fmt::Display for CheckoutStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The offer to save the card for later bookings, with the text the client consents to.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct SaveCardOffer {
    /// Shown next to the checkbox; the client agrees to exactly this.
    pub consent_text: String,
}

/// What the client sees after paying.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Receipt {
    /// How it was paid.
    pub method: MethodType,
    /// The card's brand, when a card paid (with `last4`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand: Option<CardBrand>,
    /// The card's last 4 digits, when a card paid (with `brand`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last4: Option<Last4>,
    /// The amount paid; on the wire as `amount` (minor units) and `currency`.
    #[serde(flatten)]
    pub amount: Money,
    /// The booking reference to quote to the merchant, when the platform gave one (absent
    /// otherwise: a PaymentIntent's id means nothing to a client).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// `GET /v1/checkouts/{token}`: everything the widget needs to show a checkout.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct CheckoutView {
    /// The checkout's token.
    pub token: CheckoutToken,
    /// Where it is in its life.
    pub status: CheckoutStatus,
    /// The merchant's name, shown as the payee.
    pub merchant_name: String,
    /// What is being paid for.
    pub description: String,
    /// The platform's booking reference, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booking_ref: Option<String>,
    /// The amount to pay; on the wire as `amount` (minor units) and `currency`.
    #[serde(flatten)]
    pub amount: Money,
    /// Stripe's minimum charge in the checkout's currency, in minor units, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_amount: Option<i64>,
    /// The merchant's publishable key, for Stripe.js (publishable keys are not secret).
    pub publishable_key: String,
    /// Where to load Stripe.js from.
    pub stripe_js_url: String,
    /// The merchant's payment mode.
    pub mode: IntegrationMode,
    /// The card brands the merchant accepts.
    pub card_brands: Vec<CardBrand>,
    /// The ways to pay this checkout offers: card always, the others as the checkout's
    /// currency, amount and capture allow.
    pub payment_methods: Vec<MethodType>,
    /// Whether card payments may come from wallets (Apple Pay, Google Pay).
    pub wallets: bool,
    /// The widget's language.
    pub locale: Locale,
    /// The save-card offer, when the merchant makes one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub save_card: Option<SaveCardOffer>,
    /// A prefilled email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Email>,
    /// When the checkout expires (unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// The receipt, once paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<Receipt>,
    /// The merchant's brand colour, when it set one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand_color: Option<BrandColor>,
    /// The merchant's corners, font and light or dark, where it chose them.
    #[serde(default, skip_serializing_if = "Appearance::is_default")]
    pub appearance: Appearance,
}

/// `POST /v1/checkouts/{token}/pay`: the card token and receipt address.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayRequest {
    /// The PaymentMethod Stripe.js created.
    pub payment_method: PaymentMethodId,
    /// Where the receipt goes.
    pub email: Email,
    /// Whether the client accepted the save-card offer.
    #[serde(default)]
    pub save_card: bool,
    /// Where the client comes back after approving the payment at their bank (iDEAL,
    /// Bancontact): a page of one of the merchant's origins, or slotpay's payment-link page.
    /// Required for those methods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_url: Option<ReturnUrl>,
}

/// The outcome of a pay (or refresh) request.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PayStatus {
    /// Paid (or authorised, for manual capture).
    Succeeded,
    /// The client must act: 3-D Secure (`stripe.confirmCardPayment(client_secret)`) or approve
    /// at their bank (`stripe.handleNextAction({clientSecret})`, back at `return_url`); then
    /// refresh.
    RequiresAction,
    /// Not settled yet: a SEPA Debit's outcome comes days later, with Stripe's webhook.
    Processing,
    /// Not paid; `error` says why, and the client may try again.
    Failed,
}

/// The answer to `POST /v1/checkouts/{token}/pay` and `.../refresh`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct PayResponse {
    /// The outcome.
    pub status: PayStatus,
    /// The PaymentIntent's client secret, only with `requires_action`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// Why it failed, with `failed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ApiError>,
    /// The receipt, with `succeeded`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<Receipt>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_urls_are_http_pages() {
        for good in [
            "https://salon.example/book?slot=9#pay",
            "http://127.0.0.1:8080/pay/cs_abc",
        ] {
            assert_eq!(ReturnUrl::parse(good).unwrap().as_str(), good);
        }
        for bad in [
            "",
            "salon.example/book",
            "javascript:alert(1)",
            "https://",
            "https:///path",
            "https://salon.example/a b",
            "https://salon.example/\u{7}",
            "ftp://salon.example/",
        ] {
            assert_eq!(ReturnUrl::parse(bad), Err(FieldError::ReturnUrl), "{bad:?}");
        }
        assert!(ReturnUrl::parse(&format!("https://s.example/{}", "a".repeat(2100))).is_err());
    }
    use crate::Currency;
    use serde_json::{json, Value};

    fn token() -> CheckoutToken {
        CheckoutToken::parse("cs_abcdefghijklmnopqrstuvwx").unwrap()
    }

    #[test]
    fn the_page_to_come_back_to_names_the_checkout_and_drops_an_earlier_return() {
        let token = CheckoutToken::parse("cs_abcdefghijklmnopqrstuvwx").unwrap();
        let back = |page: &str| ReturnUrl::back_to(page, &token).map(|u| u.as_str().to_owned());
        assert_eq!(
            back("https://salon.example/book").as_deref(),
            Some("https://salon.example/book?slotpay_checkout=cs_abcdefghijklmnopqrstuvwx")
        );
        assert_eq!(
            back("https://salon.example/book?service=svc_1&payment_intent=pi_1&redirect_status=failed&slotpay_checkout=cs_old#form")
                .as_deref(),
            Some("https://salon.example/book?service=svc_1&slotpay_checkout=cs_abcdefghijklmnopqrstuvwx")
        );
        assert_eq!(back("file:///tmp/page.html"), None);
    }

    fn receipt() -> Receipt {
        Receipt {
            method: MethodType::Card,
            brand: Some(CardBrand::Visa),
            last4: Some(Last4::parse("4242").unwrap()),
            amount: Money::from_minor(2500, Currency::Eur),
            reference: Some("BK-1042".into()),
        }
    }

    fn view() -> CheckoutView {
        CheckoutView {
            token: token(),
            status: CheckoutStatus::Open,
            merchant_name: "Salon Léa".into(),
            description: "Haircut, Tue 14:00".into(),
            booking_ref: Some("BK-1042".into()),
            amount: Money::from_minor(2500, Currency::Eur),
            minimum_amount: Some(50),
            publishable_key: "pk_test_abcdefgh".into(),
            stripe_js_url: "https://js.stripe.com/v3/".into(),
            mode: IntegrationMode::Sandbox,
            card_brands: vec![CardBrand::Visa, CardBrand::Mastercard],
            payment_methods: vec![MethodType::Card],
            wallets: true,
            locale: Locale::Fr,
            save_card: Some(SaveCardOffer {
                consent_text: "Save my card".into(),
            }),
            email: Some(Email::parse("lea@example.com").unwrap()),
            expires_at: Some(1_800_000_000),
            receipt: None,
            brand_color: Some(BrandColor::parse("#2F6F5E").unwrap()),
            appearance: Appearance::default(),
        }
    }

    #[test]
    fn brand_colors_are_six_hex_digits() {
        assert_eq!(BrandColor::parse("#2F6f5e").unwrap().as_str(), "#2f6f5e");
        for bad in [
            "2f6f5e", "#2f6f5", "#2f6f5e0", "#2g6f5e", "", "#", "red", "#2f6f5e;",
        ] {
            assert_eq!(BrandColor::parse(bad), Err(FieldError::BrandColor), "{bad}");
        }
        let json = serde_json::to_value(view()).unwrap();
        assert_eq!(json["brand_color"], "#2f6f5e");
        let mut odd = json.clone();
        odd["brand_color"] = Value::String("url(x)".into());
        assert!(serde_json::from_value::<CheckoutView>(odd).is_err());
    }

    fn round_trip<T: Serialize + serde::de::DeserializeOwned + PartialEq + fmt::Debug>(v: &T) {
        let text = serde_json::to_string(v).unwrap();
        let back: T = serde_json::from_str(&text).unwrap();
        assert_eq!(&back, v, "{text}");
    }

    #[test]
    fn error_codes_are_stable_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for &code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "duplicate {code}");
            let json = serde_json::to_value(code).unwrap();
            assert_eq!(json, Value::String(code.as_str().into()));
            assert_eq!(serde_json::from_value::<ErrorCode>(json).unwrap(), code);
            assert!(code
                .as_str()
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_'));
            assert!((400..600).contains(&code.http_status()), "{code}");
        }
        for required in [
            "invalid_request",
            "invalid_json",
            "invalid_amount",
            "invalid_currency",
            "amount_too_small",
            "amount_too_large",
            "invalid_amount_step",
            "invalid_email",
            "invalid_payment_method",
            "missing_idempotency_key",
            "idempotency_conflict",
            "invalid_publishable_key",
            "invalid_secret_key",
            "publishable_key_in_secret_field",
            "secret_key_in_publishable_field",
            "mixed_key_modes",
            "key_mode_mismatch",
            "key_contains_whitespace",
            "unknown_key_prefix",
            "invalid_webhook_secret",
            "checkout_not_found",
            "checkout_expired",
            "checkout_already_paid",
            "checkout_canceled",
            "payments_unavailable",
            "card_declined",
            "card_brand_not_accepted",
            "payment_method_not_offered",
            "authentication_required",
            "payment_in_progress",
            "stripe_unavailable",
            "stripe_error",
            "refund_exceeds_remaining",
            "nothing_to_capture",
            "unauthorized",
            "forbidden_origin",
            "rate_limited",
            "not_found",
            "conflict",
            "invalid_signature",
            "internal_error",
        ] {
            assert!(seen.contains(required), "{required}");
        }
        assert!(serde_json::from_str::<ErrorCode>(r#""made_up""#).is_err());
        assert_eq!(ErrorCode::CheckoutNotFound.http_status(), 404);
        assert_eq!(ErrorCode::RateLimited.http_status(), 429);
    }

    #[test]
    fn error_body_shape() {
        let err: ApiError = crate::check_chargeable(Money::from_minor(49, Currency::Usd))
            .unwrap_err()
            .into();
        let body = serde_json::to_value(err.clone().into_body()).unwrap();
        assert_eq!(
            body,
            json!({"error": {"code": "amount_too_small",
                "message": "Your payment must be no less than 0.50 USD", "param": "amount"}})
        );
        round_trip(&err.into_body());
        let declined = ApiError::new(ErrorCode::CardDeclined, "Your card was declined.")
            .with_decline_code("insufficient_funds");
        assert_eq!(
            serde_json::to_value(&declined).unwrap(),
            json!({"code": "card_declined", "message": "Your card was declined.",
                "decline_code": "insufficient_funds"})
        );
        let key: ApiError = crate::ServerKey::parse("pk_test_abcdefgh")
            .unwrap_err()
            .into();
        assert_eq!(key.code, ErrorCode::PublishableKeyInSecretField);
        assert_eq!(key.param.as_deref(), Some("secret_key"));
    }

    #[test]
    fn tokens() {
        assert!(CheckoutToken::parse(&format!("cs_{}", "a".repeat(24))).is_ok());
        assert!(CheckoutToken::parse(&format!("cs_{}", "A-_9".repeat(16))).is_ok());
        for bad in [
            format!("cs_{}", "a".repeat(23)),
            format!("cs_{}", "a".repeat(65)),
            format!("cx_{}", "a".repeat(30)),
            format!("cs_{}/", "a".repeat(30)),
            format!("cs_{}é", "a".repeat(30)),
            String::new(),
        ] {
            assert_eq!(CheckoutToken::parse(&bad), Err(FieldError::CheckoutToken));
        }
        let t = CheckoutToken::from_random_bytes([0xab; 24]);
        assert_eq!(CheckoutToken::parse(t.as_str()), Ok(t.clone()));
        assert_eq!(t.as_str().len(), 51);
        assert_eq!(
            FieldError::CheckoutToken.code(),
            ErrorCode::CheckoutNotFound
        );
    }

    #[test]
    fn payment_method_ids() {
        assert!(PaymentMethodId::parse("pm_1NqLyj2eZvKYlo2C_card").is_ok());
        for bad in ["pm_", "pm", "pi_123", "pm_12 3", "pm_abc-d", "PM_abc"] {
            assert_eq!(
                PaymentMethodId::parse(bad),
                Err(FieldError::PaymentMethod),
                "{bad}"
            );
        }
        assert!(PaymentMethodId::parse(&format!("pm_{}", "a".repeat(253))).is_err());
    }

    #[test]
    fn emails() {
        let e = Email::parse("  Lea.Martin+rdv@Example.COM \n").unwrap();
        assert_eq!(e.as_str(), "Lea.Martin+rdv@example.com");
        assert!(Email::parse("a@b.co").is_ok());
        assert!(Email::parse("jürgen@bücher.de").is_ok());
        // ASCII letters of the domain are lowercased, other letters kept as typed.
        assert_eq!(
            Email::parse("Jürgen@BÜCHER.De").unwrap().as_str(),
            "Jürgen@bÜcher.de"
        );
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@b",
            "a@@b.com",
            "a@b@c.com",
            "a b@c.com",
            "a@b .com",
            "a@.com",
            "a@b.",
            "a@b..com",
            "a\u{0}@b.com",
        ] {
            assert_eq!(Email::parse(bad), Err(FieldError::Email), "{bad:?}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(Email::parse(&long), Err(FieldError::Email));
        assert_eq!(FieldError::Email.code(), ErrorCode::InvalidEmail);
    }

    #[test]
    fn locales() {
        assert_eq!(Locale::parse("fr"), Some(Locale::Fr));
        assert_eq!(Locale::parse("fr-FR"), Some(Locale::Fr));
        assert_eq!(Locale::parse("FR_ca"), Some(Locale::Fr));
        assert_eq!(Locale::parse("de-AT"), Some(Locale::De));
        assert_eq!(Locale::parse("es"), Some(Locale::Es));
        assert_eq!(Locale::parse("EN-gb"), Some(Locale::En));
        assert_eq!(Locale::parse("it"), None);
        assert_eq!(Locale::parse("fra"), None);
        assert_eq!(Locale::parse(""), None);
        assert_eq!(Locale::default(), Locale::En);
        assert_eq!(serde_json::to_string(&Locale::De).unwrap(), r#""de""#);
    }

    #[test]
    fn card_brands() {
        let brands: Vec<CardBrand> =
            serde_json::from_str(r#"["visa","amex","diners","unionpay","eftpos_au"]"#).unwrap();
        assert_eq!(
            brands,
            [
                CardBrand::Visa,
                CardBrand::Amex,
                CardBrand::Diners,
                CardBrand::Unionpay,
                CardBrand::Unknown
            ]
        );
        for &b in CardBrand::ALL {
            assert_eq!(
                serde_json::to_value(b).unwrap(),
                Value::String(b.as_str().into())
            );
            assert_eq!(CardBrand::from_stripe(b.as_str()), b);
        }
        assert_eq!(
            CardBrand::from_stripe("cartes_bancaires"),
            CardBrand::Unknown
        );
    }

    #[test]
    fn integration_modes() {
        assert_eq!(
            IntegrationMode::Sandbox.required_key_mode(),
            Some(KeyMode::Test)
        );
        assert_eq!(
            IntegrationMode::Live.required_key_mode(),
            Some(KeyMode::Live)
        );
        assert_eq!(IntegrationMode::Off.required_key_mode(), None);
        for m in [
            IntegrationMode::Off,
            IntegrationMode::Sandbox,
            IntegrationMode::Live,
        ] {
            assert_eq!(IntegrationMode::parse(m.as_str()), Some(m));
            assert_eq!(
                serde_json::to_value(m).unwrap(),
                Value::String(m.as_str().into())
            );
        }
        assert!(serde_json::from_str::<IntegrationMode>(r#""test""#).is_err());
    }

    #[test]
    fn statuses_only_move_forward() {
        use CheckoutStatus::*;
        let allowed = [
            (Open, Processing),
            (Open, Paid),
            (Open, Expired),
            (Failed, Open),
            (Failed, Paid),
            (Processing, RequiresAction),
            (RequiresAction, Failed),
            (Authorized, Paid),
            (Authorized, Canceled),
            (Authorized, Expired),
            (Paid, PartiallyRefunded),
            (Paid, Refunded),
            (PartiallyRefunded, Refunded),
            (Paid, Paid),
        ];
        for (from, to) in allowed {
            assert!(from.can_transition_to(to), "{from} -> {to}");
        }
        let refused = [
            (Paid, Open),
            (Paid, Failed),
            (Paid, Processing),
            (Refunded, Paid),
            (PartiallyRefunded, Paid),
            (Expired, Open),
            (Canceled, Open),
            (Authorized, Open),
            (Processing, Open),
            (Open, Refunded),
            (Failed, Refunded),
        ];
        for (from, to) in refused {
            assert!(!from.can_transition_to(to), "{from} -> {to}");
        }
        // Nothing that holds money goes back to a state without it.
        for &from in &[Paid, PartiallyRefunded, Refunded] {
            for &to in &[Open, Processing, RequiresAction, Failed, Authorized] {
                assert!(!from.can_transition_to(to), "{from} -> {to}");
            }
        }
        let finals: Vec<_> = CheckoutStatus::ALL
            .iter()
            .filter(|s| s.is_final())
            .collect();
        assert_eq!(finals, [&Refunded, &Expired, &Canceled]);
        for &s in CheckoutStatus::ALL {
            assert_eq!(CheckoutStatus::parse(s.as_str()), Some(s));
            assert_eq!(
                serde_json::to_value(s).unwrap(),
                Value::String(s.as_str().into())
            );
        }
    }

    #[test]
    fn checkout_view_round_trip_and_shape() {
        let v = view();
        round_trip(&v);
        let json = serde_json::to_value(&v).unwrap();
        assert_eq!(json["amount"], 2500);
        assert_eq!(json["currency"], "eur");
        assert_eq!(json["status"], "open");
        assert_eq!(json["mode"], "sandbox");
        assert_eq!(json["locale"], "fr");
        assert_eq!(json["card_brands"], json!(["visa", "mastercard"]));
        assert!(json.get("receipt").is_none());

        let mut paid = view();
        paid.status = CheckoutStatus::Paid;
        paid.receipt = Some(receipt());
        paid.save_card = None;
        round_trip(&paid);
        let json = serde_json::to_value(&paid).unwrap();
        assert_eq!(
            json["receipt"],
            json!({"method": "card", "brand": "visa", "last4": "4242", "amount": 2500, "currency": "eur",
                "reference": "BK-1042"})
        );
        // Without a booking reference, none is sent.
        paid.receipt.as_mut().unwrap().reference = None;
        round_trip(&paid);
        let json = serde_json::to_value(&paid).unwrap();
        assert!(json["receipt"].get("reference").is_none(), "{json}");
    }

    #[test]
    fn checkout_view_rejects_invalid_values() {
        let good = serde_json::to_value(view()).unwrap();
        for (field, bad) in [
            ("token", json!("cs_short")),
            ("currency", json!("eurx")),
            ("amount", json!("25.00")),
            ("status", json!("done")),
            ("mode", json!("test")),
            ("locale", json!("it")),
            ("email", json!("not-an-email")),
        ] {
            let mut v = good.clone();
            v[field] = bad;
            assert!(
                serde_json::from_value::<CheckoutView>(v).is_err(),
                "{field} accepted"
            );
        }
        let mut v = good.clone();
        v["receipt"] = json!({"brand": "visa", "last4": "42", "amount": 1, "currency": "eur",
            "reference": "x"});
        assert!(serde_json::from_value::<CheckoutView>(v).is_err());
    }

    #[test]
    fn pay_request() {
        let req: PayRequest = serde_json::from_value(
            json!({"payment_method": "pm_card_visa", "email": " a@Example.com"}),
        )
        .unwrap();
        assert_eq!(req.payment_method.as_str(), "pm_card_visa");
        assert_eq!(req.email.as_str(), "a@example.com");
        assert!(!req.save_card);
        round_trip(&req);
        for bad in [
            json!({"payment_method": "tok_visa", "email": "a@b.co"}),
            json!({"payment_method": "pm_card_visa", "email": "ab.co"}),
            json!({"payment_method": "pm_card_visa"}),
            json!({"email": "a@b.co"}),
            json!({"payment_method": "pm_card_visa", "email": "a@b.co", "save_card": "yes"}),
            json!({"payment_method": "pm_card_visa", "email": "a@b.co", "amount": 1}),
        ] {
            assert!(
                serde_json::from_value::<PayRequest>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn pay_response() {
        let action = PayResponse {
            status: PayStatus::RequiresAction,
            client_secret: Some("pi_123_secret_456".into()),
            error: None,
            receipt: None,
        };
        round_trip(&action);
        assert_eq!(
            serde_json::to_value(&action).unwrap(),
            json!({"status": "requires_action", "client_secret": "pi_123_secret_456"})
        );
        let failed = PayResponse {
            status: PayStatus::Failed,
            client_secret: None,
            error: Some(ApiError::new(
                ErrorCode::CardDeclined,
                "Your card was declined.",
            )),
            receipt: None,
        };
        round_trip(&failed);
        let ok = PayResponse {
            status: PayStatus::Succeeded,
            client_secret: None,
            error: None,
            receipt: Some(receipt()),
        };
        round_trip(&ok);
        assert!(serde_json::from_value::<PayResponse>(json!({"status": "done"})).is_err());
    }
}
