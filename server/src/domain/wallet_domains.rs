//! The web domains a merchant's clients pay on, registered with the merchant's Stripe account
//! as payment method domains: Stripe's Elements show Apple Pay, Google Pay and Link only on a
//! registered domain. The domains are the hosts of the merchant's allowed origins and slotpay's
//! own (its payment-link pages). Registering never stops an activation: a domain Stripe refuses
//! (or a key without `rak_payment_method_domain_write`) is kept with its problem and a warning,
//! and cards still work there.

use slotpay_core::ServerKey;

use super::Warning;
use crate::model::{DomainMethodState, WalletDomain};
use crate::state::AppState;
use crate::stripe::{
    DomainMethod, DomainMethodStatus, IdempotencyKey, PaymentMethodDomain, StripeError,
};

/// The hosts to register: each allowed origin's, and slotpay's own, once each, sorted.
pub(crate) fn hosts(state: &AppState, allowed_origins: &[String]) -> Vec<String> {
    let mut hosts: Vec<String> = allowed_origins
        .iter()
        .filter_map(|o| url::Url::parse(o).ok()?.host_str().map(str::to_owned))
        .chain(state.public_url.host_str().map(str::to_owned))
        .collect();
    hosts.sort();
    hosts.dedup();
    hosts
}

/// Registers each of `hosts` (or finds its registration) and asks Stripe to check it again;
/// returns what Stripe says of each, and a warning when some could not be registered.
pub(crate) async fn register(
    state: &AppState,
    key: &ServerKey,
    merchant_id: &str,
    hosts: &[String],
    now: i64,
) -> (Vec<WalletDomain>, Option<Warning>) {
    let mut domains = Vec::with_capacity(hosts.len());
    let mut refused = Vec::new();
    for host in hosts {
        let domain = match register_one(state, key, merchant_id, host).await {
            Ok(d) => shown(host, &d, now),
            Err(e) => {
                refused.push(host.as_str());
                unregistered(host, problem(&e, host), now)
            }
        };
        domains.push(domain);
    }
    let warning = (!refused.is_empty()).then(|| Warning {
        code: "wallet_domains",
        field: None,
        message: format!(
            "Apple Pay, Google Pay and Link will not show on {} until the domain is registered \
             with Stripe; cards work there",
            refused.join(", ")
        ),
    });
    (domains, warning)
}

async fn register_one(
    state: &AppState,
    key: &ServerKey,
    merchant_id: &str,
    host: &str,
) -> Result<PaymentMethodDomain, StripeError> {
    match state.stripe.find_payment_method_domain(key, host).await? {
        Some(d) => {
            state
                .stripe
                .validate_payment_method_domain(key, &d.id)
                .await
        }
        None => {
            let idem = IdempotencyKey::derive("payment-method-domain", &[merchant_id, host]);
            state
                .stripe
                .create_payment_method_domain(key, host, &idem)
                .await
        }
    }
}

/// Why a domain could not be registered, in words for the merchant.
fn problem(e: &StripeError, host: &str) -> String {
    match e {
        // Listing needs the read permission and registering the write one, which covers both.
        StripeError::Api(api) if api.status == 403 => format!(
            "The key may not register payment method domains (it needs the \
             'rak_payment_method_domain_write' permission): add {host} under Settings → Payment \
             method domains in your Stripe Dashboard, or give the key that permission and verify \
             again"
        ),
        StripeError::Api(api) => format!("Stripe refused {host}: {}", api.message),
        _ => "Stripe could not be reached; verify again later".to_owned(),
    }
}

fn unregistered(host: &str, problem: String, now: i64) -> WalletDomain {
    WalletDomain {
        domain: host.to_owned(),
        id: None,
        apple_pay: DomainMethodState::Inactive,
        google_pay: DomainMethodState::Inactive,
        link: DomainMethodState::Inactive,
        problem: Some(problem),
        checked_at: now,
    }
}

/// Stripe's registration as slotpay keeps it: a status it does not know, or a disabled
/// domain, reads as inactive, with Stripe's words as the problem.
fn shown(host: &str, d: &PaymentMethodDomain, now: i64) -> WalletDomain {
    let mut problems = Vec::new();
    if !d.enabled {
        problems.push("the domain is disabled in Stripe's Dashboard".to_owned());
    }
    let mut state = |name: &str, m: &DomainMethod| {
        let active = d.enabled && m.status == DomainMethodStatus::Active;
        if !active && d.enabled {
            let why = m
                .status_details
                .as_ref()
                .and_then(|s| s.error_message.clone())
                .unwrap_or_else(|| match &m.status {
                    DomainMethodStatus::Unknown(s) => format!("Stripe says {s}"),
                    _ => "inactive".to_owned(),
                });
            problems.push(format!("{name}: {why}"));
        }
        if active {
            DomainMethodState::Active
        } else {
            DomainMethodState::Inactive
        }
    };
    WalletDomain {
        domain: host.to_owned(),
        id: Some(d.id.clone()),
        apple_pay: state("Apple Pay", &d.apple_pay),
        google_pay: state("Google Pay", &d.google_pay),
        link: state("Link", &d.link),
        problem: (!problems.is_empty()).then(|| problems.join("; ")),
        checked_at: now,
    }
}
