//! The `slotpay` binary: the command line of [`slotpay_server::cli`].

#[tokio::main]
async fn main() -> std::process::ExitCode {
    slotpay_server::cli::main().await
}
