//! Injected faults on REST endpoints: per method and path pattern, with a probability drawn from
//! a seeded RNG (runs repeat), added latency, HTTP 500/502, a connection reset with no answer, or
//! a hang longer than the client's timeout; `before` the request is applied, or `after` it (the
//! request took effect but its answer is lost: the case that makes idempotency matter).

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// What a fault does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// Adds `latency_ms` before (or after) handling; the answer is the real one.
    #[serde(alias = "latency_ms")]
    Latency,
    /// Answers 500 `api_error`.
    #[serde(rename = "http_500")]
    Http500,
    /// Answers 502.
    #[serde(rename = "http_502")]
    Http502,
    /// Closes the connection without an answer.
    Reset,
    /// Hangs for `latency_ms` (default 30 s, longer than clients wait), then closes.
    Timeout,
}

/// Whether the fault hits before the request is applied or after.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum When {
    /// The request never reaches the endpoint.
    #[default]
    Before,
    /// The request is applied (and saved for idempotent replay), then its answer is lost.
    After,
}

/// One fault rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultRule {
    /// HTTP method (`POST`), any when absent.
    #[serde(default)]
    pub method: Option<String>,
    /// Path pattern, `*` matching any run of characters: `/v1/payment_intents/*/confirm`.
    pub path: String,
    /// What happens.
    pub kind: FaultKind,
    /// Latency for `latency`, hang time for `timeout`.
    #[serde(default)]
    pub latency_ms: Option<u64>,
    /// Chance the rule fires on a matching request (default 1).
    #[serde(default)]
    pub probability: Option<f64>,
    /// Before or after applying the request.
    #[serde(default)]
    pub when: When,
    /// How many more times it may fire (unlimited when absent).
    #[serde(default)]
    pub times: Option<u32>,
}

/// The rules and their RNG.
#[derive(Debug)]
pub struct FaultSet {
    /// Rules, tried in order; the first that fires wins.
    pub rules: Vec<FaultRule>,
    rng: StdRng,
}

impl Default for FaultSet {
    fn default() -> Self {
        FaultSet {
            rules: Vec::new(),
            rng: StdRng::seed_from_u64(0),
        }
    }
}

/// Matches `path` against a pattern where `*` stands for any run of characters.
pub fn glob(pattern: &str, path: &str) -> bool {
    fn go(p: &[u8], s: &[u8]) -> bool {
        match p.split_first() {
            None => s.is_empty(),
            Some((b'*', rest)) => (0..=s.len()).any(|i| go(rest, &s[i..])),
            Some((c, rest)) => s.first() == Some(c) && go(rest, &s[1..]),
        }
    }
    go(pattern.as_bytes(), path.as_bytes())
}

impl FaultSet {
    /// Replaces the rules (and reseeds when a seed is given).
    pub fn set(&mut self, rules: Vec<FaultRule>, seed: Option<u64>) {
        self.rules = rules;
        if let Some(s) = seed {
            self.rng = StdRng::seed_from_u64(s);
        }
    }

    /// The rule that fires for this request at this moment, if any.
    pub fn pick(&mut self, method: &str, path: &str, when: When) -> Option<FaultRule> {
        for i in 0..self.rules.len() {
            let r = &self.rules[i];
            if r.when != when
                || r.times == Some(0)
                || r.method
                    .as_deref()
                    .is_some_and(|m| !m.eq_ignore_ascii_case(method))
                || !glob(&r.path, path)
            {
                continue;
            }
            let p = r.probability.unwrap_or(1.0);
            if p < 1.0 && self.rng.gen::<f64>() >= p {
                continue;
            }
            let r = &mut self.rules[i];
            if let Some(t) = r.times.as_mut() {
                *t -= 1;
            }
            return Some(r.clone());
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(path: &str, kind: FaultKind, when: When) -> FaultRule {
        FaultRule {
            method: Some("POST".into()),
            path: path.into(),
            kind,
            latency_ms: None,
            probability: None,
            when,
            times: None,
        }
    }

    #[test]
    fn kinds_use_the_documented_names() {
        let k: FaultKind = serde_json::from_str("\"http_500\"").unwrap();
        assert_eq!(k, FaultKind::Http500);
        assert_eq!(
            serde_json::to_string(&FaultKind::Http502).unwrap(),
            "\"http_502\""
        );
    }

    #[test]
    fn glob_matches_segments() {
        assert!(glob(
            "/v1/payment_intents/*/confirm",
            "/v1/payment_intents/pi_1/confirm"
        ));
        assert!(glob("/v1/*", "/v1/refunds"));
        assert!(!glob("/v1/payment_intents", "/v1/payment_intents/pi_1"));
    }

    #[test]
    fn times_and_method_and_when() {
        let mut f = FaultSet::default();
        let mut r = rule("/v1/refunds", FaultKind::Http500, When::After);
        r.times = Some(1);
        f.set(vec![r], None);
        assert!(f.pick("POST", "/v1/refunds", When::Before).is_none());
        assert!(f.pick("GET", "/v1/refunds", When::After).is_none());
        assert!(f.pick("POST", "/v1/refunds", When::After).is_some());
        assert!(f.pick("POST", "/v1/refunds", When::After).is_none());
    }

    #[test]
    fn probability_repeats_with_a_seed() {
        let draw = |seed| {
            let mut f = FaultSet::default();
            let mut r = rule("/v1/*", FaultKind::Http502, When::Before);
            r.probability = Some(0.5);
            f.set(vec![r], Some(seed));
            (0..32)
                .map(|_| f.pick("POST", "/v1/x", When::Before).is_some())
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(7), draw(7));
        let hits = draw(7).iter().filter(|x| **x).count();
        assert!(hits > 4 && hits < 28, "{hits}");
    }
}
