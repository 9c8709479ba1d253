//! The payments report of a merchant: one row per checkout created in a period (amount,
//! Stripe's fee where known, refunds, disputes, cancellation fees, status, booking
//! reference, email, dates in ISO 8601 UTC), as JSON or as CSV that opens in a spreadsheet
//! (RFC 4180 quoting, UTF-8 with a BOM, CRLF; text cells starting with `=`, `+`, `-`, `@`,
//! tab or CR get a leading `'` so a spreadsheet does not run them as formulas).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use slotpay_core::{ApiError, CardBrand, CheckoutStatus, Currency, ErrorCode, Money};

use super::checkouts::{effective_status, parse_time, search_text, status_filter};
use super::{load_merchant, Checker, DomainError};
use crate::db::{self, CheckoutFilter, DisputeRecord};
use crate::model::{FeeStatus, RefundStatus};
use crate::state::AppState;
use crate::stripe::DisputeStatus;

/// The report's query.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// Created on or after (ISO 8601 date or date-time, or unix seconds).
    pub from: Option<String>,
    /// Created before.
    pub to: Option<String>,
    /// Only this status (or `taken`, `unpaid`).
    pub status: Option<String>,
    /// Part of the client's email or of the booking reference, any case.
    pub q: Option<String>,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

/// The wanted format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `{"data": [...]}`.
    Json,
    /// RFC 4180.
    Csv,
}

/// One line of the report. Amounts are minor units in JSON.
#[derive(Clone, Debug, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct ReportRow {
    /// `cs_...`.
    #[schema(value_type = slotpay_core::CheckoutToken)]
    pub token: String,
    /// ISO 8601 UTC.
    pub created_at: String,
    /// ISO 8601 UTC, when paid (or authorised).
    pub paid_at: Option<String>,
    /// Status, time taken into account.
    pub status: CheckoutStatus,
    /// Minor units.
    pub amount: i64,
    /// Lowercase currency.
    pub currency: Currency,
    /// Captured, minor units.
    pub amount_captured: i64,
    /// Stripe's fee, when known, in minor units of `stripe_fee_currency`.
    pub stripe_fee: Option<i64>,
    /// The fee's currency.
    pub stripe_fee_currency: Option<Currency>,
    /// Refunded (succeeded refunds), minor units.
    pub amount_refunded: i64,
    /// Disputed, minor units.
    pub amount_disputed: i64,
    /// The latest dispute's status.
    pub dispute_status: Option<DisputeStatus>,
    /// Cancellation fees charged (succeeded), minor units.
    pub cancellation_fees: i64,
    /// The platform's booking reference.
    pub booking_ref: Option<String>,
    /// Receipt address.
    pub customer_email: Option<String>,
    /// What was paid for.
    pub description: String,
    /// `pi_...`.
    pub payment_intent_id: Option<String>,
    /// Card brand.
    pub card_brand: Option<CardBrand>,
    /// Last 4 digits.
    pub card_last4: Option<String>,
}

/// ISO 8601 UTC of unix seconds: `2026-11-02T10:00:00Z`.
pub fn iso8601(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(&time::macros::format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
            ))
            .ok()
        })
        .unwrap_or_default()
}

/// Parses the query.
pub fn parse_format(q: &ReportQuery) -> Result<Format, ApiError> {
    match q.format.as_deref().map(str::trim) {
        None | Some("") | Some("json") => Ok(Format::Json),
        Some("csv") => Ok(Format::Csv),
        Some(_) => Err(
            ApiError::new(ErrorCode::InvalidRequest, "format must be json or csv")
                .with_param("format"),
        ),
    }
}

/// The report's rows, newest first.
pub async fn rows(
    state: &AppState,
    merchant_id: &str,
    q: &ReportQuery,
) -> Result<Vec<ReportRow>, DomainError> {
    load_merchant(state, merchant_id).await?;
    let mut c = Checker::default();
    let status = q.status.as_deref().and_then(|s| c.check(status_filter(s)));
    let from = q
        .from
        .as_deref()
        .and_then(|f| c.check(parse_time(f, "from")));
    let to = q.to.as_deref().and_then(|t| c.check(parse_time(t, "to")));
    let search =
        q.q.as_deref()
            .and_then(|t| c.check(search_text(t)).flatten());
    c.check(parse_format(q));
    c.finish()?;
    let filter = CheckoutFilter {
        statuses: status
            .as_ref()
            .map(|s| s.stored.clone())
            .unwrap_or_default(),
        from,
        to,
        booking_ref: None,
        search,
        link: None,
        limit: None,
    };
    let mut disputes: HashMap<String, Vec<DisputeRecord>> = HashMap::new();
    for d in state.db.merchant_disputes(merchant_id).await? {
        if let Some(t) = d.checkout_token.clone() {
            disputes.entry(t).or_default().push(d);
        }
    }
    // Each checkout's succeeded refunds and fees, summed, from one read each.
    let mut refunded: HashMap<String, i64> = HashMap::new();
    for x in state.db.merchant_refunds(merchant_id).await? {
        if x.status == RefundStatus::Succeeded {
            *refunded.entry(x.checkout_token).or_default() += x.amount;
        }
    }
    let mut fees: HashMap<String, i64> = HashMap::new();
    for f in state.db.merchant_fees(merchant_id).await? {
        if f.status == FeeStatus::Succeeded {
            *fees.entry(f.checkout_token).or_default() += f.amount.minor();
        }
    }
    let now = db::now();
    let mut out = Vec::new();
    for r in state.db.list_checkouts(merchant_id, &filter).await? {
        let effective = effective_status(&r, now);
        if status.as_ref().is_some_and(|s| !s.admits(effective)) {
            continue;
        }
        let refunded = refunded.get(&r.token).copied().unwrap_or(0);
        let fees = fees.get(&r.token).copied().unwrap_or(0);
        let ds = disputes.get(&r.token);
        out.push(ReportRow {
            token: r.token.clone(),
            created_at: iso8601(r.created_at),
            paid_at: r.paid_at.or(r.authorized_at).map(iso8601),
            status: effective,
            amount: r.amount.minor(),
            currency: r.amount.currency(),
            amount_captured: r.amount_captured,
            stripe_fee: r.stripe_fee.map(|f| f.minor()),
            stripe_fee_currency: r.stripe_fee.map(|f| f.currency()),
            amount_refunded: refunded,
            amount_disputed: ds.map_or(0, |l| l.iter().map(|d| d.amount.minor()).sum()),
            dispute_status: ds.and_then(|l| l.last()).map(|d| d.status.clone()),
            cancellation_fees: fees,
            booking_ref: r.booking_ref.clone(),
            customer_email: r.customer_email.clone(),
            description: r.description.clone(),
            payment_intent_id: r.payment_intent_id.clone(),
            card_brand: r.card.as_ref().map(|c| c.brand),
            card_last4: r.card.as_ref().map(|c| c.last4.as_str().to_owned()),
        });
    }
    Ok(out)
}

/// The columns of the CSV, in order.
pub const CSV_HEADER: [&str; 19] = [
    "checkout",
    "created_at",
    "paid_at",
    "status",
    "currency",
    "amount",
    "captured",
    "stripe_fee",
    "stripe_fee_currency",
    "refunded",
    "disputed",
    "dispute_status",
    "cancellation_fees",
    "booking_ref",
    "customer_email",
    "description",
    "payment_intent",
    "card_brand",
    "card_last4",
];

/// A text cell: formula-like text neutralised, then RFC 4180 quoting.
pub fn text_cell(value: &str) -> String {
    let guarded = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    quote(&guarded)
}

/// RFC 4180: a field with a comma, quote, CR or LF is quoted, its quotes doubled.
fn quote(value: &str) -> String {
    if value.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

/// An amount cell in major units (`25.00`).
fn amount_cell(minor: i64, currency: Currency) -> String {
    Money::from_minor(minor, currency).to_major_string()
}

/// The report as CSV: UTF-8 with a BOM (spreadsheets then read accents right), CRLF lines.
pub fn csv(rows: &[ReportRow]) -> String {
    let mut out = String::from("\u{feff}");
    out.push_str(&CSV_HEADER.join(","));
    out.push_str("\r\n");
    for r in rows {
        let fee_currency = r.stripe_fee_currency.unwrap_or(r.currency);
        let cells = [
            text_cell(&r.token),
            r.created_at.clone(),
            r.paid_at.clone().unwrap_or_default(),
            r.status.as_str().to_owned(),
            r.currency.code().to_owned(),
            amount_cell(r.amount, r.currency),
            amount_cell(r.amount_captured, r.currency),
            r.stripe_fee
                .map(|f| amount_cell(f, fee_currency))
                .unwrap_or_default(),
            r.stripe_fee_currency
                .map(|c| c.code().to_owned())
                .unwrap_or_default(),
            amount_cell(r.amount_refunded, r.currency),
            amount_cell(r.amount_disputed, r.currency),
            text_cell(r.dispute_status.as_ref().map_or("", |s| s.as_str())),
            amount_cell(r.cancellation_fees, r.currency),
            text_cell(r.booking_ref.as_deref().unwrap_or("")),
            text_cell(r.customer_email.as_deref().unwrap_or("")),
            text_cell(&r.description),
            text_cell(r.payment_intent_id.as_deref().unwrap_or("")),
            text_cell(r.card_brand.map_or("", |b| b.as_str())),
            text_cell(r.card_last4.as_deref().unwrap_or("")),
        ];
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_and_formulas_neutralised() {
        assert_eq!(text_cell("plain"), "plain");
        assert_eq!(text_cell("a,b"), "\"a,b\"");
        assert_eq!(text_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(text_cell("two\nlines"), "\"two\nlines\"");
        assert_eq!(text_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(text_cell("+1"), "'+1");
        assert_eq!(text_cell("-2"), "'-2");
        assert_eq!(text_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(amount_cell(2500, Currency::Eur), "25.00");
        assert_eq!(amount_cell(5120, Currency::Kwd), "5.120");
        assert_eq!(iso8601(1_793_613_600), "2026-11-02T10:00:00Z");
    }
}
