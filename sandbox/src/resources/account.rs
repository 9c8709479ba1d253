//! `GET /v1/account`: the account the key belongs to.

use serde_json::{json, Value};

use crate::state::Account;

/// Renders an account like Stripe's account object.
pub fn render(a: &Account) -> Value {
    json!({
        "id": a.id,
        "object": "account",
        "business_profile": {
            "annual_revenue": null,
            "estimated_worker_count": null,
            "mcc": "7230",
            "minority_owned_business_designation": null,
            "name": a.business_name,
            "product_description": null,
            "support_address": null,
            "support_email": a.email,
            "support_phone": null,
            "support_url": null,
            "url": null,
        },
        "business_type": "company",
        "capabilities": {"card_payments": "active", "transfers": "active"},
        "charges_enabled": a.charges_enabled,
        "controller": {"type": "account"},
        "country": a.country,
        "created": a.created,
        "default_currency": a.default_currency,
        "details_submitted": true,
        "email": a.email,
        "external_accounts": {
            "object": "list", "data": [], "has_more": false,
            "url": format!("/v1/accounts/{}/external_accounts", a.id),
        },
        "future_requirements": {
            "alternatives": [], "current_deadline": null, "currently_due": [], "disabled_reason": null,
            "errors": [], "eventually_due": [], "past_due": [], "pending_verification": [],
        },
        "metadata": {},
        "payouts_enabled": a.charges_enabled,
        "requirements": {
            "alternatives": [], "current_deadline": null, "currently_due": [], "disabled_reason": null,
            "errors": [], "eventually_due": [], "past_due": [], "pending_verification": [],
        },
        "settings": {
            "bacs_debit_payments": {"display_name": null, "service_user_number": null},
            "branding": {"icon": null, "logo": null, "primary_color": null, "secondary_color": null},
            "card_issuing": {"tos_acceptance": {"date": null, "ip": null}},
            "card_payments": {
                "decline_on": {"avs_failure": false, "cvc_failure": false},
                "statement_descriptor_prefix": null,
                "statement_descriptor_prefix_kana": null,
                "statement_descriptor_prefix_kanji": null,
            },
            "dashboard": {"display_name": a.business_name, "timezone": "Etc/UTC"},
            "invoices": {"default_account_tax_ids": null, "hosted_payment_method_save": null},
            "payments": {
                "statement_descriptor": a.business_name.as_ref().map(|n| n.to_uppercase().chars().take(22).collect::<String>()),
                "statement_descriptor_kana": null, "statement_descriptor_kanji": null,
                "statement_descriptor_prefix_kana": null, "statement_descriptor_prefix_kanji": null,
            },
            "payouts": {"debit_negative_balances": true, "schedule": {"delay_days": 2, "interval": "daily"}, "statement_descriptor": null},
            "sepa_debit_payments": {},
        },
        "tos_acceptance": {"date": a.created, "ip": "127.0.0.1", "user_agent": null},
        "type": "standard",
    })
}
