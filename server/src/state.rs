//! The state every handler and domain function shares: storage, the cipher for secrets at
//! rest, the Stripe client, metrics, the rate limiter, the failed sign-in throttle, the admin
//! token and the public URL.

use std::ops::Deref;
use std::sync::Arc;

use secrecy::SecretString;
use url::Url;

use crate::admin::throttle::Throttle;
use crate::config::Config;
use crate::db::Db;
use crate::integration_cache::{CachedSecrets, MerchantCache};
use crate::limits::RateLimiter;
use crate::metrics::Metrics;
use crate::model::PaymentCredentials;
use crate::secrets::{Cipher, MasterKey};
use crate::stripe::{ClientConfig, StripeClient};

/// Password checks that may run at once.
const PASSWORD_CHECKS: usize = 2;

/// Shared state; cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState(Arc<Inner>);

/// What [`AppState`] holds.
#[derive(Debug)]
pub struct Inner {
    /// Storage.
    pub db: Db,
    /// Encrypts and decrypts secrets at rest.
    pub cipher: Cipher,
    /// Talks to Stripe.
    pub stripe: StripeClient,
    /// Counters and histograms.
    pub metrics: Arc<Metrics>,
    /// Public-route rate limits.
    pub limiter: RateLimiter,
    /// Failed admin sign-ins.
    pub sign_in_throttle: Throttle,
    /// Argon2 checks of operators' passwords running at once, at most (each takes 19 MiB
    /// and a core for tens of milliseconds: sign-in floods must not exhaust either).
    pub password_checks: tokio::sync::Semaphore,
    /// Bearer token of the platform API.
    pub admin_token: SecretString,
    /// A fingerprint of the admin token keyed by the master key: admin sessions signed in
    /// with the token carry it, so replacing the token ends them.
    pub admin_token_fingerprint: String,
    /// Base URL browsers and Stripe reach the server at.
    pub public_url: Url,
    /// The configuration it was built from.
    pub config: Config,
    /// Merchants' webhook signing secrets, decrypted, for a few seconds.
    pub(crate) webhook_secrets: MerchantCache<CachedSecrets>,
    /// Merchants' payment credentials (keys decrypted), for a few seconds.
    pub(crate) payment_credentials: MerchantCache<PaymentCredentials>,
    /// The HTTP client of webhooks to platforms (no redirects, bounded time).
    pub deliveries_http: reqwest::Client,
}

impl AppState {
    /// Builds the state from its parts.
    pub fn new(
        config: Config,
        db: Db,
        master_key: &MasterKey,
        admin_token: SecretString,
        public_url: Url,
    ) -> AppState {
        let metrics = Arc::new(Metrics::default());
        let stripe = StripeClient::new(
            ClientConfig {
                api_base: config.stripe_api_base.clone(),
                timeout: config.stripe_timeout,
                max_retries: config.stripe_max_retries,
                retry_base: config.stripe_retry_base,
            },
            metrics.clone(),
        );
        let admin_token_fingerprint = master_key.fingerprint("admin-token", &admin_token);
        AppState(Arc::new(Inner {
            db,
            cipher: Cipher::new(master_key),
            stripe,
            limiter: RateLimiter::new(config.rate_limit_ip, config.rate_limit_merchant),
            sign_in_throttle: Throttle::default(),
            password_checks: tokio::sync::Semaphore::new(PASSWORD_CHECKS),
            metrics,
            admin_token,
            admin_token_fingerprint,
            public_url,
            config,
            webhook_secrets: MerchantCache::default(),
            payment_credentials: MerchantCache::default(),
            deliveries_http: deliveries_client(),
        }))
    }
}

impl Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// The HTTP client of webhooks to platforms: no redirects (the endpoint's URL is the one the platform
/// gave), no proxies from the environment.
fn deliveries_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .connect_timeout(std::time::Duration::from_secs(5))
        .pool_max_idle_per_host(32)
        .user_agent(concat!("slotpay-webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("a client without custom TLS builds")
}
