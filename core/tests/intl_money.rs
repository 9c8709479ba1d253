//! `intl::localized` against Node's `Intl.NumberFormat` (the same ICU data as the browser's
//! `Intl`, which the widget uses): every currency in every locale, for amounts that are
//! grouped, not grouped, negative, zero, and finer than the currency shows.

use std::io::Write;
use std::process::{Command, Stdio};

use slotpay_core::intl::localized;
use slotpay_core::{Currency, Locale, Money};

/// The exact decimal value of `money` as a string: Intl formats strings without going
/// through a binary float.
fn decimal(money: Money) -> String {
    let scale = money.currency().minor_per_major().unsigned_abs();
    let abs = money.minor().unsigned_abs();
    let sign = if money.minor() < 0 { "-" } else { "" };
    match money.currency().exponent() {
        0 => format!("{sign}{abs}"),
        e => format!("{sign}{}.{:0w$}", abs / scale, abs % scale, w = e as usize),
    }
}

#[test]
fn every_currency_in_every_locale_reads_as_intl_writes_it() {
    let mut cases = Vec::new();
    for &locale in Locale::ALL {
        for &currency in Currency::ALL {
            let per = currency.minor_per_major();
            for minor in [
                0,
                7 * per,
                1_234 * per + per / 2,
                -56_789_012 * per - 1,
                12_345 * per + 150,
            ] {
                cases.push((locale, Money::from_minor(minor, currency)));
            }
        }
    }
    let json: Vec<serde_json::Value> = cases
        .iter()
        .map(|(locale, money)| {
            let c = money.currency();
            serde_json::json!([
                locale.as_str(),
                c.code().to_ascii_uppercase(),
                c.display_decimals(),
                decimal(*money)
            ])
        })
        .collect();

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/intl-money.mjs");
    let mut node = Command::new("node")
        .args([script, "format"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("node runs (./dev installs it)");
    node.stdin
        .take()
        .expect("stdin")
        .write_all(serde_json::to_string(&json).expect("json").as_bytes())
        .expect("cases written");
    let out = node.wait_with_output().expect("node answers");
    assert!(out.status.success(), "intl-money.mjs failed");
    let expected: Vec<String> = serde_json::from_slice(&out.stdout).expect("a JSON array");
    assert_eq!(expected.len(), cases.len());

    let wrong: Vec<String> = cases
        .iter()
        .zip(&expected)
        .filter_map(|((locale, money), want)| {
            let got = localized(*money, *locale);
            (got != *want).then(|| {
                format!(
                    "{} {money}: got {got:?}, Intl writes {want:?}",
                    locale.as_str()
                )
            })
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "{} of {} differ:\n{}",
        wrong.len(),
        cases.len(),
        wrong.join("\n")
    );
}
