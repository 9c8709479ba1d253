//! slotpay's server: the thin service that alone holds each merchant's Stripe secret or
//! restricted key. It serves the platform API (merchants, their Stripe integrations, their
//! service catalogues), the public API the widget calls (checkouts, pay, refresh),
//! `/healthz` and `/metrics`; stores everything in SQLite or PostgreSQL with secrets
//! encrypted at rest; and talks to Stripe through a small typed client.
//!
//! Start it with [`app::serve`] (tests: port 0), or build the router with [`app::app`].

#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod admin;
pub mod app;
pub mod cli;
pub mod client_addr;
pub mod config;
pub mod cors;
pub mod db;
pub mod domain;
pub mod error;
pub mod guards;
pub mod integration_cache;
pub mod key_rotation;
pub mod limits;
pub mod logo;
pub mod metrics;
pub mod model;
pub mod routes;
pub mod schemas;
pub mod secrets;
pub mod state;
pub mod stripe;
pub mod telemetry;

pub use app::{app, serve, serve_with, RunningServer, StartError};
pub use config::Config;
pub use state::AppState;
