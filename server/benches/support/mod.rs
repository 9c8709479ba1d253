//! What the benches that drive the release `slotpay` binary share: starting it on a fresh
//! database, its CPU time, throwaway PostgreSQL databases.

use std::net::TcpListener;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use sqlx::Connection;

/// The admin token the benches give the binary.
pub const ADMIN_TOKEN: &str = "bench-admin-token-0123456789abcdef";

/// Now, in unix seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The running binary; killed when dropped.
pub struct Server {
    /// The process.
    pub child: Child,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// CPU seconds (user + system) the process has used, from `/proc/<pid>/stat` (Linux).
pub fn cpu_seconds(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return f64::NAN;
    };
    // After the parenthesised command: state is field 3; utime and stime are 14 and 15.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    // USER_HZ is 100 on Linux.
    (ticks(11) + ticks(12)) / 100.0
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Starts the binary on a free port with `env` besides its data directory, database and
/// admin token ([`ADMIN_TOKEN`]), and waits for `/healthz`.
pub async fn start_server(
    data_dir: &Path,
    database_url: &str,
    log: &Path,
    env: &[(&str, &str)],
) -> Server {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let log = std::fs::File::create(log).expect("server log file");
    let child = Command::new(env!("CARGO_BIN_EXE_slotpay"))
        .arg("serve")
        .env("SLOTPAY_LISTEN", format!("127.0.0.1:{port}"))
        .env("SLOTPAY_DATA_DIR", data_dir)
        .env("SLOTPAY_DATABASE_URL", database_url)
        .env("SLOTPAY_ADMIN_TOKEN", ADMIN_TOKEN)
        .env("SLOTPAY_LOG", "json")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("the slotpay binary starts");
    let mut server = Server { child, url };
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if let Ok(Some(status)) = server.child.try_wait() {
            panic!("slotpay exited with {status} (log: {})", data_dir.display());
        }
        if let Ok(r) = client.get(format!("{}/healthz", server.url)).send().await {
            if r.status().is_success() {
                return server;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("slotpay did not answer /healthz within 10 s");
}

/// A fresh database on the PostgreSQL cluster at `admin_url`: (its URL, its name).
pub async fn create_pg_database(admin_url: &str) -> (String, String) {
    let name = format!("bench_{}", hex::encode(rand::random::<[u8; 6]>()));
    let mut conn = sqlx::PgConnection::connect(admin_url)
        .await
        .expect("connect to the PostgreSQL cluster");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("create the bench database");
    conn.close().await.ok();
    let mut url = url::Url::parse(admin_url).expect("a PostgreSQL URL");
    url.set_path(&format!("/{name}"));
    (url.to_string(), name)
}

pub async fn drop_pg_database(admin_url: &str, name: &str) {
    if let Ok(mut conn) = sqlx::PgConnection::connect(admin_url).await {
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut conn)
            .await;
        conn.close().await.ok();
    }
}

/// `perf record` of one process, for `./dev profile`: started by [`Perf::start`], ended
/// (and its file written) by [`Perf::stop`].
// Each bench compiles this module on its own, and only webhook_ingest profiles.
#[allow(dead_code)]
pub struct Perf {
    child: Child,
}

#[allow(dead_code)]
impl Perf {
    /// Samples `pid` at 299 Hz with DWARF call stacks (as tests/bench/run.mjs) into `file`.
    pub fn start(pid: u32, file: &Path) -> Perf {
        let pid = pid.to_string();
        let child = Command::new("perf")
            .args([
                "record",
                "-F",
                "299",
                "--call-graph",
                "dwarf,16384",
                "-p",
                &pid,
                "-o",
            ])
            .arg(file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("perf starts (./dev profile installs linux-perf)");
        Perf { child }
    }

    /// Stops sampling (SIGINT, as perf expects) and waits until the file is written.
    pub fn stop(mut self) {
        let interrupted = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        let status = self.child.wait().expect("perf ends");
        // perf writes its file on SIGINT and then ends with 0 or by the signal.
        let ended = status.success() || status.signal() == Some(2);
        assert!(interrupted && ended, "perf record failed: {status}");
    }
}
