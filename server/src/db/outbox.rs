//! Events to the booking platform: `platform_events` (the outbox), `webhook_endpoints`,
//! `event_deliveries` (one per event and endpoint) and `delivery_attempts`.
//!
//! An event is written by [`write_events`] inside the transaction of the change it tells of,
//! with a delivery for every enabled endpoint that wants it (one `INSERT ... SELECT`), so a
//! crash loses neither the change nor its news. Deliveries are claimed for a while
//! ([`Db::claim_deliveries`], one conditional update: two instances never hold one at once)
//! and their outcome written by the holder only ([`Db::record_delivery`]).

use sqlx::any::AnyRow;
use sqlx::AnyConnection;

use super::{col, parsed_col, AnyQuery, Db, DbError};
use crate::model::{DeliveryStatus, EventType};

const EVENTS: &str = "platform_events";
const ENDPOINTS: &str = "webhook_endpoints";
const DELIVERIES: &str = "event_deliveries";
const ATTEMPTS: &str = "delivery_attempts";

pub(super) const EVENT_COLUMNS: &str = "id, merchant_id, type, checkout_token, created_at, payload";
const ENDPOINT_COLUMNS: &str = "id, url, description, merchant_id, events, disabled, \
    secret_enc, previous_secret_enc, previous_secret_until, created_at, updated_at";
const DELIVERY_COLUMNS: &str =
    "id, event_id, endpoint_id, status, attempts, next_attempt_at, created_at, updated_at";

/// An event as written and stored: `payload` is the JSON body sent to endpoints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlatformEvent {
    /// `evt_...`: the `webhook-id` of every delivery of it.
    pub id: String,
    /// The merchant it concerns.
    pub merchant_id: String,
    /// What it tells of.
    pub kind: EventType,
    /// The checkout it concerns, if any.
    pub checkout_token: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// The body sent.
    pub payload: String,
}

fn event_from_row(row: &AnyRow) -> Result<PlatformEvent, DbError> {
    event_from(row, "")
}

/// An event from columns named `{prefix}{column}`.
fn event_from(row: &AnyRow, p: &str) -> Result<PlatformEvent, DbError> {
    Ok(PlatformEvent {
        id: col(row, EVENTS, &format!("{p}id"))?,
        merchant_id: col(row, EVENTS, &format!("{p}merchant_id"))?,
        kind: parsed_col(row, EVENTS, &format!("{p}type"), EventType::parse)?,
        checkout_token: col(row, EVENTS, &format!("{p}checkout_token"))?,
        created_at: col(row, EVENTS, &format!("{p}created_at"))?,
        payload: col(row, EVENTS, &format!("{p}payload"))?,
    })
}

/// A webhook endpoint of the platform.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointRecord {
    /// `we_...`.
    pub id: String,
    /// Where events are POSTed (absolute http(s), no credentials).
    pub url: String,
    /// The platform's note.
    pub description: Option<String>,
    /// Only this merchant's events, when set.
    pub merchant_id: Option<String>,
    /// The event types it wants; empty: every type.
    pub events: Vec<EventType>,
    /// Disabled endpoints get no new deliveries (and pending ones wait).
    pub disabled: bool,
    /// The signing secret, encrypted (see `secrets::Cipher`).
    pub secret_enc: String,
    /// The secret before the last rotation, encrypted, signing too until
    /// `previous_secret_until`.
    pub previous_secret_enc: Option<String>,
    /// Unix seconds.
    pub previous_secret_until: Option<i64>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
}

/// The stored form of an endpoint's event types: '' (every type) or `,a,b,`, matched with
/// `LIKE '%,type,%'` when an event is written ([`type_pattern`]).
fn events_column(events: &[EventType]) -> String {
    if events.is_empty() {
        return String::new();
    }
    let mut s = String::from(",");
    for e in events {
        s.push_str(e.as_str());
        s.push(',');
    }
    s
}

fn endpoint_from_row(row: &AnyRow) -> Result<EndpointRecord, DbError> {
    endpoint_from(row, "")
}

/// An endpoint from columns named `{prefix}{column}`.
fn endpoint_from(row: &AnyRow, p: &str) -> Result<EndpointRecord, DbError> {
    let c = |name: &str| format!("{p}{name}");
    let events: Vec<EventType> = parsed_col(row, ENDPOINTS, &c("events"), |s| {
        s.split(',')
            .filter(|t| !t.is_empty())
            .map(EventType::parse)
            .collect::<Option<Vec<_>>>()
    })?;
    Ok(EndpointRecord {
        id: col(row, ENDPOINTS, &c("id"))?,
        url: col(row, ENDPOINTS, &c("url"))?,
        description: col(row, ENDPOINTS, &c("description"))?,
        merchant_id: col(row, ENDPOINTS, &c("merchant_id"))?,
        events,
        disabled: col::<i64>(row, ENDPOINTS, &c("disabled"))? != 0,
        secret_enc: col(row, ENDPOINTS, &c("secret_enc"))?,
        previous_secret_enc: col(row, ENDPOINTS, &c("previous_secret_enc"))?,
        previous_secret_until: col(row, ENDPOINTS, &c("previous_secret_until"))?,
        created_at: col(row, ENDPOINTS, &c("created_at"))?,
        updated_at: col(row, ENDPOINTS, &c("updated_at"))?,
    })
}

/// One event's delivery to one endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryRecord {
    /// `{event id}.{endpoint id}`.
    pub id: String,
    /// The event.
    pub event_id: String,
    /// The endpoint.
    pub endpoint_id: String,
    /// Where it is.
    pub status: DeliveryStatus,
    /// Attempts made.
    pub attempts: i64,
    /// Unix seconds of the next attempt (while pending).
    pub next_attempt_at: i64,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
}

fn delivery_from_row(row: &AnyRow) -> Result<DeliveryRecord, DbError> {
    Ok(DeliveryRecord {
        id: col(row, DELIVERIES, "id")?,
        event_id: col(row, DELIVERIES, "event_id")?,
        endpoint_id: col(row, DELIVERIES, "endpoint_id")?,
        status: parsed_col(row, DELIVERIES, "status", DeliveryStatus::parse)?,
        attempts: col(row, DELIVERIES, "attempts")?,
        next_attempt_at: col(row, DELIVERIES, "next_attempt_at")?,
        created_at: col(row, DELIVERIES, "created_at")?,
        updated_at: col(row, DELIVERIES, "updated_at")?,
    })
}

/// What one attempt met.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryAttempt {
    /// 1, 2, ...
    pub attempt: i64,
    /// Unix seconds when it started.
    pub at: i64,
    /// How long it took.
    pub duration_ms: i64,
    /// The endpoint's HTTP status, when it answered.
    pub status_code: Option<i64>,
    /// What went wrong (timeout, connection refused, a non-2xx status).
    pub error: Option<String>,
    /// The start of the answer's body.
    pub response: Option<String>,
}

fn attempt_from_row(row: &AnyRow) -> Result<DeliveryAttempt, DbError> {
    Ok(DeliveryAttempt {
        attempt: col(row, ATTEMPTS, "attempt")?,
        at: col(row, ATTEMPTS, "at")?,
        duration_ms: col(row, ATTEMPTS, "duration_ms")?,
        status_code: col(row, ATTEMPTS, "status_code")?,
        error: col(row, ATTEMPTS, "error")?,
        response: col(row, ATTEMPTS, "response")?,
    })
}

/// A claimed delivery with what sending it needs.
#[derive(Clone, Debug)]
pub struct DeliveryJob {
    /// The delivery.
    pub delivery_id: String,
    /// Attempts made before this one.
    pub attempts: i64,
    /// The claim: the outcome is written only while it still holds.
    pub claimed_until: i64,
    /// The event.
    pub event: PlatformEvent,
    /// The endpoint.
    pub endpoint: EndpointRecord,
}

/// The filters of the events list.
#[derive(Clone, Debug, Default)]
pub struct EventFilter {
    /// One merchant's.
    pub merchant_id: Option<String>,
    /// One type.
    pub kind: Option<EventType>,
    /// One checkout's.
    pub checkout: Option<String>,
    /// Made at or after (unix seconds).
    pub created_after: Option<i64>,
    /// Older than this event (pagination, newest first).
    pub starting_after: Option<(i64, String)>,
    /// At most this many.
    pub limit: i64,
}

/// Writes `events` and a pending delivery of each to every enabled endpoint that wants it,
/// on `conn` (the caller's transaction). Returns how many deliveries it made: the caller
/// passes it to `Db::made_deliveries` once the transaction is committed.
pub(super) async fn write_events(
    conn: &mut AnyConnection,
    events: &[PlatformEvent],
) -> Result<u64, DbError> {
    let mut made = 0;
    for e in events {
        let sql = format!(
            "INSERT INTO platform_events ({EVENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"
        );
        bind_event(sqlx::query(&sql), e).execute(&mut *conn).await?;
        made += fan_out(conn, e).await?;
    }
    Ok(made)
}

/// Binds the next six parameters of `q` to `e`'s [`EVENT_COLUMNS`], in their order.
pub(super) fn bind_event<'q>(q: AnyQuery<'q>, e: &'q PlatformEvent) -> AnyQuery<'q> {
    q.bind(&e.id)
        .bind(&e.merchant_id)
        .bind(e.kind.as_str())
        .bind(&e.checkout_token)
        .bind(e.created_at)
        .bind(&e.payload)
}

/// A delivery of `e` to every enabled endpoint that wants it, due now; an existing delivery
/// is made pending and due now again.
async fn fan_out(conn: &mut AnyConnection, e: &PlatformEvent) -> Result<u64, DbError> {
    let sql = deliveries_sql(
        EventParams {
            id: 1,
            merchant: 3,
            now: 2,
            pattern: 4,
        },
        "",
    );
    let q = sqlx::query(&sql)
        .bind(&e.id)
        .bind(super::now().max(e.created_at))
        .bind(&e.merchant_id)
        .bind(type_pattern(e.kind));
    Ok(q.execute(&mut *conn).await?.rows_affected())
}

/// Where the values [`deliveries_sql`] reads are among a statement's parameters.
pub(super) struct EventParams {
    /// The event's id.
    pub id: usize,
    /// Its merchant.
    pub merchant: usize,
    /// Now (unix seconds), when the deliveries are due.
    pub now: usize,
    /// [`type_pattern`] of its type.
    pub pattern: usize,
}

/// `INSERT ... SELECT` of a pending delivery of an event to every enabled endpoint that
/// wants it (`and` narrows the endpoints); an existing delivery is made pending and due again.
pub(super) fn deliveries_sql(p: EventParams, and: &str) -> String {
    let EventParams {
        id,
        merchant,
        now,
        pattern,
    } = p;
    format!(
        "INSERT INTO event_deliveries (id, event_id, endpoint_id, status, attempts, \
         next_attempt_at, created_at, updated_at) \
         SELECT CAST(${id} AS TEXT) || '.' || id, ${id}, id, 'pending', 0, ${now}, ${now}, ${now} \
         FROM webhook_endpoints WHERE disabled = 0 \
         AND (merchant_id IS NULL OR merchant_id = ${merchant}) \
         AND (events = '' OR events LIKE ('%' || ${pattern} || '%')){and} \
         ON CONFLICT (event_id, endpoint_id) DO UPDATE SET status = 'pending', \
         next_attempt_at = excluded.next_attempt_at, claimed_until = NULL, \
         updated_at = excluded.updated_at"
    )
}

/// What an endpoint's `events` column contains when it wants `kind` (see [`events_column`]).
/// The statement adds the `%`s: SQLite prepares a `LIKE` whose pattern is a bare parameter
/// again each time the parameter's value changes (its plan may depend on the value), and
/// that was 4 % of the server's CPU under the pay bench (`./dev profile`).
pub(super) fn type_pattern(kind: EventType) -> String {
    format!(",{},", kind.as_str())
}

impl Db {
    /// Writes events that go with no other change, in their own transaction.
    pub async fn insert_events(&self, events: &[PlatformEvent]) -> Result<(), DbError> {
        let mut tx = self.pool.begin().await?;
        let made = write_events(&mut tx, events).await?;
        tx.commit().await?;
        self.made_deliveries(made);
        Ok(())
    }

    /// One event.
    pub async fn get_platform_event(&self, id: &str) -> Result<Option<PlatformEvent>, DbError> {
        let row = sqlx::query(&format!(
            "SELECT {EVENT_COLUMNS} FROM platform_events WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(event_from_row).transpose()
    }

    /// Events, newest first.
    pub async fn list_platform_events(
        &self,
        f: &EventFilter,
    ) -> Result<Vec<PlatformEvent>, DbError> {
        let mut sql = format!("SELECT {EVENT_COLUMNS} FROM platform_events WHERE 1 = 1");
        let mut n = 0;
        let mut mark = || {
            n += 1;
            format!("${n}")
        };
        if f.merchant_id.is_some() {
            sql.push_str(&format!(" AND merchant_id = {}", mark()));
        }
        if f.kind.is_some() {
            sql.push_str(&format!(" AND type = {}", mark()));
        }
        if f.checkout.is_some() {
            sql.push_str(&format!(" AND checkout_token = {}", mark()));
        }
        if f.created_after.is_some() {
            sql.push_str(&format!(" AND created_at >= {}", mark()));
        }
        if f.starting_after.is_some() {
            let (t1, t2, id) = (mark(), mark(), mark());
            sql.push_str(&format!(
                " AND (created_at < {t1} OR (created_at = {t2} AND id < {id}))"
            ));
        }
        sql.push_str(&format!(
            " ORDER BY created_at DESC, id DESC LIMIT {}",
            mark()
        ));
        let mut q = sqlx::query(&sql);
        if let Some(v) = &f.merchant_id {
            q = q.bind(v);
        }
        if let Some(v) = f.kind {
            q = q.bind(v.as_str());
        }
        if let Some(v) = &f.checkout {
            q = q.bind(v);
        }
        if let Some(v) = f.created_after {
            q = q.bind(v);
        }
        if let Some((t, id)) = &f.starting_after {
            q = q.bind(*t).bind(*t).bind(id);
        }
        let rows = q.bind(f.limit).fetch_all(&self.pool).await?;
        rows.iter().map(event_from_row).collect()
    }

    /// Sends an event again: every endpoint that wants it now gets a delivery due now (one
    /// it had is made pending again). Returns how many.
    pub async fn resend_platform_event(&self, e: &PlatformEvent) -> Result<u64, DbError> {
        let mut conn = self.pool.acquire().await?;
        let n = fan_out(&mut conn, e).await?;
        self.made_deliveries(n);
        Ok(n)
    }

    /// Deletes events older than `before` (their deliveries and attempts go with them).
    pub async fn purge_platform_events(&self, before: i64) -> Result<u64, DbError> {
        let done = sqlx::query("DELETE FROM platform_events WHERE created_at < $1")
            .bind(before)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// Stores a new endpoint.
    pub async fn insert_endpoint(&self, r: &EndpointRecord) -> Result<(), DbError> {
        sqlx::query(&format!(
            "INSERT INTO webhook_endpoints ({ENDPOINT_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        ))
        .bind(&r.id)
        .bind(&r.url)
        .bind(&r.description)
        .bind(&r.merchant_id)
        .bind(events_column(&r.events))
        .bind(i64::from(r.disabled))
        .bind(&r.secret_enc)
        .bind(&r.previous_secret_enc)
        .bind(r.previous_secret_until)
        .bind(r.created_at)
        .bind(r.updated_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Writes every column of an endpoint but its id and creation time.
    pub async fn update_endpoint(&self, r: &EndpointRecord) -> Result<bool, DbError> {
        let done = sqlx::query(
            "UPDATE webhook_endpoints SET url = $2, description = $3, merchant_id = $4, \
             events = $5, disabled = $6, secret_enc = $7, previous_secret_enc = $8, \
             previous_secret_until = $9, updated_at = $10 WHERE id = $1",
        )
        .bind(&r.id)
        .bind(&r.url)
        .bind(&r.description)
        .bind(&r.merchant_id)
        .bind(events_column(&r.events))
        .bind(i64::from(r.disabled))
        .bind(&r.secret_enc)
        .bind(&r.previous_secret_enc)
        .bind(r.previous_secret_until)
        .bind(r.updated_at)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// One endpoint.
    pub async fn get_endpoint(&self, id: &str) -> Result<Option<EndpointRecord>, DbError> {
        let row = sqlx::query(&format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(endpoint_from_row).transpose()
    }

    /// Every endpoint, oldest first.
    pub async fn list_endpoints(&self) -> Result<Vec<EndpointRecord>, DbError> {
        let rows = sqlx::query(&format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints ORDER BY created_at, id"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(endpoint_from_row).collect()
    }

    /// Deletes an endpoint and its deliveries.
    pub async fn delete_endpoint(&self, id: &str) -> Result<bool, DbError> {
        let done = sqlx::query("DELETE FROM webhook_endpoints WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// An event's deliveries, each with its attempts (oldest first).
    pub async fn deliveries_of_event(
        &self,
        event_id: &str,
    ) -> Result<Vec<(DeliveryRecord, Vec<DeliveryAttempt>)>, DbError> {
        let rows = sqlx::query(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM event_deliveries WHERE event_id = $1 \
             ORDER BY created_at, id"
        ))
        .bind(event_id)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let d = delivery_from_row(row)?;
            let attempts = self.attempts_of(&d.id).await?;
            out.push((d, attempts));
        }
        Ok(out)
    }

    /// An endpoint's newest deliveries, with the newest attempt of each.
    pub async fn recent_deliveries(
        &self,
        endpoint_id: &str,
        limit: i64,
    ) -> Result<Vec<(DeliveryRecord, Option<DeliveryAttempt>)>, DbError> {
        let rows = sqlx::query(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM event_deliveries WHERE endpoint_id = $1 \
             ORDER BY updated_at DESC, id DESC LIMIT $2"
        ))
        .bind(endpoint_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let d = delivery_from_row(row)?;
            let last = self.attempts_of(&d.id).await?.pop();
            out.push((d, last));
        }
        Ok(out)
    }

    async fn attempts_of(&self, delivery_id: &str) -> Result<Vec<DeliveryAttempt>, DbError> {
        let rows = sqlx::query(
            "SELECT attempt, at, duration_ms, status_code, error, response \
             FROM delivery_attempts WHERE delivery_id = $1 ORDER BY attempt",
        )
        .bind(delivery_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(attempt_from_row).collect()
    }

    /// Claims up to `limit` due deliveries of enabled endpoints until `until`: one
    /// conditional update, so a delivery another instance holds is not taken (on PostgreSQL
    /// the update re-checks the claim of a row another transaction changed meanwhile).
    pub async fn claim_deliveries(
        &self,
        now: i64,
        until: i64,
        limit: i64,
    ) -> Result<Vec<DeliveryJob>, DbError> {
        // A read first: on SQLite an UPDATE takes the database's one write lock even when it
        // matches nothing, and the sender looks after every event written (most of them with
        // no endpoint to go to), which took the lock from payments.
        let due = sqlx::query(
            "SELECT 1 AS due FROM event_deliveries WHERE status = 'pending' \
             AND next_attempt_at <= $1 AND (claimed_until IS NULL OR claimed_until < $1) LIMIT 1",
        )
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        if due.is_none() {
            return Ok(Vec::new());
        }
        let claimed = sqlx::query(
            "UPDATE event_deliveries SET claimed_until = $2 \
             WHERE id IN (SELECT d.id FROM event_deliveries d \
                 JOIN webhook_endpoints w ON w.id = d.endpoint_id \
                 WHERE d.status = 'pending' AND d.next_attempt_at <= $1 AND w.disabled = 0 \
                 AND (d.claimed_until IS NULL OR d.claimed_until < $1) \
                 ORDER BY d.next_attempt_at LIMIT $3) \
             AND status = 'pending' AND (claimed_until IS NULL OR claimed_until < $1) \
             RETURNING id",
        )
        .bind(now)
        .bind(until)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        if claimed.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = claimed
            .iter()
            .map(|r| col(r, DELIVERIES, "id"))
            .collect::<Result<_, _>>()?;
        let marks: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        let prefixed = |table: &str, columns: &str| {
            columns
                .split(", ")
                .map(|c| format!("{table}.{c} AS {table}_{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let sql = format!(
            "SELECT d.id AS delivery_id, d.attempts AS delivery_attempts, {}, {} \
             FROM event_deliveries d JOIN platform_events e ON e.id = d.event_id \
             JOIN webhook_endpoints w ON w.id = d.endpoint_id WHERE d.id IN ({})",
            prefixed("e", EVENT_COLUMNS),
            prefixed("w", ENDPOINT_COLUMNS),
            marks.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for id in &ids {
            q = q.bind(id);
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| {
                Ok(DeliveryJob {
                    delivery_id: col(row, DELIVERIES, "delivery_id")?,
                    attempts: col(row, DELIVERIES, "delivery_attempts")?,
                    claimed_until: until,
                    event: event_from(row, "e_")?,
                    endpoint: endpoint_from(row, "w_")?,
                })
            })
            .collect()
    }

    /// Writes an attempt's outcome, if `job`'s claim still holds: the attempt row, and the
    /// delivery's new status, count and next time (`next_attempt_at` is kept when done).
    /// False when the claim was lost (it ran out and another instance took the delivery).
    pub async fn record_delivery(
        &self,
        job: &DeliveryJob,
        attempt: &DeliveryAttempt,
        status: DeliveryStatus,
        next_attempt_at: i64,
    ) -> Result<bool, DbError> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE event_deliveries SET status = $2, attempts = attempts + 1, \
             next_attempt_at = $3, claimed_until = NULL, updated_at = $4 \
             WHERE id = $1 AND claimed_until = $5",
        )
        .bind(&job.delivery_id)
        .bind(status.as_str())
        .bind(next_attempt_at)
        .bind(super::now())
        .bind(job.claimed_until)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO delivery_attempts (delivery_id, attempt, at, duration_ms, \
             status_code, error, response) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (delivery_id, attempt) DO NOTHING",
        )
        .bind(&job.delivery_id)
        .bind(attempt.attempt)
        .bind(attempt.at)
        .bind(attempt.duration_ms)
        .bind(attempt.status_code)
        .bind(&attempt.error)
        .bind(&attempt.response)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Deliveries by status (for the admin pages' and the harness's counts).
    pub async fn count_deliveries(&self, status: DeliveryStatus) -> Result<i64, DbError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM event_deliveries WHERE status = $1")
            .bind(status.as_str())
            .fetch_one(&self.pool)
            .await?;
        col(&row, DELIVERIES, "n")
    }
}
