//! The `stripe-sandbox` binary: starts the sandbox and prints, one per line on stdout, its `url=`
//! and the first account's `publishable_key=`, `secret_key=` and `restricted_key=`; logs go to
//! stderr.

use std::io::Write;
use std::time::Duration;

use clap::Parser;
use stripe_sandbox::{Sandbox, SandboxConfig};

/// An offline stand-in for Stripe's API and Stripe.js, for demos and tests.
#[derive(Debug, Parser)]
#[command(name = "stripe-sandbox", version, about)]
struct Args {
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 12111, env = "STRIPE_SANDBOX_PORT")]
    port: u16,
    /// Address to bind; keep it on loopback (the control API has no authentication).
    #[arg(long, default_value = "127.0.0.1", env = "STRIPE_SANDBOX_HOST")]
    host: String,
    /// Seed for keys and ids, so runs repeat.
    #[arg(long, env = "STRIPE_SANDBOX_SEED")]
    seed: Option<u64>,
    /// First webhook retry delay in milliseconds (doubles per attempt).
    #[arg(long, default_value_t = 1000)]
    webhook_retry_ms: u64,
    /// Webhook delivery attempts, the first included.
    #[arg(long, default_value_t = 8)]
    webhook_attempts: u32,
    /// Rows the webhook delivery log (`GET /_sandbox/webhooks/deliveries`) keeps, newest.
    #[arg(long, default_value_t = stripe_sandbox::state::DEFAULT_DELIVERY_LOG_LIMIT)]
    webhook_log: usize,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("STRIPE_SANDBOX_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    let handle = Sandbox::start(SandboxConfig {
        host: args.host,
        port: args.port,
        seed: args.seed,
        webhook_retry_base: Duration::from_millis(args.webhook_retry_ms),
        webhook_max_attempts: args.webhook_attempts,
        webhook_log_limit: args.webhook_log,
        ..SandboxConfig::default()
    })
    .await?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "url={}", handle.url)?;
        writeln!(out, "publishable_key={}", handle.publishable_key)?;
        writeln!(out, "secret_key={}", handle.secret_key)?;
        writeln!(out, "restricted_key={}", handle.restricted_key)?;
        out.flush()?;
    }
    tokio::signal::ctrl_c().await?;
    drop(handle);
    Ok(())
}
