//! The Stripe objects slotpay reads (only the fields it uses), Stripe's form encoding with
//! its bracket syntax, and idempotency keys.

use std::fmt;

use secrecy::SecretString;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use slotpay_core::{Currency, MethodType, Money};

/// Declares one of Stripe's string enums: the values slotpay acts on, plus `Unknown` with
/// whatever else Stripe sends (a value added after this code was written). An unknown value
/// is logged when it is parsed and kept as it came; code that meets it treats it as news it
/// cannot act on, never as the nearest known value.
macro_rules! stripe_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $($(#[doc = $doc:literal])* $variant:ident = $wire:literal,)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Debug)]
        pub enum $name {
            $($(#[doc = $doc])* $variant,)*
            /// A value slotpay does not know, as Stripe sent it.
            Unknown(String),
        }

        impl $name {
            /// Stripe's string.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $wire,)*
                    $name::Unknown(other) => other,
                }
            }

            /// Parses Stripe's string; anything else is logged and kept as `Unknown`.
            pub fn parse(s: &str) -> $name {
                match s {
                    $($wire => $name::$variant,)*
                    other => {
                        tracing::warn!(value = other, kind = stringify!($name), "Stripe sent a value slotpay does not know");
                        $name::Unknown(other.to_owned())
                    }
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                crate::schemas::open_enum(&[$($wire,)*])
            }
        }

        impl utoipa::ToSchema for $name {}

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<$name, D::Error> {
                let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
                Ok($name::parse(&s))
            }
        }
    };
}

stripe_enum! {
    /// Where a PaymentIntent is.
    pub enum PaymentIntentStatus {
        /// Waiting for a PaymentMethod (new, or after a failed attempt).
        RequiresPaymentMethod = "requires_payment_method",
        /// Has a PaymentMethod, not confirmed.
        RequiresConfirmation = "requires_confirmation",
        /// The client must act (3-D Secure).
        RequiresAction = "requires_action",
        /// Stripe is processing it.
        Processing = "processing",
        /// Authorised, waiting for capture (manual capture).
        RequiresCapture = "requires_capture",
        /// Canceled.
        Canceled = "canceled",
        /// The money was taken.
        Succeeded = "succeeded",
    }
}

impl PaymentIntentStatus {
    /// Whether the PaymentIntent holds money (captured or authorised).
    pub fn holds_money(&self) -> bool {
        matches!(
            self,
            PaymentIntentStatus::Succeeded | PaymentIntentStatus::RequiresCapture
        )
    }

    /// Whether it is waiting for the client's (next) payment method: no attempt of it is
    /// in flight or done.
    pub fn awaits_payment_method(&self) -> bool {
        matches!(
            self,
            PaymentIntentStatus::RequiresPaymentMethod | PaymentIntentStatus::RequiresConfirmation
        )
    }
}

stripe_enum! {
    /// Why a PaymentIntent was canceled.
    pub enum CancellationReason {
        /// A duplicate.
        Duplicate = "duplicate",
        /// Fraud.
        Fraudulent = "fraudulent",
        /// The client asked for it (slotpay: staff released an authorisation).
        RequestedByCustomer = "requested_by_customer",
        /// Nobody will pay it (slotpay: an unpaid checkout canceled, a lapsed authorisation).
        Abandoned = "abandoned",
        /// An invoice failed.
        FailedInvoice = "failed_invoice",
        /// An invoice was voided.
        VoidInvoice = "void_invoice",
        /// Stripe canceled it itself (an authorisation that lapsed).
        Automatic = "automatic",
    }
}

stripe_enum! {
    /// `setup_future_usage`: how a PaymentMethod may be reused.
    pub enum SetupFutureUsage {
        /// Charged later without the client (a cancellation fee).
        OffSession = "off_session",
        /// Reused with the client present.
        OnSession = "on_session",
    }
}

stripe_enum! {
    /// Where a refund is at Stripe.
    pub enum RefundStatus {
        /// Not settled yet.
        Pending = "pending",
        /// The client must act (some payment methods).
        RequiresAction = "requires_action",
        /// Refunded.
        Succeeded = "succeeded",
        /// Failed.
        Failed = "failed",
        /// Canceled before it settled.
        Canceled = "canceled",
    }
}

stripe_enum! {
    /// Where a dispute is.
    pub enum DisputeStatus {
        /// An inquiry needing a response.
        WarningNeedsResponse = "warning_needs_response",
        /// An inquiry under review.
        WarningUnderReview = "warning_under_review",
        /// An inquiry closed without becoming a dispute.
        WarningClosed = "warning_closed",
        /// Evidence is due.
        NeedsResponse = "needs_response",
        /// The bank is deciding.
        UnderReview = "under_review",
        /// Decided for the merchant.
        Won = "won",
        /// Decided for the client.
        Lost = "lost",
        /// Prevented before it became a dispute.
        Prevented = "prevented",
    }
}

impl DisputeStatus {
    /// Whether nothing can change it any more.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            DisputeStatus::Won | DisputeStatus::Lost | DisputeStatus::WarningClosed
        )
    }
}

/// `GET /v1/account`.
#[derive(Clone, Debug, Deserialize)]
pub struct Account {
    /// `acct_...`.
    pub id: String,
    /// Two-letter country.
    pub country: Option<String>,
    /// The settlement currency (lowercase), which decides the minimum charge.
    pub default_currency: Option<String>,
    /// Whether the account can take charges.
    #[serde(default)]
    pub charges_enabled: Option<bool>,
}

/// A webhook endpoint. `secret` is only present in the creation's answer.
#[derive(Clone, Debug, Deserialize)]
pub struct WebhookEndpoint {
    /// `we_...`.
    pub id: String,
    /// Where Stripe sends events.
    pub url: String,
    /// The event types it receives.
    #[serde(default)]
    pub enabled_events: Vec<String>,
    /// The signing secret (`whsec_...`), on creation only.
    #[serde(default)]
    pub secret: Option<SecretString>,
}

/// An id, or the object itself when the request asked to `expand[]` it.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum Expandable<T> {
    /// The object's id.
    Id(String),
    /// The expanded object.
    Object(Box<T>),
}

impl<T: HasId> Expandable<T> {
    /// The id, whichever form it has.
    pub fn id(&self) -> &str {
        match self {
            Expandable::Id(id) => id,
            Expandable::Object(o) => o.id(),
        }
    }

    /// The object, when expanded.
    pub fn object(&self) -> Option<&T> {
        match self {
            Expandable::Id(_) => None,
            Expandable::Object(o) => Some(o),
        }
    }
}

/// Objects with an `id`.
pub trait HasId {
    /// The object's id.
    fn id(&self) -> &str;
}

/// A card's details, as PaymentMethods and charges show them.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct CardDetails {
    /// `visa`, `amex`, ... (`unknown` for brands Stripe cannot name).
    #[serde(default)]
    pub brand: Option<String>,
    /// Last 4 digits.
    #[serde(default)]
    pub last4: Option<String>,
    /// The wallet the card came from (Apple Pay, Google Pay, Link), if any.
    #[serde(default)]
    pub wallet: Option<Wallet>,
}

/// `card.wallet`: a card from a wallet.
#[derive(Clone, Debug, Deserialize)]
pub struct Wallet {
    /// `apple_pay`, `google_pay`, `link`, ... (an open set: kept as Stripe says it).
    #[serde(rename = "type")]
    pub kind: String,
}

/// A PaymentMethod's `type`: one slotpay offers, or another of Stripe's (kept as said).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(from = "String")]
pub enum PaymentMethodKind {
    /// `card`, `ideal`, `bancontact`, `sepa_debit`.
    Offered(MethodType),
    /// A type slotpay does not offer.
    Other(String),
}

impl From<String> for PaymentMethodKind {
    fn from(s: String) -> PaymentMethodKind {
        match MethodType::parse(&s) {
            Some(m) => PaymentMethodKind::Offered(m),
            None => PaymentMethodKind::Other(s),
        }
    }
}

/// A PaymentMethod (`pm_...`).
#[derive(Clone, Debug, Deserialize)]
pub struct PaymentMethod {
    /// `pm_...`.
    pub id: String,
    /// `card`, `ideal`, ...
    #[serde(rename = "type")]
    pub kind: PaymentMethodKind,
    /// The card.
    #[serde(default)]
    pub card: Option<CardDetails>,
    /// The Customer it is attached to.
    #[serde(default)]
    pub customer: Option<String>,
}

/// A payment method domain (`pmd_...`): a web domain registered so that Elements show the
/// wallets and Link there.
#[derive(Clone, Debug, Deserialize)]
pub struct PaymentMethodDomain {
    /// `pmd_...`.
    pub id: String,
    /// `salon.example`.
    pub domain_name: String,
    /// Whether Elements show the wallets there.
    pub enabled: bool,
    /// Apple Pay on this domain.
    pub apple_pay: DomainMethod,
    /// Google Pay on this domain.
    pub google_pay: DomainMethod,
    /// Link on this domain.
    pub link: DomainMethod,
}

/// One payment method on a payment method domain.
#[derive(Clone, Debug, Deserialize)]
pub struct DomainMethod {
    /// `active` or `inactive`.
    pub status: DomainMethodStatus,
    /// Why it is inactive.
    #[serde(default)]
    pub status_details: Option<DomainMethodDetails>,
}

/// Why a payment method is inactive on a domain.
#[derive(Clone, Debug, Deserialize)]
pub struct DomainMethodDetails {
    /// Stripe's explanation.
    #[serde(default)]
    pub error_message: Option<String>,
}

/// `active` / `inactive`, or a status slotpay does not know (kept as said, shown as is).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(from = "String")]
pub enum DomainMethodStatus {
    /// The method shows on the domain.
    Active,
    /// It does not (`status_details` says why).
    Inactive,
    /// Another status.
    Unknown(String),
}

impl From<String> for DomainMethodStatus {
    fn from(s: String) -> DomainMethodStatus {
        match s.as_str() {
            "active" => DomainMethodStatus::Active,
            "inactive" => DomainMethodStatus::Inactive,
            _ => DomainMethodStatus::Unknown(s),
        }
    }
}

/// A Customer (`cus_...`).
#[derive(Clone, Debug, Deserialize)]
pub struct Customer {
    /// `cus_...`.
    pub id: String,
}

/// The error of a PaymentIntent's last failed attempt.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct LastPaymentError {
    /// `card_declined`, `payment_intent_authentication_failure`, ...
    #[serde(default)]
    pub code: Option<String>,
    /// The issuer's reason.
    #[serde(default)]
    pub decline_code: Option<String>,
    /// Stripe's message.
    #[serde(default)]
    pub message: Option<String>,
    /// `card_error`, `invalid_request_error`.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
}

/// A PaymentIntent (`pi_...`). `client_secret` is not one of slotpay's secrets (the browser
/// gets it for 3-D Secure), but `Debug` leaves it out of logs all the same.
#[derive(Clone, Deserialize)]
pub struct PaymentIntent {
    /// `pi_...`.
    pub id: String,
    /// Where it is.
    pub status: PaymentIntentStatus,
    /// Amount in minor units.
    pub amount: i64,
    /// Still capturable (manual capture).
    #[serde(default)]
    pub amount_capturable: i64,
    /// Received (captured).
    #[serde(default)]
    pub amount_received: i64,
    /// Lowercase currency.
    pub currency: String,
    /// `automatic`, `automatic_async` or `manual`.
    #[serde(default)]
    pub capture_method: Option<String>,
    /// For Stripe.js's `confirmCardPayment`.
    #[serde(default)]
    pub client_secret: Option<String>,
    /// The latest charge, expanded when asked.
    #[serde(default)]
    pub latest_charge: Option<Expandable<Charge>>,
    /// Why the last attempt failed.
    #[serde(default)]
    pub last_payment_error: Option<LastPaymentError>,
    /// The Customer.
    #[serde(default)]
    pub customer: Option<String>,
    /// The PaymentMethod (an id unless expanded).
    #[serde(default)]
    pub payment_method: Option<serde_json::Value>,
    /// Why it was canceled (`automatic` when an authorisation lapsed).
    #[serde(default)]
    pub cancellation_reason: Option<CancellationReason>,
    /// `off_session` when the card is saved for later charges.
    #[serde(default)]
    pub setup_future_usage: Option<SetupFutureUsage>,
    /// Metadata slotpay set (`slotpay_checkout`, `slotpay_fee`).
    #[serde(default)]
    pub metadata: std::collections::BTreeMap<String, String>,
    /// Unix seconds.
    #[serde(default)]
    pub created: i64,
}

impl std::fmt::Debug for PaymentIntent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaymentIntent")
            .field("id", &self.id)
            .field("status", &self.status)
            .field("amount", &self.amount)
            .field("currency", &self.currency)
            .finish_non_exhaustive()
    }
}

impl PaymentIntent {
    /// The PaymentMethod's id.
    pub fn payment_method_id(&self) -> Option<&str> {
        match &self.payment_method {
            Some(serde_json::Value::String(id)) => Some(id),
            Some(serde_json::Value::Object(o)) => o.get("id").and_then(|v| v.as_str()),
            _ => None,
        }
    }

    /// The latest charge, when expanded.
    pub fn charge(&self) -> Option<&Charge> {
        self.latest_charge.as_ref().and_then(Expandable::object)
    }
}

/// The `payment_method_details` of a charge.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct PaymentMethodDetails {
    /// `card`, `ideal`, `bancontact`, `sepa_debit`, ...
    #[serde(rename = "type", default)]
    pub kind: Option<PaymentMethodKind>,
    /// The card's details.
    #[serde(default)]
    pub card: Option<CardDetails>,
}

/// A charge (`ch_...`).
#[derive(Clone, Debug, Deserialize)]
pub struct Charge {
    /// `ch_...`.
    pub id: String,
    /// Amount authorised.
    pub amount: i64,
    /// Amount captured.
    #[serde(default)]
    pub amount_captured: i64,
    /// Refunded, including an uncaptured remainder released by a partial capture.
    #[serde(default)]
    pub amount_refunded: i64,
    /// Whether captured.
    #[serde(default)]
    pub captured: bool,
    /// Whether it succeeded (or was authorised): false for a debit still pending, which is
    /// captured but not paid yet.
    #[serde(default = "paid_unless_said")]
    pub paid: bool,
    /// Lowercase currency.
    pub currency: String,
    /// The PaymentIntent.
    #[serde(default)]
    pub payment_intent: Option<String>,
    /// The PaymentMethod charged.
    #[serde(default)]
    pub payment_method: Option<String>,
    /// The balance transaction (its `fee` is Stripe's fee), when captured.
    #[serde(default)]
    pub balance_transaction: Option<Expandable<BalanceTransaction>>,
    /// The card.
    #[serde(default)]
    pub payment_method_details: Option<PaymentMethodDetails>,
    /// The first refunds (up to 10).
    #[serde(default)]
    pub refunds: Option<List<Refund>>,
    /// Whether a dispute was opened.
    #[serde(default)]
    pub disputed: bool,
    /// Unix seconds.
    #[serde(default)]
    pub created: i64,
}

fn paid_unless_said() -> bool {
    true
}

impl HasId for Charge {
    fn id(&self) -> &str {
        &self.id
    }
}

impl Charge {
    /// The card's details.
    pub fn card(&self) -> Option<&CardDetails> {
        self.payment_method_details.as_ref()?.card.as_ref()
    }

    /// How it was paid, when it is a way slotpay offers.
    pub fn method(&self) -> Option<MethodType> {
        match self.payment_method_details.as_ref()?.kind.as_ref()? {
            PaymentMethodKind::Offered(m) => Some(*m),
            PaymentMethodKind::Other(_) => None,
        }
    }
}

/// A refund (`re_...`).
#[derive(Clone, Debug, Deserialize)]
pub struct Refund {
    /// `re_...`.
    pub id: String,
    /// Minor units.
    pub amount: i64,
    /// Where it is (absent in some of Stripe's older answers: not settled).
    #[serde(default)]
    pub status: Option<RefundStatus>,
    /// The charge.
    #[serde(default)]
    pub charge: Option<String>,
    /// The PaymentIntent.
    #[serde(default)]
    pub payment_intent: Option<String>,
    /// Metadata (`slotpay_refund`).
    #[serde(default)]
    pub metadata: std::collections::BTreeMap<String, String>,
    /// Unix seconds.
    #[serde(default)]
    pub created: i64,
    /// `requested_by_customer`, `duplicate`, `fraudulent`, or one of Stripe's own
    /// (`expired_uncaptured_charge`, ...).
    #[serde(default)]
    pub reason: Option<String>,
}

/// A balance transaction (`txn_...`).
#[derive(Clone, Debug, Deserialize)]
pub struct BalanceTransaction {
    /// `txn_...`.
    pub id: String,
    /// Stripe's fee, in the settlement currency's minor units.
    #[serde(default)]
    pub fee: i64,
    /// The settlement currency.
    #[serde(default)]
    pub currency: Option<String>,
}

impl BalanceTransaction {
    /// Stripe's fee with its currency (`None` when the currency is missing or unknown).
    pub fn fee_amount(&self) -> Option<Money> {
        let currency = Currency::parse(self.currency.as_deref()?).ok()?;
        Some(Money::from_minor(self.fee, currency))
    }
}

impl HasId for BalanceTransaction {
    fn id(&self) -> &str {
        &self.id
    }
}

/// A dispute (`dp_...`).
#[derive(Clone, Debug, Deserialize)]
pub struct Dispute {
    /// `dp_...`.
    pub id: String,
    /// Disputed amount.
    pub amount: i64,
    /// The charge's currency.
    pub currency: Currency,
    /// The disputed charge.
    pub charge: String,
    /// The PaymentIntent.
    #[serde(default)]
    pub payment_intent: Option<String>,
    /// `fraudulent`, `duplicate`, ...
    #[serde(default)]
    pub reason: Option<String>,
    /// Where it is.
    pub status: DisputeStatus,
    /// Unix seconds.
    #[serde(default)]
    pub created: i64,
}

/// A webhook event, as Stripe sends it.
#[derive(Clone, Debug, Deserialize)]
pub struct Event {
    /// `evt_...`.
    pub id: String,
    /// `payment_intent.succeeded`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// Unix seconds.
    pub created: i64,
    /// `{"object": {...}}`.
    pub data: EventData,
}

/// An event's `data`.
#[derive(Clone, Debug, Deserialize)]
pub struct EventData {
    /// The object the event is about, as it was then.
    pub object: serde_json::Value,
}

/// A page of a list.
#[derive(Clone, Debug, Deserialize)]
pub struct List<T> {
    /// The objects.
    pub data: Vec<T>,
    /// Whether more pages follow.
    #[serde(default)]
    pub has_more: bool,
}

/// The answer to a deletion.
#[derive(Clone, Debug, Deserialize)]
pub struct Deleted {
    /// The deleted object's id.
    pub id: String,
    /// True when deleted.
    #[serde(default)]
    pub deleted: bool,
}

/// Request parameters in Stripe's form encoding: `metadata[k]=v`, `enabled_events[]=a`,
/// `card[exp_month]=12`. Values are percent-encoded; order is kept.
#[derive(Clone, Default)]
pub struct Form {
    pairs: Vec<(String, String)>,
}

impl fmt::Debug for Form {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Names only: values may be personal data.
        f.debug_list()
            .entries(self.pairs.iter().map(|(k, _)| k))
            .finish()
    }
}

impl Form {
    /// No parameters.
    pub fn new() -> Form {
        Form::default()
    }

    /// `name=value`.
    pub fn push(mut self, name: &str, value: impl Into<String>) -> Form {
        self.pairs.push((name.to_owned(), value.into()));
        self
    }

    /// `name[]=v1&name[]=v2`.
    pub fn push_list<S: AsRef<str>>(mut self, name: &str, values: &[S]) -> Form {
        for v in values {
            self.pairs
                .push((format!("{name}[]"), v.as_ref().to_owned()));
        }
        self
    }

    /// `name[key]=value` (metadata, nested hashes).
    pub fn push_map(mut self, name: &str, key: &str, value: impl Into<String>) -> Form {
        self.pairs.push((format!("{name}[{key}]"), value.into()));
        self
    }

    /// True when there are no parameters.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// The `application/x-www-form-urlencoded` body (brackets percent-encoded, as Stripe's
    /// own libraries send them).
    pub fn encode(&self) -> String {
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.pairs {
            out.append_pair(k, v);
        }
        out.finish()
    }
}

/// An `Idempotency-Key`: derived from the operation, so a retry of the same operation (by
/// the client's loop, or by the caller after a crash) sends the same key and Stripe applies
/// it once.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// A key spelled out by the caller (`slotpay:{checkout}:pi`): at most 255 characters of
    /// visible ASCII, else it is hashed into one.
    pub fn new(key: impl Into<String>) -> IdempotencyKey {
        let key = key.into();
        if key.len() <= 255 && key.bytes().all(|b| b.is_ascii_graphic()) {
            IdempotencyKey(key)
        } else {
            IdempotencyKey::derive("key", &[&key])
        }
    }

    /// `slotpay-<operation>-<hash of the parts>`: stable for the same parts, at most 255
    /// characters, and revealing none of them.
    pub fn derive(operation: &str, parts: &[&str]) -> IdempotencyKey {
        let mut hash = Sha256::new();
        for p in parts {
            hash.update((p.len() as u64).to_be_bytes());
            hash.update(p.as_bytes());
        }
        let digest = hex::encode(&hash.finalize()[..16]);
        IdempotencyKey(format!("slotpay-{operation}-{digest}"))
    }

    /// A fresh random key, for calls with nothing to derive from.
    pub fn random(operation: &str) -> IdempotencyKey {
        IdempotencyKey(format!(
            "slotpay-{operation}-{}",
            crate::secrets::random_token(16)
        ))
    }

    /// The header value.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bracket_syntax() {
        let f = Form::new()
            .push("url", "https://pay.example/v1/webhooks/stripe/mer_1")
            .push_list(
                "enabled_events",
                &["charge.refunded", "payment_intent.succeeded"],
            )
            .push_map("metadata", "merchant_id", "mer 1&x");
        assert_eq!(
            f.encode(),
            "url=https%3A%2F%2Fpay.example%2Fv1%2Fwebhooks%2Fstripe%2Fmer_1\
             &enabled_events%5B%5D=charge.refunded&enabled_events%5B%5D=payment_intent.succeeded\
             &metadata%5Bmerchant_id%5D=mer+1%26x"
        );
        assert!(Form::new().is_empty());
    }

    #[test]
    fn idempotency_keys_are_stable_per_operation() {
        let a = IdempotencyKey::derive("webhook-endpoint", &["mer_1", "3"]);
        assert_eq!(
            a,
            IdempotencyKey::derive("webhook-endpoint", &["mer_1", "3"])
        );
        assert_ne!(
            a,
            IdempotencyKey::derive("webhook-endpoint", &["mer_1", "4"])
        );
        // Part boundaries matter.
        assert_ne!(
            IdempotencyKey::derive("x", &["ab", "c"]),
            IdempotencyKey::derive("x", &["a", "bc"])
        );
        assert!(
            a.as_str().starts_with("slotpay-webhook-endpoint-") && !a.as_str().contains("mer_1")
        );
        assert_ne!(IdempotencyKey::random("x"), IdempotencyKey::random("x"));
    }
}
