//! Money written for people in one of slotpay's four languages, exactly as the browser's
//! `Intl.NumberFormat(locale, {style: "currency", currency})` writes it with the currency's
//! display decimals: `€12.50`, `12,50 €`, `1 234,50 $US`, `1234,50 €` (Spanish groups only
//! from five digits). The server uses it for its pages, emails and the consent text, so they
//! read like the widget, which asks `Intl` itself.
//!
//! Written by hand rather than with ICU4X: its currency formatter is still experimental and
//! its data alone is larger than this whole crate, while four locales need two separators,
//! one grouping rule and the symbols below. `tests/intl_money.rs` checks every currency in
//! every locale against Node's `Intl` (`scripts/intl-money.mjs`, which also printed the
//! symbol tables from ICU 78.2).

use crate::api::Locale;
use crate::currency::Currency;
use crate::money::Money;

/// A no-break space: between an amount and a symbol on its right, and after a letter
/// symbol on its left (`CHF 12.50`).
const NBSP: char = '\u{a0}';

/// Symbols that differ from the ISO code; every other currency is written with its code.
#[rustfmt::skip]
const EN: &[(Currency, &str)] = &[
    (Currency::Aud, "A$"), (Currency::Brl, "R$"), (Currency::Cad, "CA$"),
    (Currency::Cny, "CN¥"), (Currency::Eur, "€"), (Currency::Gbp, "£"),
    (Currency::Hkd, "HK$"), (Currency::Ils, "₪"), (Currency::Inr, "₹"),
    (Currency::Jpy, "¥"), (Currency::Krw, "₩"), (Currency::Mxn, "MX$"),
    (Currency::Nzd, "NZ$"), (Currency::Php, "₱"), (Currency::Twd, "NT$"),
    (Currency::Usd, "$"), (Currency::Vnd, "₫"), (Currency::Xaf, "FCFA"),
    (Currency::Xcd, "EC$"), (Currency::Xof, "F\u{202f}CFA"), (Currency::Xpf, "CFPF"),
];
#[rustfmt::skip]
const FR: &[(Currency, &str)] = &[
    (Currency::Ars, "$AR"), (Currency::Aud, "$AU"), (Currency::Bmd, "$BM"),
    (Currency::Bnd, "$BN"), (Currency::Brl, "R$"), (Currency::Bzd, "$BZ"),
    (Currency::Cad, "$CA"), (Currency::Clp, "$CL"), (Currency::Cop, "$CO"),
    (Currency::Eur, "€"), (Currency::Fjd, "$FJ"), (Currency::Fkp, "£FK"),
    (Currency::Gbp, "£GB"), (Currency::Gip, "£GI"), (Currency::Ils, "₪"),
    (Currency::Inr, "₹"), (Currency::Krw, "₩"), (Currency::Lbp, "£LB"),
    (Currency::Mxn, "$MX"), (Currency::Nad, "$NA"), (Currency::Nzd, "$NZ"),
    (Currency::Sbd, "$SB"), (Currency::Sgd, "$SG"), (Currency::Srd, "$SR"),
    (Currency::Ttd, "$TT"), (Currency::Usd, "$US"), (Currency::Uyu, "$UY"),
    (Currency::Vnd, "₫"), (Currency::Wst, "$WS"), (Currency::Xaf, "FCFA"),
    (Currency::Xof, "F\u{202f}CFA"), (Currency::Xpf, "FCFP"),
];
#[rustfmt::skip]
const DE: &[(Currency, &str)] = &[
    (Currency::Aud, "AU$"), (Currency::Brl, "R$"), (Currency::Cad, "CA$"),
    (Currency::Cny, "CN¥"), (Currency::Eur, "€"), (Currency::Gbp, "£"),
    (Currency::Hkd, "HK$"), (Currency::Ils, "₪"), (Currency::Inr, "₹"),
    (Currency::Jpy, "¥"), (Currency::Krw, "₩"), (Currency::Mxn, "MX$"),
    (Currency::Nzd, "NZ$"), (Currency::Thb, "฿"), (Currency::Twd, "NT$"),
    (Currency::Usd, "$"), (Currency::Vnd, "₫"), (Currency::Xaf, "FCFA"),
    (Currency::Xcd, "EC$"), (Currency::Xof, "F\u{202f}CFA"), (Currency::Xpf, "CFPF"),
];
#[rustfmt::skip]
const ES: &[(Currency, &str)] = &[
    (Currency::Eur, "€"), (Currency::Thb, "฿"), (Currency::Usd, "US$"),
    (Currency::Vnd, "₫"), (Currency::Xpf, "CFPF"),
];

/// How one locale writes numbers.
struct Numbers {
    group: char,
    decimal: char,
    /// Digits the integer part needs before it is grouped at all (Spanish: 5).
    min_grouped: usize,
    symbols: &'static [(Currency, &'static str)],
    symbol_first: bool,
}

#[rustfmt::skip]
const fn numbers(locale: Locale) -> Numbers {
    match locale {
        Locale::En => Numbers { group: ',', decimal: '.', min_grouped: 4, symbols: EN, symbol_first: true },
        Locale::Fr => Numbers { group: '\u{202f}', decimal: ',', min_grouped: 4, symbols: FR, symbol_first: false },
        Locale::De => Numbers { group: '.', decimal: ',', min_grouped: 4, symbols: DE, symbol_first: false },
        Locale::Es => Numbers { group: '.', decimal: ',', min_grouped: 5, symbols: ES, symbol_first: false },
    }
}

/// `money` as `Intl.NumberFormat` writes it in `locale`, with [`Currency::display_decimals`]
/// decimals (an amount finer than those is rounded half away from zero, as `Intl` does).
pub fn localized(money: Money, locale: Locale) -> String {
    let currency = money.currency();
    let n = numbers(locale);
    let decimals = currency.display_decimals();
    let hidden = 10_u64.pow(currency.exponent() - decimals);
    let shown = money.minor().unsigned_abs().saturating_add(hidden / 2) / hidden;
    let scale = 10_u64.pow(decimals);
    let (whole, fraction) = (shown / scale, shown % scale);

    let mut number = String::new();
    let digits = whole.to_string();
    for (i, digit) in digits.chars().enumerate() {
        let left = digits.len() - i;
        if i > 0 && left % 3 == 0 && digits.len() >= n.min_grouped {
            number.push(n.group);
        }
        number.push(digit);
    }
    if decimals > 0 {
        number.push(n.decimal);
        number.push_str(&format!("{fraction:0width$}", width = decimals as usize));
    }

    let code = currency.code().to_ascii_uppercase();
    let symbol = n
        .symbols
        .iter()
        .find(|(c, _)| *c == currency)
        .map_or(code.as_str(), |(_, s)| s);
    let sign = if money.minor() < 0 && shown > 0 {
        "-"
    } else {
        ""
    };
    if n.symbol_first {
        let space = if symbol.ends_with(char::is_alphabetic) {
            "\u{a0}"
        } else {
            ""
        };
        format!("{sign}{symbol}{space}{number}")
    } else {
        format!("{sign}{number}{NBSP}{symbol}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_four_locales() {
        let eur = Money::from_minor(123_450, Currency::Eur);
        assert_eq!(localized(eur, Locale::En), "€1,234.50");
        assert_eq!(localized(eur, Locale::Fr), "1\u{202f}234,50\u{a0}€");
        assert_eq!(localized(eur, Locale::De), "1.234,50\u{a0}€");
        assert_eq!(localized(eur, Locale::Es), "1234,50\u{a0}€");
        assert_eq!(
            localized(Money::from_minor(1_234_500, Currency::Eur), Locale::Es),
            "12.345,00\u{a0}€"
        );
        assert_eq!(
            localized(Money::from_minor(-2_000, Currency::Chf), Locale::En),
            "-CHF\u{a0}20.00"
        );
        assert_eq!(
            localized(Money::from_minor(500, Currency::Jpy), Locale::Fr),
            "500\u{a0}JPY"
        );
        // 1.50 ISK in API units shows as Intl rounds it: 2 ISK.
        assert_eq!(
            localized(Money::from_minor(150, Currency::Isk), Locale::De),
            "2\u{a0}ISK"
        );
        assert_eq!(
            localized(Money::from_minor(5_120, Currency::Kwd), Locale::En),
            "KWD\u{a0}5.120"
        );
    }
}
