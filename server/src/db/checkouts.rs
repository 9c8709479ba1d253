//! The `checkouts` table: one row per checkout, its PaymentIntent (UNIQUE: one per checkout),
//! its lease, and what Stripe said about the payment.
//!
//! Writes are optimistic: [`Db::update_checkout`] names the `version` it read and bumps it,
//! so a webhook and a pay request cannot overwrite each other. Three columns have their own
//! conditional updates: the lease ([`Db::claim_checkout`], so one attempt at a time talks to
//! Stripe across instances), `amount_refunded` (reserved by the refunds under
//! `amount_refunded + x <= amount_captured`) and `fees_held` (reserved by the cancellation
//! fees under `fees_held + x <= fee_offer_amount`); `update_checkout` writes neither of the
//! last two.

use futures::future::BoxFuture;
use sqlx::any::AnyRow;
use sqlx::AnyPool;

use slotpay_core::{CardBrand, CheckoutStatus, Currency, Last4, MethodType, Money};

use super::batch::{all_failed, placeholders};
use super::outbox::{
    bind_event, deliveries_sql, type_pattern, EventParams, PlatformEvent, EVENT_COLUMNS,
};
use super::{col, corrupt, parsed_col, parsed_opt_col, AnyQuery, Backend, Db, DbError};
use crate::model::{CaptureMethod, CardSummary, CheckoutSource, Lease, LeaseHolder, SavedCard};

const TABLE: &str = "checkouts";
pub(crate) const COLUMNS: &str = "token, merchant_id, service_id, source, amount, currency, \
    description, booking_ref, customer_email, is_link, capture_method, fee_offer_amount, status, \
    expires_at, payment_intent_id, lease_until, lease_attempt, lease_from, charge_id, card_brand, \
    card_last4, amount_authorized, amount_captured, amount_refunded, stripe_fee, \
    stripe_fee_currency, customer_id, saved_payment_method, last_error_code, last_decline_code, \
    last_error_message, synced_at, version, created_at, updated_at, authorized_at, paid_at, \
    canceled_at, declines, fees_held, expiry_announced, payment_method_type";

/// A merchant's money taken in one currency: merchant, currency, payments, net minor units.
pub type Volume = (String, Currency, i64, i64);

/// A checkout as stored, parsed: every status, method, currency and group of columns is the
/// type that holds it (a row whose values do not parse is [`DbError::Corrupt`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckoutRecord {
    /// `cs_...`: the public, unguessable handle.
    pub token: String,
    /// Owner.
    pub merchant_id: String,
    /// The service it was made for, if any.
    pub service_id: Option<String>,
    /// Who made it.
    pub source: CheckoutSource,
    /// What the client pays.
    pub amount: Money,
    /// What is paid for.
    pub description: String,
    /// The platform's booking reference.
    pub booking_ref: Option<String>,
    /// Receipt address (given by the platform, or by the client when paying).
    pub customer_email: Option<String>,
    /// Created as a payment link.
    pub is_link: bool,
    /// Taken at once, or authorised and captured later.
    pub capture_method: CaptureMethod,
    /// The cancellation fee the client may agree to (saving the card), in minor units of
    /// the checkout's currency.
    pub fee_offer_amount: Option<i64>,
    /// Where it is (as stored: see `domain::checkouts::effective_status` for expiry).
    pub status: CheckoutStatus,
    /// Unix seconds after which it cannot be paid.
    pub expires_at: Option<i64>,
    /// `pi_...` (UNIQUE).
    pub payment_intent_id: Option<String>,
    /// The operation talking to Stripe about it, if one holds it.
    pub lease: Option<Lease>,
    /// `ch_...`.
    pub charge_id: Option<String>,
    /// The card that paid.
    pub card: Option<CardSummary>,
    /// How it was paid (or is being paid), once an attempt got that far.
    pub method: Option<MethodType>,
    /// Authorised (manual capture), minor units.
    pub amount_authorized: i64,
    /// Captured, minor units.
    pub amount_captured: i64,
    /// Refunded or reserved for a refund in flight, minor units.
    pub amount_refunded: i64,
    /// Declined pay attempts (a checkout refuses pays at the configured cap).
    pub declines: i64,
    /// Cancellation fees charged or in flight, minor units: never above the offer
    /// (reserved by the fees' own statement, never written by `update_checkout`).
    pub fees_held: i64,
    /// Stripe's fee, in the account's settlement currency, when known.
    pub stripe_fee: Option<Money>,
    /// The card saved for a cancellation fee.
    pub saved_card: Option<SavedCard>,
    /// Code of the last failed attempt.
    pub last_error_code: Option<String>,
    /// Decline code of the last failed attempt.
    pub last_decline_code: Option<String>,
    /// Message of the last failed attempt.
    pub last_error_message: Option<String>,
    /// Time (unix seconds) of the newest Stripe state applied: an event's `created`, or the
    /// time the PaymentIntent was read from Stripe.
    pub synced_at: i64,
    /// Bumped by every write.
    pub version: i64,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
    /// When it was authorised.
    pub authorized_at: Option<i64>,
    /// When it was paid (captured).
    pub paid_at: Option<i64>,
    /// When it was canceled.
    pub canceled_at: Option<i64>,
    /// The expiry (`expires_at`) a `checkout.expired` event was written for: a resent link
    /// gets a new expiry, and expires again.
    pub expiry_announced: Option<i64>,
}

impl CheckoutRecord {
    /// A new, open checkout (version 1), made `now`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        token: String,
        merchant_id: String,
        source: CheckoutSource,
        amount: Money,
        description: String,
        capture_method: CaptureMethod,
        expires_at: i64,
        now: i64,
    ) -> CheckoutRecord {
        CheckoutRecord {
            token,
            merchant_id,
            service_id: None,
            source,
            amount,
            description,
            booking_ref: None,
            customer_email: None,
            is_link: false,
            capture_method,
            fee_offer_amount: None,
            status: CheckoutStatus::Open,
            expires_at: Some(expires_at),
            payment_intent_id: None,
            lease: None,
            charge_id: None,
            card: None,
            method: None,
            amount_authorized: 0,
            amount_captured: 0,
            amount_refunded: 0,
            declines: 0,
            fees_held: 0,
            stripe_fee: None,
            saved_card: None,
            last_error_code: None,
            last_decline_code: None,
            last_error_message: None,
            synced_at: 0,
            version: 1,
            created_at: now,
            updated_at: now,
            authorized_at: None,
            paid_at: None,
            canceled_at: None,
            expiry_announced: None,
        }
    }

    /// What the client paid: the amount captured, or (authorised, not captured yet) the
    /// checkout's amount. The receipt's amount.
    pub fn paid_amount(&self) -> Money {
        if self.amount_captured > 0 {
            Money::from_minor(self.amount_captured, self.amount.currency())
        } else {
            self.amount
        }
    }

    /// What remains refundable, in minor units.
    pub fn refundable(&self) -> i64 {
        (self.amount_captured - self.amount_refunded).max(0)
    }

    /// Whether `holder` holds the checkout's lease (it may have run out: nobody took it
    /// over yet).
    pub fn is_held_by(&self, holder: LeaseHolder) -> bool {
        self.status == CheckoutStatus::Processing && self.lease.is_some_and(|l| l.holder == holder)
    }

    /// Ends the lease, giving back the status it was taken from.
    pub fn give_back_lease(&mut self) {
        if let Some(lease) = self.lease.take() {
            self.status = lease.from;
        }
    }
}

pub(crate) fn from_row(row: &AnyRow) -> Result<CheckoutRecord, DbError> {
    let currency = parsed_col(row, TABLE, "currency", |s| Currency::parse(s).ok())?;
    let lease = match (
        col::<Option<i64>>(row, TABLE, "lease_until")?,
        col::<Option<i64>>(row, TABLE, "lease_attempt")?,
        col::<Option<String>>(row, TABLE, "lease_from")?,
    ) {
        (None, None, None) => None,
        (Some(until), Some(attempt), Some(from)) => Some(Lease {
            until,
            holder: LeaseHolder::from_number(attempt)
                .ok_or_else(|| corrupt(TABLE, format!("lease_attempt {attempt}")))?,
            from: CheckoutStatus::parse(&from)
                .ok_or_else(|| corrupt(TABLE, format!("lease_from {from}")))?,
        }),
        _ => return Err(corrupt(TABLE, "a lease with some of its columns empty")),
    };
    let card = match (
        col::<Option<String>>(row, TABLE, "card_brand")?,
        col::<Option<String>>(row, TABLE, "card_last4")?,
    ) {
        (Some(brand), Some(last4)) => Some(CardSummary {
            brand: CardBrand::from_stripe(&brand),
            last4: Last4::parse(&last4).map_err(|_| corrupt(TABLE, "card_last4"))?,
        }),
        _ => None,
    };
    let stripe_fee = match (
        col::<Option<i64>>(row, TABLE, "stripe_fee")?,
        parsed_opt_col(row, TABLE, "stripe_fee_currency", |s| {
            Currency::parse(s).ok()
        })?,
    ) {
        (Some(fee), Some(currency)) => Some(Money::from_minor(fee, currency)),
        (None, _) => None,
        (Some(_), None) => return Err(corrupt(TABLE, "stripe_fee without its currency")),
    };
    let saved_card = match (
        col::<Option<String>>(row, TABLE, "customer_id")?,
        col::<Option<String>>(row, TABLE, "saved_payment_method")?,
    ) {
        (Some(customer), Some(payment_method)) => Some(SavedCard {
            customer,
            payment_method,
        }),
        _ => None,
    };
    Ok(CheckoutRecord {
        token: col(row, TABLE, "token")?,
        merchant_id: col(row, TABLE, "merchant_id")?,
        service_id: col(row, TABLE, "service_id")?,
        source: parsed_col(row, TABLE, "source", CheckoutSource::parse)?,
        amount: Money::from_minor(col(row, TABLE, "amount")?, currency),
        description: col(row, TABLE, "description")?,
        booking_ref: col(row, TABLE, "booking_ref")?,
        customer_email: col(row, TABLE, "customer_email")?,
        is_link: col::<i64>(row, TABLE, "is_link")? != 0,
        capture_method: parsed_col(row, TABLE, "capture_method", CaptureMethod::parse)?,
        fee_offer_amount: col(row, TABLE, "fee_offer_amount")?,
        status: parsed_col(row, TABLE, "status", CheckoutStatus::parse)?,
        expires_at: col(row, TABLE, "expires_at")?,
        payment_intent_id: col(row, TABLE, "payment_intent_id")?,
        lease,
        charge_id: col(row, TABLE, "charge_id")?,
        card,
        method: parsed_opt_col(row, TABLE, "payment_method_type", MethodType::parse)?,
        amount_authorized: col(row, TABLE, "amount_authorized")?,
        amount_captured: col(row, TABLE, "amount_captured")?,
        amount_refunded: col(row, TABLE, "amount_refunded")?,
        declines: col(row, TABLE, "declines")?,
        fees_held: col(row, TABLE, "fees_held")?,
        stripe_fee,
        saved_card,
        last_error_code: col(row, TABLE, "last_error_code")?,
        last_decline_code: col(row, TABLE, "last_decline_code")?,
        last_error_message: col(row, TABLE, "last_error_message")?,
        synced_at: col(row, TABLE, "synced_at")?,
        version: col(row, TABLE, "version")?,
        created_at: col(row, TABLE, "created_at")?,
        updated_at: col(row, TABLE, "updated_at")?,
        authorized_at: col(row, TABLE, "authorized_at")?,
        paid_at: col(row, TABLE, "paid_at")?,
        canceled_at: col(row, TABLE, "canceled_at")?,
        expiry_announced: col(row, TABLE, "expiry_announced")?,
    })
}

/// Which checkouts a list or report wants.
#[derive(Clone, Debug, Default)]
pub struct CheckoutFilter {
    /// Stored statuses (any when empty).
    pub statuses: Vec<CheckoutStatus>,
    /// Created at or after (unix seconds).
    pub from: Option<i64>,
    /// Created before (unix seconds).
    pub to: Option<i64>,
    /// This booking reference only.
    pub booking_ref: Option<String>,
    /// Lower-case text found in the client's email or the booking reference.
    pub search: Option<String>,
    /// Payment links only (`true`) or everything but links (`false`).
    pub link: Option<bool>,
    /// At most this many, newest first.
    pub limit: Option<i64>,
}

/// One `SELECT ... WHERE payment_intent_id IN (...)` for a batch of lookups.
pub(crate) fn by_intent_batch(
    pool: AnyPool,
    ids: Vec<String>,
) -> BoxFuture<'static, Vec<Result<Option<CheckoutRecord>, DbError>>> {
    Box::pin(async move {
        let sql = format!(
            "SELECT {COLUMNS} FROM checkouts WHERE payment_intent_id IN ({})",
            placeholders(1, ids.len())
        );
        let found: Result<Vec<CheckoutRecord>, DbError> = async {
            let mut q = sqlx::query(&sql);
            for id in &ids {
                q = q.bind(id);
            }
            let rows = q.fetch_all(&pool).await?;
            rows.iter().map(from_row).collect()
        }
        .await;
        match found {
            Ok(found) => ids
                .iter()
                .map(|id| {
                    Ok(found
                        .iter()
                        .find(|r| r.payment_intent_id.as_deref() == Some(id.as_str()))
                        .cloned())
                })
                .collect(),
            Err(e) => all_failed(e, ids.len(), "the batched lookup failed"),
        }
    })
}

impl Db {
    /// Stores a new checkout (version 1).
    pub async fn insert_checkout(&self, r: &CheckoutRecord) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO checkouts (token, merchant_id, service_id, source, amount, currency, \
             description, booking_ref, customer_email, is_link, capture_method, \
             fee_offer_amount, status, expires_at, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 1, $15, $15)",
        )
        .bind(&r.token)
        .bind(&r.merchant_id)
        .bind(&r.service_id)
        .bind(r.source.as_str())
        .bind(r.amount.minor())
        .bind(r.amount.currency().code())
        .bind(&r.description)
        .bind(&r.booking_ref)
        .bind(&r.customer_email)
        .bind(i64::from(r.is_link))
        .bind(r.capture_method.as_str())
        .bind(r.fee_offer_amount)
        .bind(r.status.as_str())
        .bind(r.expires_at)
        .bind(r.created_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// One checkout.
    pub async fn get_checkout(&self, token: &str) -> Result<Option<CheckoutRecord>, DbError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM checkouts WHERE token = $1"))
            .bind(token)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// The checkout of a PaymentIntent. Concurrent calls share one statement (webhooks
    /// look their PaymentIntent up, many at a time).
    pub async fn checkout_by_payment_intent(
        &self,
        payment_intent_id: &str,
    ) -> Result<Option<CheckoutRecord>, DbError> {
        self.batches
            .checkout_by_intent
            .submit(payment_intent_id.to_owned())
            .await
    }

    /// The checkout of a charge.
    pub async fn checkout_by_charge(
        &self,
        charge_id: &str,
    ) -> Result<Option<CheckoutRecord>, DbError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM checkouts WHERE charge_id = $1"
        ))
        .bind(charge_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Writes `r` over the stored row if its version is still `r.version` (every column but
    /// the token, merchant, creation time and `amount_refunded`), and `event` with it,
    /// atomically; false (and no event) when it changed.
    pub async fn update_checkout(
        &self,
        r: &CheckoutRecord,
        event: Option<&PlatformEvent>,
    ) -> Result<bool, DbError> {
        let written = match event {
            None => {
                let done = bind_checkout(sqlx::query(UPDATE_CHECKOUT), r)
                    .execute(&self.pool)
                    .await?;
                Ok(done.rows_affected() == 1)
            }
            Some(e) => match self.write_checkout_and_event(r, e).await {
                Ok(Some(made)) => {
                    self.made_deliveries(made);
                    Ok(true)
                }
                Ok(None) => Ok(false),
                Err(e) => Err(e),
            },
        };
        match written {
            Err(e) if e.is_unique_violation() => Err(DbError::Conflict(
                "the PaymentIntent already belongs to another checkout",
            )),
            other => other,
        }
    }

    /// The row, its event and the event's deliveries in one round trip, atomically. This is
    /// a paid checkout's write, on every payment: as a transaction of separate statements it
    /// held SQLite's write lock across five hand-offs to the connection's thread (PostgreSQL:
    /// five round trips), and the pay bench's throughput fell by 34 % on SQLite, 12 % on
    /// PostgreSQL; in one round trip, by 25 % and 7 %, and within 3 % once the profile's
    /// fixes followed (README, "Performance and reliability").
    /// `None` when the version changed (nothing written), else the deliveries made.
    async fn write_checkout_and_event(
        &self,
        r: &CheckoutRecord,
        e: &PlatformEvent,
    ) -> Result<Option<u64>, DbError> {
        const EVENT: EventParams = EventParams {
            id: 36,
            merchant: 37,
            now: 40,
            pattern: 42,
        };
        let (r, e, pool) = (r.clone(), e.clone(), self.pool.clone());
        let sql = match self.backend {
            // One statement: the event is inserted from the updated row, the deliveries
            // from the inserted event.
            Backend::Postgres => format!(
                "WITH u AS ({UPDATE_CHECKOUT} RETURNING token), \
                 e AS (INSERT INTO platform_events ({EVENT_COLUMNS}) \
                       SELECT $36, $37, $38, $39, $40, $41 FROM u RETURNING id), \
                 d AS ({} RETURNING 1) \
                 SELECT (SELECT COUNT(*) FROM e) AS written, (SELECT COUNT(*) FROM d) AS made",
                deliveries_sql(EVENT, " AND EXISTS (SELECT 1 FROM e)")
            ),
            // Statements sent together in one transaction, each after the update run only
            // if the one before it wrote (`changes()`: the rows of the last INSERT or UPDATE).
            Backend::Sqlite => format!(
                "BEGIN; {UPDATE_CHECKOUT}; \
                 INSERT INTO platform_events ({EVENT_COLUMNS}) \
                 SELECT $36, $37, $38, $39, $40, $41 WHERE changes() = 1; \
                 SELECT changes() AS written; \
                 {}; \
                 SELECT changes() AS made; \
                 COMMIT",
                deliveries_sql(EVENT, " AND changes() = 1")
            ),
        };
        // Its own task, so the statements run to their end (and a failed one's transaction
        // is rolled back) even when the request that asked for them goes away.
        let written = tokio::spawn(async move {
            let mut conn = pool.acquire().await?;
            let q = bind_event(bind_checkout(sqlx::query(&sql), &r), &e).bind(type_pattern(e.kind));
            let rows = q.fetch_all(&mut *conn).await;
            if rows.is_err() {
                // SQLite stopped at the failed statement, inside its transaction.
                let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
            }
            let rows = rows?;
            let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
                return Err(corrupt(TABLE, "no answer to a write"));
            };
            let written: i64 = col(first, TABLE, "written")?;
            let made: i64 = col(last, TABLE, "made")?;
            Ok::<_, DbError>((written == 1).then(|| u64::try_from(made).unwrap_or(0)))
        });
        written
            .await
            .map_err(|e| DbError::Interrupted(e.to_string()))?
    }

    /// Takes the lease of a checkout for `holder` until `until`, if the row is still at
    /// `version` and can be paid (open, failed, waiting for 3-D Secure) or its lease ran out
    /// (`lease_until < now`). The status becomes `processing`; the status it had is kept in
    /// `lease_from`. One conditional update, so two instances cannot both hold it; it
    /// returns the row as written (`None`: not taken).
    pub async fn claim_checkout(
        &self,
        token: &str,
        version: i64,
        holder: LeaseHolder,
        until: i64,
        now: i64,
    ) -> Result<Option<CheckoutRecord>, DbError> {
        let row = sqlx::query(&format!(
            "UPDATE checkouts SET \
             lease_from = CASE WHEN status = 'processing' THEN COALESCE(lease_from, 'open') \
                               ELSE status END, \
             status = 'processing', lease_until = $4, lease_attempt = $3, updated_at = $5, \
             version = version + 1 \
             WHERE token = $1 AND version = $2 \
             AND (status IN ('open', 'failed', 'requires_action') \
                  OR (status = 'processing' AND lease_until IS NOT NULL AND lease_until < $5)) \
             RETURNING {COLUMNS}"
        ))
        .bind(token)
        .bind(version)
        .bind(holder.number())
        .bind(until)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Each merchant's money taken (captured less refunded) by the checkouts created at or
    /// after `since`, per currency: merchant, currency, payments, net minor units.
    pub async fn volumes_since(&self, since: i64) -> Result<Vec<Volume>, DbError> {
        let rows = sqlx::query(
            "SELECT merchant_id, currency, COUNT(*) AS payments, \
             CAST(SUM(amount_captured - amount_refunded) AS BIGINT) AS net FROM checkouts \
             WHERE created_at >= $1 \
             AND status IN ('paid', 'authorized', 'partially_refunded', 'refunded') \
             GROUP BY merchant_id, currency ORDER BY merchant_id, currency",
        )
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    col(row, TABLE, "merchant_id")?,
                    parsed_col(row, TABLE, "currency", |s| Currency::parse(s).ok())?,
                    col(row, TABLE, "payments")?,
                    col(row, TABLE, "net")?,
                ))
            })
            .collect()
    }

    /// A merchant's checkouts, newest first.
    pub async fn list_checkouts(
        &self,
        merchant_id: &str,
        filter: &CheckoutFilter,
    ) -> Result<Vec<CheckoutRecord>, DbError> {
        let mut sql = format!("SELECT {COLUMNS} FROM checkouts WHERE merchant_id = $1");
        let mut n = 1;
        let mut next = || {
            n += 1;
            n
        };
        if !filter.statuses.is_empty() {
            let marks: Vec<String> = filter
                .statuses
                .iter()
                .map(|_| format!("${}", next()))
                .collect();
            sql.push_str(&format!(" AND status IN ({})", marks.join(", ")));
        }
        if filter.from.is_some() {
            sql.push_str(&format!(" AND created_at >= ${}", next()));
        }
        if filter.to.is_some() {
            sql.push_str(&format!(" AND created_at < ${}", next()));
        }
        if filter.booking_ref.is_some() {
            sql.push_str(&format!(" AND booking_ref = ${}", next()));
        }
        if filter.search.is_some() {
            let n = next();
            sql.push_str(&format!(
                " AND (LOWER(customer_email) LIKE ${n} ESCAPE '\\' \
                 OR LOWER(booking_ref) LIKE ${n} ESCAPE '\\')"
            ));
        }
        if filter.link.is_some() {
            sql.push_str(&format!(" AND is_link = ${}", next()));
        }
        sql.push_str(" ORDER BY created_at DESC, token");
        if filter.limit.is_some() {
            sql.push_str(&format!(" LIMIT ${}", next()));
        }
        let mut q = sqlx::query(&sql).bind(merchant_id);
        for s in &filter.statuses {
            q = q.bind(s.as_str());
        }
        if let Some(v) = filter.from {
            q = q.bind(v);
        }
        if let Some(v) = filter.to {
            q = q.bind(v);
        }
        if let Some(v) = &filter.booking_ref {
            q = q.bind(v);
        }
        if let Some(v) = &filter.search {
            // The text as typed: its own `%`, `_` and `\` match themselves.
            let escaped = v
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            q = q.bind(format!("%{escaped}%"));
        }
        if let Some(v) = filter.link {
            q = q.bind(i64::from(v));
        }
        if let Some(v) = filter.limit {
            q = q.bind(v);
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter().map(from_row).collect()
    }

    /// Checkouts in `statuses` last written before `updated_before`, oldest first (the
    /// reconciler's work list).
    pub async fn checkouts_in(
        &self,
        statuses: &[CheckoutStatus],
        updated_before: i64,
        limit: i64,
    ) -> Result<Vec<CheckoutRecord>, DbError> {
        let marks: Vec<String> = (0..statuses.len()).map(|i| format!("${}", i + 3)).collect();
        let sql = format!(
            "SELECT {COLUMNS} FROM checkouts WHERE updated_at < $1 AND status IN ({}) \
             ORDER BY updated_at LIMIT $2",
            marks.join(", ")
        );
        let mut q = sqlx::query(&sql).bind(updated_before).bind(limit);
        for s in statuses {
            q = q.bind(s.as_str());
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter().map(from_row).collect()
    }

    /// Open or failed checkouts without a PaymentIntent, untouched since `updated_before`, with
    /// a pay attempt since `attempted_since` that ended without an answer or with a 5xx (Stripe
    /// not reached while creating the PaymentIntent, or the process stopped).
    pub async fn checkouts_without_intent(
        &self,
        updated_before: i64,
        attempted_since: i64,
        limit: i64,
    ) -> Result<Vec<CheckoutRecord>, DbError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM checkouts c WHERE c.status IN ('open', 'failed') \
             AND c.payment_intent_id IS NULL AND c.updated_at < $1 AND EXISTS (\
             SELECT 1 FROM payment_attempts a WHERE a.checkout_token = c.token \
             AND a.created_at >= $2 AND (a.response_status IS NULL OR a.response_status >= 500)) \
             ORDER BY c.updated_at LIMIT $3"
        ))
        .bind(updated_before)
        .bind(attempted_since)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// Unpaid checkouts whose `expires_at` is at or before `now` and whose expiry was not
    /// announced yet, the longest lapsed first.
    pub async fn lapsed_holds(&self, now: i64, limit: i64) -> Result<Vec<CheckoutRecord>, DbError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM checkouts \
             WHERE status IN ('open', 'failed', 'requires_action') AND expires_at <= $1 \
             AND (expiry_announced IS NULL OR expiry_announced <> expires_at) \
             ORDER BY expires_at LIMIT $2"
        ))
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// Deletes the checkouts made from a catalogue (by anyone, through the script-tag
    /// embed) that expired before `expired_before` while still open, with no PaymentIntent
    /// and no pay attempt: nothing refers to them. Returns how many.
    pub async fn purge_untried_catalogue_checkouts(
        &self,
        expired_before: i64,
    ) -> Result<u64, DbError> {
        let done = sqlx::query(
            "DELETE FROM checkouts WHERE source = 'catalogue' AND status = 'open' \
             AND payment_intent_id IS NULL AND expires_at < $1 \
             AND NOT EXISTS (SELECT 1 FROM payment_attempts a WHERE a.checkout_token = checkouts.token)",
        )
        .bind(expired_before)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }
}

/// The write of every column of a checkout but the token, merchant, creation time,
/// `amount_refunded` and `fees_held`, if its version is still `$32` ([`bind_checkout`]).
const UPDATE_CHECKOUT: &str = "UPDATE checkouts SET amount = $2, currency = $3, description = $4, \
         booking_ref = $5, customer_email = $6, capture_method = $7, \
         fee_offer_amount = $8, status = $9, expires_at = $10, payment_intent_id = $11, \
         lease_until = $12, lease_attempt = $13, lease_from = $14, charge_id = $15, \
         card_brand = $16, card_last4 = $17, amount_authorized = $18, \
         amount_captured = $19, stripe_fee = $20, stripe_fee_currency = $21, \
         customer_id = $22, saved_payment_method = $23, last_error_code = $24, \
         last_decline_code = $25, last_error_message = $26, synced_at = $27, \
         updated_at = $28, authorized_at = $29, paid_at = $30, canceled_at = $31, \
         declines = $33, expiry_announced = $34, payment_method_type = $35, \
         version = version + 1 WHERE token = $1 AND version = $32";

/// Binds `r` to [`UPDATE_CHECKOUT`]'s parameters `$1` to `$35`.
fn bind_checkout<'q>(q: AnyQuery<'q>, r: &'q CheckoutRecord) -> AnyQuery<'q> {
    q.bind(&r.token)
        .bind(r.amount.minor())
        .bind(r.amount.currency().code())
        .bind(&r.description)
        .bind(&r.booking_ref)
        .bind(&r.customer_email)
        .bind(r.capture_method.as_str())
        .bind(r.fee_offer_amount)
        .bind(r.status.as_str())
        .bind(r.expires_at)
        .bind(&r.payment_intent_id)
        .bind(r.lease.map(|l| l.until))
        .bind(r.lease.map(|l| l.holder.number()))
        .bind(r.lease.map(|l| l.from.as_str()))
        .bind(&r.charge_id)
        .bind(r.card.as_ref().map(|c| c.brand.as_str()))
        .bind(r.card.as_ref().map(|c| c.last4.as_str()))
        .bind(r.amount_authorized)
        .bind(r.amount_captured)
        .bind(r.stripe_fee.map(|f| f.minor()))
        .bind(r.stripe_fee.map(|f| f.currency().code()))
        .bind(r.saved_card.as_ref().map(|c| c.customer.as_str()))
        .bind(r.saved_card.as_ref().map(|c| c.payment_method.as_str()))
        .bind(&r.last_error_code)
        .bind(&r.last_decline_code)
        .bind(&r.last_error_message)
        .bind(r.synced_at)
        .bind(r.updated_at)
        .bind(r.authorized_at)
        .bind(r.paid_at)
        .bind(r.canceled_at)
        .bind(r.version)
        .bind(r.declines)
        .bind(r.expiry_announced)
        .bind(r.method.map(|m| m.as_str()))
}
