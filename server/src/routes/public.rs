//! The public API the widget calls from merchants' pages. Its routes sit behind CORS (the
//! merchant's registered origins) and the per-IP and per-merchant rate limits; the payments
//! issue adds `/v1/checkouts/{token}...` and `/v1/merchants/{merchant_id}/checkouts` here.

use axum::Router;

use crate::state::AppState;

/// The public routes (none yet: the payments issue adds them).
pub fn router() -> Router<AppState> {
    Router::new()
}
