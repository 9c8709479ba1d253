//! Scenario 6, secrets: after every other scenario, every key, signing secret, master key and admin
//! token they used is searched for in everything they left: the answers they read, the logs
//! (the in-process servers' captured log and the binary's), the database files and dumps, and
//! the widget's bundle as served (`www/pkg/`, `www/*.js`). Zero hits passes.

use std::path::{Path, PathBuf};

use crate::helpers;
use crate::support::{self, Findings};

/// One thing scanned: a label and its bytes.
struct Scanned {
    what: String,
    bytes: Vec<u8>,
}

fn files_in(dir: &Path, keep: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_file() && keep(&p) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Whether `haystack` holds `needle` (ASCII): std's string search (optimised even in a
/// debug build) over the lossy text, which keeps every ASCII byte in place.
fn contains(haystack: &str, needle: &str) -> bool {
    !needle.is_empty() && haystack.contains(needle)
}

pub async fn run() -> Findings {
    let mut f = Findings::start(
        "secrets",
        "every secret used, searched for in answers, logs, databases and the widget bundle",
    );
    let secrets = support::secrets();
    let mut scanned: Vec<Scanned> = Vec::new();

    let (count, bytes) = support::responses();
    scanned.push(Scanned {
        what: format!("{count} answers read by the harness"),
        bytes,
    });
    scanned.push(Scanned {
        what: "the in-process servers' captured log (debug level)".into(),
        bytes: helpers::captured_logs().into_bytes(),
    });
    for p in files_in(support::artifacts_dir(), |_| true) {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        scanned.push(Scanned {
            what: format!("kept file {name}"),
            bytes: std::fs::read(&p).expect("read a kept file"),
        });
    }
    let www = Path::new(env!("CARGO_MANIFEST_DIR")).join("../www");
    let mut bundle = files_in(&www.join("pkg"), |_| true);
    bundle.extend(files_in(&www, |p| {
        p.extension().is_some_and(|e| e == "js" || e == "mjs")
    }));
    if !bundle
        .iter()
        .any(|p| p.extension().is_some_and(|e| e == "wasm"))
    {
        f.fail("the widget is not built (www/pkg has no wasm): run ./dev build");
    }
    for p in &bundle {
        let name = p
            .strip_prefix(www.parent().unwrap())
            .unwrap_or(p)
            .display()
            .to_string();
        scanned.push(Scanned {
            what: name,
            bytes: std::fs::read(p).expect("read a bundle file"),
        });
    }

    let mut hits = 0;
    for s in &scanned {
        let text = String::from_utf8_lossy(&s.bytes);
        for (label, value) in &secrets {
            if contains(&text, value) {
                hits += 1;
                f.fail(format!("{label} ({}...) found in {}", &value[..8], s.what));
            }
        }
    }
    let total: usize = scanned.iter().map(|s| s.bytes.len()).sum();
    let kinds = {
        let mut k: Vec<String> = secrets
            .iter()
            .map(|(l, _)| l.rsplit(": ").next().unwrap_or(l).to_owned())
            .collect();
        k.sort();
        k.dedup();
        k.join(", ")
    };
    f.tried(format!("{} secrets ({kinds})", secrets.len()));
    for s in &scanned {
        println!("    scanned {} ({} B)", s.what, s.bytes.len());
    }
    f.found(format!(
        "{hits} hits in {} sources ({:.1} MB)",
        scanned.len(),
        total as f64 / 1e6
    ));
    f.check(secrets.len() >= 4, || {
        format!(
            "only {} secrets registered: nothing was tested",
            secrets.len()
        )
    });
    f.headline = format!(
        "{} secrets × {} sources ({:.1} MB): {hits} hits",
        secrets.len(),
        scanned.len(),
        total as f64 / 1e6
    );
    f
}
