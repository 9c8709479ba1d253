/**
 * Load generator for `POST /v1/checkouts/{token}/pay`, usable against slotpay or the reference
 * server. Each request pays one fresh checkout from the tokens file (one token per line,
 * optionally followed by a PaymentMethod id for that checkout), with a new Idempotency-Key and
 * `{payment_method, email, save_card: false}`. Node's http client with a keep-alive Agent.
 *
 *   node tests/bench/loadgen.mjs --url URL --tokens FILE [--mode closed|open] [--duration S]
 *        [--connections C] [--rate R] [--warmup S] [--payment-method pm_card_visa]
 *        [--timeout S] [--label NAME]
 *   node tests/bench/loadgen.mjs --target stripe --url SANDBOX_URL --stripe-key sk_test_... --tokens FILE ...
 *
 * closed (default): C connections each send their next request as soon as the previous answer
 *   arrives, for S seconds: maximum throughput. Latency is from send to answer.
 * open: R requests per second on a fixed schedule for S seconds, whatever the answers do;
 *   latency is measured from each request's *scheduled* send time, so time spent queued behind
 *   a slow server (or behind --connections, when given) counts, and coordinated omission does
 *   not hide it. Connections are opened as needed unless --connections caps them.
 * --warmup S runs the same load first and discards its figures (it uses tokens too).
 * --target stripe: instead of paying through a server, each request makes the three Stripe
 *   calls of slotpay's pay path directly against --url (Stripe or the sandbox) with the secret
 *   key, one after the other: retrieve the line's PaymentMethod, create a PaymentIntent
 *   (Idempotency-Key `slotpay:{token}:pi`), confirm it (`slotpay:{token}:confirm:1`), with
 *   the same form fields slotpay sends. Its latency is the floor a server calling Stripe
 *   cannot go under; `./dev bench` subtracts it to get the server's added latency.
 *
 * Prints the figures as text, then one JSON line (the last line of stdout). Exits 1 when the
 * tokens ran out before the duration ended (the figures are then for a shorter run), 2 on
 * usage errors.
 */
import {randomUUID} from 'node:crypto';
import {readFileSync} from 'node:fs';
import http from 'node:http';
import {performance} from 'node:perf_hooks';
import {parseArgs} from 'node:util';

const {values: options} = parseArgs({
  options: {
    url: {type: 'string'},
    tokens: {type: 'string'},
    mode: {type: 'string', default: 'closed'},
    duration: {type: 'string', default: '10'},
    connections: {type: 'string'},
    rate: {type: 'string', default: '200'},
    warmup: {type: 'string', default: '0'},
    'payment-method': {type: 'string', default: 'pm_card_visa'},
    email: {type: 'string', default: 'bench@example.com'},
    timeout: {type: 'string', default: '30'},
    label: {type: 'string', default: ''},
    target: {type: 'string', default: 'pay'},
    'stripe-key': {type: 'string'},
  },
});

function usage(message) {
  console.error(`loadgen: ${message}\nusage: node loadgen.mjs --url URL --tokens FILE [--mode closed|open] [--duration S] [--connections C] [--rate R] [--warmup S]`);
  process.exit(2);
}

if (!options.url || !options.tokens) usage('--url and --tokens are required');
if (!['closed', 'open'].includes(options.mode)) usage('--mode is closed or open');
if (!['pay', 'stripe'].includes(options.target)) usage('--target is pay or stripe');
if (options.target === 'stripe' && !/^(sk|rk)_/.test(options['stripe-key'] ?? '')) usage('--target stripe needs --stripe-key sk_...');
const base = new URL(options.url);
if (base.protocol !== 'http:') usage('only http:// URLs');
const durationS = Number(options.duration);
const warmupS = Number(options.warmup);
const rate = Number(options.rate);
const timeoutMs = Number(options.timeout) * 1000;
const connections = options.connections === undefined ? (options.mode === 'closed' ? 32 : Infinity) : Number(options.connections);
if (!(durationS > 0) || !(warmupS >= 0) || !(rate > 0) || !(connections >= 1) || !(timeoutMs > 0)) usage('bad number');

/** `[{token, paymentMethod}]` from the file; blank lines and `#` comments skipped. */
const checkouts = readFileSync(options.tokens, 'utf8')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'))
  .map((line) => {
    const [token, paymentMethod] = line.split(/\s+/);
    return {token, paymentMethod: paymentMethod ?? options['payment-method']};
  });
let nextCheckout = 0;
let exhausted = false;

function takeCheckout() {
  if (nextCheckout >= checkouts.length) {
    exhausted = true;
    return null;
  }
  return checkouts[nextCheckout++];
}

const agent = new http.Agent({keepAlive: true, maxSockets: connections, keepAliveMsecs: 10_000});
const basePath = base.pathname.replace(/\/$/, '');

/**
 * One HTTP request on the keep-alive agent; resolves to `{status, body}` or `{error}` (a
 * network error code).
 */
function send(method, path, headers, body) {
  return new Promise((resolve) => {
    const req = http.request(
      {
        agent,
        host: base.hostname,
        port: base.port || 80,
        method,
        path: `${basePath}${path}`,
        headers: body === undefined ? headers : {...headers, 'Content-Length': Buffer.byteLength(body)},
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve({status: res.statusCode, body: text}));
        res.on('error', (error) => resolve({error: error.code ?? 'response_error'}));
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error('timeout'), {code: 'timeout'})));
    req.on('error', (error) => resolve({error: error.code ?? error.message}));
    req.end(body);
  });
}

/** One pay request; resolves to `{status}` (HTTP status) or `{error}` (a network error code). */
function payOnce({token, paymentMethod}) {
  const body = JSON.stringify({payment_method: paymentMethod, email: options.email, save_card: false});
  return send(
    'POST',
    `/v1/checkouts/${token}/pay`,
    {'Content-Type': 'application/json', 'Idempotency-Key': randomUUID()},
    body,
  );
}

/**
 * slotpay's three Stripe calls for one payment, made directly (`--target stripe`); resolves to
 * the last answer, or the first that was not a 200.
 */
async function stripeOnce({token, paymentMethod}) {
  const auth = {Authorization: `Bearer ${options['stripe-key']}`};
  const form = {...auth, 'Content-Type': 'application/x-www-form-urlencoded'};
  const pm = await send('GET', `/v1/payment_methods/${encodeURIComponent(paymentMethod)}`, auth);
  if (pm.error || pm.status !== 200) return pm;
  const intent = await send(
    'POST',
    '/v1/payment_intents',
    {...form, 'Idempotency-Key': `slotpay:${token}:pi`},
    new URLSearchParams({
      amount: '2500',
      currency: 'usd',
      capture_method: 'automatic',
      'payment_method_types[]': 'card',
      description: 'Haircut',
      'metadata[slotpay_checkout]': token,
      'metadata[slotpay_merchant]': 'mer_bench',
    }).toString(),
  );
  if (intent.error || intent.status !== 200) return intent;
  const id = JSON.parse(intent.body).id;
  return send(
    'POST',
    `/v1/payment_intents/${encodeURIComponent(id)}/confirm`,
    {...form, 'Idempotency-Key': `slotpay:${token}:confirm:1`},
    new URLSearchParams({payment_method: paymentMethod, receipt_email: options.email}).toString(),
  );
}

const once = options.target === 'stripe' ? stripeOnce : payOnce;

/** Collected figures of one phase. */
function recorder() {
  return {latencies: [], statuses: {}, errors: {}, sendLag: [], started: performance.now(), ended: 0};
}

function record(rec, answer, latencyMs) {
  if (answer.error) {
    rec.errors[answer.error] = (rec.errors[answer.error] ?? 0) + 1;
    return;
  }
  rec.statuses[answer.status] = (rec.statuses[answer.status] ?? 0) + 1;
  rec.latencies.push(latencyMs);
}

async function closedLoop(seconds) {
  const rec = recorder();
  const end = rec.started + seconds * 1000;
  const worker = async () => {
    while (performance.now() < end) {
      const checkout = takeCheckout();
      if (!checkout) return;
      const sent = performance.now();
      const answer = await once(checkout);
      record(rec, answer, performance.now() - sent);
    }
  };
  await Promise.all(Array.from({length: connections}, worker));
  rec.ended = performance.now();
  return rec;
}

async function openLoop(seconds) {
  const rec = recorder();
  const interval = 1000 / rate;
  const total = Math.round(seconds * rate);
  const pending = [];
  let sent = 0;
  await new Promise((resolve) => {
    const tick = () => {
      const now = performance.now();
      // Send every request whose time has come (several after a late timer).
      while (sent < total && rec.started + sent * interval <= now) {
        const scheduled = rec.started + sent * interval;
        sent += 1;
        const checkout = takeCheckout();
        if (!checkout) return resolve();
        rec.sendLag.push(performance.now() - scheduled);
        pending.push(once(checkout).then((answer) => record(rec, answer, performance.now() - scheduled)));
      }
      if (sent >= total) return resolve();
      setTimeout(tick, Math.max(0, rec.started + sent * interval - performance.now()));
    };
    tick();
  });
  await Promise.all(pending);
  rec.ended = performance.now();
  return rec;
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)];
}

const round = (x) => (x === null ? null : Math.round(x * 1000) / 1000);

function summary(rec) {
  const sorted = Float64Array.from(rec.latencies).sort();
  const elapsedS = (rec.ended - rec.started) / 1000;
  const completed = sorted.length;
  const ok = Object.entries(rec.statuses).reduce((n, [status, count]) => (status >= 200 && status < 300 ? n + count : n), 0);
  const errors = Object.values(rec.errors).reduce((a, b) => a + b, 0);
  const lag = Float64Array.from(rec.sendLag).sort();
  return {
    completed,
    ok,
    network_errors: errors,
    elapsed_s: round(elapsedS),
    requests_per_s: round(completed / elapsedS),
    ok_per_s: round(ok / elapsedS),
    latency_ms: {
      p50: round(percentile(sorted, 50)),
      p90: round(percentile(sorted, 90)),
      p99: round(percentile(sorted, 99)),
      max: round(completed ? sorted[completed - 1] : null),
      mean: round(completed ? sorted.reduce((a, b) => a + b, 0) / completed : null),
    },
    statuses: rec.statuses,
    errors: rec.errors,
    // Open loop: how late the generator itself sent requests (should stay near 0).
    send_lag_ms: lag.length ? {p99: round(percentile(lag, 99)), max: round(lag[lag.length - 1])} : undefined,
  };
}

const run = options.mode === 'closed' ? closedLoop : openLoop;
if (warmupS > 0) await run(warmupS);
const result = summary(await run(durationS));
agent.destroy();

const shape = options.mode === 'closed' ? `${connections} connections` : `${rate} req/s${Number.isFinite(connections) ? `, at most ${connections} connections` : ''}`;
const lat = result.latency_ms;
const what = options.target === 'stripe' ? ' (the three Stripe calls, direct)' : '';
console.log(`loadgen: ${options.mode} loop, ${shape}, ${durationS} s against ${base.origin}${what}${options.label ? ` (${options.label})` : ''}`);
console.log(`requests: ${result.completed} answered (${result.ok} 2xx), ${result.network_errors} network errors, in ${result.elapsed_s} s`);
console.log(`throughput: ${result.requests_per_s} req/s answered, ${result.ok_per_s} 2xx/s`);
console.log(`latency ms: p50 ${lat.p50}  p90 ${lat.p90}  p99 ${lat.p99}  max ${lat.max}  mean ${lat.mean}`);
console.log(`statuses: ${Object.entries(result.statuses).map(([s, n]) => `${s}=${n}`).join(' ') || 'none'}${result.network_errors ? `  errors: ${Object.entries(result.errors).map(([e, n]) => `${e}=${n}`).join(' ')}` : ''}`);
if (result.send_lag_ms) console.log(`generator send lag ms: p99 ${result.send_lag_ms.p99}  max ${result.send_lag_ms.max}`);
if (exhausted) console.error(`loadgen: the ${checkouts.length} tokens ran out before the end: seed more checkouts`);
console.log(
  JSON.stringify({
    tool: 'loadgen',
    label: options.label || undefined,
    mode: options.mode,
    target: options.target,
    url: base.origin,
    duration_s: durationS,
    connections: Number.isFinite(connections) ? connections : null,
    rate: options.mode === 'open' ? rate : undefined,
    tokens_exhausted: exhausted,
    ...result,
  }),
);
process.exitCode = exhausted ? 1 : 0;
