//! Who may use the admin pages and how they stay signed in: the admin token or an
//! operator's password (an Argon2id hash set by `slotpay operator set-password`), sessions
//! (a random 256-bit id in an `HttpOnly`, `SameSite=Strict` cookie, stored only as its
//! SHA-256, with a per-session CSRF token and the next page's flash messages), and a limit
//! on failed sign-ins. The pages themselves are in `routes/admin/`.

pub mod operators;
pub mod sessions;
pub mod throttle;

use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::state::AppState;

/// Whether `given` is the admin token. Both sides are hashed first, so the constant-time
/// comparison takes the same time whatever the lengths (the platform API's bearer check and
/// the sign-in page both use it).
pub fn admin_token_matches(state: &AppState, given: &str) -> bool {
    let want = Sha256::digest(state.admin_token.expose_secret().as_bytes());
    let got = Sha256::digest(given.as_bytes());
    bool::from(want.ct_eq(&got))
}
