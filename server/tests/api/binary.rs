//! The `slotpay` binary: first start with no configuration (SQLite, generated master key and
//! admin token, files mode 0600, the log says so without the secrets), the CLI against a
//! sandbox, the CLI following the public URL and Stripe base the server last started with,
//! and a configuration error naming its variable.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

use crate::helpers::{assert_no_secret, register_secret};

fn slotpay(cwd: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_slotpay"));
    cmd.current_dir(cwd)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    cmd.kill_on_drop(true);
    cmd
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_start_with_no_configuration() {
    let dir = tempfile::tempdir().unwrap();
    // Only the port: 8080 may be taken on a shared machine.
    let mut child = slotpay(dir.path())
        .env("SLOTPAY_LISTEN", "127.0.0.1:0")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut log = String::new();
    let addr = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            log.push_str(&line);
            log.push('\n');
            if line.contains("slotpay listening") {
                let addr = line
                    .split("addr=")
                    .nth(1)
                    .unwrap()
                    .split_whitespace()
                    .next()
                    .unwrap()
                    .to_owned();
                return addr;
            }
        }
        panic!("the server stopped:\n{log}");
    })
    .await
    .expect("the server starts within a minute");

    let health = reqwest::get(format!("http://{addr}/healthz"))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    child.kill().await.unwrap();

    let data = dir.path().join(".data");
    let key_file = data.join("master.key");
    let token_file = data.join("admin-token");
    assert!(data.join("slotpay.db").exists(), "SQLite by default");
    #[cfg(unix)]
    {
        assert_eq!(mode(&key_file), 0o600);
        assert_eq!(mode(&token_file), 0o600);
    }
    let key = std::fs::read_to_string(&key_file).unwrap();
    let token = std::fs::read_to_string(&token_file).unwrap();
    assert_eq!(key.trim().len(), 64);
    register_secret(key.trim());
    register_secret(token.trim());
    assert!(log.contains("generated a new master key"), "{log}");
    assert!(log.contains("master.key"), "the log names the file: {log}");
    assert!(log.contains("generated an admin token"), "{log}");
    assert!(
        log.contains("backend=\"sqlite\"") || log.contains("backend=sqlite"),
        "{log}"
    );
    assert_no_secret(&log, "the binary's log");

    // A second start reuses both files.
    let mut child = slotpay(dir.path())
        .env("SLOTPAY_LISTEN", "127.0.0.1:0")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut log = String::new();
    tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            log.push_str(&line);
            if line.contains("slotpay listening") {
                return;
            }
        }
    })
    .await
    .unwrap();
    child.kill().await.unwrap();
    assert!(
        log.contains("master key loaded") && !log.contains("generated"),
        "{log}"
    );
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), key);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configuration_errors_name_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    for (var, value, want) in [
        (
            "SLOTPAY_PUBLIC_URL",
            "pay.example.com",
            "slotpay: SLOTPAY_PUBLIC_URL: not a URL: \"pay.example.com\"",
        ),
        (
            "SLOTPAY_LISTEN",
            "everywhere",
            "slotpay: SLOTPAY_LISTEN: not an address",
        ),
        (
            "SLOTPAY_MASTER_KEY",
            "0123",
            "slotpay: SLOTPAY_MASTER_KEY: expected 64 hex digits",
        ),
        (
            "SLOTPAY_LOG",
            "loud",
            "slotpay: SLOTPAY_LOG: expected pretty or json",
        ),
    ] {
        let out = slotpay(dir.path()).env(var, value).output().await.unwrap();
        assert_eq!(out.status.code(), Some(2), "{var}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.starts_with(want), "{var}: {stderr}");
    }
    assert!(
        !dir.path().join(".data").exists(),
        "nothing created before the config is valid"
    );
}

async fn run(
    cwd: &Path,
    env: &[(&str, &str)],
    args: &[&str],
    stdin: Option<&str>,
) -> (bool, String, String) {
    let mut cmd = slotpay(cwd);
    cmd.args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).await.unwrap();
    }
    drop(input);
    let out = child.wait_with_output().await.unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert_no_secret(&stdout, "CLI output");
    assert_no_secret(&stderr, "CLI log");
    (out.status.success(), stdout, stderr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_adds_a_merchant_and_its_integration() {
    let sandbox = stripe_sandbox::Sandbox::start(stripe_sandbox::SandboxConfig::default())
        .await
        .unwrap();
    register_secret(&sandbox.secret_key);
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("SLOTPAY_STRIPE_API_BASE", sandbox.url.as_str()),
        ("SLOTPAY_PUBLIC_URL", "https://pay.example.com"),
    ];

    let (ok, out, err) = run(
        dir.path(),
        &env,
        &[
            "merchant",
            "add",
            "--name",
            "Salon Léa",
            "--origin",
            "https://salon.example",
        ],
        None,
    )
    .await;
    assert!(ok, "{err}");
    let id = out.trim().to_owned();
    assert!(id.starts_with("mer_"), "{out}");
    let (ok, out, _) = run(dir.path(), &env, &["merchant", "list"], None).await;
    assert!(
        ok && out.contains(&id) && out.contains("https://salon.example"),
        "{out}"
    );

    let (ok, out, err) = run(
        dir.path(),
        &env,
        &[
            "merchant",
            "add",
            "--name",
            "X",
            "--origin",
            "salon.example",
        ],
        None,
    )
    .await;
    assert!(!ok && out.is_empty(), "{out}");
    assert!(
        err.contains("allowed_origins[0]") && err.contains("invalid_origin"),
        "{err}"
    );

    let key_on_stdin = format!("{}\n", sandbox.secret_key);
    let (ok, out, err) = run(
        dir.path(),
        &env,
        &[
            "integration",
            "set",
            &id,
            "--publishable-key",
            &sandbox.publishable_key,
            "--secret-key-file",
            "-",
            "--mode",
            "sandbox",
        ],
        Some(&key_on_stdin),
    )
    .await;
    assert!(ok, "{err}");
    let last4 = &sandbox.secret_key[sandbox.secret_key.len() - 4..];
    assert!(out.contains(&format!("sk_test_...{last4}")), "{out}");
    assert!(
        out.contains("unverified") && !out.contains("removed"),
        "a final newline is not a stray space: {out}"
    );

    let (ok, out, err) = run(dir.path(), &env, &["integration", "verify", &id], None).await;
    assert!(ok, "{err}");
    assert!(
        err.contains("asking Stripe about the key ... done"),
        "a progress line: {err}"
    );
    assert!(out.contains("key status:   active"), "{out}");
    assert!(out.contains(&sandbox.account_id), "{out}");

    let (ok, out, err) = run(dir.path(), &env, &["integration", "activate", &id], None).await;
    assert!(ok, "{err}");
    assert!(
        out.contains("switched:     on") && out.contains("(api)"),
        "{out}"
    );
    assert!(
        out.contains(&format!("https://pay.example.com/v1/webhooks/stripe/{id}")),
        "{out}"
    );
    // The CLI's secret key (in the database) was never printed; the signing secret neither.
    let listed: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/v1/webhook_endpoints", sandbox.url))
        .bearer_auth(&sandbox.secret_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["data"].as_array().unwrap().len(), 1, "{listed}");

    let (ok, _, err) = run(
        dir.path(),
        &env,
        &["integration", "verify", "mer_nope"],
        None,
    )
    .await;
    assert!(!ok && err.contains("no such merchant"), "{err}");
}

/// The server started in a data directory; a CLI command run there later, in a terminal
/// without the server's variables, registers the server's public URL and talks to the
/// Stripe the server talks to (and says so); a variable set for the command still wins, and
/// Stripe out of reach is named.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_follows_the_server_it_runs_beside() {
    let sandbox = stripe_sandbox::Sandbox::start(stripe_sandbox::SandboxConfig::default())
        .await
        .unwrap();
    register_secret(&sandbox.secret_key);
    let dir = tempfile::tempdir().unwrap();
    let mut server = slotpay(dir.path())
        .env("SLOTPAY_LISTEN", "127.0.0.1:0")
        .env("SLOTPAY_PUBLIC_URL", "https://pay.salon.example")
        .env("SLOTPAY_STRIPE_API_BASE", sandbox.url.as_str())
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stderr.take().unwrap()).lines();
    tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.contains("slotpay listening") {
                return;
            }
        }
        panic!("the server stopped");
    })
    .await
    .expect("the server starts within a minute");
    server.kill().await.unwrap();

    let (ok, out, err) = run(
        dir.path(),
        &[],
        &["merchant", "add", "--name", "Salon"],
        None,
    )
    .await;
    assert!(ok, "{err}");
    let id = out.trim().to_owned();
    let key = format!("{}\n", sandbox.secret_key);
    let set = [
        "integration",
        "set",
        &id,
        "--publishable-key",
        &sandbox.publishable_key,
        "--secret-key-file",
        "-",
        "--mode",
        "sandbox",
    ];
    let (ok, out, err) = run(dir.path(), &[], &set, Some(&key)).await;
    assert!(ok, "{err}");
    assert!(
        out.contains(&format!(
            "https://pay.salon.example/v1/webhooks/stripe/{id}"
        )),
        "the server's public URL, not the default: {out}"
    );
    assert!(
        err.contains(
            "SLOTPAY_PUBLIC_URL as the server last started with: https://pay.salon.example/"
        ) && err.contains("last-start.toml"),
        "and it says so: {err}"
    );
    let (ok, out, err) = run(dir.path(), &[], &["integration", "verify", &id], None).await;
    assert!(
        ok && out.contains("key status:   active"),
        "the sandbox: {out}{err}"
    );

    // A variable set for the command wins; Stripe out of reach is named.
    let elsewhere = [("SLOTPAY_STRIPE_API_BASE", "http://127.0.0.1:9")];
    let (_, out, err) = run(
        dir.path(),
        &elsewhere,
        &["integration", "verify", &id],
        None,
    )
    .await;
    assert!(
        !err.contains("SLOTPAY_STRIPE_API_BASE as the server"),
        "not adopted when set: {err}"
    );
    assert!(
        format!("{out}{err}").contains("http://127.0.0.1:9/"),
        "the address tried is named: {out}{err}"
    );
}
