//! The server's configuration: environment variables (`SLOTPAY_*`, names in DESIGN.md) over an
//! optional TOML file that mirrors them (`listen = "..."` for `SLOTPAY_LISTEN`), each value
//! parsed once at start into a type that cannot hold an invalid value. An invalid value stops
//! the server with a message naming the variable (`SLOTPAY_PUBLIC_URL: not a URL: ...`).

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipnet::IpNet;
use secrecy::SecretString;
use url::Url;

use crate::secrets::MasterKey;

/// A setting the CLI took from what the server last started with: its variable and value.
pub type Adopted = (&'static str, String);

/// A variable of the process environment.
fn env_lookup(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// The TOML file given on the command line, else `SLOTPAY_CONFIG`'s.
fn config_file(given: Option<&Path>) -> Option<PathBuf> {
    given
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os("SLOTPAY_CONFIG").map(PathBuf::from))
}

/// The file in the data directory where the server records what it started with.
pub const LAST_START_FILE: &str = "last-start.toml";

/// The variables the server reads, in the order `--help` lists them.
pub const VARIABLES: &[&str] = &[
    "SLOTPAY_LISTEN",
    "SLOTPAY_PUBLIC_URL",
    "SLOTPAY_DATABASE_URL",
    "SLOTPAY_DATA_DIR",
    "SLOTPAY_ADMIN_TOKEN",
    "SLOTPAY_MASTER_KEY",
    "SLOTPAY_STRIPE_API_BASE",
    "SLOTPAY_STRIPE_JS_URL",
    "SLOTPAY_STRIPE_TIMEOUT_SECS",
    "SLOTPAY_LOG",
    "SLOTPAY_WWW_DIR",
    "SLOTPAY_RATE_LIMIT_IP",
    "SLOTPAY_RATE_LIMIT_MERCHANT",
    "SLOTPAY_RECONCILE_INTERVAL_SECS",
    "SLOTPAY_RECONCILE_STALE_SECS",
    "SLOTPAY_WEBHOOK_RETRY_SECS",
    "SLOTPAY_WEBHOOK_TIMEOUT_SECS",
    "SLOTPAY_WEBHOOK_ALLOW_PRIVATE",
    "SLOTPAY_HOLD_CHECK_SECS",
    "SLOTPAY_SMTP_URL",
    "SLOTPAY_MAIL_FROM",
];

/// Stripe's REST API.
pub const STRIPE_API_BASE: &str = "https://api.stripe.com";
/// Stripe.js v3.
pub const STRIPE_JS_URL: &str = "https://js.stripe.com/v3/";
/// Shortest admin token accepted from configuration: a guessable token guards nothing.
const MIN_ADMIN_TOKEN_LEN: usize = 24;

/// How log lines are written.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum LogFormat {
    /// Human-readable lines (the default).
    #[default]
    Pretty,
    /// One JSON object per line (production).
    Json,
}

/// Token-bucket parameters of one rate limit.
#[derive(Clone, Copy, PartialEq, Debug)]
pub struct RateLimit {
    /// Requests a client may make at once.
    pub burst: u32,
    /// Requests per second the bucket refills.
    pub per_second: f64,
}

/// At most `count` events per `window` (a sliding window, counted in the database so every
/// instance shares it).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct WindowLimit {
    /// Events allowed in a window.
    pub count: u32,
    /// The window's length.
    pub window: Duration,
}

/// Everything the server needs to start. Tests build one directly with [`Config::new`].
#[derive(Clone)]
pub struct Config {
    /// Address to listen on (`SLOTPAY_LISTEN`, default `127.0.0.1:8080`; port 0 picks one).
    pub listen: SocketAddr,
    /// A second, private address serving only `/metrics`, without a token
    /// (`SLOTPAY_METRICS_LISTEN`); when unset, `/metrics` on the main address needs the
    /// admin token.
    pub metrics_listen: Option<SocketAddr>,
    /// Base URL browsers and Stripe reach the server at (`SLOTPAY_PUBLIC_URL`, default
    /// `http://<listen>`); webhook endpoints are registered under it.
    pub public_url: Option<Url>,
    /// `sqlite://...` or `postgres://...` (`SLOTPAY_DATABASE_URL`, default
    /// `sqlite://<data dir>/slotpay.db`). May hold a password: never logged.
    pub database_url: Option<SecretString>,
    /// Where the SQLite file, the generated master key and admin token live
    /// (`SLOTPAY_DATA_DIR`, default `./.data`).
    pub data_dir: PathBuf,
    /// Bearer token of the platform API (`SLOTPAY_ADMIN_TOKEN`); generated into
    /// `<data dir>/admin-token` when absent.
    pub admin_token: Option<SecretString>,
    /// Key encrypting secrets at rest (`SLOTPAY_MASTER_KEY`); loaded from or generated into
    /// `<data dir>/master.key` when absent.
    pub master_key: Option<MasterKey>,
    /// Stripe's REST API base (`SLOTPAY_STRIPE_API_BASE`); the sandbox's URL in tests.
    pub stripe_api_base: Url,
    /// Stripe.js (`SLOTPAY_STRIPE_JS_URL`).
    pub stripe_js_url: Url,
    /// Per-request timeout of Stripe calls (`SLOTPAY_STRIPE_TIMEOUT_SECS`, default 20).
    pub stripe_timeout: Duration,
    /// Retries of a Stripe call after a connection error, timeout, 429 or 5xx.
    pub stripe_max_retries: u32,
    /// First retry delay, doubled per attempt, with jitter.
    pub stripe_retry_base: Duration,
    /// `SLOTPAY_LOG`: `pretty` or `json`.
    pub log: LogFormat,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// Per client IP, on public routes (`SLOTPAY_RATE_LIMIT_IP`, `<per second>,<burst>`,
    /// default `5,30`). A load generator on one IP needs it raised (`./dev bench` does).
    pub rate_limit_ip: RateLimit,
    /// Per merchant, on public routes (`SLOTPAY_RATE_LIMIT_MERCHANT`, default `20,120`).
    pub rate_limit_merchant: RateLimit,
    /// Declined pay attempts after which a checkout refuses further pays
    /// (`SLOTPAY_MAX_DECLINES_PER_CHECKOUT`, default 5): a card-testing bot gets few tries
    /// per checkout, a client who mistyped a card a few times is not stopped.
    pub max_declines_per_checkout: u32,
    /// Declines a merchant may have in a window before its pays stop until the window moves
    /// on (`SLOTPAY_MERCHANT_DECLINE_BUDGET`, `<declines>/<seconds>`, default `30/600`):
    /// a card-testing attack on one merchant stops reaching Stripe (which suspends accounts
    /// whose decline rate spikes) while other merchants are not touched.
    pub merchant_decline_budget: WindowLimit,
    /// Checkouts one client address may make from merchants' catalogues in a window
    /// (`SLOTPAY_CATALOGUE_CHECKOUTS_PER_CLIENT`, `<checkouts>/<seconds>`, default `30/600`).
    pub catalogue_checkouts_per_client: WindowLimit,
    /// Proxies whose `X-Forwarded-For` / `Forwarded` name the client
    /// (`SLOTPAY_TRUSTED_PROXIES`: addresses or CIDRs, comma separated; none by default).
    pub trusted_proxies: Vec<IpNet>,
    /// The directory served at `/`: the loader, the widget's wasm, demo pages
    /// (`SLOTPAY_WWW_DIR`, default `www` relative to the working directory).
    pub www_dir: PathBuf,
    /// How often the reconciler runs (settles payments in flight, expires lapsed
    /// authorisations, drives pending refunds, processes stored webhooks); it also runs at
    /// start (`SLOTPAY_RECONCILE_INTERVAL_SECS`, default 60). Zero turns the background task
    /// off (tests run it by hand).
    pub reconcile_interval: Duration,
    /// How long a checkout in flight (or a refund pending) is left alone before the
    /// reconciler reads it from Stripe (`SLOTPAY_RECONCILE_STALE_SECS`, default 60). A live
    /// lease is never taken over, whatever this says.
    pub reconcile_stale: Duration,
    /// The waits before each retry of a webhook to a platform, after the first attempt
    /// (`SLOTPAY_WEBHOOK_RETRY_SECS`, seconds comma separated, default
    /// `5,300,1800,7200,18000,36000,36000`); when they run out the delivery is failed.
    pub webhook_retries: Vec<Duration>,
    /// How long an endpoint has to answer (`SLOTPAY_WEBHOOK_TIMEOUT_SECS`, default 10).
    pub webhook_timeout: Duration,
    /// Whether platform endpoints may be loopback or private addresses
    /// (`SLOTPAY_WEBHOOK_ALLOW_PRIVATE`, `true` or `false`, default `false`: the server will
    /// not be made to call into its own network). The demo and the tests turn it on.
    pub webhook_allow_private: bool,
    /// How often lapsed holds are looked for, so `checkout.expired` is sent within this of
    /// the due time (`SLOTPAY_HOLD_CHECK_SECS`, default 1; 0 turns it off).
    pub hold_check_interval: Duration,
    /// The SMTP server emails to clients go through (`SLOTPAY_SMTP_URL`:
    /// `smtp://user:password@host:587?tls=required`, `smtps://...`, or `smtp://host:port` in
    /// clear on a trusted network); no emails without it. It may hold a password.
    pub smtp_url: Option<SecretString>,
    /// The sender of those emails (`SLOTPAY_MAIL_FROM`, such as `Salon bookings
    /// <pay@salon.example>`; default `slotpay <noreply@` the public URL's host `>`).
    pub mail_from: Option<String>,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Secrets are summarised as set / not set.
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("metrics_listen", &self.metrics_listen)
            .field("public_url", &self.public_url.as_ref().map(Url::as_str))
            .field("database", &self.database_url.as_ref().map(|_| "set"))
            .field("data_dir", &self.data_dir)
            .field("admin_token", &self.admin_token.as_ref().map(|_| "set"))
            .field("master_key", &self.master_key.as_ref().map(|_| "set"))
            .field("stripe_api_base", &self.stripe_api_base.as_str())
            .field("stripe_js_url", &self.stripe_js_url.as_str())
            .field("stripe_timeout", &self.stripe_timeout)
            .field("log", &self.log)
            .field("www_dir", &self.www_dir)
            .field("smtp", &self.smtp_url.as_ref().map(|_| "set"))
            .field("mail_from", &self.mail_from)
            .finish_non_exhaustive()
    }
}

/// A configuration value that cannot be used. Displays as `SLOTPAY_X: what is wrong`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    /// The variable (or `--config` for the file itself).
    pub variable: String,
    /// What is wrong; never the value of a secret.
    pub message: String,
}

fn err(variable: &str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        variable: variable.to_owned(),
        message: message.into(),
    }
}

impl Config {
    /// The defaults, with data in `data_dir`: what `slotpay` uses with no configuration.
    pub fn new(data_dir: impl Into<PathBuf>) -> Config {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            metrics_listen: None,
            public_url: None,
            database_url: None,
            data_dir: data_dir.into(),
            admin_token: None,
            master_key: None,
            stripe_api_base: Url::parse(STRIPE_API_BASE).expect("constant URL"),
            stripe_js_url: Url::parse(STRIPE_JS_URL).expect("constant URL"),
            stripe_timeout: Duration::from_secs(20),
            stripe_max_retries: 3,
            stripe_retry_base: Duration::from_millis(250),
            log: LogFormat::Pretty,
            body_limit: 64 * 1024,
            rate_limit_ip: RateLimit {
                burst: 30,
                per_second: 5.0,
            },
            rate_limit_merchant: RateLimit {
                burst: 120,
                per_second: 20.0,
            },
            max_declines_per_checkout: 5,
            merchant_decline_budget: WindowLimit {
                count: 30,
                window: Duration::from_secs(600),
            },
            catalogue_checkouts_per_client: WindowLimit {
                count: 30,
                window: Duration::from_secs(600),
            },
            trusted_proxies: Vec::new(),
            www_dir: PathBuf::from("www"),
            reconcile_interval: Duration::from_secs(60),
            reconcile_stale: Duration::from_secs(60),
            webhook_retries: [5, 300, 1800, 7200, 18_000, 36_000, 36_000]
                .map(Duration::from_secs)
                .to_vec(),
            webhook_timeout: Duration::from_secs(10),
            webhook_allow_private: false,
            hold_check_interval: Duration::from_secs(1),
            smtp_url: None,
            mail_from: None,
        }
    }

    /// Reads the process environment, and the TOML file at `file` (or `SLOTPAY_CONFIG`) when
    /// given; the environment wins.
    pub fn from_env(file: Option<&Path>) -> Result<Config, ConfigError> {
        Config::from_sources(&env_lookup, config_file(file).as_deref())
    }

    /// For the CLI: [`Config::from_env`], but the public URL and Stripe's addresses that are
    /// configured neither in the environment nor in the file are the ones the server last
    /// started with in the same data directory ([`Config::record_start`]), so a command run in
    /// another terminal registers and verifies what the server serves. Also answers the
    /// settings taken from there, by variable.
    pub fn from_env_like_the_server(
        file: Option<&Path>,
    ) -> Result<(Config, Vec<Adopted>), ConfigError> {
        let file = config_file(file);
        let own = Config::from_sources(&env_lookup, file.as_deref())?;
        let path = own.data_dir.join(LAST_START_FILE);
        if !path.exists() {
            return Ok((own, Vec::new()));
        }
        let last = read_file(&path)?;
        let c = Config::from_sources_over(&env_lookup, file.as_deref(), &last)?;
        let adopted = [
            (
                "SLOTPAY_PUBLIC_URL",
                own.public_url.as_ref().map(Url::to_string),
                c.public_url.as_ref().map(Url::to_string),
            ),
            (
                "SLOTPAY_STRIPE_API_BASE",
                Some(own.stripe_api_base.to_string()),
                Some(c.stripe_api_base.to_string()),
            ),
            (
                "SLOTPAY_STRIPE_JS_URL",
                Some(own.stripe_js_url.to_string()),
                Some(c.stripe_js_url.to_string()),
            ),
        ]
        .into_iter()
        .filter_map(|(name, before, after)| (before != after).then_some((name, after?)))
        .collect();
        Ok((c, adopted))
    }

    /// Writes what the started server serves and talks to (no secret) to the data
    /// directory, for [`Config::from_env_like_the_server`].
    pub fn record_start(&self, public_url: &Url) -> std::io::Result<()> {
        let text = format!(
            "# What the server last started with; the CLI uses these unless it is configured.\n\
             public_url = {:?}\nstripe_api_base = {:?}\nstripe_js_url = {:?}\n",
            public_url.as_str(),
            self.stripe_api_base.as_str(),
            self.stripe_js_url.as_str()
        );
        std::fs::write(self.data_dir.join(LAST_START_FILE), text)
    }

    /// Builds a configuration from `lookup` (a variable's value) over the TOML `file`.
    pub fn from_sources(
        lookup: &dyn Fn(&str) -> Option<String>,
        file: Option<&Path>,
    ) -> Result<Config, ConfigError> {
        Config::from_sources_over(lookup, file, &BTreeMap::new())
    }

    /// [`Config::from_sources`] over `last`: values used when neither gives one.
    fn from_sources_over(
        lookup: &dyn Fn(&str) -> Option<String>,
        file: Option<&Path>,
        last: &BTreeMap<String, String>,
    ) -> Result<Config, ConfigError> {
        let file_values = match file {
            Some(path) => read_file(path)?,
            None => BTreeMap::new(),
        };
        let get = |name: &str| -> Option<String> {
            let key = name.trim_start_matches("SLOTPAY_").to_ascii_lowercase();
            lookup(name)
                .or_else(|| file_values.get(&key).cloned())
                .or_else(|| last.get(&key).cloned())
                .filter(|v| !v.trim().is_empty())
        };

        let data_dir = get("SLOTPAY_DATA_DIR").unwrap_or_else(|| "./.data".into());
        let mut c = Config::new(data_dir);
        let get: &dyn Fn(&str) -> Option<String> = &get;
        read_server(get, &mut c)?;
        read_stripe(get, &mut c)?;
        read_limits(get, &mut c)?;
        read_webhooks(get, &mut c)?;
        Ok(c)
    }

    /// The public base URL: the configured one, or `http://<listen address>`.
    pub fn public_url_or_default(&self, bound: SocketAddr) -> Url {
        self.public_url.clone().unwrap_or_else(|| {
            Url::parse(&format!("http://{bound}/")).expect("a socket address makes a URL")
        })
    }

    /// The database URL: the configured one, or the SQLite file in the data directory.
    pub fn database_url_or_default(&self) -> SecretString {
        self.database_url.clone().unwrap_or_else(|| {
            SecretString::from(format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("slotpay.db").display()
            ))
        })
    }
}

/// Addresses or networks, comma separated (`10.0.0.0/8, 192.0.2.7, ::1`).
fn parse_networks(variable: &str, v: &str) -> Result<Vec<IpNet>, ConfigError> {
    v.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            item.parse::<IpNet>()
                .or_else(|_| item.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    err(
                        variable,
                        format!("not an address or network such as 10.0.0.0/8: {item:?}"),
                    )
                })
        })
        .collect()
}

/// An address to listen on (`127.0.0.1:8080`).
fn parse_address(variable: &str, v: &str) -> Result<SocketAddr, ConfigError> {
    v.trim().parse().map_err(|_| {
        err(
            variable,
            format!("not an address such as 127.0.0.1:8080: {v:?}"),
        )
    })
}

/// An absolute `http(s)` URL without query or fragment.
fn parse_base_url(variable: &str, value: &str) -> Result<Url, ConfigError> {
    let value = value.trim();
    let url =
        Url::parse(value).map_err(|e| err(variable, format!("not a URL: {value:?} ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(err(
            variable,
            format!("not a URL: {value:?} (expected http:// or https:// and a host)"),
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(err(
            variable,
            format!("not a base URL: {value:?} has a query or fragment"),
        ));
    }
    Ok(url)
}

/// A whole number of seconds within `range`.
fn parse_secs(
    variable: &str,
    value: &str,
    range: std::ops::RangeInclusive<u64>,
) -> Result<Duration, ConfigError> {
    value
        .trim()
        .parse::<u64>()
        .ok()
        .filter(|s| range.contains(s))
        .map(Duration::from_secs)
        .ok_or_else(|| {
            err(
                variable,
                format!(
                    "not a number of seconds from {} to {}: {value:?}",
                    range.start(),
                    range.end()
                ),
            )
        })
}

/// `<requests per second>,<burst>`, e.g. `5,30`: a positive finite rate and a burst of at
/// least 1 (a bucket that never holds a token would refuse everything).
fn parse_rate_limit(variable: &str, value: &str) -> Result<RateLimit, ConfigError> {
    let refused = || {
        err(
            variable,
            format!("expected <requests per second>,<burst> such as 5,30, got {value:?}"),
        )
    };
    let (rate, burst) = value.trim().split_once(',').ok_or_else(refused)?;
    let per_second: f64 = rate.trim().parse().map_err(|_| refused())?;
    let burst: u32 = burst.trim().parse().map_err(|_| refused())?;
    if !(per_second.is_finite() && per_second > 0.0) || burst == 0 {
        return Err(refused());
    }
    Ok(RateLimit { burst, per_second })
}

/// Reads the settings of the server itself: addresses, database, secrets, files, reconciler, log.
fn read_server(get: &dyn Fn(&str) -> Option<String>, c: &mut Config) -> Result<(), ConfigError> {
    set(get, "SLOTPAY_LISTEN", &mut c.listen, parse_address)?;
    set(
        get,
        "SLOTPAY_METRICS_LISTEN",
        &mut c.metrics_listen,
        |n, v| parse_address(n, v).map(Some),
    )?;
    set(get, "SLOTPAY_PUBLIC_URL", &mut c.public_url, |n, v| {
        parse_base_url(n, v).map(Some)
    })?;
    set(
        get,
        "SLOTPAY_DATABASE_URL",
        &mut c.database_url,
        parse_database_url,
    )?;
    set(
        get,
        "SLOTPAY_ADMIN_TOKEN",
        &mut c.admin_token,
        parse_admin_token,
    )?;
    set(get, "SLOTPAY_MASTER_KEY", &mut c.master_key, |n, v| {
        MasterKey::parse(v)
            .map(Some)
            .map_err(|e| err(n, e.to_string()))
    })?;
    set(get, "SLOTPAY_WWW_DIR", &mut c.www_dir, |_, v| {
        Ok(PathBuf::from(v.trim()))
    })?;
    set(
        get,
        "SLOTPAY_RECONCILE_INTERVAL_SECS",
        &mut c.reconcile_interval,
        |n, v| parse_secs(n, v, 0..=86_400),
    )?;
    set(
        get,
        "SLOTPAY_RECONCILE_STALE_SECS",
        &mut c.reconcile_stale,
        |n, v| parse_secs(n, v, 1..=86_400),
    )?;
    set(get, "SLOTPAY_LOG", &mut c.log, parse_log)?;
    Ok(())
}

/// Reads the settings of webhooks to platforms, of holds and of emails.
fn read_webhooks(get: &dyn Fn(&str) -> Option<String>, c: &mut Config) -> Result<(), ConfigError> {
    set(
        get,
        "SLOTPAY_WEBHOOK_RETRY_SECS",
        &mut c.webhook_retries,
        |n, v| {
            v.split(',')
                .map(|item| parse_secs(n, item, 0..=86_400))
                .collect()
        },
    )?;
    set(
        get,
        "SLOTPAY_WEBHOOK_TIMEOUT_SECS",
        &mut c.webhook_timeout,
        |n, v| parse_secs(n, v, 1..=60),
    )?;
    set(
        get,
        "SLOTPAY_WEBHOOK_ALLOW_PRIVATE",
        &mut c.webhook_allow_private,
        |n, v| match v.trim() {
            "true" | "1" => Ok(true),
            "false" | "0" => Ok(false),
            other => Err(err(n, format!("expected true or false, got {other:?}"))),
        },
    )?;
    set(
        get,
        "SLOTPAY_HOLD_CHECK_SECS",
        &mut c.hold_check_interval,
        |n, v| parse_secs(n, v, 0..=3600),
    )?;
    set(get, "SLOTPAY_SMTP_URL", &mut c.smtp_url, |n, v| {
        // The value may hold a password: an error shows only its scheme.
        let scheme = v.trim().split("://").next().unwrap_or_default();
        if !v.contains("://") || !matches!(scheme, "smtp" | "smtps") {
            return Err(err(n, "expected smtp://host:port or smtps://host:port"));
        }
        if Url::parse(v.trim()).map_or(true, |u| u.host_str().is_none_or(str::is_empty)) {
            return Err(err(n, format!("not a {scheme}:// URL with a host")));
        }
        Ok(Some(SecretString::from(v.trim().to_owned())))
    })?;
    set(get, "SLOTPAY_MAIL_FROM", &mut c.mail_from, |n, v| {
        v.trim()
            .parse::<lettre::message::Mailbox>()
            .map(|_| Some(v.trim().to_owned()))
            .map_err(|e| err(n, format!("not an address: {e}")))
    })?;
    Ok(())
}

/// Reads the settings of stripe's addresses and timeout.
fn read_stripe(get: &dyn Fn(&str) -> Option<String>, c: &mut Config) -> Result<(), ConfigError> {
    set(
        get,
        "SLOTPAY_STRIPE_API_BASE",
        &mut c.stripe_api_base,
        parse_base_url,
    )?;
    set(
        get,
        "SLOTPAY_STRIPE_JS_URL",
        &mut c.stripe_js_url,
        parse_base_url,
    )?;
    set(
        get,
        "SLOTPAY_STRIPE_TIMEOUT_SECS",
        &mut c.stripe_timeout,
        |n, v| parse_secs(n, v, 1..=300),
    )?;
    Ok(())
}

/// Reads the settings of rate limits, card-testing defences and the trusted proxies.
fn read_limits(get: &dyn Fn(&str) -> Option<String>, c: &mut Config) -> Result<(), ConfigError> {
    set(
        get,
        "SLOTPAY_RATE_LIMIT_IP",
        &mut c.rate_limit_ip,
        parse_rate_limit,
    )?;
    let merchant_limit = &mut c.rate_limit_merchant;
    set(
        get,
        "SLOTPAY_RATE_LIMIT_MERCHANT",
        merchant_limit,
        parse_rate_limit,
    )?;
    let declines = &mut c.max_declines_per_checkout;
    set(
        get,
        "SLOTPAY_MAX_DECLINES_PER_CHECKOUT",
        declines,
        |n, v| parse_count(n, v, 1..=1000),
    )?;
    let budget = &mut c.merchant_decline_budget;
    set(
        get,
        "SLOTPAY_MERCHANT_DECLINE_BUDGET",
        budget,
        parse_window_limit,
    )?;
    let catalogue = &mut c.catalogue_checkouts_per_client;
    set(
        get,
        "SLOTPAY_CATALOGUE_CHECKOUTS_PER_CLIENT",
        catalogue,
        parse_window_limit,
    )?;
    set(
        get,
        "SLOTPAY_TRUSTED_PROXIES",
        &mut c.trusted_proxies,
        parse_networks,
    )?;
    Ok(())
}

/// Sets `field` from the variable `name`, parsed, when it is set.
fn set<T>(
    get: &dyn Fn(&str) -> Option<String>,
    name: &str,
    field: &mut T,
    parse: impl FnOnce(&str, &str) -> Result<T, ConfigError>,
) -> Result<(), ConfigError> {
    if let Some(value) = get(name) {
        *field = parse(name, &value)?;
    }
    Ok(())
}

/// `sqlite:...` or `postgres://...`; the value may hold a password: an error shows only its
/// scheme.
fn parse_database_url(variable: &str, v: &str) -> Result<Option<SecretString>, ConfigError> {
    let v = v.trim();
    if !(v.starts_with("sqlite:") || v.starts_with("postgres://") || v.starts_with("postgresql://"))
    {
        let scheme = v.split(':').next().unwrap_or_default();
        return Err(err(
            variable,
            format!("expected sqlite://... or postgres://..., got a {scheme:?} URL"),
        ));
    }
    Ok(Some(SecretString::from(v.to_owned())))
}

/// An admin token: long enough, without spaces.
fn parse_admin_token(variable: &str, v: &str) -> Result<Option<SecretString>, ConfigError> {
    let v = v.trim();
    if v.len() < MIN_ADMIN_TOKEN_LEN || v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(err(
            variable,
            format!("must be at least {MIN_ADMIN_TOKEN_LEN} characters without spaces (leave it unset to generate one)"),
        ));
    }
    Ok(Some(SecretString::from(v.to_owned())))
}

/// `pretty` or `json`.
fn parse_log(variable: &str, v: &str) -> Result<LogFormat, ConfigError> {
    match v.trim() {
        "pretty" => Ok(LogFormat::Pretty),
        "json" => Ok(LogFormat::Json),
        other => Err(err(
            variable,
            format!("expected pretty or json, got {other:?}"),
        )),
    }
}

/// A whole number in `range`.
fn parse_count(
    variable: &str,
    v: &str,
    range: std::ops::RangeInclusive<u32>,
) -> Result<u32, ConfigError> {
    v.trim()
        .parse()
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| {
            err(
                variable,
                format!(
                    "not a number from {} to {}: {v:?}",
                    range.start(),
                    range.end()
                ),
            )
        })
}

/// `<count>/<seconds>`, such as `30/600`.
fn parse_window_limit(variable: &str, value: &str) -> Result<WindowLimit, ConfigError> {
    let refused = || {
        err(
            variable,
            format!("expected <count>/<seconds> such as 30/600, got {value:?}"),
        )
    };
    let (count, secs) = value.trim().split_once('/').ok_or_else(refused)?;
    let count: u32 = count.trim().parse().map_err(|_| refused())?;
    let secs: u64 = secs.trim().parse().map_err(|_| refused())?;
    if count == 0 || !(1..=86_400).contains(&secs) {
        return Err(refused());
    }
    Ok(WindowLimit {
        count,
        window: Duration::from_secs(secs),
    })
}

/// Reads the TOML file: a table of strings (numbers are accepted and turned into strings).
fn read_file(path: &Path) -> Result<BTreeMap<String, String>, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| err("--config", format!("cannot read {}: {e}", path.display())))?;
    let table: toml::Table = text.parse().map_err(|e| {
        err(
            "--config",
            format!("{} is not valid TOML: {e}", path.display()),
        )
    })?;
    let known: Vec<String> = VARIABLES
        .iter()
        .map(|v| v.trim_start_matches("SLOTPAY_").to_ascii_lowercase())
        .collect();
    let mut values = BTreeMap::new();
    for (key, value) in table {
        if !known.contains(&key) {
            return Err(err(
                "--config",
                format!(
                    "unknown key {key:?} in {} (known: {})",
                    path.display(),
                    known.join(", ")
                ),
            ));
        }
        let text = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            _ => return Err(err("--config", format!("{key} must be a string"))),
        };
        values.insert(key, text);
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_sources(&|name| map.get(name).cloned(), None)
    }

    #[test]
    fn defaults() {
        let c = from(&[]).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.data_dir, PathBuf::from("./.data"));
        assert_eq!(c.stripe_api_base.as_str(), "https://api.stripe.com/");
        assert_eq!(c.stripe_js_url.as_str(), "https://js.stripe.com/v3/");
        assert_eq!(c.log, LogFormat::Pretty);
        assert!(c.admin_token.is_none() && c.master_key.is_none());
        use secrecy::ExposeSecret;
        assert_eq!(
            c.database_url_or_default().expose_secret(),
            "sqlite://./.data/slotpay.db?mode=rwc"
        );
    }

    #[test]
    fn each_invalid_value_names_its_variable() {
        let cases = [
            (
                "SLOTPAY_LISTEN",
                "localhost",
                "SLOTPAY_LISTEN: not an address",
            ),
            (
                "SLOTPAY_PUBLIC_URL",
                "pay.example.com",
                "SLOTPAY_PUBLIC_URL: not a URL: \"pay.example.com\"",
            ),
            (
                "SLOTPAY_PUBLIC_URL",
                "ftp://x.example",
                "SLOTPAY_PUBLIC_URL: not a URL",
            ),
            (
                "SLOTPAY_DATABASE_URL",
                "mysql://u:hunter2@db/x",
                "SLOTPAY_DATABASE_URL: expected sqlite",
            ),
            (
                "SLOTPAY_ADMIN_TOKEN",
                "short",
                "SLOTPAY_ADMIN_TOKEN: must be at least",
            ),
            ("SLOTPAY_MASTER_KEY", "abcd", "SLOTPAY_MASTER_KEY: "),
            (
                "SLOTPAY_METRICS_LISTEN",
                "9090",
                "SLOTPAY_METRICS_LISTEN: not an address",
            ),
            (
                "SLOTPAY_TRUSTED_PROXIES",
                "10.0.0.0/8, proxy.internal",
                "SLOTPAY_TRUSTED_PROXIES: not an address or network such as 10.0.0.0/8: \"proxy.internal\"",
            ),
            (
                "SLOTPAY_MAX_DECLINES_PER_CHECKOUT",
                "0",
                "SLOTPAY_MAX_DECLINES_PER_CHECKOUT: not a number from 1 to 1000",
            ),
            (
                "SLOTPAY_MERCHANT_DECLINE_BUDGET",
                "30 per 10 minutes",
                "SLOTPAY_MERCHANT_DECLINE_BUDGET: expected <count>/<seconds>",
            ),
            (
                "SLOTPAY_CATALOGUE_CHECKOUTS_PER_CLIENT",
                "30/0",
                "SLOTPAY_CATALOGUE_CHECKOUTS_PER_CLIENT: expected <count>/<seconds>",
            ),
            (
                "SLOTPAY_STRIPE_API_BASE",
                "nope",
                "SLOTPAY_STRIPE_API_BASE: not a URL",
            ),
            (
                "SLOTPAY_STRIPE_JS_URL",
                "http://x/?a=b",
                "SLOTPAY_STRIPE_JS_URL: not a base URL",
            ),
            (
                "SLOTPAY_STRIPE_TIMEOUT_SECS",
                "0",
                "SLOTPAY_STRIPE_TIMEOUT_SECS: not a number",
            ),
            ("SLOTPAY_LOG", "xml", "SLOTPAY_LOG: expected pretty or json"),
            (
                "SLOTPAY_RATE_LIMIT_IP",
                "100",
                "SLOTPAY_RATE_LIMIT_IP: expected <requests per second>,<burst>",
            ),
            (
                "SLOTPAY_RATE_LIMIT_IP",
                "0,30",
                "SLOTPAY_RATE_LIMIT_IP: expected",
            ),
            (
                "SLOTPAY_RATE_LIMIT_MERCHANT",
                "20,0",
                "SLOTPAY_RATE_LIMIT_MERCHANT: expected",
            ),
            (
                "SLOTPAY_RATE_LIMIT_MERCHANT",
                "inf,10",
                "SLOTPAY_RATE_LIMIT_MERCHANT: expected",
            ),
            (
                "SLOTPAY_RECONCILE_INTERVAL_SECS",
                "-1",
                "SLOTPAY_RECONCILE_INTERVAL_SECS: not a number of seconds from 0",
            ),
            (
                "SLOTPAY_RECONCILE_STALE_SECS",
                "0",
                "SLOTPAY_RECONCILE_STALE_SECS: not a number of seconds from 1",
            ),
        ];
        for (var, value, want) in cases {
            let e = from(&[(var, value)]).unwrap_err().to_string();
            assert!(e.starts_with(want), "{var}={value}: {e}");
        }
        // A password in a refused database URL is not repeated.
        let e = from(&[("SLOTPAY_DATABASE_URL", "mysql://u:hunter2@db/x")]).unwrap_err();
        assert!(!e.to_string().contains("hunter2"));
        let e = from(&[("SLOTPAY_MASTER_KEY", "zz".repeat(32).as_str())]).unwrap_err();
        assert!(!e.to_string().contains("zzzz"));
    }

    #[test]
    fn rate_limits_are_configurable_and_default_unchanged() {
        let c = from(&[]).unwrap();
        assert_eq!(
            (c.rate_limit_ip, c.rate_limit_merchant),
            (
                RateLimit {
                    burst: 30,
                    per_second: 5.0
                },
                RateLimit {
                    burst: 120,
                    per_second: 20.0
                }
            )
        );
        let c = from(&[
            ("SLOTPAY_RATE_LIMIT_IP", " 100000, 50000 "),
            ("SLOTPAY_RATE_LIMIT_MERCHANT", "2.5,3"),
        ])
        .unwrap();
        assert_eq!(
            c.rate_limit_ip,
            RateLimit {
                burst: 50_000,
                per_second: 100_000.0
            }
        );
        assert_eq!(
            c.rate_limit_merchant,
            RateLimit {
                burst: 3,
                per_second: 2.5
            }
        );
    }

    #[test]
    fn reconciler_timing_is_configurable() {
        let c = from(&[]).unwrap();
        assert_eq!(
            (c.reconcile_interval, c.reconcile_stale),
            (Duration::from_secs(60), Duration::from_secs(60))
        );
        let c = from(&[
            ("SLOTPAY_RECONCILE_INTERVAL_SECS", "0"),
            ("SLOTPAY_RECONCILE_STALE_SECS", " 2 "),
        ])
        .unwrap();
        assert_eq!(
            (c.reconcile_interval, c.reconcile_stale),
            (Duration::ZERO, Duration::from_secs(2))
        );
    }

    #[test]
    fn environment_wins_over_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("slotpay.toml");
        std::fs::write(
            &path,
            "listen = \"127.0.0.1:9000\"\npublic_url = \"https://pay.example.com\"\nlog = \"json\"\nstripe_timeout_secs = 5\n",
        )
        .unwrap();
        let env = |name: &str| (name == "SLOTPAY_LISTEN").then(|| "127.0.0.1:9100".to_string());
        let c = Config::from_sources(&env, Some(&path)).unwrap();
        assert_eq!(c.listen.port(), 9100);
        assert_eq!(c.public_url.unwrap().as_str(), "https://pay.example.com/");
        assert_eq!(c.log, LogFormat::Json);
        assert_eq!(c.stripe_timeout, Duration::from_secs(5));
        std::fs::write(&path, "lsiten = \"x\"\n").unwrap();
        let e = Config::from_sources(&|_| None, Some(&path)).unwrap_err();
        assert_eq!(e.variable, "--config");
        assert!(e.message.contains("unknown key \"lsiten\""), "{e}");
    }

    #[test]
    fn debug_hides_secrets() {
        let mut c = Config::new("/tmp/x");
        c.admin_token = Some(SecretString::from(
            "admin-token-value-1234567890".to_string(),
        ));
        c.database_url = Some(SecretString::from("postgres://u:hunter2@h/db".to_string()));
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("admin-token-value") && !shown.contains("hunter2"),
            "{shown}"
        );
    }
}
