//! Prometheus metrics, exposed as text at `/metrics`: HTTP requests by matched route template
//! and status, Stripe calls by operation and outcome, and webhook outcomes. A small hand-rolled
//! registry: a few maps of counters and fixed-bucket histograms behind a mutex.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Histogram bucket upper bounds, in seconds.
const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// What happened to a received Stripe webhook. A delivery counts once as `verified` (or
/// `rejected`), then `duplicate` when its id was stored before; a stored event counts
/// `processed` or `failed` each time it is applied.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum WebhookOutcome {
    /// Signature valid (stored, or a duplicate).
    Verified,
    /// An event id seen before: answered 200, nothing changed.
    Duplicate,
    /// Unknown merchant, no signing secret, missing, wrong or stale signature: answered 400.
    Rejected,
    /// Applied.
    Processed,
    /// Applying it failed; it is retried.
    Failed,
}

impl WebhookOutcome {
    /// Every outcome, so each series exists from the start.
    pub const ALL: [WebhookOutcome; 5] = [
        WebhookOutcome::Verified,
        WebhookOutcome::Duplicate,
        WebhookOutcome::Rejected,
        WebhookOutcome::Processed,
        WebhookOutcome::Failed,
    ];

    /// The label value.
    pub const fn as_str(self) -> &'static str {
        match self {
            WebhookOutcome::Verified => "verified",
            WebhookOutcome::Duplicate => "duplicate",
            WebhookOutcome::Rejected => "rejected",
            WebhookOutcome::Processed => "processed",
            WebhookOutcome::Failed => "failed",
        }
    }
}

#[derive(Clone, Default)]
struct Histogram {
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, secs: f64) {
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                self.buckets[i] += 1;
            }
        }
        self.count += 1;
        self.sum += secs;
    }
}

#[derive(Default)]
struct Inner {
    http: BTreeMap<(String, String, u16), Histogram>,
    stripe: BTreeMap<(String, String), Histogram>,
    webhooks: BTreeMap<&'static str, u64>,
    deliveries: BTreeMap<&'static str, u64>,
}

/// The registry.
pub struct Metrics {
    inner: Mutex<Inner>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut inner = Inner::default();
        for outcome in WebhookOutcome::ALL {
            inner.webhooks.insert(outcome.as_str(), 0);
        }
        Metrics {
            inner: Mutex::new(inner),
        }
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics(..)")
    }
}

impl Metrics {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain counters: still usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// One HTTP request: method (a method HTTP defines, else `OTHER`), route template
    /// (`/v1/admin/merchants/{id}`, or `unmatched`), status. Every label comes from a
    /// bounded set, so junk requests cannot grow the registry.
    pub fn http_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        self.lock()
            .http
            .entry((method_label(method).to_owned(), route.to_owned(), status))
            .or_default()
            .observe(elapsed.as_secs_f64());
    }

    /// One Stripe call (retries included in its latency): operation and outcome (`ok`,
    /// Stripe's error type, or `transport_error`).
    pub fn stripe_call(&self, operation: &str, outcome: &str, elapsed: Duration) {
        self.lock()
            .stripe
            .entry((operation.to_owned(), outcome.to_owned()))
            .or_default()
            .observe(elapsed.as_secs_f64());
    }

    /// One received webhook.
    pub fn webhook(&self, outcome: WebhookOutcome) {
        *self.lock().webhooks.entry(outcome.as_str()).or_default() += 1;
    }

    /// Counts an attempt of a webhook to a platform by the delivery's status after it
    /// (`succeeded`, `pending`: to be retried, `failed`: given up).
    pub fn webhook_delivered(&self, outcome: &'static str) {
        *self.lock().deliveries.entry(outcome).or_default() += 1;
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let inner = self.lock();
        let mut out = String::new();
        write_histograms(
            &mut out,
            "slotpay_http_requests",
            "HTTP requests by method, matched route template and status",
            inner.http.iter().map(|((m, r, s), h)| {
                (
                    format!(
                        "method=\"{}\",route=\"{}\",status=\"{s}\"",
                        escape(m),
                        escape(r)
                    ),
                    h,
                )
            }),
        );
        write_histograms(
            &mut out,
            "slotpay_stripe_requests",
            "Stripe API calls by operation and outcome",
            inner.stripe.iter().map(|((op, outcome), h)| {
                (
                    format!(
                        "operation=\"{}\",outcome=\"{}\"",
                        escape(op),
                        escape(outcome)
                    ),
                    h,
                )
            }),
        );
        let _ = writeln!(
            out,
            "# HELP slotpay_webhooks_total Stripe webhooks received, by outcome"
        );
        let _ = writeln!(out, "# TYPE slotpay_webhooks_total counter");
        for (outcome, n) in &inner.webhooks {
            let _ = writeln!(out, "slotpay_webhooks_total{{outcome=\"{outcome}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "# HELP slotpay_webhook_deliveries_total Attempts of webhooks to platforms, by the delivery's status after it"
        );
        let _ = writeln!(out, "# TYPE slotpay_webhook_deliveries_total counter");
        for (outcome, n) in &inner.deliveries {
            let _ = writeln!(
                out,
                "slotpay_webhook_deliveries_total{{outcome=\"{outcome}\"}} {n}"
            );
        }
        out
    }
}

/// Writes a `_total` counter and a `_duration_seconds` histogram per label set.
fn write_histograms<'a>(
    out: &mut String,
    name: &str,
    help: &str,
    series: impl Iterator<Item = (String, &'a Histogram)> + Clone,
) {
    let _ = writeln!(out, "# HELP {name}_total {help}");
    let _ = writeln!(out, "# TYPE {name}_total counter");
    for (labels, h) in series.clone() {
        let _ = writeln!(out, "{name}_total{{{labels}}} {}", h.count);
    }
    let _ = writeln!(out, "# HELP {name}_duration_seconds Latency of {help}");
    let _ = writeln!(out, "# TYPE {name}_duration_seconds histogram");
    for (labels, h) in series {
        for (bound, n) in BUCKETS.iter().zip(h.buckets) {
            let _ = writeln!(
                out,
                "{name}_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "{name}_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
            h.count
        );
        let _ = writeln!(out, "{name}_duration_seconds_sum{{{labels}}} {}", h.sum);
        let _ = writeln!(out, "{name}_duration_seconds_count{{{labels}}} {}", h.count);
    }
}

/// The label of an HTTP method: the methods HTTP defines keep their name, any other is
/// `OTHER`.
fn method_label(method: &str) -> &'static str {
    const KNOWN: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE",
    ];
    KNOWN.into_iter().find(|m| *m == method).unwrap_or("OTHER")
}

/// Escapes a label value.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition() {
        let m = Metrics::default();
        m.http_request("GET", "/healthz", 200, Duration::from_millis(3));
        m.http_request("GET", "/healthz", 200, Duration::from_millis(30));
        m.stripe_call("retrieve_account", "ok", Duration::from_millis(70));
        m.webhook(WebhookOutcome::Duplicate);
        let text = m.render();
        assert!(
            text.contains(
                "slotpay_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 2"
            ),
            "{text}"
        );
        assert!(text.contains("slotpay_http_requests_duration_seconds_bucket{method=\"GET\",route=\"/healthz\",status=\"200\",le=\"0.005\"} 1"));
        assert!(text.contains("slotpay_http_requests_duration_seconds_bucket{method=\"GET\",route=\"/healthz\",status=\"200\",le=\"+Inf\"} 2"));
        assert!(text.contains(
            "slotpay_stripe_requests_total{operation=\"retrieve_account\",outcome=\"ok\"} 1"
        ));
        assert!(text.contains("slotpay_webhooks_total{outcome=\"duplicate\"} 1"));
        assert!(text.contains("slotpay_webhooks_total{outcome=\"rejected\"} 0"));
        assert_eq!(escape("a\"b\\"), "a\\\"b\\\\");
        assert_eq!(method_label("PATCH"), "PATCH");
        assert_eq!(method_label("JUNK7"), "OTHER");
    }
}
