//! The server's own vocabulary: the small enums and value groups that stored records hold
//! (how a checkout was made and is captured, its lease, a card, a saved card, an
//! integration's verification and secret source, the status of a refund or a cancellation
//! fee). Core holds the ones the widget shares (`CheckoutStatus`, `IntegrationMode`,
//! `CardBrand`); Stripe's own statuses are in [`crate::stripe`]. Storage parses its columns
//! into these types when it reads a row, so the domain never compares strings.

use std::fmt;

use serde::{Deserialize, Serialize};
use slotpay_core::{
    CardBrand, CheckoutStatus, Currency, ErrorCode, IntegrationMode, KeyPair, Last4, MethodType,
    WebhookSecret,
};

use crate::stripe;

/// Declares a closed enum stored and shown as a fixed string per variant: `as_str`,
/// `parse` (`None` for anything else), `Display` and `Serialize` as that string.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $($(#[doc = $doc:literal])* $variant:ident = $wire:literal,)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
        pub enum $name {
            $($(#[doc = $doc])* $variant,)*
        }

        impl $name {
            /// Every value.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The stored and shown form.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire,)*
                }
            }

            /// Parses [`Self::as_str`]'s form.
            pub fn parse(s: &str) -> Option<$name> {
                match s {
                    $($wire => Some($name::$variant),)*
                    _ => None,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                crate::schemas::string_enum($name::ALL.iter().map(|v| v.as_str()))
            }
        }

        impl utoipa::ToSchema for $name {}

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                $name::parse(&s).ok_or_else(|| {
                    serde::de::Error::custom(format!("not a {}: {s:?}", stringify!($name)))
                })
            }
        }
    };
}

wire_enum! {
    /// Who made a checkout.
    pub enum CheckoutSource {
        /// The booking platform, through the platform API (or staff, as a payment link).
        Platform = "platform",
        /// The public endpoint, from the merchant's catalogue (the script-tag embed).
        Catalogue = "catalogue",
    }
}

wire_enum! {
    /// When the money is taken.
    pub enum CaptureMethod {
        /// At once, when the client pays.
        Automatic = "automatic",
        /// Authorised when the client pays, captured later by the merchant.
        Manual = "manual",
    }
}

/// Who holds a checkout's lease: one pay attempt (numbered from 1, per checkout), or an
/// admin operation (stored as attempt 0).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum LeaseHolder {
    /// A staff or platform operation (cancel).
    Admin,
    /// The client's pay attempt with this number.
    Attempt(i64),
}

impl LeaseHolder {
    /// The stored attempt number.
    pub const fn number(self) -> i64 {
        match self {
            LeaseHolder::Admin => 0,
            LeaseHolder::Attempt(n) => n,
        }
    }

    /// The holder of a stored attempt number (`None` for a negative one).
    pub const fn from_number(n: i64) -> Option<LeaseHolder> {
        match n {
            0 => Some(LeaseHolder::Admin),
            n if n > 0 => Some(LeaseHolder::Attempt(n)),
            _ => None,
        }
    }
}

/// A checkout held by one operation that talks to Stripe: while the lease is live, nobody
/// else starts one. The checkout's status is `processing` while leased; `from` is the status
/// it had, given back when the holder ends without news from Stripe.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Lease {
    /// Unix seconds after which the holder is presumed gone.
    pub until: i64,
    /// Who holds it.
    pub holder: LeaseHolder,
    /// The status the lease was taken from.
    pub from: CheckoutStatus,
}

impl Lease {
    /// Whether the holder may still be working at `now`.
    pub fn is_live(&self, now: i64) -> bool {
        self.until >= now
    }
}

/// The card that paid, as receipts and views show it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct CardSummary {
    /// Stripe's brand (brands slotpay does not list are `Unknown`).
    pub brand: CardBrand,
    /// The last 4 digits.
    pub last4: Last4,
}

impl fmt::Display for CardSummary {
    /// `Visa •••• 4242`, as receipts and pages show a card.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} •••• {}", self.brand.display_name(), self.last4)
    }
}

impl CardSummary {
    /// The card of Stripe's `brand` and `last4`, when both are there and the digits are 4.
    pub fn from_stripe(brand: Option<&str>, last4: Option<&str>) -> Option<CardSummary> {
        Some(CardSummary {
            brand: CardBrand::from_stripe(brand?),
            last4: Last4::parse(last4?).ok()?,
        })
    }
}

/// A card saved at checkout for a later cancellation fee: the Customer and its
/// PaymentMethod, always together.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct SavedCard {
    /// `cus_...`.
    pub customer: String,
    /// `pm_...`.
    pub payment_method: String,
}

wire_enum! {
    /// What the last verification of an integration's key found.
    pub enum IntegrationStatus {
        /// Not verified since the keys were set.
        Unverified = "unverified",
        /// Stripe accepted the key.
        Active = "active",
        /// Stripe refused the key; the reason says why.
        Error = "error",
    }
}

/// Why the last verification failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct StatusReason {
    /// `invalid_secret_key`, `api_key_expired`, `key_missing_permission`, `stripe_error`.
    pub code: ErrorCode,
    /// Stripe's reason (keys masked).
    pub message: String,
    /// For a restricted key: the permissions it lacks.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing_permissions: Vec<String>,
}

wire_enum! {
    /// Whether a payment method shows on a registered web domain.
    pub enum DomainMethodState {
        /// Stripe's Elements show it there.
        Active = "active",
        /// They do not (the domain's `problem` says why).
        Inactive = "inactive",
    }
}

/// A web domain slotpay registered with the merchant's Stripe account (a payment method
/// domain): Stripe's Elements show Apple Pay, Google Pay and Link only on registered domains.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WalletDomain {
    /// `salon.example`: the host of one of the merchant's origins, or slotpay's own (its
    /// payment-link pages).
    pub domain: String,
    /// `pmd_...`, once registered.
    pub id: Option<String>,
    /// Apple Pay there.
    pub apple_pay: DomainMethodState,
    /// Google Pay there.
    pub google_pay: DomainMethodState,
    /// Link there.
    pub link: DomainMethodState,
    /// Why the domain could not be registered, or why a method is inactive there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// Unix seconds of the last check.
    pub checked_at: i64,
}

wire_enum! {
    /// Where an integration's webhook signing secret came from.
    pub enum SecretSource {
        /// slotpay registered the endpoint through Stripe's API and stored its secret.
        Api = "api",
        /// The merchant pasted the secret of an endpoint made in Stripe's Dashboard.
        Manual = "manual",
    }
}

wire_enum! {
    /// A refund's state in slotpay's books.
    pub enum RefundStatus {
        /// Reserved on the checkout; Stripe has not settled it (or was not reached yet).
        Pending = "pending",
        /// Stripe refunded it.
        Succeeded = "succeeded",
        /// Stripe refused or could not make it; its reservation is given back.
        Failed = "failed",
        /// Canceled at Stripe before it settled; its reservation is given back.
        Canceled = "canceled",
    }
}

wire_enum! {
    /// Why a refund is made, as Stripe records it (its `reason`).
    pub enum RefundReason {
        /// The client asked for it (a cancelled booking).
        RequestedByCustomer = "requested_by_customer",
        /// The client paid twice.
        Duplicate = "duplicate",
        /// The payment was fraudulent; Stripe's fraud systems learn from it too.
        Fraudulent = "fraudulent",
    }
}

impl RefundReason {
    /// How staff read it.
    pub const fn label(self) -> &'static str {
        match self {
            RefundReason::RequestedByCustomer => "Requested by the client",
            RefundReason::Duplicate => "Duplicate payment",
            RefundReason::Fraudulent => "Fraudulent payment",
        }
    }
}

impl RefundStatus {
    /// slotpay's status for what Stripe says of a refund: the one mapping, for refunds
    /// slotpay sends and for those it reads back from a charge. A status Stripe has not
    /// settled, or one slotpay does not know, stays pending.
    pub fn from_stripe(status: Option<&stripe::RefundStatus>) -> RefundStatus {
        match status {
            Some(stripe::RefundStatus::Succeeded) => RefundStatus::Succeeded,
            Some(stripe::RefundStatus::Failed) => RefundStatus::Failed,
            Some(stripe::RefundStatus::Canceled) => RefundStatus::Canceled,
            Some(
                stripe::RefundStatus::Pending
                | stripe::RefundStatus::RequiresAction
                | stripe::RefundStatus::Unknown(_),
            )
            | None => RefundStatus::Pending,
        }
    }

    /// Whether a refund in this state holds part of the captured amount.
    pub const fn holds_amount(self) -> bool {
        matches!(self, RefundStatus::Pending | RefundStatus::Succeeded)
    }

    /// Whether nothing can change it any more.
    pub const fn is_final(self) -> bool {
        !matches!(self, RefundStatus::Pending)
    }
}

wire_enum! {
    /// What an email to a client is.
    pub enum EmailKind {
        /// A payment link to pay.
        Link = "link",
        /// slotpay's receipt of a payment.
        Receipt = "receipt",
    }
}

wire_enum! {
    /// An email's state.
    pub enum EmailStatus {
        /// Not sent yet (due, or waiting for its next try).
        Pending = "pending",
        /// The SMTP server took it.
        Sent = "sent",
        /// Given up after its tries; staff may send it again.
        Failed = "failed",
    }
}

wire_enum! {
    /// A cancellation fee's state.
    pub enum FeeStatus {
        /// Sent to Stripe, not settled (or Stripe was not reached yet).
        Pending = "pending",
        /// Charged.
        Succeeded = "succeeded",
        /// Declined or refused.
        Failed = "failed",
        /// The bank asks the client to authenticate: staff should send a payment link.
        RequiresAction = "requires_action",
    }
}

impl FeeStatus {
    /// Whether a fee in this state counts against the offer the client agreed to (charged,
    /// or not failed yet).
    pub const fn holds_amount(self) -> bool {
        !matches!(self, FeeStatus::Failed)
    }
}

/// A merchant's time zone: an IANA name (`Europe/Paris`) that the built-in time zone
/// database knows, with its rules. Pages and emails show times in it.
#[derive(Clone, Debug)]
pub struct TimeZoneName {
    name: String,
    zone: jiff::tz::TimeZone,
}

impl TimeZoneName {
    /// The zone of an IANA name, matched case-insensitively and kept as the database spells
    /// it (`europe/paris` is `Europe/Paris`); `None` for anything else.
    pub fn parse(name: &str) -> Option<TimeZoneName> {
        let zone = jiff::tz::db().get(name).ok()?;
        let name = zone.iana_name()?.to_owned();
        Some(TimeZoneName { name, zone })
    }

    /// Coordinated Universal Time, the zone of a merchant that has not chosen one.
    pub fn utc() -> TimeZoneName {
        TimeZoneName {
            name: "UTC".to_owned(),
            zone: jiff::tz::TimeZone::UTC,
        }
    }

    /// The IANA name.
    pub fn as_str(&self) -> &str {
        &self.name
    }

    /// Unix seconds written in this zone with a `strftime` pattern (`%Z` is the zone's
    /// abbreviation at that moment: `CET`, `CEST`); empty for a time out of range.
    pub fn format(&self, unix: i64, pattern: &str) -> String {
        jiff::Timestamp::from_second(unix)
            .map(|t| {
                t.to_zoned_datetime(self.zone.clone())
                    .strftime(pattern)
                    .to_string()
            })
            .unwrap_or_default()
    }
}

impl PartialEq for TimeZoneName {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for TimeZoneName {}

impl utoipa::PartialSchema for TimeZoneName {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        crate::schemas::string(
            "An IANA time zone name, as the time zone database spells it.",
            "Europe/Paris",
        )
    }
}

impl utoipa::ToSchema for TimeZoneName {}

impl Serialize for TimeZoneName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.name)
    }
}

/// A merchant's logo for receipts: an `https` URL (or `http` on a loopback host, for local
/// runs) of at most 2,048 characters, without credentials.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
#[serde(transparent)]
pub struct LogoUrl(String);

impl utoipa::PartialSchema for LogoUrl {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        crate::schemas::string(
            "An https URL of at most 2,048 characters (http only on a loopback host).",
            "https://salon.example/logo.png",
        )
    }
}

impl utoipa::ToSchema for LogoUrl {}

impl LogoUrl {
    /// Longest accepted URL.
    pub const MAX: usize = 2048;

    /// The URL, checked; `None` when it is not one a mail client may load.
    pub fn parse(input: &str) -> Option<LogoUrl> {
        if input.len() > Self::MAX {
            return None;
        }
        let url = url::Url::parse(input).ok()?;
        let loopback = match url.host() {
            Some(url::Host::Domain(d)) => d == "localhost",
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        };
        let allowed = url.scheme() == "https" || (url.scheme() == "http" && loopback);
        (allowed && url.username().is_empty() && url.password().is_none())
            .then(|| LogoUrl(url.to_string()))
    }

    /// The URL.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Its origin (`https://salon.example`), for a page's Content-Security-Policy.
    pub fn origin(&self) -> String {
        url::Url::parse(&self.0)
            .map(|url| url.origin().ascii_serialization())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_forms_round_trip() {
        for s in RefundStatus::ALL {
            assert_eq!(RefundStatus::parse(s.as_str()), Some(*s));
        }
        for s in FeeStatus::ALL {
            assert_eq!(FeeStatus::parse(s.as_str()), Some(*s));
        }
        assert_eq!(CaptureMethod::parse("Manual"), None);
        assert_eq!(
            serde_json::to_string(&SecretSource::Api).unwrap(),
            "\"api\""
        );
    }

    #[test]
    fn refunds_take_stripes_status_once() {
        use crate::stripe::RefundStatus as Stripe;
        assert_eq!(
            RefundStatus::from_stripe(Some(&Stripe::Canceled)),
            RefundStatus::Canceled
        );
        assert_eq!(
            RefundStatus::from_stripe(Some(&Stripe::Failed)),
            RefundStatus::Failed
        );
        assert_eq!(
            RefundStatus::from_stripe(Some(&Stripe::Succeeded)),
            RefundStatus::Succeeded
        );
        for unsettled in [
            Some(Stripe::Pending),
            Some(Stripe::RequiresAction),
            Some(Stripe::Unknown("in_transit".into())),
            None,
        ] {
            assert_eq!(
                RefundStatus::from_stripe(unsettled.as_ref()),
                RefundStatus::Pending
            );
        }
    }

    #[test]
    fn lease_holders_map_to_attempt_numbers() {
        assert_eq!(LeaseHolder::from_number(0), Some(LeaseHolder::Admin));
        assert_eq!(LeaseHolder::from_number(3), Some(LeaseHolder::Attempt(3)));
        assert_eq!(LeaseHolder::from_number(-1), None);
        assert_eq!(LeaseHolder::Attempt(7).number(), 7);
    }

    #[test]
    fn only_pending_and_succeeded_refunds_hold_money() {
        let holding: Vec<_> = RefundStatus::ALL
            .iter()
            .filter(|s| s.holds_amount())
            .collect();
        assert_eq!(holding, [&RefundStatus::Pending, &RefundStatus::Succeeded]);
    }

    #[test]
    fn time_zones_are_iana_names() {
        let paris = TimeZoneName::parse("europe/paris").unwrap();
        assert_eq!(paris.as_str(), "Europe/Paris");
        // 2026-07-01 10:00 UTC is noon in summer time; 2026-01-01 10:00 UTC 11:00 in winter.
        assert_eq!(
            paris.format(1_782_900_000, "%Y-%m-%d %H:%M %Z"),
            "2026-07-01 12:00 CEST"
        );
        assert_eq!(paris.format(1_767_261_600, "%H:%M %Z"), "11:00 CET");
        assert_eq!(
            TimeZoneName::utc().format(1_767_261_600, "%H:%M %Z"),
            "10:00 UTC"
        );
        for bad in ["", "Paris", "Europe/Atlantis", "../etc/passwd", "UTC+2"] {
            assert!(TimeZoneName::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn logos_are_https_or_local() {
        assert!(LogoUrl::parse("https://salon.example/logo.png").is_some());
        assert!(LogoUrl::parse("http://127.0.0.1:8080/logo.png").is_some());
        assert!(LogoUrl::parse("http://localhost/logo.png").is_some());
        for bad in [
            "http://salon.example/logo.png",
            "javascript:alert(1)",
            "data:image/png;base64,AAAA",
            "https://user:pw@salon.example/l.png",
            "logo.png",
        ] {
            assert!(LogoUrl::parse(bad).is_none(), "{bad}");
        }
        let long = format!("https://salon.example/{}", "a".repeat(LogoUrl::MAX));
        assert!(LogoUrl::parse(&long).is_none());
    }
}

wire_enum! {
    /// What a platform event tells of.
    pub enum EventType {
        /// A checkout was paid (captured at once).
        CheckoutPaid = "checkout.paid",
        /// A manual-capture checkout was authorised: the money is held.
        CheckoutAuthorized = "checkout.authorized",
        /// An authorised checkout was captured.
        CheckoutCaptured = "checkout.captured",
        /// A payment method that settles later was accepted; paid or failed follows.
        CheckoutProcessing = "checkout.processing",
        /// A pay attempt failed (declined, authentication failed); the client may try again.
        CheckoutPaymentFailed = "checkout.payment_failed",
        /// Canceled by staff or at Stripe.
        CheckoutCanceled = "checkout.canceled",
        /// The hold lapsed unpaid, or an authorisation lapsed uncaptured.
        CheckoutExpired = "checkout.expired",
        /// A refund went through.
        RefundSucceeded = "refund.succeeded",
        /// A refund failed or was canceled.
        RefundFailed = "refund.failed",
        /// The client's bank disputed the payment.
        DisputeCreated = "dispute.created",
        /// A dispute ended (won, lost or closed).
        DisputeClosed = "dispute.closed",
        /// A cancellation fee was charged.
        CancellationFeeSucceeded = "cancellation_fee.succeeded",
        /// A cancellation fee failed.
        CancellationFeeFailed = "cancellation_fee.failed",
        /// A merchant's Stripe key stopped working (refused by Stripe, or revoked).
        IntegrationError = "integration.error",
    }
}

wire_enum! {
    /// Where one event's delivery to one endpoint is.
    pub enum DeliveryStatus {
        /// Waiting for its next attempt.
        Pending = "pending",
        /// The endpoint answered 2xx.
        Succeeded = "succeeded",
        /// Every attempt of the schedule failed.
        Failed = "failed",
    }
}

/// What the payments code needs of an integration that can take payments.
#[derive(Clone, Debug)]
pub struct PaymentCredentials {
    /// Sandbox or Live.
    pub mode: IntegrationMode,
    /// The keys (same mode, matching `mode`).
    pub keys: KeyPair,
    /// Signing secret of the webhook endpoint.
    pub webhook_secret: WebhookSecret,
    /// Accepted brands.
    pub card_brands: Vec<CardBrand>,
    /// The ways to pay offered, card among them.
    pub payment_methods: Vec<MethodType>,
    /// Whether card payments may come from wallets.
    pub wallets: bool,
    /// Settlement currency of the account.
    pub account_default_currency: Option<Currency>,
}
