//! slotpay's fault harness (`./dev fault`, README's "Reliability"): scenarios that try to make
//! slotpay charge twice, refund twice, lose a payment or an event (Stripe's, or one to the
//! booking platform), answer 5xx to bad input, let a card-testing bot through, or leak a
//! secret, each printing what it tried and what it found, failing on any loss or double charge.
//!
//! A test target without libtest's harness: `SLOTPAY_FAULT_SCALE=smoke|full cargo test -p
//! slotpay-server --test fault` (without the variable it prints how to run it and passes, so
//! `cargo test --workspace` stays quick). `SLOTPAY_FAULT_SEED` (default 8) seeds every random
//! choice; `SLOTPAY_FAULT_ONLY=storm,crash` runs some scenarios (the secret scan always runs
//! last, over what the others left). PostgreSQL comes from `SLOTPAY_TEST_POSTGRES_URL`
//! (`./dev fault` starts a throwaway one).

#[path = "../api/contract.rs"]
mod contract;
#[path = "../api/helpers.rs"]
#[allow(dead_code, unused_imports, unused_macros)]
mod helpers;

mod bad_input;
mod card_testing;
mod crash;
mod delivery;
mod secrets;
mod storm;
mod stripe_faults;
mod support;
mod webhook_chaos;

use std::panic::AssertUnwindSafe;
use std::process::ExitCode;
use std::time::Instant;

use futures::FutureExt;

use support::{Findings, Run, Scale};

/// One scenario: its name and what runs it.
type Scenario = (
    &'static str,
    fn(Run) -> futures::future::BoxFuture<'static, Findings>,
);

const SCENARIOS: &[Scenario] = &[
    ("storm", |run| storm::run(run).boxed()),
    ("stripe-faults", |run| stripe_faults::run(run).boxed()),
    ("webhook-chaos", |run| webhook_chaos::run(run).boxed()),
    ("crash", |run| crash::run(run).boxed()),
    ("bad-input", |run| bad_input::run(run).boxed()),
    ("card-testing", |run| card_testing::run(run).boxed()),
    ("delivery", |run| delivery::run(run).boxed()),
];

fn main() -> ExitCode {
    let Some(scale) = Scale::from_env() else {
        println!(
            "fault harness: not run (set SLOTPAY_FAULT_SCALE=smoke or full, or use `./dev fault`)"
        );
        return ExitCode::SUCCESS;
    };
    let seed: u64 = std::env::var("SLOTPAY_FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(8);
    let only: Option<Vec<String>> = std::env::var("SLOTPAY_FAULT_ONLY")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.split(',').map(|x| x.trim().to_owned()).collect());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("tokio runtime");
    println!(
        "slotpay fault harness: scale {}, seed {seed}, {}",
        scale.name(),
        support::machine()
    );
    let started = Instant::now();
    let mut results: Vec<Findings> = Vec::new();
    for (name, scenario) in SCENARIOS {
        if only.as_ref().is_some_and(|o| !o.iter().any(|x| x == name)) {
            continue;
        }
        let run = Run { scale, seed };
        let t = Instant::now();
        let outcome = runtime.block_on(AssertUnwindSafe(scenario(run)).catch_unwind());
        let mut f = outcome.unwrap_or_else(|panic| Findings::panicked(name, panic));
        f.seconds = t.elapsed().as_secs_f64();
        f.print_verdict();
        results.push(f);
    }
    // Last: every secret the scenarios used, searched for in everything they left.
    let t = Instant::now();
    let mut f = runtime
        .block_on(AssertUnwindSafe(secrets::run()).catch_unwind())
        .unwrap_or_else(|panic| Findings::panicked("secrets", panic));
    f.seconds = t.elapsed().as_secs_f64();
    f.print_verdict();
    results.push(f);

    println!();
    println!(
        "fault summary (scale {}, seed {seed}, {:.0} s in all)",
        scale.name(),
        started.elapsed().as_secs_f64()
    );
    for f in &results {
        println!(
            "{:<5} {:<14} {:>6.1} s  {}",
            if f.failures.is_empty() { "ok" } else { "FAIL" },
            f.name,
            f.seconds,
            f.headline
        );
    }
    let failed = results.iter().filter(|f| !f.failures.is_empty()).count();
    if failed == 0 {
        println!("fault: all {} scenarios passed", results.len());
        ExitCode::SUCCESS
    } else {
        println!("fault: {failed} of {} scenarios FAILED", results.len());
        ExitCode::FAILURE
    }
}
