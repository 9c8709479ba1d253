// Money as the browser's Intl.NumberFormat writes it, the reference for core's
// `Money::localized` (the server's pages, emails and consent text must read like the widget).
//
//   node scripts/intl-money.mjs symbols aed afn ...   the Rust table of currency symbols that
//                                                     differ from the ISO code, per locale
//   node scripts/intl-money.mjs format < cases.json   [[locale, CODE, decimals, "123.45"], ...]
//                                                     → a JSON array of formatted strings
const LOCALES = ["en", "fr", "de", "es"];
const format = (locale, code, decimals, value) =>
  new Intl.NumberFormat(locale, {
    style: "currency",
    currency: code,
    minimumFractionDigits: decimals,
    maximumFractionDigits: decimals,
  }).format(value);

const [mode, ...codes] = process.argv.slice(2);
if (mode === "symbols") {
  console.log(`// ICU ${process.versions.icu}, Node ${process.versions.node}`);
  for (const locale of LOCALES) {
    const rows = [];
    for (const code of codes.map((c) => c.toUpperCase())) {
      const part = new Intl.NumberFormat(locale, { style: "currency", currency: code })
        .formatToParts(1)
        .find((p) => p.type === "currency").value;
      if (part !== code) rows.push(`(Currency::${code[0]}${code.slice(1).toLowerCase()}, ${JSON.stringify(part)})`);
    }
    console.log(`${locale}: ${rows.join(", ")}`);
  }
} else if (mode === "format") {
  let input = "";
  for await (const chunk of process.stdin) input += chunk;
  const cases = JSON.parse(input);
  // A string value keeps the exact decimal (Intl.NumberFormat.format takes strings).
  console.log(JSON.stringify(cases.map(([l, c, d, v]) => format(l, c, d, v))));
} else {
  console.error("usage: intl-money.mjs symbols CODE... | format < cases.json");
  process.exit(2);
}
