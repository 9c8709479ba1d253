//! The `slotpay` binary: the command line of [`slotpay_server::cli`].

/// mimalloc instead of glibc's malloc: under the pay bench glibc's allocator (malloc, free and
/// their consolidation) was about a seventh of the server's CPU (`./dev profile`), spent on
/// the many small, short-lived allocations of requests, JSON and SQL rows.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    slotpay_server::cli::main().await
}
