//! The `stripe-sandbox` binary: prints `url=` and the three keys on stdout, one per line, well
//! under a second after it starts; `--seed` makes the keys repeat.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn run(seed: &str) -> (Vec<(String, String)>, Duration) {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_stripe-sandbox"))
        .args(["--port", "0", "--seed", seed])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut out = Vec::new();
    for _ in 0..4 {
        let line = lines.next().unwrap().unwrap();
        let (k, v) = line.split_once('=').unwrap();
        out.push((k.to_string(), v.to_string()));
    }
    let elapsed = started.elapsed();
    let url = out[0].1.clone();
    let sk = out[2].1.clone();
    // A plain HTTP/1.1 request, so the test needs no blocking client.
    let mut stream = std::net::TcpStream::connect(url.trim_start_matches("http://")).unwrap();
    write!(stream, "GET /v1/account HTTP/1.1\r\nHost: sandbox\r\nAuthorization: Bearer {sk}\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    child.kill().unwrap();
    child.wait().unwrap();
    (out, elapsed)
}

#[test]
fn prints_url_and_keys_quickly_and_repeats_with_a_seed() {
    let (a, elapsed) = run("11");
    let names: Vec<&str> = a.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        ["url", "publishable_key", "secret_key", "restricted_key"]
    );
    assert!(a[0].1.starts_with("http://127.0.0.1:"));
    assert!(
        a[1].1.starts_with("pk_test_")
            && a[2].1.starts_with("sk_test_")
            && a[3].1.starts_with("rk_test_")
    );
    assert!(elapsed < Duration::from_secs(1), "{elapsed:?}");
    let (b, _) = run("11");
    assert_eq!(a[1..], b[1..], "same seed, same keys");
    let (c, _) = run("12");
    assert_ne!(a[2], c[2]);
}
