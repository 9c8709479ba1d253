//! Storage: one interface ([`Db`]) over two backends, SQLite (the embedded default, WAL, busy
//! timeout, foreign keys on) and PostgreSQL, through `sqlx::Any` with one set of SQL strings
//! (`$1` placeholders, unix-second integers, TEXT ids, 0/1 booleans). Versioned migrations per
//! backend live in `server/migrations/{sqlite,postgres}/` and are embedded in the binary.
//!
//! Rows are records parsed where they are read (`from_row`): statuses, methods, currencies,
//! modes and groups of columns become the types of [`crate::model`], core and
//! [`crate::stripe`], and a value that does not parse is [`DbError::Corrupt`]. Rules live in
//! `domain/`. Secret columns hold ciphertexts made by
//! [`crate::secrets::Cipher`]; this module never sees a plaintext secret.
//!
//! The payments tables (migration 0002) keep the uniqueness that protects money in the
//! database, so it holds across server instances:
//! - `checkouts` (`token` PRIMARY KEY, `payment_intent_id` UNIQUE: one PaymentIntent per
//!   checkout; `version` for optimistic, forward-only updates; a lease taken by one
//!   conditional update; `amount_refunded <= amount_captured` as a CHECK);
//! - `payment_attempts` (checkout and client `Idempotency-Key` UNIQUE together);
//! - `stripe_events` (`(merchant_id, event_id)` PRIMARY KEY: one row per event and merchant);
//! - `refunds` and `cancellation_fees` (checkout and caller key UNIQUE together);
//! - `disputes` (Stripe's id).
//!
//! No row is locked across a Stripe call: writes are conditional updates (`version`, the
//! lease, the refund reservation) and the two multi-statement writes (a refund with its
//! reservation) are short transactions, which both backends run the same way.

mod abuse;
mod attempts;
mod batch;
mod checkouts;
mod disputes;
mod emails;
mod events;
mod fees;
mod integrations;
mod merchants;
mod outbox;
mod refunds;
mod services;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Connection, Executor, Row};

pub use abuse::WindowCounts;
pub use attempts::{AttemptRecord, MerchantCounter, PayReading};
pub use checkouts::{CheckoutFilter, CheckoutRecord};
pub use disputes::DisputeRecord;
pub use emails::EmailRecord;
pub use events::EventRecord;
pub use fees::{FeeInsert, FeeRecord};
pub use integrations::IntegrationRecord;
pub use merchants::MerchantRecord;
pub use outbox::{
    DeliveryAttempt, DeliveryJob, DeliveryRecord, EndpointRecord, EventFilter, PlatformEvent,
};
pub use refunds::{RefundRecord, Reservation};
pub use services::ServiceRecord;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Which database a [`Db`] talks to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Backend {
    /// An SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

impl Backend {
    /// The backend of a database URL.
    pub fn of_url(url: &str) -> Option<Backend> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }
}

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The database refused or failed a query.
    #[error("database: {0}")]
    Sqlx(#[from] sqlx::Error),
    /// A migration failed.
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The URL is neither `sqlite:` nor `postgres://`.
    #[error("unsupported database URL (expected sqlite:// or postgres://)")]
    UnsupportedUrl,
    /// The row was changed by someone else since it was read, or a unique key is taken.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// The SQLite file could not be created or made private.
    #[error("database file {path}: {source}")]
    File {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A write's own task ended before it answered (it panicked, or the runtime stopped).
    #[error("database write interrupted: {0}")]
    Interrupted(String),
    /// A stored value does not parse back (a bug or a manual edit).
    #[error("corrupt row in {table}: {detail}")]
    Corrupt {
        /// The table.
        table: &'static str,
        /// What did not parse.
        detail: String,
    },
}

impl DbError {
    /// True when the error is a unique-constraint violation.
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, DbError::Sqlx(sqlx::Error::Database(e)) if e.is_unique_violation())
    }
}

/// The storage handle: a connection pool, its backend and the statements that concurrent
/// callers share. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    batches: Arc<Batches>,
    /// Bumped after every write of an integration (or a merchant's deletion), so caches of
    /// what integrations hold know when to read again.
    integrations_changed: Arc<AtomicU64>,
    /// Woken after a write made deliveries of events, so they are sent at once.
    deliveries_made: Arc<tokio::sync::Notify>,
}

/// The statements webhooks run many at a time, each coalesced across concurrent callers
/// (see [`batch`]).
#[derive(Debug)]
struct Batches {
    events_in: batch::Batcher<EventRecord, bool>,
    events_done: batch::Batcher<events::Processed, ()>,
    checkout_by_intent: batch::Batcher<String, Option<CheckoutRecord>>,
    fee_by_intent: batch::Batcher<fees::FeeLookup, Option<FeeRecord>>,
}

impl Batches {
    fn new(pool: &AnyPool) -> Batches {
        let b = events::BATCH;
        Batches {
            events_in: batch::Batcher::new(pool.clone(), b, events::insert_batch),
            events_done: batch::Batcher::new(pool.clone(), b, events::mark_batch),
            checkout_by_intent: batch::Batcher::new(pool.clone(), b, checkouts::by_intent_batch),
            fee_by_intent: batch::Batcher::new(pool.clone(), b, fees::by_intent_batch),
        }
    }
}

/// A PostgreSQL connection unused for this long is pinged before it is used again.
const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

impl Db {
    /// Connects to `url` (`sqlite://path?mode=rwc` or `postgres://...`) with at most
    /// `max_connections` connections. Does not migrate.
    pub async fn connect(url: &SecretString, max_connections: u32) -> Result<Db, DbError> {
        sqlx::any::install_default_drivers();
        let url = url.expose_secret();
        let backend = Backend::of_url(url).ok_or(DbError::UnsupportedUrl)?;
        if let Some(path) = sqlite_path(url) {
            make_private(&path).map_err(|e| DbError::File {
                path: path.display().to_string(),
                source: e,
            })?;
        }
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            // A ping before use guards against a PostgreSQL connection the server closed
            // (idle timeouts, restarts), but costs a round trip per statement: only a
            // connection idle for PING_AFTER_IDLE is pinged, and one that fails is replaced.
            // An SQLite connection is a file in this process, never pinged (the ping is a
            // second hand-off to its worker thread: webhook ingest ran 20 % faster without).
            .test_before_acquire(false)
            .before_acquire(move |conn, meta| {
                Box::pin(async move {
                    if backend == Backend::Postgres && meta.idle_for >= PING_AFTER_IDLE {
                        return Ok(conn.ping().await.is_ok());
                    }
                    Ok(true)
                })
            })
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers run beside the writer; the busy timeout makes
                        // concurrent writers wait instead of failing at once.
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA busy_timeout = 5000").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                        // A checkpoint copies the log's pages into the database and syncs
                        // both. `checkpoints` does it off the request path; this one, after
                        // 10,000 pages of log (about 40 MB), only when it falls behind. At
                        // SQLite's default (every 1,000 pages, in the commit that crossed
                        // it) that was 12.6 % of the server's CPU under the pay bench
                        // (`./dev profile`, README "Performance and reliability").
                        conn.execute("PRAGMA wal_autocheckpoint = 10000").await?;
                    }
                    Ok(())
                })
            })
            .connect(url)
            .await?;
        let batches = Arc::new(Batches::new(&pool));
        if backend == Backend::Sqlite && sqlite_path(url).is_some() {
            tokio::spawn(checkpoints(url.to_owned(), Arc::downgrade(&batches)));
        }
        Ok(Db {
            batches,
            integrations_changed: Arc::new(AtomicU64::new(0)),
            deliveries_made: Arc::new(tokio::sync::Notify::new()),
            pool,
            backend,
        })
    }

    /// Applies the pending migrations of the backend.
    pub async fn migrate(&self) -> Result<(), DbError> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.pool).await?;
        Ok(())
    }

    /// One round trip to the database (for `/healthz`).
    pub async fn ping(&self) -> Result<(), DbError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// How many times this process wrote an integration (or deleted a merchant): a value
    /// read before reading an integration that differs afterwards means it may be stale.
    pub fn integrations_generation(&self) -> u64 {
        self.integrations_changed.load(Ordering::Acquire)
    }

    /// Called after each write of an integration (see [`Db::integrations_generation`]).
    fn integrations_written(&self) {
        self.integrations_changed.fetch_add(1, Ordering::AcqRel);
    }

    /// Woken after a write made deliveries of events (in this process; other instances'
    /// are found by looking every second).
    pub fn deliveries_made(&self) -> &tokio::sync::Notify {
        &self.deliveries_made
    }

    /// Tells the sender when `made` deliveries were committed.
    fn made_deliveries(&self, made: u64) {
        if made > 0 {
            self.deliveries_made.notify_one();
        }
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool, for modules that add their own tables (payments).
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Closes the pool, waiting for connections to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// The file of an SQLite URL (`sqlite://path?mode=rwc`, `sqlite:path`), unless in memory.
fn sqlite_path(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && !path.contains(":memory:")).then(|| std::path::PathBuf::from(path))
}

/// How often [`checkpoints`] copies SQLite's log into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

/// Copies an SQLite database's write-ahead log into its file every [`CHECKPOINT_EVERY`], from
/// a connection of its own, until the [`Db`] is dropped (`alive`: its statements' batches,
/// which live as long as it). Left to SQLite, the commit that makes the log long enough runs
/// the checkpoint before it answers, and with the pool's one connection every statement
/// waits for it (tens of milliseconds for 40 MB of log). A passive checkpoint takes no lock
/// a writer waits for; what it cannot copy yet is copied the next time.
async fn checkpoints(url: String, alive: std::sync::Weak<Batches>) {
    let mut conn = match sqlx::AnyConnection::connect(&url).await {
        Ok(conn) => conn,
        Err(e) => {
            tracing::warn!(error = %e, "no connection for SQLite's checkpoints: SQLite makes them as it writes");
            return;
        }
    };
    loop {
        tokio::time::sleep(CHECKPOINT_EVERY).await;
        if alive.strong_count() == 0 {
            break;
        }
        if let Err(e) = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").await {
            tracing::warn!(error = %e, "SQLite checkpoint failed; trying again");
        }
    }
}

/// Creates the SQLite file readable and writable by this user only, or makes an existing
/// one so (files of earlier versions were made with the umask's mode). SQLite gives the
/// `-wal` and `-shm` files the mode of the database file.
fn make_private(path: &std::path::Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)?;
        let mode = file.metadata()?.permissions().mode();
        if mode & 0o077 != 0 {
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
            tracing::warn!(path = %path.display(), "database file was readable by others: now 0600");
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Now, in unix seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A statement with its bound values.
type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// Reads a column, naming the table in the error.
fn col<'r, T>(row: &'r AnyRow, table: &'static str, name: &str) -> Result<T, DbError>
where
    T: sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    row.try_get::<T, _>(name)
        .map_err(|e| corrupt(table, format!("{name}: {e}")))
}

/// A stored value that does not parse back (a bug or a manual edit).
fn corrupt(table: &'static str, detail: impl Into<String>) -> DbError {
    DbError::Corrupt {
        table,
        detail: detail.into(),
    }
}

/// Reads a text column and parses it into the domain's type; a value `parse` refuses is
/// [`DbError::Corrupt`], naming the table, column and value.
fn parsed_col<T>(
    row: &AnyRow,
    table: &'static str,
    name: &str,
    parse: impl FnOnce(&str) -> Option<T>,
) -> Result<T, DbError> {
    let text: String = col(row, table, name)?;
    parse(&text).ok_or_else(|| corrupt(table, format!("{name}: {text:?}")))
}

/// [`parsed_col`] for a column that may be NULL.
fn parsed_opt_col<T>(
    row: &AnyRow,
    table: &'static str,
    name: &str,
    parse: impl FnOnce(&str) -> Option<T>,
) -> Result<Option<T>, DbError> {
    match col::<Option<String>>(row, table, name)? {
        None => Ok(None),
        Some(text) => parse(&text)
            .map(Some)
            .ok_or_else(|| corrupt(table, format!("{name}: {text:?}"))),
    }
}

/// Parses a JSON column.
fn json_col<T: serde::de::DeserializeOwned>(
    row: &AnyRow,
    table: &'static str,
    name: &str,
) -> Result<T, DbError> {
    let text: String = col(row, table, name)?;
    serde_json::from_str(&text).map_err(|e| corrupt(table, format!("{name}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The log is copied into the database file while the pool stays open and without a
    /// commit that would make SQLite checkpoint by itself (the migrations' few hundred pages
    /// of log are far below `wal_autocheckpoint`).
    #[tokio::test]
    async fn sqlite_log_reaches_the_file_off_the_request_path() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("slotpay.db");
        let url = SecretString::from(format!("sqlite://{}?mode=rwc", path.display()));
        let db = Db::connect(&url, 1).await.expect("connects");
        db.migrate().await.expect("migrates");
        let file = || std::fs::metadata(&path).map_or(0, |m| m.len());
        let wal = std::fs::metadata(path.with_extension("db-wal")).map_or(0, |m| m.len());
        let before = file();
        assert!(wal > 64 * 1024, "the migrations went to the log ({wal} B)");
        let mut after = before;
        for _ in 0..40 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            after = file();
            if after > 64 * 1024 {
                break;
            }
        }
        assert!(
            after > 64 * 1024 && after > before,
            "the database file did not grow from {before} B: no checkpoint (log {wal} B)"
        );
    }
}
