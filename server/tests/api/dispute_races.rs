//! A dispute's final status (`won`, `lost`) is never replaced by a non-final one, even when
//! its events (all stamped the same second: `charge.dispute.created`, `funds_withdrawn`,
//! `closed`) are applied at the same time. Found by the fault harness (`./dev fault`): with
//! events processed concurrently, a `needs_response` update read the row before `closed`
//! wrote `lost`, then overwrote it.

use slotpay_core::{Currency, Money};
use slotpay_server::db::DisputeRecord;
use slotpay_server::stripe::DisputeStatus;

use crate::helpers::{both_backends, TestApp};

both_backends!(a_final_dispute_status_survives_concurrent_updates);

fn dispute(id: &str, merchant: &str, status: &str) -> DisputeRecord {
    DisputeRecord {
        id: id.to_owned(),
        merchant_id: merchant.to_owned(),
        checkout_token: None,
        charge_id: format!("ch_{id}"),
        amount: Money::from_minor(2500, Currency::Eur),
        reason: Some("general".into()),
        status: DisputeStatus::parse(status),
        stripe_created: 1_800_000_000,
        event_created: 1_800_000_000,
        updated_at: 1_800_000_000,
    }
}

async fn a_final_dispute_status_survives_concurrent_updates(app: TestApp) {
    let m = app.merchant(&[]).await;
    let ids: Vec<String> = (0..150).map(|i| format!("dp_race_{i}")).collect();
    for id in &ids {
        app.state
            .db
            .upsert_dispute(&dispute(id, &m, "needs_response"), |_| Vec::new())
            .await
            .unwrap();
    }
    // Each dispute closes while another event of the same second still says needs_response.
    let mut jobs = Vec::new();
    for id in &ids {
        for status in ["lost", "needs_response", "needs_response"] {
            let (db, d) = (app.state.db.clone(), dispute(id, &m, status));
            jobs.push(tokio::spawn(async move {
                db.upsert_dispute(&d, |_| Vec::new()).await
            }));
        }
    }
    for j in jobs {
        j.await.unwrap().unwrap();
    }
    let mut reopened = Vec::new();
    for id in &ids {
        let d = app.state.db.get_dispute(id).await.unwrap().unwrap();
        if d.status.as_str() != "lost" {
            reopened.push(id.clone());
        }
    }
    assert!(
        reopened.is_empty(),
        "lost replaced by needs_response: {reopened:?}"
    );
}
