/**
 * `./dev bench` (README's "Performance"): slotpay against the references, in one command so the
 * ratios come from the same minutes of a noisy machine. `./dev bench` builds what this needs and
 * starts a throwaway PostgreSQL; by hand:
 *
 *   SLOTPAY_TEST_POSTGRES_URL=postgres://... node tests/bench/run.mjs [--smoke]
 *        [--slotpay-size RAW,GZIP,BROTLI] [--only weight,ready,pay,webhooks,deliveries]
 *        [--runs N] [--phone-runs N] [--duration S] [--rate R] [--reference-workers W]
 *        [--kinds slotpay-postgres,reference-postgres,slotpay-sqlite,floor] [--profile DIR]
 *
 * 1. weight: slotpay's wasm + glue + loader (`./dev size`'s figures, passed in) against the
 *    React reference's JS (size.mjs, built first); ratio of gzip (target ≤ 1/3).
 * 2. ready: navigation start to the Pay button enabled (`slotpay:ready`, checked against the
 *    button), a page with <slotpay-checkout> and the loader from the slotpay server against
 *    the React reference's dist/ on the same loopback origin, same slotpay server, the same
 *    sandbox Stripe.js; N runs each, interleaved (alternating which goes first), a fresh browser
 *    context (cold cache) per run, after one unmeasured run each. Twice: on this machine as it
 *    is (target: slotpay ≤ 2/3 of the reference) and on a slow phone over mobile data through
 *    CDP (4× CPU, 1.6 Mbps, 150 ms; target ≤ 1/2), with a waterfall of one load of each page in
 *    each profile kept in tests/artifacts/ready-<profile>-<page>-waterfall.txt. A third page in
 *    the same runs is the floor: Stripe's two Elements alone, on a page that knows the checkout
 *    already (no view, no widget); no checkout on Stripe's Elements is ready sooner.
 * 3. pay: `POST /v1/checkouts/{token}/pay` on fresh checkouts each with its own PaymentMethod;
 *    slotpay (release) on PostgreSQL and on SQLite, the reference (Express + stripe SDK) on
 *    PostgreSQL; a fresh release sandbox, server and database per measured run. Closed loop with
 *    wrk (max throughput; 2 s warm-up first), open loop at R req/s with loadgen.mjs (latency
 *    from the scheduled send; 2 s warm-up), and the same three Stripe calls made directly
 *    against a fresh sandbox at R req/s (loadgen --target stripe): added latency = server minus
 *    direct, at the same percentile. Peak RSS (VmHWM, reset before the measured run). Server
 *    CPU per payment: the server's CPU time (/proc, user + system, every thread) during the
 *    closed-loop run divided by the payments it answered. The floor (`server/examples/
 *    pay_floor.rs`) is measured the same way: slotpay's HTTP stack and Stripe client making the
 *    three Stripe calls and nothing else, what any server on these crates costs here.
 * 4. webhooks: the webhook_ingest Rust bench (the release binary through HTTP, SQLite and
 *    PostgreSQL, core's HMAC verify rate as the ceiling).
 * 5. deliveries: the webhook_delivery Rust bench (the release binary sending signed webhooks
 *    to a receiver in the bench's process, SQLite and PostgreSQL; target ≥ 2,000/s).
 *
 * `--profile DIR` (`./dev profile`): pay runs the closed loop only, with `perf record` (DWARF call
 * stacks) on the server for the measured run (DIR/pay-<kind>.perf.data); webhooks passes DIR on to its bench.
 *
 * Prints each figure as it comes, a summary with the targets, the machine, the load average
 * before and after, then one JSON line (the last line). Exits 1 when a run is not valid (an
 * answer other than 2xx, tokens that ran out outside smoke mode, no ready event, a webhook
 * lost or stored twice); a target missed is reported, not a failure.
 */
import {spawn} from 'node:child_process';
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {readFile} from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import {parseArgs} from 'node:util';
import zlib from 'node:zlib';

import {
  BIN,
  CHECKOUT,
  HERE,
  cpuSeconds,
  cpuTimes,
  ROOT,
  freePort,
  loadAverage,
  machine,
  peakRss,
  resetPeakRss,
  seedReference,
  seedSlotpay,
  startFloor,
  startSandbox,
  startSlotpay,
  writeTokensWithPaymentMethods,
} from './harness.mjs';
import {PG_URL, freshDatabase, startReferenceServer} from './support.mjs';

const {values: args} = parseArgs({
  options: {
    smoke: {type: 'boolean', default: false},
    'slotpay-size': {type: 'string'},
    only: {type: 'string', default: 'weight,ready,pay,webhooks,deliveries'},
    runs: {type: 'string'},
    'phone-runs': {type: 'string'},
    duration: {type: 'string'},
    rate: {type: 'string'},
    'reference-workers': {type: 'string', default: '1'},
    keep: {type: 'boolean', default: false},
    kinds: {type: 'string', default: 'slotpay-postgres,reference-postgres,slotpay-sqlite,floor'},
    profile: {type: 'string'},
  },
});
const SMOKE = args.smoke;
/** Which build the binaries come from (harness.mjs reads SLOTPAY_BIN / STRIPE_SANDBOX_BIN). */
const PROFILE = SMOKE ? 'debug' : 'release';
const ONLY = new Set(args.only.split(','));
const RUNS = Number(args.runs ?? (SMOKE ? 2 : 20));
const DURATION = Number(args.duration ?? (SMOKE ? 1 : 10));
const WARMUP = SMOKE ? 0 : 2;
const RATE = Number(args.rate ?? (SMOKE ? 50 : 200));
const REFERENCE_WORKERS = Number(args['reference-workers']);
const WRK = {threads: 2, connections: 32};
/** The servers the pay section measures; with fewer, or with --profile, only the closed loop. */
const SERVER_KINDS = ['slotpay-postgres', 'reference-postgres', 'slotpay-sqlite'];
const PAY_KINDS = [...SERVER_KINDS, 'floor'];
const KINDS = args.kinds.split(',');
for (const k of KINDS) if (!PAY_KINDS.includes(k)) throw new Error(`--kinds: ${k} is not one of ${PAY_KINDS.join(', ')}`);
const PROFILE_DIR = args.profile ? path.resolve(args.profile) : null;
/** perf's sampling rate (Hz) under --profile: odd, so it does not beat with timers. */
const PERF_HZ = 299;
const CHROMIUM_ARGS = [
  // As playwright.config.ts.
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

const DIR = mkdtempSync(path.join(os.tmpdir(), 'slotpay-bench-'));
const results = {
  bench: 'slotpay',
  mode: SMOKE ? 'smoke' : 'full',
  date: new Date().toISOString(),
  machine: machine(),
};
const problems = [];
const say = (line = '') => console.log(line);
const round = (x, digits = 1) => (x === null || x === undefined || Number.isNaN(x) ? null : Math.round(x * 10 ** digits) / 10 ** digits);
const mb = (bytes) => round(bytes / 1024 / 1024, 1);

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  return sorted[Math.max(0, Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Runs a command to the end; resolves to `{code, stdout, stderr}`. */
function run(command, commandArgs, options = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, commandArgs, {cwd: HERE, ...options, stdio: ['ignore', 'pipe', 'pipe']});
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.once('exit', (code) => resolve({code, stdout, stderr}));
  });
}

/** The last line of a tool's stdout, parsed. */
function lastJson(stdout) {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

// ---------------------------------------------------------------- 1. weight

async function weight() {
  say('== widget weight (bytes; each file compressed on its own: gzip -9, brotli -q 11)');
  const [raw, gzip, brotli] = (args['slotpay-size'] ?? '').split(',').map(Number);
  if (!(gzip > 0)) throw new Error('--slotpay-size RAW,GZIP,BROTLI is required (./dev bench passes ./dev size\'s total)');
  const slotpay = {raw, gzip, brotli};
  const sized = await run(process.execPath, [path.join(HERE, 'size.mjs'), '--build']);
  if (sized.code !== 0) throw new Error(`size.mjs failed: ${sized.stderr}`);
  const react = lastJson(sized.stdout);
  const row = (label, s) => say(`${label.padEnd(44)} ${String(s.raw).padStart(9)} ${String(s.gzip).padStart(9)} ${String(s.brotli).padStart(9)}`);
  say(`${''.padEnd(44)} ${'raw'.padStart(9)} ${'gzip'.padStart(9)} ${'brotli'.padStart(9)}`);
  row('slotpay: wasm + glue + loader (./dev size)', slotpay);
  row('React 19 reference: JS (size.mjs)', react.js);
  const ratio = {raw: slotpay.raw / react.js.raw, gzip: slotpay.gzip / react.js.gzip, brotli: slotpay.brotli / react.js.brotli};
  say(`ratio slotpay/reference: raw ${round(ratio.raw, 3)}, gzip ${round(ratio.gzip, 3)}, brotli ${round(ratio.brotli, 3)} (target gzip ≤ 0.333)`);
  say(`(both load the same slotpay.css, ${react.css.gzip} B gzip in the reference's build, not counted on either side)`);
  const sections = wasmSections(path.join(ROOT, 'www', 'pkg', 'slotpay_widget_bg.wasm'));
  say(`what slotpay's wasm holds (sections, each gzipped alone): ${sections.map((x) => `${x.name} ${x.raw} B raw / ${x.gzip} B gzip`).join(', ')}`);
  results.weight = {slotpay, reference_js: react.js, reference_css: react.css, ratio, wasm_sections: sections, target_met: ratio.gzip <= 1 / 3};
}

/** The sizes of a wasm module's sections (code, data, imports, ...), raw and gzip -9 alone. */
function wasmSections(file) {
  const bytes = readFileSync(file);
  const names = {1: 'types', 2: 'imports', 3: 'functions', 4: 'table', 5: 'memory', 6: 'globals', 7: 'exports', 8: 'start', 9: 'elements', 10: 'code', 11: 'data', 12: 'data count'};
  const leb = (at) => {
    let value = 0;
    let shift = 0;
    for (;;) {
      const b = bytes[at.i++];
      value += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if (b < 0x80) return value;
    }
  };
  const grouped = new Map();
  const at = {i: 8}; // after the magic number and version
  while (at.i < bytes.length) {
    const id = bytes[at.i++];
    const size = leb(at);
    const name = ['code', 'data', 'imports', 'exports'].includes(names[id]) ? names[id] : id === 0 ? 'custom' : 'other';
    grouped.set(name, Buffer.concat([grouped.get(name) ?? Buffer.alloc(0), bytes.subarray(at.i, at.i + size)]));
    at.i += size;
  }
  return [...grouped].map(([name, b]) => ({name, raw: b.length, gzip: zlib.gzipSync(b, {level: 9}).length})).sort((a, b) => b.raw - a.raw);
}

// ---------------------------------------------------------------- 2. ready time

/** Runs in each page before its scripts: resolves `window.__benchReady` at slotpay:ready. */
function measureReady() {
  window.__benchReady = new Promise((resolve) => {
    document.addEventListener('slotpay:failed', (event) => resolve({failed: event.detail?.code ?? 'failed'}), {once: true});
    document.addEventListener(
      'slotpay:ready',
      (event) => {
        const at = performance.now();
        const host = event.target;
        const enabled = () => {
          const button = host.shadowRoot?.querySelector('.sp-pay') ?? host.querySelector('.sp-pay');
          return Boolean(button) && !button.disabled && button.getClientRects().length > 0;
        };
        if (enabled()) return resolve({event: at, enabled: at, enabledAtEvent: true});
        const poll = () => (enabled() ? resolve({event: at, enabled: performance.now(), enabledAtEvent: false}) : requestAnimationFrame(poll));
        requestAnimationFrame(poll);
      },
      {once: true},
    );
  });
}

/**
 * The host pages on 127.0.0.1:`port`: /slotpay.html?checkout=T (the custom element, the loader
 * from `slotpayUrl`) and /react/ (the reference's dist/). Both ask for Stripe.js (`stripeJs`)
 * in their <head>, as Stripe advises every page to load it; the slotpay page also asks for the
 * widget's glue and wasm, the hints README's "Embedding" gives host pages (the React page's
 * bundle is in its HTML already).
 */
async function startHost(port, slotpayUrl, stripeJs, publishableKey) {
  const stripeHint = `<link rel="preload" href="${stripeJs}" as="script">`;
  const dist = path.join(HERE, 'react-checkout', 'dist');
  /** file → its brotli copy, made once. */
  const brotli = new Map();
  const types = {'.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml'};
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://host');
    if (url.pathname === '/slotpay.html') {
      const token = (url.searchParams.get('checkout') ?? '').replace(/[^\w-]/g, '');
      res.writeHead(200, {'Content-Type': types['.html'], 'Cache-Control': 'no-store'});
      return res.end(`<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Pay for your booking (slotpay)</title>
    <script src="${slotpayUrl}/slotpay.js" async></script>
    <link rel="modulepreload" href="${slotpayUrl}/pkg/slotpay_widget.js">
    <link rel="preload" href="${slotpayUrl}/pkg/slotpay_widget_bg.wasm" as="fetch" crossorigin>
    ${stripeHint}
  </head>
  <body>
    <main>
      <h1>Pay for your booking</h1>
      <slotpay-checkout checkout="${token}"></slotpay-checkout>
    </main>
  </body>
</html>
`);
    }
    if (url.pathname === '/floor.html') {
      res.writeHead(200, {'Content-Type': types['.html'], 'Cache-Control': 'no-store'});
      return res.end(floorPage(stripeJs, stripeHint, publishableKey));
    }
    if (url.pathname.startsWith('/react/')) {
      const file = path.join(dist, url.pathname.slice('/react/'.length) || 'index.html');
      if (!file.startsWith(dist)) return res.writeHead(404).end();
      try {
        let body = await readFile(file);
        if (file.endsWith('.html')) body = Buffer.from(body.toString().replace('</title>', `</title>\n    ${stripeHint}`));
        const headers = {'Content-Type': types[path.extname(file)] ?? 'application/octet-stream', Vary: 'Accept-Encoding'};
        // Brotli when the browser accepts it, as any production host serves a bundle (and as
        // the slotpay server serves the widget's files).
        if (/\bbr\b/.test(req.headers['accept-encoding'] ?? '')) {
          if (!brotli.has(file)) brotli.set(file, zlib.brotliCompressSync(body, {params: {[zlib.constants.BROTLI_PARAM_QUALITY]: 11}}));
          res.writeHead(200, {...headers, 'Content-Encoding': 'br'});
          return res.end(brotli.get(file));
        }
        res.writeHead(200, headers);
        return res.end(body);
      } catch {
        return res.writeHead(404).end();
      }
    }
    res.writeHead(404).end();
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {origin: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(r))};
}

/**
 * The floor of ready time: a page that knows the checkout already (no view, no widget, no
 * framework) and only mounts what both checkouts mount, the Express Checkout Element above the
 * Payment Element with the same options, enabling its Pay button at the Payment Element's
 * `ready`. No checkout that uses Stripe's Elements can be ready sooner on the same link: what is
 * left of a checkout's time over this floor is its own.
 */
function floorPage(stripeJs, stripeHint, publishableKey) {
  const options = {
    mode: 'payment',
    amount: CHECKOUT.amount,
    currency: CHECKOUT.currency,
    paymentMethodCreation: 'manual',
    paymentMethodTypes: ['card'],
    locale: 'en',
  };
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Pay for your booking (Stripe's Elements alone)</title>
    ${stripeHint}
  </head>
  <body>
    <main>
      <h1>Pay for your booking</h1>
      <div id="checkout"><div id="express"></div><div id="payment"></div><button class="sp-pay" disabled>Pay</button></div>
    </main>
    <script src="${stripeJs}"></script>
    <script>
      const host = document.getElementById('checkout');
      const elements = Stripe(${JSON.stringify(publishableKey)}, {locale: 'en'}).elements(${JSON.stringify(options)});
      elements.create('expressCheckout', {emailRequired: true, buttonType: {applePay: 'book', googlePay: 'book'}}).mount('#express');
      const payment = elements.create('payment', {business: {name: 'Salon Bench'}, wallets: {applePay: 'never', googlePay: 'never'}});
      payment.on('ready', () => {
        host.querySelector('.sp-pay').disabled = false;
        host.dispatchEvent(new CustomEvent('slotpay:ready', {bubbles: true, composed: true}));
      });
      payment.mount('#payment');
    </script>
  </body>
</html>
`;
}

/**
 * The profiles ready time is measured in: this machine's Chromium as it is, and a slow phone on
 * mobile data (Chrome DevTools Protocol: 4× CPU slowdown, 1.6 Mbps down, 750 kbps up, 150 ms
 * latency). `target`: slotpay's median at most this fraction of the reference's.
 */
const READY_PROFILES = {
  desktop: {runs: RUNS, target: 2 / 3},
  phone: {
    runs: Number(args['phone-runs'] ?? (SMOKE ? 1 : 8)),
    target: 1 / 2,
    cpu: 4,
    network: {offline: false, latency: 150, downloadThroughput: 1.6e6 / 8, uploadThroughput: 750e3 / 8},
  },
};

/**
 * A fresh context and page in `profile`; with `har`, the load is recorded: its requests as a HAR
 * at `har`, and its main thread's work as a Chrome trace (`stopTrace()` ends it and resolves to
 * the trace's events).
 */
async function profiledPage(browser, profile, har) {
  const context = await browser.newContext(har ? {recordHar: {path: har, content: 'omit'}} : {});
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  if (profile.network) {
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', profile.network);
  }
  if (profile.cpu) await cdp.send('Emulation.setCPUThrottlingRate', {rate: profile.cpu});
  let stopTrace = null;
  if (har) {
    await cdp.send('Tracing.start', {categories: 'devtools.timeline,v8,disabled-by-default-devtools.timeline', transferMode: 'ReturnAsStream'});
    stopTrace = async () => {
      const complete = new Promise((resolve) => cdp.once('Tracing.tracingComplete', resolve));
      await cdp.send('Tracing.end');
      const {stream} = await complete;
      const chunks = [];
      for (let eof = false; !eof; ) {
        const chunk = await cdp.send('IO.read', {handle: stream});
        chunks.push(chunk.base64Encoded ? Buffer.from(chunk.data, 'base64').toString() : chunk.data);
        eof = chunk.eof;
      }
      await cdp.send('IO.close', {handle: stream});
      const trace = JSON.parse(chunks.join(''));
      return Array.isArray(trace) ? trace : trace.traceEvents;
    };
  }
  return {context, page, stopTrace};
}

/** What a trace event did, for people: its name and, where it has one, the script or URL. */
function traceLabel(e) {
  const data = e.args?.data ?? e.args?.beginData ?? {};
  const url = data.url || data.stackTrace?.[0]?.url || '';
  const file = url ? ` ${new URL(url, 'http://x').pathname.split('/').pop() || url}` : '';
  return `${e.name}${data.functionName ? ` ${data.functionName}` : ''}${file}`;
}

/**
 * The renderer main threads' tasks of at least 4 ms in a trace, each with the biggest work inside
 * it, in ms from the first request (as the waterfall): what the page's one thread was doing
 * between the downloads.
 */
function mainThreadTasks(events) {
  const mains = new Set(events.filter((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain').map((e) => `${e.pid}:${e.tid}`));
  const t0 = Math.min(...events.filter((e) => e.name === 'ResourceSendRequest').map((e) => e.ts));
  const complete = events.filter((e) => e.ph === 'X' && mains.has(`${e.pid}:${e.tid}`) && e.ts >= t0);
  const tasks = complete.filter((e) => e.name === 'RunTask' && e.dur >= 4000).sort((a, b) => a.ts - b.ts);
  const ms = (us) => String(Math.round(us / 1000)).padStart(6);
  const lines = [];
  for (const task of tasks) {
    const inside = complete
      .filter((e) => e !== task && e.tid === task.tid && e.pid === task.pid && e.ts >= task.ts && e.ts + e.dur <= task.ts + task.dur && e.dur >= 1000 && e.name !== 'RunTask')
      .sort((a, b) => b.dur - a.dur)
      .slice(0, 4)
      .map((e) => `${traceLabel(e)} ${(e.dur / 1000).toFixed(1)}`);
    lines.push(`${ms(task.ts - t0)} ${ms(task.ts + task.dur - t0)} ms  task ${(task.dur / 1000).toFixed(1).padStart(5)} ms: ${inside.join(', ') || '(no traced work inside)'}`);
  }
  return lines.join('\n');
}

/**
 * The requests of one load as a text waterfall (start and end in ms from the first request,
 * what was transferred), with the ready time: which request waits for which shows in when each
 * starts.
 */
function waterfall(harPath, readyAt) {
  const entries = JSON.parse(readFileSync(harPath, 'utf8')).log.entries;
  const t0 = Math.min(...entries.map((e) => Date.parse(e.startedDateTime)));
  const rows = entries
    .map((e) => {
      const start = Date.parse(e.startedDateTime) - t0;
      const url = new URL(e.request.url);
      const name = `${url.port ? url.port + ' ' : ''}${url.pathname}`.slice(0, 60);
      const size = e.response._transferSize > 0 ? e.response._transferSize : e.response.bodySize;
      return {start, end: start + e.time, line: `${e.request.method.padEnd(5)} ${name.padEnd(60)} ${String(e.response.status).padStart(3)} ${String(Math.max(size, 0)).padStart(7)} B`};
    })
    .sort((a, b) => a.start - b.start);
  const scale = Math.max(readyAt, ...rows.map((r) => r.end)) / 40;
  const bar = (a, b) => ' '.repeat(Math.round(a / scale)) + '█'.repeat(Math.max(1, Math.round((b - a) / scale)));
  const lines = rows.map((r) => `${String(Math.round(r.start)).padStart(6)} ${String(Math.round(r.end)).padStart(6)} ms  ${r.line}  ${bar(r.start, r.end)}`);
  lines.push(`${String(Math.round(readyAt)).padStart(13)} ms  Pay button enabled (from navigation start)`);
  return lines.join('\n');
}

async function ready() {
  const described = Object.entries(READY_PROFILES).map(([name, p]) => `${name} ${p.runs} runs each`).join(', ');
  say(`== ready time in Chromium: navigation start → Pay button enabled (${described}; interleaved, cold cache)`);
  // playwright-core from the root node_modules (Debian's Chromium: browsers cannot be downloaded).
  const {chromium} = await import('playwright-core');
  const sandbox = await startSandbox(DIR);
  // The merchant allows the host pages' origin (CORS), and the pages name the server.
  const port = await freePort();
  const slotpay = await startSlotpay(DIR, sandbox, {origins: [`http://127.0.0.1:${port}`], label: 'ready'});
  const site = await startHost(port, slotpay.url, `${sandbox.url}/v3/`, sandbox.publishableKey);
  const browser = await chromium.launch({executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS});
  const runsInAll = Object.values(READY_PROFILES).reduce((n, p) => n + p.runs + 2, 0);
  results.ready = {};
  try {
    const tokens = await seedSlotpay(slotpay, 2 * runsInAll, 4);
    const pages = {
      slotpay: (token) => `${site.origin}/slotpay.html?checkout=${token}`,
      reference: (token) => `${site.origin}/react/index.html?checkout=${token}&api=${encodeURIComponent(slotpay.url)}`,
      floor: () => `${site.origin}/floor.html`,
    };
    const names = Object.keys(pages);
    const once = async (which, profile, har) => {
      const {context, page, stopTrace} = await profiledPage(browser, profile, har);
      try {
        await page.addInitScript(measureReady);
        await page.goto(pages[which](which === 'floor' ? null : tokens.pop()), {waitUntil: 'commit'});
        const result = await Promise.race([
          page.evaluate(() => window.__benchReady),
          new Promise((resolve) => setTimeout(() => resolve({failed: 'timeout (60 s)'}), 60_000)),
        ]);
        if (result.failed) throw new Error(`${which}: no slotpay:ready (${result.failed})`);
        if (stopTrace) result.trace = await stopTrace();
        return result;
      } finally {
        await context.close();
      }
    };
    for (const [name, profile] of Object.entries(READY_PROFILES)) {
      const figures = Object.fromEntries(names.map((which) => [which, []]));
      const flags = Object.fromEntries(names.map((which) => [which, 0]));
      // One unmeasured run each: the browser's own first start is not the page's.
      for (const which of names) await once(which, profile);
      for (let i = 0; i < profile.runs; i++) {
        const order = i % 2 === 0 ? names : [...names].reverse();
        for (const which of order) {
          const r = await once(which, profile);
          figures[which].push(r.enabled);
          if (r.enabledAtEvent) flags[which] += 1;
        }
      }
      const stats = (xs) => ({median_ms: round(percentile(xs, 50)), p90_ms: round(percentile(xs, 90)), min_ms: round(Math.min(...xs)), max_ms: round(Math.max(...xs)), runs: xs.length});
      const s = stats(figures.slotpay);
      const r = stats(figures.reference);
      const f = stats(figures.floor);
      say(`-- ${name}${profile.cpu ? ` (CPU ${profile.cpu}× slower, ${profile.network.downloadThroughput * 8 / 1e6} Mbps down, ${profile.network.latency} ms latency)` : ''}`);
      for (const [label, x, which] of [['slotpay (<slotpay-checkout>, wasm)', s, 'slotpay'], ['React 19 reference', r, 'reference'], ["floor (Stripe's Elements alone)", f, 'floor']]) {
        say(`${label.padEnd(36)} median ${String(x.median_ms).padStart(6)} ms  p90 ${String(x.p90_ms).padStart(6)} ms  (min ${x.min_ms}, max ${x.max_ms}; button enabled at the event in ${flags[which]}/${x.runs})`);
      }
      const fraction = s.median_ms / r.median_ms;
      const floor = f.median_ms / r.median_ms;
      say(`slotpay/reference (median): ${round(fraction, 2)} (target ≤ ${round(profile.target, 2)}); the floor/reference: ${round(floor, 2)}, slotpay over the floor: ${round(s.median_ms - f.median_ms, 0)} ms`);
      results.ready[name] = {slotpay: s, reference: r, floor: f, fraction_median: fraction, floor_fraction_median: floor, target: profile.target, target_met: fraction <= profile.target, enabled_at_event: flags};
    }
    // A waterfall of one load of each page in each profile, kept for people to read.
    const artifacts = path.join(ROOT, 'tests', 'artifacts');
    mkdirSync(artifacts, {recursive: true});
    for (const [name, profile] of Object.entries(READY_PROFILES)) {
      for (const which of names) {
        const har = path.join(artifacts, `ready-${name}-${which}.har`);
        const r = await once(which, profile, har);
        const text = `${waterfall(har, r.enabled)}\n\nThe main thread's tasks of 4 ms or more, and the biggest work inside each (ms):\n${mainThreadTasks(r.trace)}`;
        writeFileSync(path.join(artifacts, `ready-${name}-${which}-waterfall.txt`), `${text}\n`);
        if (name === 'phone') {
          say(`-- waterfall of one ${which} load on the phone profile (tests/artifacts/ready-phone-${which}-waterfall.txt, .har beside it; desktop's too)`);
          say(text);
        }
      }
    }
  } finally {
    await browser.close();
    await site.close();
    await slotpay.stop();
    await sandbox.stop();
  }
}

// ---------------------------------------------------------------- 3. pay

/** A server under test on a fresh sandbox and database: `{url, pid, seed(n), stop()}`. */
async function startTarget(kind, sandbox) {
  if (kind === 'floor') {
    const floor = await startFloor(DIR, sandbox);
    let seeded = 0;
    // Nothing to seed: any name is a checkout to the floor.
    return {...floor, seed: async (n) => Array.from({length: n}, () => `cs_floor${String(++seeded).padStart(8, '0')}`)};
  }
  if (kind === 'slotpay-sqlite' || kind === 'slotpay-postgres') {
    const database = kind === 'slotpay-postgres' ? await freshDatabase() : null;
    const slotpay = await startSlotpay(DIR, sandbox, {databaseUrl: database?.url, label: kind});
    return {
      url: slotpay.url,
      pid: slotpay.pid,
      seed: (n) => seedSlotpay(slotpay, n),
      async stop() {
        await slotpay.stop();
        await database?.drop();
      },
    };
  }
  const database = await freshDatabase();
  const server = await startReferenceServer({
    DATABASE_URL: database.url,
    STRIPE_SECRET_KEY: sandbox.secretKey,
    STRIPE_PUBLISHABLE_KEY: sandbox.publishableKey,
    STRIPE_API_BASE: sandbox.url,
    WORKERS: String(REFERENCE_WORKERS),
  });
  return {
    url: server.url,
    pid: server.pid,
    seed: (n) => seedReference(server.url, n),
    async stop() {
      await server.stop();
      await database.drop();
    },
  };
}

let fileCount = 0;
function tokensFile(tokens, sandbox) {
  return writeTokensWithPaymentMethods(path.join(DIR, `tokens-${++fileCount}.txt`), tokens, sandbox);
}

/** Statuses other than 2xx, network errors and ran-out tokens make a run invalid. */
function check(label, figures) {
  const bad = Object.entries(figures.statuses ?? {}).filter(([status]) => !(status >= 200 && status < 300));
  const why = [];
  if (bad.length) why.push(`statuses ${bad.map(([s, n]) => `${s}×${n}`).join(' ')}`);
  if (figures.network_errors) why.push(`${figures.network_errors} network errors`);
  if (figures.tokens_exhausted && !SMOKE) why.push('tokens ran out: seed more');
  if (figures.completed === 0) why.push('nothing answered');
  if (why.length) problems.push(`${label}: ${why.join(', ')}`);
  return why.length === 0;
}

function wrk(url, file, seconds) {
  return run('wrk', [`-t${WRK.threads}`, `-c${WRK.connections}`, `-d${seconds}s`, '-s', path.join(HERE, 'wrk-pay.lua'), url, '--', file, String(WRK.threads)]).then((r) => {
    if (r.code !== 0) throw new Error(`wrk failed: ${r.stderr}`);
    return lastJson(r.stdout);
  });
}

/** wrk's closed-loop maximum on a fresh stack: a warm-up sizes the measured run's checkouts. */
async function closedLoop(kind) {
  const sandbox = await startSandbox(DIR);
  const target = await startTarget(kind, sandbox);
  try {
    let perSecond = 1000;
    if (WARMUP > 0) {
      const warm = await wrk(target.url, tokensFile(await target.seed(3000), sandbox), WARMUP);
      // Ran out: at least that fast.
      perSecond = Math.max(200, warm.tokens_exhausted ? (2 * 3000) / WARMUP : warm.requests_per_s);
    }
    const count = SMOKE ? 300 : Math.ceil(perSecond * DURATION * 1.6) + 1000;
    const file = tokensFile(await target.seed(count), sandbox);
    resetPeakRss(target.pid);
    const cpu = [cpuTimes(target.pid), cpuSeconds(sandbox.pid)];
    const perf = PROFILE_DIR ? startPerf(target.pid, path.join(PROFILE_DIR, `pay-${kind}.perf.data`)) : null;
    const figures = await wrk(target.url, file, DURATION);
    figures.peak_rss = peakRss(target.pid);
    const server = cpuTimes(target.pid);
    const kernel = server.system - cpu[0].system;
    figures.cpu_s = {server: server.user - cpu[0].user + kernel, sandbox: cpuSeconds(sandbox.pid) - cpu[1]};
    // The kernel's part: system calls, the loopback's TCP, waking and switching threads.
    figures.server_cpu_kernel_share = figures.cpu_s.server > 0 ? kernel / figures.cpu_s.server : null;
    await perf?.stop();
    figures.server_cpu_us_per_payment = figures.completed > 0 ? (figures.cpu_s.server * 1e6) / figures.completed : null;
    figures.seeded = count;
    figures.valid = check(`${kind} closed loop`, figures);
    const l = figures.latency_ms;
    say(`${kind.padEnd(20)} wrk -t${WRK.threads} -c${WRK.connections} ${DURATION}s: ${String(round(figures.requests_per_s, 0)).padStart(6)} req/s (${round(figures.ok_per_s, 0)} 2xx/s)  p50 ${round(l.p50, 2)} ms  p99 ${round(l.p99, 2)} ms  peak RSS ${mb(figures.peak_rss)} MB  CPU s server ${round(figures.cpu_s.server, 1)} sandbox ${round(figures.cpu_s.sandbox, 1)} (server ${round(figures.server_cpu_us_per_payment, 0)} µs/payment, ${round(100 * figures.server_cpu_kernel_share, 0)} % in the kernel)${figures.tokens_exhausted ? '  [tokens ran out]' : ''}`);
    return figures;
  } finally {
    await target.stop();
    await sandbox.stop();
  }
}

/**
 * `perf record` of `pid` (DWARF call stacks: release builds keep no frame pointers) into
 * `file` until `stop()` (SIGINT), which resolves once the file is written.
 */
function startPerf(pid, file) {
  const child = spawn('perf', ['record', '-F', String(PERF_HZ), '--call-graph', 'dwarf,16384', '-p', String(pid), '-o', file], {stdio: ['ignore', 'ignore', 'pipe']});
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({code, signal})));
  return {
    async stop() {
      child.kill('SIGINT');
      // perf writes its file on SIGINT and then ends with 0 or by the signal.
      const {code, signal} = await exited;
      if (code !== 0 && signal !== 'SIGINT') throw new Error(`perf record failed (exit ${code}): ${stderr.slice(-500)}`);
      say(`profile: ${path.relative(ROOT, file)}`);
    },
  };
}

function loadgen(extra) {
  return run(process.execPath, [path.join(HERE, 'loadgen.mjs'), ...extra]).then((r) => {
    if (r.code !== 0 && r.code !== 1) throw new Error(`loadgen failed: ${r.stderr}`);
    return lastJson(r.stdout);
  });
}

/** loadgen's open loop at RATE on a fresh stack (`direct`: the three Stripe calls, no server). */
async function openLoop(kind) {
  const sandbox = await startSandbox(DIR);
  const count = Math.ceil(RATE * (DURATION + WARMUP) * 1.1) + 50;
  const common = ['--mode', 'open', '--rate', String(RATE), '--duration', String(DURATION), '--warmup', String(WARMUP)];
  let target = null;
  try {
    let figures;
    if (kind === 'direct') {
      const names = Array.from({length: count}, (_, i) => `cs_direct${String(i).padStart(8, '0')}`);
      figures = await loadgen(['--target', 'stripe', '--url', sandbox.url, '--stripe-key', sandbox.secretKey, '--tokens', tokensFile(names, sandbox), ...common]);
    } else {
      target = await startTarget(kind, sandbox);
      const file = tokensFile(await target.seed(count), sandbox);
      resetPeakRss(target.pid);
      figures = await loadgen(['--url', target.url, '--tokens', file, ...common]);
      figures.peak_rss = peakRss(target.pid);
    }
    figures.valid = check(`${kind} open loop`, figures);
    const l = figures.latency_ms;
    say(`${kind.padEnd(20)} open ${RATE} req/s ${DURATION}s: ${String(round(figures.requests_per_s, 0)).padStart(6)} req/s  p50 ${round(l.p50, 2)} ms  p90 ${round(l.p90, 2)} ms  p99 ${round(l.p99, 2)} ms  (generator lag p99 ${figures.send_lag_ms?.p99} ms)${figures.peak_rss ? `  peak RSS ${mb(figures.peak_rss)} MB` : ''}`);
    return figures;
  } finally {
    await target?.stop();
    await sandbox.stop();
  }
}

async function pay() {
  if (!PG_URL) throw new Error('SLOTPAY_TEST_POSTGRES_URL is unset (./dev bench starts a throwaway PostgreSQL)');
  say(`== pay: POST /v1/checkouts/{token}/pay on fresh checkouts, each with its own PaymentMethod; a fresh release sandbox, server and database per run`);
  say(`(reference: Express 5 + stripe 23 + pg, ${REFERENCE_WORKERS} Node process${REFERENCE_WORKERS > 1 ? 'es' : ''}; slotpay: release binary, request log on (JSON to a file), rate limits raised by SLOTPAY_RATE_LIMIT_IP/_MERCHANT)`);
  const closed = {};
  for (const kind of KINDS) closed[kind] = await closedLoop(kind);
  const perPayment = (k) => closed[k]?.server_cpu_us_per_payment;
  const reference = perPayment('reference-postgres');
  say(`server CPU per payment (closed loop): ${KINDS.map((k) => `${k} ${round(perPayment(k), 0)} µs`).join(', ')}`);
  const cpuRatio = Object.fromEntries(KINDS.filter((k) => k.startsWith('slotpay') && reference).map((k) => [k, perPayment(k) / reference]));
  if (reference) say(`ratio slotpay/reference server CPU per payment: ${Object.entries(cpuRatio).map(([k, r]) => `${k} ${round(r, 2)}`).join(', ')} (target ≤ 0.2)`);
  const floor = perPayment('floor');
  if (floor && reference) say(`the floor (three Stripe calls through slotpay's HTTP stack and Stripe client, nothing else): ${round(floor, 0)} µs, ${round(floor / reference, 2)} of the reference's; slotpay's own work on top: ${KINDS.filter((k) => k.startsWith('slotpay')).map((k) => `${k} ${round(perPayment(k) - floor, 0)} µs`).join(', ')}`);
  if (PROFILE_DIR || !SERVER_KINDS.every((k) => KINDS.includes(k))) {
    say('(closed loop only: --profile or --kinds)');
    results.pay = {closed, cpu_ratio: cpuRatio};
    return;
  }
  const open = {direct: await openLoop('direct')};
  for (const kind of KINDS) open[kind] = await openLoop(kind);

  const ratio = closed['slotpay-postgres'].requests_per_s / closed['reference-postgres'].requests_per_s;
  const added = (kind, p) => open[kind].latency_ms[p] - open.direct.latency_ms[p];
  results.pay = {
    closed,
    open,
    throughput_ratio: ratio,
    added_ms: Object.fromEntries(KINDS.map((k) => [k, {p50: added(k, 'p50'), p99: added(k, 'p99')}])),
    peak_rss: Object.fromEntries(KINDS.map((k) => [k, Math.max(closed[k].peak_rss ?? 0, open[k].peak_rss ?? 0)])),
    server_cpu_us_per_payment: Object.fromEntries(KINDS.map((k) => [k, perPayment(k)])),
    cpu_ratio: cpuRatio,
    floor_cpu_ratio: floor && reference ? floor / reference : null,
    target_cpu_met: Object.keys(cpuRatio).length === 2 && Object.values(cpuRatio).every((r) => r <= 0.2),
    target_throughput_met: ratio >= 5,
    target_added_p99_met: added('slotpay-postgres', 'p99') <= 2,
  };
  say(`throughput ratio slotpay/reference (PostgreSQL, wrk): ${round(ratio, 2)}× (target ≥ 5×)`);
  say(`added latency at ${RATE} req/s = the server's percentile minus the same percentile of the three Stripe calls made directly at the same rate on a fresh sandbox:`);
  for (const k of KINDS) say(`  ${k.padEnd(20)} added p50 ${round(added(k, 'p50'), 2)} ms, added p99 ${round(added(k, 'p99'), 2)} ms${k === 'slotpay-postgres' ? ' (target ≤ 2 ms)' : ''}`);
  say(`peak RSS during the pay runs: ${KINDS.map((k) => `${k} ${mb(results.pay.peak_rss[k])} MB`).join(', ')}`);
}

// ---------------------------------------------------------------- 4. webhooks

/** Runs one of the Rust benches of `server/benches/` (smoke: the debug build, fewer events). */
async function rustBench(name) {
  // Smoke runs check the bench still works, on the debug build the test run already has;
  // figures come only from the full run's release build (`cargo bench`).
  const benchArgs = SMOKE
    ? ['test', '-q', '-p', 'slotpay-server', '--bench', name, '--', '--smoke']
    : ['bench', '-q', '-p', 'slotpay-server', '--bench', name, '--'];
  if (PG_URL) benchArgs.push('--postgres', PG_URL);
  if (PROFILE_DIR) benchArgs.push('--profile', PROFILE_DIR);
  const r = await run('cargo', benchArgs, {cwd: ROOT});
  const text = r.stdout.trim().split('\n');
  for (const line of text.slice(0, -1)) say(line);
  let figures;
  try {
    figures = JSON.parse(text[text.length - 1]);
  } catch {
    throw new Error(`${name} printed no JSON (exit ${r.code}):\n${r.stderr.slice(-3000)}`);
  }
  if (r.code !== 0) problems.push(`${name}: ${figures.failures?.join('; ') || `exit ${r.code}`}`);
  return figures;
}

async function webhooks() {
  say(`== webhook ingest (server/benches/webhook_ingest.rs: the ${PROFILE} binary through HTTP)`);
  const figures = await rustBench('webhook_ingest');
  const sqlite = figures.runs.find((x) => x.database === 'sqlite');
  figures.target_met = Boolean(sqlite && sqlite.events_per_s >= 5000);
  results.webhooks = figures;
}

// ---------------------------------------------------------------- 5. deliveries

async function deliveries() {
  say(`== webhook delivery (server/benches/webhook_delivery.rs: the ${PROFILE} binary sending to a receiver)`);
  const figures = await rustBench('webhook_delivery');
  const runs = figures.webhook_delivery || [];
  figures.target_met = runs.length > 0 && runs.every((x) => x.deliveries_per_s >= 2000);
  results.deliveries = figures;
}

// ---------------------------------------------------------------- main

const start = loadAverage();
say(`slotpay bench (${SMOKE ? 'smoke' : 'full'}) ${results.date}`);
say(`machine: ${results.machine.nproc} cores, ${results.machine.cpu}, load average at start ${start.join(' ')}`);
say(`binaries: ${path.relative(ROOT, BIN.slotpay)}, ${path.relative(ROOT, BIN.sandbox)} (${PROFILE})`);
const sections = {weight, ready, pay, webhooks, deliveries};
let exitCode = 0;
try {
  for (const [name, section] of Object.entries(sections)) {
    if (!ONLY.has(name)) continue;
    say();
    try {
      await section();
    } catch (error) {
      problems.push(`${name}: ${error.message}`);
      say(`${name}: FAILED: ${error.message}`);
    }
  }
} finally {
  if (!args.keep) rmSync(DIR, {recursive: true, force: true});
}
results.load_average = {start, end: loadAverage()};
results.problems = problems;

say();
say('== summary');
say(`machine: ${results.machine.nproc} cores, ${results.machine.cpu}; load average ${start.join(' ')} at start, ${results.load_average.end.join(' ')} at the end`);
const verdict = (met) => (met ? 'met' : 'MISSED');
if (results.weight) say(`weight   slotpay ${results.weight.slotpay.gzip} B gzip vs React ${results.weight.reference_js.gzip} B: ${round(results.weight.ratio.gzip, 3)} (target ≤ 1/3: ${verdict(results.weight.target_met)})`);
for (const [name, x] of Object.entries(results.ready ?? {})) {
  say(`ready    ${name.padEnd(8)} median slotpay ${x.slotpay.median_ms} ms vs React ${x.reference.median_ms} ms: ${round(x.fraction_median, 2)} (target ≤ ${round(x.target, 2)}: ${verdict(x.target_met)}); Stripe's Elements alone ${x.floor.median_ms} ms: ${round(x.floor_fraction_median, 2)}`);
}
if (results.pay?.open) {
  const p = results.pay;
  say(`pay      slotpay ${round(p.closed['slotpay-postgres'].requests_per_s, 0)} req/s vs reference ${round(p.closed['reference-postgres'].requests_per_s, 0)} req/s (PostgreSQL): ${round(p.throughput_ratio, 2)}× (target ≥ 5×: ${verdict(p.target_throughput_met)}); SQLite ${round(p.closed['slotpay-sqlite'].requests_per_s, 0)} req/s`);
  say(`latency  at ${RATE} req/s p50/p99: slotpay ${round(p.open['slotpay-postgres'].latency_ms.p50, 2)}/${round(p.open['slotpay-postgres'].latency_ms.p99, 2)} ms, reference ${round(p.open['reference-postgres'].latency_ms.p50, 2)}/${round(p.open['reference-postgres'].latency_ms.p99, 2)} ms, Stripe direct ${round(p.open.direct.latency_ms.p50, 2)}/${round(p.open.direct.latency_ms.p99, 2)} ms; slotpay added p99 ${round(p.added_ms['slotpay-postgres'].p99, 2)} ms (target ≤ 2 ms: ${verdict(p.target_added_p99_met)})${p.added_ms.floor ? `; the floor's ${round(p.added_ms.floor.p99, 2)} ms` : ''}`);
  const us = (k) => round(p.server_cpu_us_per_payment[k], 0);
  say(`cpu      server CPU per payment: slotpay ${us('slotpay-postgres')} µs (PostgreSQL), ${us('slotpay-sqlite')} µs (SQLite), reference ${us('reference-postgres')} µs: ratios ${round(p.cpu_ratio['slotpay-postgres'], 2)} and ${round(p.cpu_ratio['slotpay-sqlite'], 2)} (target ≤ 0.2: ${verdict(p.target_cpu_met)})${p.floor_cpu_ratio ? `; the floor ${us('floor')} µs: ${round(p.floor_cpu_ratio, 2)}` : ''}`);
  say(`memory   peak RSS slotpay ${mb(p.peak_rss['slotpay-postgres'])} MB (PostgreSQL), ${mb(p.peak_rss['slotpay-sqlite'])} MB (SQLite); reference ${mb(p.peak_rss['reference-postgres'])} MB`);
}
if (results.webhooks) {
  const w = results.webhooks;
  const rate = (db) => round(w.runs.find((x) => x.database === db)?.events_per_s, 0) ?? 'n/a';
  say(`webhooks SQLite ${rate('sqlite')} events/s, PostgreSQL ${rate('postgres')} events/s; HMAC ceiling ${round(w.hmac_verify_per_s_one_thread, 0)}/s on one thread (target ≥ 5,000/s on SQLite: ${verdict(w.target_met)})`);
  const perEvent = (db) => round(w.runs.find((x) => x.database === db)?.server_cpu_us_per_event, 0) ?? 'n/a';
  say(`webhooks server CPU per event until processed: SQLite ${perEvent('sqlite')} µs, PostgreSQL ${perEvent('postgres')} µs`);
}
if (results.deliveries) {
  const d = results.deliveries.webhook_delivery || [];
  const rate = (db) => round(d.find((x) => x.database === db)?.deliveries_per_s, 0);
  say(`deliveries SQLite ${rate('sqlite')}/s, PostgreSQL ${rate('postgres')}/s to a receiver in the same run (target ≥ 2,000/s: ${verdict(results.deliveries.target_met)})`);
}
if (SMOKE) say('(smoke mode: a few seconds per figure, to show the harness works; the figures are not the benchmark)');
for (const p of problems) say(`INVALID: ${p}`);
say(`bench: ${[...ONLY].join(', ')} (${SMOKE ? 'smoke' : 'full'}); ${problems.length} invalid run${problems.length === 1 ? '' : 's'}`);
if (problems.length) exitCode = 1;
console.log(JSON.stringify(results));
process.exit(exitCode);
