/**
 * The React reference checkout's weight: every file under react-checkout/dist/assets/, raw,
 * gzip (zlib level 9) and brotli (quality 11), each file compressed on its own (as a server
 * sends them, and as `./dev size` counts slotpay's files), with JS and CSS subtotals.
 * Prints a table, then one JSON line for the benchmark harness:
 *
 *   node tests/bench/size.mjs [--build]      (--build runs `npm run build` first)
 *   {"reference":"react-checkout","js":{"raw":...,"gzip":...,"brotli":...},"css":{...},"total":{...},"files":[...]}
 */
import {spawnSync} from 'node:child_process';
import {readdirSync, readFileSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import zlib from 'node:zlib';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const APP = path.join(HERE, 'react-checkout');
const ASSETS = path.join(APP, 'dist', 'assets');

if (process.argv.includes('--build')) {
  const build = spawnSync('npm', ['run', 'build', '--silent'], {cwd: APP, stdio: ['ignore', 'ignore', 'inherit']});
  if (build.status !== 0) process.exit(build.status ?? 1);
}

let names;
try {
  names = readdirSync(ASSETS).sort();
} catch {
  console.error(`no ${path.relative(process.cwd(), ASSETS)}: run \`npm run build\` in tests/bench (or pass --build)`);
  process.exit(2);
}

/** Raw, gzip -9 and brotli -q 11 sizes of one file's bytes. */
function sizes(bytes) {
  return {
    raw: bytes.length,
    gzip: zlib.gzipSync(bytes, {level: 9}).length,
    brotli: zlib.brotliCompressSync(bytes, {
      params: {
        [zlib.constants.BROTLI_PARAM_QUALITY]: 11,
        [zlib.constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
      },
    }).length,
  };
}

const zero = () => ({raw: 0, gzip: 0, brotli: 0});
const totals = {js: zero(), css: zero(), other: zero(), total: zero()};
const files = names.map((name) => {
  const kind = name.endsWith('.js') ? 'js' : name.endsWith('.css') ? 'css' : 'other';
  const size = sizes(readFileSync(path.join(ASSETS, name)));
  for (const group of [totals[kind], totals.total]) {
    for (const key of Object.keys(size)) group[key] += size[key];
  }
  return {file: name, kind, ...size};
});

const row = (label, s) => `${label.padEnd(36)} ${String(s.raw).padStart(10)} ${String(s.gzip).padStart(10)} ${String(s.brotli).padStart(10)}`;
console.log(`${'React reference (dist/assets)'.padEnd(36)} ${'raw B'.padStart(10)} ${'gzip -9 B'.padStart(10)} ${'brotli B'.padStart(10)}`);
for (const f of files) console.log(row(f.file, f));
console.log(row('JS', totals.js));
console.log(row('CSS', totals.css));
if (totals.other.raw > 0) console.log(row('other', totals.other));
console.log(row('total', totals.total));
const {js, css, total} = totals;
console.log(JSON.stringify({reference: 'react-checkout', js, css, total, files}));
