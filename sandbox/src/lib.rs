//! stripe-sandbox: an offline stand-in for the part of Stripe's REST API (and, through
//! `assets`, Stripe.js) that slotpay uses, with Stripe's semantics, so that code tested against
//! it works against real Stripe. For demos and tests only: slotpay's live mode never talks to it.
//!
//! It deliberately does **not** depend on `slotpay-core`. The sandbox models Stripe; core models
//! slotpay's rules. Two independent implementations of the minimum-amount table, currency
//! decimals and webhook signing are what let the tests catch a mistake in either.
//!
//! Start one in-process with [`Sandbox::start`] (port 0 is fine; each instance is independent and
//! starts in milliseconds), or run the `stripe-sandbox` binary.
//!
//! The modules, from the top; imports point down this list (and one way within a line):
//! - [`server`]: the HTTP routes and accept loop, over [`api`] (the `/v1` pipeline),
//!   [`control`] (`/_sandbox/`) and [`webhook_worker`] (sending webhooks);
//! - [`shared`]: the handle those share;
//! - [`resources`]: Stripe's objects as the API renders them, and their operations;
//! - [`state`] (the store), with [`idempotency`], [`webhooks`] and [`table`];
//! - [`auth`], [`cards`], [`clock`], [`currency`], [`errors`], [`faults`], [`form`], [`assets`].

#![deny(missing_docs)]
#![recursion_limit = "256"]

pub mod api;
pub mod assets;
pub mod auth;
pub mod cards;
pub mod clock;
pub mod control;
pub mod currency;
pub mod errors;
pub mod faults;
pub mod form;
pub mod idempotency;
pub mod resources;
pub mod server;
pub mod shared;
pub mod state;
pub mod table;
pub mod webhook_worker;
pub mod webhooks;

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

pub use auth::KeyKind;
pub use control::{AccountKeys, AccountParams, AccountUpdate, ControlError};
pub use faults::{FaultKind, FaultRule, When};
pub use webhooks::{Delivery, Knobs};

use shared::{Shared, Tuning};
use state::Store;

/// How to start a sandbox.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Address to bind (loopback by default: the control API has no authentication).
    pub host: String,
    /// Port (0 picks a free one).
    pub port: u16,
    /// Makes keys and ids repeat from run to run.
    pub seed: Option<u64>,
    /// First retry delay of a failed webhook delivery, doubled per attempt (Stripe's real
    /// schedule spans three days; the sandbox default is 1 s, tests use ~50 ms).
    pub webhook_retry_base: Duration,
    /// Attempts per delivery, the first included.
    pub webhook_max_attempts: u32,
    /// How long a webhook endpoint has to answer before the attempt counts as failed.
    pub webhook_timeout: Duration,
    /// Rows the webhook delivery log keeps (the newest; the log is for tests to inspect, and
    /// an unbounded one grows with every event of a long-lived sandbox).
    pub webhook_log_limit: usize,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            host: "127.0.0.1".into(),
            port: 0,
            seed: None,
            webhook_retry_base: Duration::from_secs(1),
            webhook_max_attempts: 8,
            webhook_timeout: Duration::from_secs(10),
            webhook_log_limit: state::DEFAULT_DELIVERY_LOG_LIMIT,
        }
    }
}

/// Starts sandboxes.
#[derive(Debug, Clone, Copy)]
pub struct Sandbox;

impl Sandbox {
    /// Binds `host:port`, serves the sandbox in background tasks, and returns its URL and keys.
    pub async fn start(config: SandboxConfig) -> io::Result<SandboxHandle> {
        let listener = TcpListener::bind((config.host.as_str(), config.port)).await?;
        let addr = listener.local_addr()?;
        let url = format!("http://{}:{}", config.host, addr.port());
        let clock = clock::Clock::new();
        let mut store = Store::new(config.seed, clock.now());
        store.base_url = url.clone();
        store.delivery_log_limit = config.webhook_log_limit.max(1);
        let (pk, sk, rk) = (
            store.default_keys[0].clone(),
            store.default_keys[1].clone(),
            store.default_keys[2].clone(),
        );
        let account = store.default_account.clone();
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(config.webhook_timeout)
            .build()
            .map_err(io::Error::other)?;
        let (tx, rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            store: Mutex::new(store),
            clock,
            config: Tuning {
                webhook_retry_base: config.webhook_retry_base,
                webhook_max_attempts: config.webhook_max_attempts.max(1),
            },
            webhook_tx: tx,
            http,
        });
        let worker = tokio::spawn(webhook_worker::run(shared.clone(), rx));
        let server = tokio::spawn(server::serve(listener, server::app(shared.clone())));
        tracing::info!(%url, "stripe-sandbox listening");
        Ok(SandboxHandle {
            url,
            publishable_key: pk,
            secret_key: sk,
            restricted_key: rk,
            account_id: account,
            shared,
            tasks: vec![worker, server],
        })
    }
}

/// A running sandbox. Dropping it stops the server and the webhook worker.
pub struct SandboxHandle {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// `pk_test_...` of the first account.
    pub publishable_key: String,
    /// `sk_test_...` of the first account.
    pub secret_key: String,
    /// `rk_test_...` of the first account, with the permissions slotpay needs.
    pub restricted_key: String,
    /// `acct_...` of the first account.
    pub account_id: String,
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
}

impl fmt::Debug for SandboxHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxHandle")
            .field("url", &self.url)
            .field("account_id", &self.account_id)
            .field("publishable_key", &auth::mask_last4(&self.publishable_key))
            .field("secret_key", &auth::mask_last4(&self.secret_key))
            .field("restricted_key", &auth::mask_last4(&self.restricted_key))
            .finish()
    }
}

impl Drop for SandboxHandle {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl SandboxHandle {
    /// The REST API base: `http://127.0.0.1:PORT/v1`.
    pub fn api_base(&self) -> String {
        format!("{}/v1", self.url)
    }

    /// The Stripe.js stand-in's URL: `http://127.0.0.1:PORT/v3/`.
    pub fn stripe_js_url(&self) -> String {
        format!("{}/v3/", self.url)
    }

    /// Revokes a key: it then answers 401 `api_key_expired`.
    pub fn revoke_key(&self, key: &str) -> Result<(), ControlError> {
        control::revoke_key(&self.shared, key)
    }

    /// A new restricted key on the first account with these permissions
    /// (`rak_payment_intent_write` or `payment_intents:write`).
    pub fn create_restricted_key(&self, permissions: &[&str]) -> Result<String, ControlError> {
        let p: Vec<String> = permissions.iter().map(|s| s.to_string()).collect();
        control::create_key(&self.shared, None, KeyKind::Restricted, &p)
    }

    /// A new key of any kind on `account` (the first account when `None`).
    pub fn create_key(
        &self,
        account: Option<&str>,
        kind: KeyKind,
        permissions: &[&str],
    ) -> Result<String, ControlError> {
        let p: Vec<String> = permissions.iter().map(|s| s.to_string()).collect();
        control::create_key(&self.shared, account, kind, &p)
    }

    /// Replaces a restricted key's permissions.
    pub fn set_key_permissions(&self, key: &str, permissions: &[&str]) -> Result<(), ControlError> {
        let p: Vec<String> = permissions.iter().map(|s| s.to_string()).collect();
        control::set_permissions(&self.shared, key, &p)
    }

    /// Moves the sandbox clock forward and runs expiries; returns the PaymentIntents that expired.
    pub fn advance_clock(&self, secs: i64) -> Result<Vec<String>, ControlError> {
        control::advance_clock(&self.shared, secs)
    }

    /// Sandbox time (Unix seconds).
    pub fn now(&self) -> i64 {
        self.shared.clock.now()
    }

    /// Replaces the fault rules; a seed makes their probabilities repeat.
    pub fn set_faults(&self, rules: Vec<FaultRule>, seed: Option<u64>) {
        control::set_faults(&self.shared, rules, seed)
    }

    /// Sets the webhook delivery knobs.
    pub fn set_webhook_knobs(&self, knobs: Knobs) {
        self.shared.lock().knobs = knobs;
    }

    /// The delivery log (its newest `webhook_log_limit` rows).
    pub fn webhook_deliveries(&self) -> Vec<Delivery> {
        self.shared.lock().deliveries.iter().cloned().collect()
    }

    /// Clears all state but the first account and its keys (which are un-revoked), and the clock.
    pub fn reset(&self) {
        control::reset_all(&self.shared);
    }

    /// A new account with its own publishable, secret and restricted keys.
    pub fn create_account(&self, params: AccountParams) -> Result<AccountKeys, ControlError> {
        control::create_account(&self.shared, &params)
    }

    /// Changes an account's country, settlement currency, name or `charges_enabled`.
    pub fn update_account(
        &self,
        account: &str,
        update: AccountUpdate,
    ) -> Result<Value, ControlError> {
        control::update_account(&self.shared, account, &update)
    }

    /// The counters (`payment_intents_created`, `charges_succeeded`, `charges_failed`,
    /// `captures`, `refunds`, `events`, `webhook_attempts`, ...).
    pub fn counters(&self) -> BTreeMap<String, u64> {
        self.shared.lock().counters.clone()
    }

    /// One counter (0 when never incremented).
    pub fn counter(&self, name: &str) -> u64 {
        self.shared.lock().counters.get(name).copied().unwrap_or(0)
    }

    /// Rotates a webhook endpoint's secret; the old one keeps signing for `grace_secs`.
    pub fn rotate_webhook_secret(
        &self,
        endpoint: &str,
        grace_secs: i64,
    ) -> Result<String, ControlError> {
        control::rotate_secret(&self.shared, endpoint, grace_secs)
    }

    /// Opens a dispute on a charge (closed right away when `outcome` is `won` or `lost`).
    pub fn open_dispute(&self, charge: &str, outcome: Option<&str>) -> Result<Value, ControlError> {
        control::open_dispute(&self.shared, charge, None, outcome)
    }

    /// Closes a dispute `won` or `lost`.
    pub fn close_dispute(&self, dispute: &str, outcome: &str) -> Result<Value, ControlError> {
        control::close_dispute(&self.shared, dispute, outcome)
    }

    /// Passes or fails the 3-D Secure challenge of an intent, as the challenge page does.
    pub fn three_ds(
        &self,
        intent: &str,
        client_secret: &str,
        complete: bool,
    ) -> Result<Value, ControlError> {
        control::three_ds(&self.shared, intent, client_secret, complete)
    }

    /// Stops the server and the webhook worker.
    pub fn shutdown(self) {
        drop(self)
    }
}
