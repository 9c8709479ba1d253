//! The application: [`app`] builds the router from a state (so tests and the binary run the
//! same thing), [`prepare`] turns a [`Config`] into a state (data directory, master key,
//! admin token, database, migrations), and [`serve`] binds a listener and reports the bound
//! address, so tests run the real server on port 0.

use std::net::SocketAddr;

use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;
use axum::Router;
use secrecy::{ExposeSecret, SecretString};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use url::Url;

use crate::config::{Config, ConfigError};
use crate::db::{Backend, Db, DbError};
use crate::domain::{deliveries, holds, mail, reconcile};
use crate::routes::{admin, admin_api, openapi, ops, pages, public, webhooks};
use crate::secrets::{self, MasterKey, SecretsError};
use crate::state::AppState;
use crate::{cors, guards, telemetry};

/// Connections to PostgreSQL, which runs statements side by side.
const POSTGRES_POOL_SIZE: u32 = 5;

/// Connections to SQLite: one. SQLite writes one statement at a time whatever the pool, and a
/// second connection in the same process costs more than it gives: each one finds the file
/// changed by the other's writes (its page cache emptied and the pages read again), and a writer
/// meeting another's lock sleeps in SQLite's busy handler (1, 2, 5 ms and more) instead of
/// waiting its turn in the pool's queue. Under the pay bench's closed loop one connection spent
/// about a third less server CPU per payment than five at the same throughput (README,
/// "Performance and reliability").
const SQLITE_POOL_SIZE: u32 = 1;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Invalid configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The master key or admin token could not be read or written.
    #[error(transparent)]
    Secrets(#[from] SecretsError),
    /// The database could not be opened or migrated.
    #[error(transparent)]
    Db(#[from] DbError),
    /// The data directory or the listener.
    #[error("{0}")]
    Io(String),
}

/// The router for `state`.
pub fn app(state: AppState) -> Router {
    app_with(state, Router::new())
}

/// The router with `extra_public` routes mounted behind the public routes' CORS and rate
/// limits (how tests plug public routes of their own in).
pub fn app_with(state: AppState, extra_public: Router<AppState>) -> Router {
    let public = public::router()
        .merge(extra_public)
        // Layers run outermost first: the rate limit, then CORS (which reads the merchant's
        // origins from the database), then the route.
        .layer(from_fn_with_state(state.clone(), cors::cors))
        .layer(from_fn_with_state(state.clone(), guards::rate_limit));
    Router::new()
        .merge(admin_api::router(state.clone()))
        .merge(admin::router(state.clone()))
        .merge(ops::router(&state))
        .merge(openapi::router())
        .merge(webhooks::router().layer(DefaultBodyLimit::max(guards::WEBHOOK_BODY_LIMIT)))
        .merge(pages::router())
        .merge(public)
        .fallback_service(pages::static_files(&state))
        .layer(from_fn_with_state(state.clone(), pages::security_headers))
        .layer(DefaultBodyLimit::max(state.config.body_limit))
        .layer(from_fn_with_state(state.clone(), guards::body_limit))
        .layer(from_fn_with_state(state.clone(), telemetry::track))
        .with_state(state)
}

/// Opens everything a config names and builds the state. `public_url` is the configured
/// one or `http://<bound address>`.
pub async fn prepare(config: Config, bound: SocketAddr) -> Result<AppState, StartError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|e| {
        StartError::Io(format!(
            "SLOTPAY_DATA_DIR: cannot create {}: {e}",
            config.data_dir.display()
        ))
    })?;
    let master_key = master_key(&config)?;
    let admin_token = admin_token(&config)?;
    let db = open_database(&config).await?;
    let public_url: Url = config.public_url_or_default(bound);
    Ok(AppState::new(
        config,
        db,
        &master_key,
        admin_token,
        public_url,
    ))
}

/// Connects to the configured database and applies migrations.
pub async fn open_database(config: &Config) -> Result<Db, StartError> {
    let url = config.database_url_or_default();
    let size = match Backend::of_url(url.expose_secret()) {
        Some(Backend::Sqlite) => SQLITE_POOL_SIZE,
        _ => POSTGRES_POOL_SIZE,
    };
    let db = Db::connect(&url, size).await?;
    db.migrate().await?;
    let backend = match db.backend() {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    tracing::info!(backend, "database ready");
    Ok(db)
}

fn master_key(config: &Config) -> Result<MasterKey, StartError> {
    if let Some(k) = &config.master_key {
        return Ok(k.clone());
    }
    secrets::check_no_rotation_pending(&config.data_dir).map_err(StartError::Io)?;
    let (key, created) = MasterKey::load_or_create(&config.data_dir)?;
    let path = config.data_dir.join(secrets::MASTER_KEY_FILE);
    if created {
        tracing::warn!(
            path = %path.display(),
            "generated a new master key (mode 0600); back it up: secrets stored with it cannot be read without it"
        );
    } else {
        tracing::info!(path = %path.display(), "master key loaded");
    }
    Ok(key)
}

fn admin_token(config: &Config) -> Result<SecretString, StartError> {
    if let Some(t) = &config.admin_token {
        return Ok(t.clone());
    }
    let (token, created) = secrets::load_or_create_admin_token(&config.data_dir)?;
    let path = config.data_dir.join(secrets::ADMIN_TOKEN_FILE);
    if created {
        tracing::warn!(path = %path.display(), "generated an admin token (mode 0600); read it from this file");
    } else {
        tracing::info!(path = %path.display(), "admin token loaded from file");
    }
    Ok(token)
}

/// A server running in a background task.
pub struct RunningServer {
    /// The bound address.
    pub addr: SocketAddr,
    /// The bound address of the metrics listener, when configured.
    pub metrics_addr: Option<SocketAddr>,
    /// The state it serves (tests read the database through it).
    pub state: AppState,
    shutdown: Option<watch::Sender<bool>>,
    task: JoinHandle<std::io::Result<()>>,
    metrics_task: Option<JoinHandle<std::io::Result<()>>>,
    background: Vec<JoinHandle<()>>,
}

impl RunningServer {
    /// `http://<bound address>`.
    pub fn local_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://<metrics address>`, when a metrics listener is configured.
    pub fn metrics_url(&self) -> Option<String> {
        self.metrics_addr.map(|a| format!("http://{a}"))
    }

    /// Stops accepting, lets requests in flight finish, closes the pool.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(true);
        }
        for b in self.background.drain(..) {
            b.abort();
        }
        let _ = (&mut self.task).await;
        if let Some(t) = self.metrics_task.take() {
            let _ = t.await;
        }
        self.state.db.close().await;
    }

    /// Runs until the server stops (Ctrl-C for the binary).
    pub async fn wait(self) -> std::io::Result<()> {
        match self.task.await {
            Ok(r) => r,
            Err(e) => Err(std::io::Error::other(e)),
        }
    }
}

/// Prepares and starts the server on `config.listen` (port 0 picks a free one).
pub async fn serve(config: Config) -> Result<RunningServer, StartError> {
    serve_with(config, Router::new()).await
}

/// [`serve`] with extra public routes (see [`app_with`]).
pub async fn serve_with(
    config: Config,
    extra_public: Router<AppState>,
) -> Result<RunningServer, StartError> {
    let (listener, addr) = bind("SLOTPAY_LISTEN", config.listen).await?;
    let metrics_listener = match config.metrics_listen {
        Some(at) => Some(bind("SLOTPAY_METRICS_LISTEN", at).await?),
        None => None,
    };
    let state = prepare(config, addr).await?;
    let router = app_with(state.clone(), extra_public);
    let (tx, rx) = watch::channel(false);
    let task = tokio::spawn(run_listener(listener, router, rx.clone()));
    let (metrics_addr, metrics_task) = match metrics_listener {
        Some((listener, at)) => {
            let router = ops::metrics_router().with_state(state.clone());
            tracing::info!(addr = %at, "metrics listening");
            (
                Some(at),
                Some(tokio::spawn(run_listener(listener, router, rx))),
            )
        }
        None => (None, None),
    };
    // Written before the server says it listens, so whoever waits for that line finds it.
    if let Err(e) = state.config.record_start(&state.public_url) {
        tracing::warn!(error = %e, "the settings the CLI follows were not written to the data directory");
    }
    tracing::info!(%addr, public_url = %state.public_url, "slotpay listening");
    let mut background = vec![tokio::spawn(deliveries::run(state.clone()))];
    let every = state.config.reconcile_interval;
    if !every.is_zero() {
        background.push(tokio::spawn(reconcile::run(state.clone(), every)));
    }
    let every = state.config.hold_check_interval;
    if !every.is_zero() {
        background.push(tokio::spawn(holds::run(state.clone(), every)));
    }
    if mail::enabled(&state) {
        background.push(tokio::spawn(mail::run(state.clone())));
    }
    Ok(RunningServer {
        addr,
        metrics_addr,
        state,
        shutdown: Some(tx),
        task,
        metrics_task,
        background,
    })
}

/// Binds `at`, naming the setting in the error.
async fn bind(variable: &str, at: SocketAddr) -> Result<(TcpListener, SocketAddr), StartError> {
    let listener = TcpListener::bind(at)
        .await
        .map_err(|e| StartError::Io(format!("{variable}: cannot listen on {at}: {e}")))?;
    let bound = listener
        .local_addr()
        .map_err(|e| StartError::Io(e.to_string()))?;
    Ok((listener, bound))
}

/// Serves `router` on `listener` until `stop` turns true.
async fn run_listener(
    listener: TcpListener,
    router: Router,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        let _ = stop.wait_for(|stopped| *stopped).await;
    })
    .await
}
