//! The sandbox's in-memory state: accounts and keys, every Stripe object it holds (one [`Table`]
//! each), events and their pending webhook deliveries, idempotency records, fault rules and
//! counters. One `Store` behind a mutex; operations get a [`Ctx`] that knows the account, the
//! clock and the request. `expand[]` renders objects through the [`Render`] trait, which each
//! resource module implements, so the store imports none of them.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value};

use crate::auth::{ApiKey, KeyKind};
use crate::errors::{ApiError, ApiResult};
use crate::faults::FaultSet;
use crate::form::Params;
use crate::idempotency::IdemRecords;
use crate::table::{record, Table};
use crate::webhooks::{Delivery, DeliveryJob, Knobs};

/// The API version the sandbox answers with when a request names none.
pub const DEFAULT_API_VERSION: &str = "2026-10-28.endive";

/// How long events stay retrievable (Stripe guarantees 30 days); older ones are dropped.
pub const EVENT_RETENTION_SECS: i64 = 30 * 86_400;

/// Rows the webhook delivery log keeps by default (the newest; older rows are dropped): enough
/// for the largest test run that checks the log row by row (a few thousand payments with
/// duplicated and retried deliveries), at most about 40 MB.
pub const DEFAULT_DELIVERY_LOG_LIMIT: usize = 100_000;

/// A Stripe account of the sandbox.
#[derive(Debug, Clone)]
pub struct Account {
    /// `acct_...`.
    pub id: String,
    /// Two-letter country.
    pub country: String,
    /// Settlement currency (the minimum charge follows it).
    pub default_currency: String,
    /// `business_profile.name` and `settings.dashboard.display_name`.
    pub business_name: Option<String>,
    /// Account e-mail.
    pub email: Option<String>,
    /// Whether it can take charges.
    pub charges_enabled: bool,
    /// Creation time.
    pub created: i64,
}

/// Card details kept on a PaymentMethod (the number stays inside the sandbox: it decides the
/// test card's behaviour and is never rendered).
#[derive(Debug, Clone)]
pub struct CardInfo {
    /// Full number (test cards only).
    pub number: String,
    /// Brand.
    pub brand: String,
    /// Last four digits.
    pub last4: String,
    /// Expiry month.
    pub exp_month: i64,
    /// Expiry year.
    pub exp_year: i64,
    /// `credit` / `debit`.
    pub funding: String,
    /// Issuing country.
    pub country: String,
    /// Stable per number.
    pub fingerprint: String,
    /// Whether a CVC was given.
    pub cvc_given: bool,
    /// The wallet it came from (`apple_pay`, `google_pay`), if any.
    pub wallet: Option<&'static str>,
}

/// A PaymentMethod's type with that type's details.
#[derive(Debug, Clone)]
pub enum Method {
    /// `card`.
    Card(CardInfo),
    /// `ideal`: the client's bank, if chosen (`ideal[bank]`), and its BIC.
    Ideal {
        /// `ing`, `rabobank`, ...
        bank: Option<String>,
    },
    /// `bancontact`.
    Bancontact,
    /// `sepa_debit`: the account the IBAN names.
    SepaDebit {
        /// Two-letter country of the IBAN.
        country: String,
        /// The IBAN's bank code.
        bank_code: String,
        /// Last four characters of the IBAN.
        last4: String,
        /// Stable per IBAN.
        fingerprint: String,
        /// Whether its debits fail when they settle (Stripe's failing test IBANs).
        fails: bool,
    },
}

impl Method {
    /// Stripe's `type`.
    pub fn kind(&self) -> &'static str {
        match self {
            Method::Card(_) => "card",
            Method::Ideal { .. } => "ideal",
            Method::Bancontact => "bancontact",
            Method::SepaDebit { .. } => "sepa_debit",
        }
    }
}

impl Method {
    /// The card, for type `card`.
    pub fn card(&self) -> Option<&CardInfo> {
        match self {
            Method::Card(c) => Some(c),
            _ => None,
        }
    }
}

impl PaymentMethod {
    /// The card, for a PaymentMethod of type `card`.
    pub fn card(&self) -> Option<&CardInfo> {
        self.method.card()
    }
}

/// A PaymentMethod.
#[derive(Debug, Clone)]
pub struct PaymentMethod {
    /// `pm_...`.
    pub id: String,
    /// Owning account.
    pub account: String,
    /// Creation order.
    pub seq: u64,
    /// Creation time.
    pub created: i64,
    /// Attached customer.
    pub customer: Option<String>,
    /// `billing_details` as rendered (shared: a charge copies its PaymentMethod's, and every
    /// PaymentMethod made without details shares one all-null template).
    pub billing_details: Arc<Value>,
    /// What it pays with: its type and that type's details.
    pub method: Method,
    /// Metadata.
    pub metadata: Map<String, Value>,
    /// Used once without a customer (or detached): Stripe refuses to use it again.
    pub consumed: bool,
    /// Set up for off-session use (a SetupIntent or an authenticated payment saved it).
    pub set_up: bool,
}

/// A Customer.
#[derive(Debug, Clone)]
pub struct Customer {
    /// `cus_...`.
    pub id: String,
    /// Owning account.
    pub account: String,
    /// Creation order.
    pub seq: u64,
    /// Creation time.
    pub created: i64,
    /// E-mail.
    pub email: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// Phone.
    pub phone: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Metadata.
    pub metadata: Map<String, Value>,
    /// `invoice_settings.default_payment_method`.
    pub default_payment_method: Option<String>,
    /// Deleted customers answer `{deleted: true}`.
    pub deleted: bool,
}

/// `automatic_payment_methods[allow_redirects]`: whether an intent with automatic payment
/// methods accepts those that send the client elsewhere to pay (a bank's page).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllowRedirects {
    /// Stripe's default: redirect-based methods are among the intent's, and every confirmation
    /// needs a `return_url`.
    Always,
    /// Redirect-based methods are left out; no `return_url` is needed.
    Never,
}

impl AllowRedirects {
    /// Stripe's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AllowRedirects::Always => "always",
            AllowRedirects::Never => "never",
        }
    }
}

/// A PaymentIntent.
#[derive(Debug, Clone)]
pub struct PaymentIntent {
    /// `pi_...`.
    pub id: String,
    /// Owning account.
    pub account: String,
    /// Creation order.
    pub seq: u64,
    /// Creation time.
    pub created: i64,
    /// Amount in minor units.
    pub amount: i64,
    /// Currency.
    pub currency: String,
    /// Status.
    pub status: String,
    /// `automatic` / `automatic_async` / `manual`.
    pub capture_method: String,
    /// `automatic` / `manual`.
    pub confirmation_method: String,
    /// `pi_..._secret_...`.
    pub client_secret: String,
    /// Customer.
    pub customer: Option<String>,
    /// PaymentMethod.
    pub payment_method: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Metadata.
    pub metadata: Map<String, Value>,
    /// Receipt e-mail.
    pub receipt_email: Option<String>,
    /// `on_session` / `off_session`.
    pub setup_future_usage: Option<String>,
    /// Statement descriptor suffix.
    pub statement_descriptor_suffix: Option<String>,
    /// Statement descriptor.
    pub statement_descriptor: Option<String>,
    /// The newest charge.
    pub latest_charge: Option<String>,
    /// The last failure.
    pub last_payment_error: Option<Value>,
    /// What the customer must do next.
    pub next_action: Option<Value>,
    /// Authorised, not yet captured.
    pub amount_capturable: i64,
    /// Captured.
    pub amount_received: i64,
    /// When it was canceled.
    pub canceled_at: Option<i64>,
    /// Why.
    pub cancellation_reason: Option<String>,
    /// `payment_method_types`.
    pub payment_method_types: Vec<String>,
    /// `automatic_payment_methods`: enabled (by default when no `payment_method_types` were
    /// given), with whether redirect-based methods are allowed; `None` when not enabled.
    pub automatic_payment_methods: Option<AllowRedirects>,
    /// Whether the pending confirmation was off-session.
    pub off_session: bool,
    /// When an authorised, uncaptured payment expires (set when it enters `requires_capture`).
    pub capture_before: Option<i64>,
    /// When a SEPA Debit in `processing` settles (sandbox time).
    pub settles_at: Option<i64>,
}

/// A Charge.
#[derive(Debug, Clone)]
pub struct Charge {
    /// `ch_...`.
    pub id: String,
    /// Owning account.
    pub account: String,
    /// Creation order.
    pub seq: u64,
    /// Creation (authorisation) time.
    pub created: i64,
    /// Authorised amount.
    pub amount: i64,
    /// Captured amount.
    pub amount_captured: i64,
    /// Sum of refunds.
    pub refunded_total: i64,
    /// Released without capture (partial capture remainder, cancel, expiry).
    pub released: i64,
    /// Captured.
    pub captured: bool,
    /// Currency.
    pub currency: String,
    /// Customer.
    pub customer: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Metadata.
    pub metadata: Map<String, Value>,
    /// PaymentIntent.
    pub payment_intent: Option<String>,
    /// PaymentMethod id.
    pub payment_method: String,
    /// The PaymentMethod's type and details at charge time.
    pub method: Method,
    /// Billing details at charge time.
    pub billing_details: Arc<Value>,
    /// `succeeded` / `failed` / `pending` (a debit until it settles).
    pub status: String,
    /// Failure code.
    pub failure_code: Option<String>,
    /// Failure message.
    pub failure_message: Option<String>,
    /// The decline code, if declined.
    pub decline_code: Option<String>,
    /// Balance transaction once captured.
    pub balance_transaction: Option<String>,
    /// Receipt e-mail.
    pub receipt_email: Option<String>,
    /// Disputed.
    pub disputed: bool,
    /// Refund ids, newest last.
    pub refunds: Vec<String>,
    /// Statement descriptor suffix.
    pub statement_descriptor_suffix: Option<String>,
    /// 3-D Secure result when the payment was authenticated.
    pub three_d_secure: bool,
}

/// A Refund.
#[derive(Debug, Clone)]
pub struct Refund {
    /// `re_...`.
    pub id: String,
    /// Owning account.
    pub account: String,
    /// Creation order.
    pub seq: u64,
    /// Creation time.
    pub created: i64,
    /// Amount.
    pub amount: i64,
    /// Currency.
    pub currency: String,
    /// Charge.
    pub charge: String,
    /// PaymentIntent.
    pub payment_intent: Option<String>,
    /// PaymentMethod.
    pub payment_method: String,
    /// Reason.
    pub reason: Option<String>,
    /// Status.
    pub status: String,
    /// Metadata.
    pub metadata: Map<String, Value>,
    /// Balance transaction.
    pub balance_transaction: Option<String>,
    /// Customer.
    pub customer: Option<String>,
}

/// A SetupIntent.
#[derive(Debug, Clone)]
pub struct SetupIntent {
    /// `seti_...`.
    pub id: String,
    /// Owning account.
    pub account: String,
    /// Creation order.
    pub seq: u64,
    /// Creation time.
    pub created: i64,
    /// `seti_..._secret_...`.
    pub client_secret: String,
    /// Customer.
    pub customer: Option<String>,
    /// PaymentMethod.
    pub payment_method: Option<String>,
    /// Status.
    pub status: String,
    /// `off_session` / `on_session`.
    pub usage: String,
    /// Description.
    pub description: Option<String>,
    /// Metadata.
    pub metadata: Map<String, Value>,
    /// Last failure.
    pub last_setup_error: Option<Value>,
    /// Next action.
    pub next_action: Option<Value>,
    /// Latest attempt id.
    pub latest_attempt: Option<String>,
    /// Cancellation reason.
    pub cancellation_reason: Option<String>,
    /// `payment_method_types`.
    pub payment_method_types: Vec<String>,
}

/// A payment method domain: a web domain registered for the wallets and Link.
#[derive(Debug, Clone)]
pub struct PaymentMethodDomain {
    /// `pmd_...`.
    pub id: String,
    /// Owning account.
    pub account: String,
    /// Creation order.
    pub seq: u64,
    /// Creation time.
    pub created: i64,
    /// `salon.example`.
    pub domain_name: String,
    /// Whether Elements show the wallets there.
    pub enabled: bool,
}

/// A webhook endpoint.
#[derive(Debug, Clone)]
pub struct WebhookEndpoint {
    /// `we_...`.
    pub id: String,
    /// Owning account.
    pub account: String,
    /// Creation order.
    pub seq: u64,
    /// Creation time.
    pub created: i64,
    /// Where events go.
    pub url: String,
    /// Event types (or `*`).
    pub enabled_events: Vec<String>,
    /// Current signing secret.
    pub secret: String,
    /// Rotated-out secrets and the sandbox time until which they still sign.
    pub previous_secrets: Vec<(String, i64)>,
    /// Description.
    pub description: Option<String>,
    /// Metadata.
    pub metadata: Map<String, Value>,
    /// Pinned API version.
    pub api_version: Option<String>,
    /// `enabled` / `disabled`.
    pub status: String,
}

impl WebhookEndpoint {
    /// Whether this endpoint receives events of `event_type`.
    pub fn listens(&self, event_type: &str) -> bool {
        self.status == "enabled"
            && self
                .enabled_events
                .iter()
                .any(|e| e == "*" || e == event_type)
    }

    /// The secrets that sign a delivery at `now`: the current one first, then rotated ones still
    /// inside their grace period.
    pub fn signing_secrets(&self, now: i64) -> Vec<String> {
        let mut v = vec![self.secret.clone()];
        v.extend(
            self.previous_secrets
                .iter()
                .filter(|(_, until)| *until > now)
                .map(|(s, _)| s.clone()),
        );
        v
    }
}

/// An Event.
#[derive(Debug, Clone)]
pub struct Event {
    /// `evt_...`.
    pub id: String,
    /// Owning account.
    pub account: String,
    /// Creation order.
    pub seq: u64,
    /// Creation time.
    pub created: i64,
    /// `payment_intent.succeeded`, ...
    pub event_type: String,
    /// Snapshot of the object, as compact JSON: an event is kept for 30 days and mostly only
    /// sent, so it is held the way it is sent (a parsed `Value` takes several times the space).
    /// Shared with the idempotency record of the request's answer when that is the same text.
    pub object: Arc<str>,
    /// `data.previous_attributes`, as compact JSON.
    pub previous_attributes: Option<Box<str>>,
    /// The API request that caused it.
    pub request_id: Option<String>,
    /// Its idempotency key.
    pub idempotency_key: Option<String>,
    /// API version of the event.
    pub api_version: String,
    /// Endpoints that have not acknowledged it yet (`pending_webhooks` is their number).
    pub undelivered: Vec<String>,
}

/// A Dispute.
#[derive(Debug, Clone)]
pub struct Dispute {
    /// `dp_...`.
    pub id: String,
    /// Owning account.
    pub account: String,
    /// Creation order.
    pub seq: u64,
    /// Creation time.
    pub created: i64,
    /// Disputed amount.
    pub amount: i64,
    /// Currency.
    pub currency: String,
    /// Charge.
    pub charge: String,
    /// PaymentIntent.
    pub payment_intent: Option<String>,
    /// Reason.
    pub reason: String,
    /// Status.
    pub status: String,
    /// Balance transactions (withdrawal, reinstatement).
    pub balance_transactions: Vec<String>,
    /// Metadata.
    pub metadata: Map<String, Value>,
    /// Card brand.
    pub brand: String,
}

/// A balance transaction.
#[derive(Debug, Clone)]
pub struct BalanceTransaction {
    /// `txn_...`.
    pub id: String,
    /// Owning account.
    pub account: String,
    /// Creation order.
    pub seq: u64,
    /// Creation time.
    pub created: i64,
    /// Gross amount (negative for refunds and dispute withdrawals).
    pub amount: i64,
    /// Currency.
    pub currency: String,
    /// Stripe's fee.
    pub fee: i64,
    /// Source object id.
    pub source: String,
    /// `charge`, `refund`, `adjustment`.
    pub kind: String,
    /// `charge`, `refund`, `dispute`, `dispute_reversal`.
    pub reporting_category: String,
    /// Description.
    pub description: Option<String>,
}

/// A card token.
#[derive(Debug, Clone)]
pub struct Token {
    /// `tok_...`.
    pub id: String,
    /// Owning account.
    pub account: String,
    /// Creation order.
    pub seq: u64,
    /// Creation time.
    pub created: i64,
    /// `card_...`, the id of the card the token carries.
    pub card_id: String,
    /// The card.
    pub card: CardInfo,
    /// `card[name]`, `card[address_*]` and `card[currency]` as given (empty ones left out).
    pub holder: Map<String, Value>,
    /// Whether it was used (a token is single-use).
    pub used: bool,
}

// Listed by customer (PaymentMethods, PaymentIntents, SetupIntents), by PaymentIntent (charges)
// or by charge (refunds, disputes); an uncaptured authorisation falls due when it expires, a
// debit in processing when it settles.
record!(PaymentMethod, group: |pm| pm.customer.as_deref());
record!(Customer);
record!(
    PaymentIntent,
    group: |pi| pi.customer.as_deref(),
    due: |pi| match pi.status.as_str() {
        "requires_capture" => pi.capture_before,
        "processing" => pi.settles_at,
        _ => None,
    },
);
record!(Charge, group: |c| c.payment_intent.as_deref());
record!(Refund, group: |r| Some(&r.charge));
record!(SetupIntent, group: |si| si.customer.as_deref());
record!(WebhookEndpoint);
record!(PaymentMethodDomain);
record!(Event);
record!(Dispute, group: |d| Some(&d.charge));
record!(BalanceTransaction);
record!(Token);

/// A stored object as the API shows it, for the answers that put it in place of its id
/// (`expand[]`, a charge's list of refunds). Each resource module implements it with its own
/// renderer, so the store needs none of them.
pub trait Render {
    /// The object as Stripe renders it.
    fn render(&self, store: &Store) -> Value;
}

/// What caused an operation: the API request (id and idempotency key), or nothing for
/// automatic changes (expiry, control triggers).
#[derive(Debug, Clone, Default)]
pub struct RequestInfo {
    /// `req_...`.
    pub id: Option<String>,
    /// `Idempotency-Key`.
    pub idempotency_key: Option<String>,
    /// `Stripe-Version` of the request.
    pub api_version: Option<String>,
}

/// All state of one sandbox instance.
#[derive(Debug)]
pub struct Store {
    /// Seeded: ids, keys and fault probabilities repeat for a given seed.
    pub rng: StdRng,
    seq: u64,
    /// `http://127.0.0.1:PORT` once bound.
    pub base_url: String,
    /// Accounts.
    pub accounts: BTreeMap<String, Account>,
    /// Keys by their value.
    pub keys: HashMap<String, ApiKey>,
    /// The first account, created at start.
    pub default_account: String,
    /// The first account's three keys (kept across `reset`).
    pub default_keys: Vec<String>,
    /// PaymentMethods.
    pub payment_methods: Table<PaymentMethod>,
    /// Customers.
    pub customers: Table<Customer>,
    /// PaymentIntents.
    pub payment_intents: Table<PaymentIntent>,
    /// SetupIntents.
    pub setup_intents: Table<SetupIntent>,
    /// Charges.
    pub charges: Table<Charge>,
    /// Refunds.
    pub refunds: Table<Refund>,
    /// Webhook endpoints.
    pub webhook_endpoints: Table<WebhookEndpoint>,
    /// Payment method domains.
    pub payment_method_domains: Table<PaymentMethodDomain>,
    /// Events of the last 30 days of sandbox time.
    pub events: Table<Event>,
    /// Disputes.
    pub disputes: Table<Dispute>,
    /// Balance transactions.
    pub balance_transactions: Table<BalanceTransaction>,
    /// Card tokens.
    pub tokens: Table<Token>,
    /// Idempotency records of the last 24 hours.
    pub idempotency: IdemRecords,
    /// Fault rules.
    pub faults: FaultSet,
    /// Webhook delivery knobs.
    pub knobs: Knobs,
    /// The delivery log, newest last, at most `delivery_log_limit` rows.
    pub deliveries: VecDeque<Delivery>,
    /// How many rows the delivery log keeps.
    pub delivery_log_limit: usize,
    /// Deliveries to start once the current operation releases the lock.
    pub outbox: Vec<DeliveryJob>,
    /// Counters for double-charge checks.
    pub counters: BTreeMap<String, u64>,
}

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

impl Store {
    /// An empty store with one account and its publishable, secret and restricted keys.
    pub fn new(seed: Option<u64>, now: i64) -> Self {
        let rng = match seed {
            Some(s) => StdRng::seed_from_u64(s),
            None => StdRng::from_entropy(),
        };
        let mut store = Store {
            rng,
            seq: 0,
            base_url: String::new(),
            accounts: BTreeMap::new(),
            keys: HashMap::new(),
            default_account: String::new(),
            default_keys: Vec::new(),
            payment_methods: Table::default(),
            customers: Table::default(),
            payment_intents: Table::default(),
            setup_intents: Table::default(),
            charges: Table::default(),
            refunds: Table::default(),
            webhook_endpoints: Table::default(),
            payment_method_domains: Table::default(),
            events: Table::default(),
            disputes: Table::default(),
            balance_transactions: Table::default(),
            tokens: Table::default(),
            idempotency: IdemRecords::default(),
            faults: FaultSet::default(),
            knobs: Knobs::default(),
            deliveries: VecDeque::new(),
            delivery_log_limit: DEFAULT_DELIVERY_LOG_LIMIT,
            outbox: Vec::new(),
            counters: BTreeMap::new(),
        };
        let account = store.create_account("US", "usd", Some("Sandbox Salon".into()), now);
        let pk = store.create_key(&account, KeyKind::Publishable, Default::default());
        let sk = store.create_key(&account, KeyKind::Secret, Default::default());
        let rk = store.create_key(
            &account,
            KeyKind::Restricted,
            crate::auth::slotpay_permissions(),
        );
        store.default_account = account;
        store.default_keys = vec![pk, sk, rk];
        store
    }

    /// Clears every object, event, idempotency record, fault, knob, delivery and counter, and
    /// every account and key except the first account and its three keys (un-revoked). The
    /// collections are replaced, not emptied, so their memory is freed: a cleared map keeps its
    /// capacity, and walking it still costs what walking the full one did.
    pub fn reset(&mut self) {
        let keep = self.default_account.clone();
        self.accounts.retain(|id, _| *id == keep);
        self.keys.retain(|k, _| self.default_keys.contains(k));
        self.keys.values_mut().for_each(|k| k.revoked = false);
        self.keys.shrink_to_fit();
        self.payment_methods = Table::default();
        self.customers = Table::default();
        self.payment_intents = Table::default();
        self.setup_intents = Table::default();
        self.charges = Table::default();
        self.refunds = Table::default();
        self.webhook_endpoints = Table::default();
        self.payment_method_domains = Table::default();
        self.events = Table::default();
        self.disputes = Table::default();
        self.balance_transactions = Table::default();
        self.tokens = Table::default();
        self.idempotency = IdemRecords::default();
        self.faults = FaultSet::default();
        self.knobs = Knobs::default();
        self.deliveries = VecDeque::new();
        self.outbox = Vec::new();
        self.counters = BTreeMap::new();
    }

    /// Appends a row to the delivery log, dropping the oldest beyond the limit.
    pub fn log_delivery(&mut self, row: Delivery) {
        while self.deliveries.len() >= self.delivery_log_limit.max(1) {
            self.deliveries.pop_front();
        }
        self.deliveries.push_back(row);
    }

    /// Drops what Stripe no longer keeps at `now`: idempotency records after 24 hours, events
    /// after 30 days. Each looks only at what it drops.
    pub fn expire_records(&mut self, now: i64) {
        self.idempotency.expire(now);
        self.expire_events(now);
    }

    /// Drops the events older than 30 days of sandbox time.
    pub fn expire_events(&mut self, now: i64) {
        while let Some(e) = self.events.oldest() {
            if e.created + EVENT_RETENTION_SECS > now {
                break;
            }
            let id = e.id.clone();
            self.events.remove(&id);
        }
    }

    /// The next creation sequence number.
    pub fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// `len` random alphanumerics.
    pub fn random(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| ALNUM[self.rng.gen_range(0..ALNUM.len())] as char)
            .collect()
    }

    /// A Stripe-like id: `pi_` + 24 alphanumerics (`cus_` 14, `acct_` 16).
    pub fn new_id(&mut self, prefix: &str) -> String {
        let len = match prefix {
            "cus_" => 14,
            "acct_" => 16,
            "req_" => 14,
            _ => 24,
        };
        format!("{prefix}{}", self.random(len))
    }

    /// Adds to a counter.
    pub fn count(&mut self, name: &str) {
        *self.counters.entry(name.to_string()).or_default() += 1;
    }

    /// Creates an account.
    pub fn create_account(
        &mut self,
        country: &str,
        currency: &str,
        name: Option<String>,
        now: i64,
    ) -> String {
        let id = self.new_id("acct_");
        self.accounts.insert(
            id.clone(),
            Account {
                id: id.clone(),
                country: country.to_uppercase(),
                default_currency: currency.to_lowercase(),
                business_name: name,
                email: Some(format!("owner+{}@example.com", id.to_lowercase())),
                charges_enabled: true,
                created: now,
            },
        );
        id
    }

    /// Creates a key of `kind` for `account`.
    pub fn create_key(
        &mut self,
        account: &str,
        kind: KeyKind,
        permissions: std::collections::BTreeSet<String>,
    ) -> String {
        // Real keys are about 107 characters: `sk_test_51` then the rest.
        let secret = format!("{}51{}", kind.prefix(), self.random(97));
        self.keys.insert(
            secret.clone(),
            ApiKey {
                secret: secret.clone(),
                account: account.to_string(),
                kind,
                permissions,
                revoked: false,
            },
        );
        secret
    }

    /// Records an event for `account` and queues a delivery to every endpoint listening to it.
    pub fn emit(
        &mut self,
        account: &str,
        now: i64,
        request: &RequestInfo,
        event_type: &str,
        object: Value,
        previous_attributes: Option<Value>,
    ) -> String {
        let id = self.new_id("evt_");
        let seq = self.next_seq();
        let mut endpoints: Vec<(u64, String)> = self
            .webhook_endpoints
            .values()
            .filter(|e| e.account == account && e.listens(event_type))
            .map(|e| (e.seq, e.id.clone()))
            .collect();
        endpoints.sort();
        let api_version = request
            .api_version
            .clone()
            .unwrap_or_else(|| DEFAULT_API_VERSION.to_string());
        self.expire_events(now);
        let snapshot: Arc<str> = Arc::from(object.to_string());
        self.idempotency.remember_snapshot(snapshot.clone());
        let undelivered: Vec<String> = endpoints.into_iter().map(|(_, e)| e).collect();
        for endpoint in &undelivered {
            self.outbox.push(DeliveryJob {
                event: id.clone(),
                endpoint: endpoint.clone(),
                attempt: 1,
                duplicate: false,
            });
        }
        self.events.insert(
            id.clone(),
            Event {
                id: id.clone(),
                account: account.to_string(),
                seq,
                created: now,
                event_type: event_type.to_string(),
                object: snapshot.clone(),
                previous_attributes: previous_attributes.map(|p| p.to_string().into_boxed_str()),
                request_id: request.id.clone(),
                idempotency_key: request.idempotency_key.clone(),
                api_version,
                undelivered,
            },
        );
        self.count("events");
        id
    }

    /// Renders the object with `id` if it belongs to `account` (for `expand[]`).
    pub fn render_id(&self, account: &str, id: &str) -> Option<Value> {
        // The object of that table with this id, if it is the account's, rendered.
        macro_rules! own {
            ($table:ident) => {
                self.$table
                    .get(id)
                    .filter(|x| x.account == account)
                    .map(|x| x.render(self))
            };
        }
        match id.split('_').next().unwrap_or_default() {
            "pi" => own!(payment_intents),
            "ch" => own!(charges),
            "pm" => own!(payment_methods),
            "cus" => own!(customers),
            "seti" => own!(setup_intents),
            "re" => own!(refunds),
            "txn" => own!(balance_transactions),
            "dp" => own!(disputes),
            "evt" => own!(events),
            _ => None,
        }
    }

    /// Applies `expand[]` paths (`latest_charge`, `latest_charge.balance_transaction`,
    /// `data.payment_method` on lists) to a rendered object.
    pub fn expand(&self, account: &str, value: &mut Value, paths: &[String]) -> ApiResult<()> {
        for path in paths {
            let segs: Vec<&str> = path.split('.').collect();
            if segs.len() > 4 {
                return Err(ApiError::invalid(format!(
                    "You cannot expand more than 4 levels of a property. Property: {path}"
                ))
                .param("expand"));
            }
            self.expand_path(account, value, &segs)?;
        }
        Ok(())
    }

    fn expand_path(&self, account: &str, value: &mut Value, segs: &[&str]) -> ApiResult<()> {
        let Some((first, rest)) = segs.split_first() else {
            return Ok(());
        };
        if value.get("object").and_then(Value::as_str) == Some("list") && *first == "data" {
            if let Some(items) = value.get_mut("data").and_then(Value::as_array_mut) {
                for item in items {
                    self.expand_path(account, item, rest)?;
                }
            }
            return Ok(());
        }
        let not_expandable = || {
            ApiError::invalid(format!("This property cannot be expanded ({first})."))
                .param("expand")
        };
        let slot = value.get_mut(*first).ok_or_else(not_expandable)?;
        if let Value::String(id) = slot {
            match self.render_id(account, id) {
                Some(obj) => *slot = obj,
                None => return Err(not_expandable()),
            }
        }
        if slot.is_object() {
            self.expand_path(account, slot, rest)?;
        }
        Ok(())
    }

    /// The account's settlement currency.
    pub fn settlement_currency(&self, account: &str) -> String {
        self.accounts
            .get(account)
            .map(|a| a.default_currency.clone())
            .unwrap_or_else(|| "usd".into())
    }
}

/// An operation's view of the store: the caller's account, the clock and the request.
pub struct Ctx<'a> {
    /// The store.
    pub store: &'a mut Store,
    /// The caller's account.
    pub account: String,
    /// Sandbox time.
    pub now: i64,
    /// What caused the operation.
    pub request: RequestInfo,
    /// The key kind used (publishable keys see less).
    pub caller: KeyKind,
}

impl Ctx<'_> {
    /// Emits an event on the caller's account.
    pub fn emit(&mut self, event_type: &str, object: Value, previous: Option<Value>) -> String {
        let account = self.account.clone();
        let request = self.request.clone();
        self.store
            .emit(&account, self.now, &request, event_type, object, previous)
    }

    /// A new id.
    pub fn id(&mut self, prefix: &str) -> String {
        self.store.new_id(prefix)
    }

    /// Renders and expands an object for the answer.
    pub fn answer(&self, mut value: Value, params: &Params) -> ApiResult<Value> {
        self.store
            .expand(&self.account, &mut value, &params.expand())?;
        Ok(value)
    }
}

/// The `metadata` of an update endpoint: an empty one clears the object's metadata, any other
/// is merged into it ([`merge_metadata`]).
pub fn update_metadata(target: &mut Map<String, Value>, update: Map<String, Value>) {
    if update.is_empty() {
        *target = Map::new();
    } else {
        merge_metadata(target, update);
    }
}

/// A metadata update: keys with an empty value are removed, others set.
pub fn merge_metadata(target: &mut Map<String, Value>, update: Map<String, Value>) {
    for (k, v) in update {
        if v.as_str() == Some("") {
            target.remove(&k);
        } else {
            target.insert(k, v);
        }
    }
}
