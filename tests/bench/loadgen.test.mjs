/**
 * loadgen.mjs against a stub server that records what it receives: one fresh token and
 * Idempotency-Key per request, the pay body, statuses counted, and in open-loop mode latency
 * measured from the scheduled send time (a stalled server shows as queueing, not as one slow
 * request). Run: node --test tests/bench/loadgen.test.mjs
 */
import assert from 'node:assert/strict';
import {execFile} from 'node:child_process';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import http from 'node:http';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {after, before, describe, it} from 'node:test';
import {promisify} from 'node:util';

const LOADGEN = new URL('./loadgen.mjs', import.meta.url).pathname;
const run = promisify(execFile);

/** Runs loadgen; resolves to `{json, stdout, code}` (json: its last stdout line). */
async function loadgen(args) {
  let result;
  try {
    result = {...(await run(process.execPath, [LOADGEN, ...args])), code: 0};
  } catch (error) {
    result = {stdout: error.stdout, stderr: error.stderr, code: error.code};
  }
  const lines = result.stdout.trim().split('\n');
  return {...result, json: JSON.parse(lines[lines.length - 1])};
}

describe('loadgen', () => {
  let dir;
  let server;
  let url;
  /** What the stub saw, and how it answers: `respond(request) → {status, delayMs}`. */
  const stub = {requests: [], respond: () => ({status: 200, delayMs: 0})};

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'loadgen-'));
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const request = {path: req.url, key: req.headers['idempotency-key'], body: JSON.parse(body), at: performance.now()};
        stub.requests.push(request);
        const {status, delayMs} = stub.respond(request);
        setTimeout(() => {
          res.writeHead(status, {'Content-Type': 'application/json'});
          res.end(status === 200 ? '{"status":"succeeded"}' : '{"error":{"code":"payment_in_progress"}}');
        }, delayMs);
      });
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${server.address().port}`;
  });

  after(() => {
    server.closeAllConnections();
    server.close();
    rmSync(dir, {recursive: true, force: true});
  });

  function tokensFile(n, name, withPaymentMethods = false) {
    const file = path.join(dir, name);
    const lines = Array.from({length: n}, (_, i) => `cs_${String(i).padStart(30, '0')}${withPaymentMethods ? ` pm_own${i}` : ''}`);
    writeFileSync(file, `# tokens\n${lines.join('\n')}\n`);
    return file;
  }

  it('closed loop: one fresh token and key per request, every answer counted', async () => {
    stub.requests = [];
    let n = 0;
    stub.respond = () => ({status: ++n % 5 === 0 ? 409 : 200, delayMs: 2});
    const {json, code} = await loadgen(['--url', url, '--tokens', tokensFile(100_000, 'closed.txt'), '--connections', '4', '--duration', '1']);
    assert.equal(code, 0);
    const seen = stub.requests;
    assert.equal(json.completed, seen.length);
    assert.ok(seen.length > 50, `${seen.length} requests in 1 s`);
    assert.equal(new Set(seen.map((r) => r.path)).size, seen.length, 'each checkout paid once');
    assert.equal(new Set(seen.map((r) => r.key)).size, seen.length, 'a new Idempotency-Key each time');
    assert.match(seen[0].path, /^\/v1\/checkouts\/cs_0+\/pay$/);
    assert.deepEqual(seen[0].body, {payment_method: 'pm_card_visa', email: 'bench@example.com', save_card: false});
    assert.equal(json.statuses['409'], Math.floor(seen.length / 5));
    assert.equal(json.ok, seen.length - json.statuses['409']);
    assert.ok(json.latency_ms.p50 >= 2, `p50 ${json.latency_ms.p50} below the stub's 2 ms`);
    assert.ok(json.latency_ms.p50 <= json.latency_ms.p90 && json.latency_ms.p90 <= json.latency_ms.p99 && json.latency_ms.p99 <= json.latency_ms.max);
    assert.ok(Math.abs(json.requests_per_s - json.completed / json.elapsed_s) < 1);
    assert.equal(json.tokens_exhausted, false);
  });

  it('uses the PaymentMethod of a token line, and says when tokens run out', async () => {
    stub.requests = [];
    stub.respond = () => ({status: 200, delayMs: 0});
    const {json, code, stderr} = await loadgen(['--url', url, '--tokens', tokensFile(30, 'few.txt', true), '--duration', '5']);
    assert.equal(code, 1);
    assert.match(stderr, /tokens ran out/);
    assert.equal(json.tokens_exhausted, true);
    assert.equal(json.completed, 30);
    assert.deepEqual(stub.requests.map((r) => r.body.payment_method).sort(), Array.from({length: 30}, (_, i) => `pm_own${i}`).sort());
  });

  it('open loop: keeps the rate and counts a stall as queueing from the scheduled time', async () => {
    stub.requests = [];
    let stalled = false;
    // The 20th request is held 500 ms; with one connection, the ~25 scheduled behind it queue.
    stub.respond = () => {
      if (stub.requests.length === 20 && !stalled) {
        stalled = true;
        return {status: 200, delayMs: 500};
      }
      return {status: 200, delayMs: 1};
    };
    const {json, code} = await loadgen([
      '--url', url, '--tokens', tokensFile(1000, 'open.txt'), '--mode', 'open', '--rate', '50', '--duration', '2', '--connections', '1',
    ]);
    assert.equal(code, 0);
    assert.equal(json.completed, 100, 'rate × duration requests');
    assert.ok(json.latency_ms.max >= 490, `max ${json.latency_ms.max}`);
    // Measured from the actual send, only one request would be slow and p90 a few ms.
    assert.ok(json.latency_ms.p90 > 200, `p90 ${json.latency_ms.p90}: queueing hidden`);
    assert.ok(json.latency_ms.p50 < 100, `p50 ${json.latency_ms.p50}`);
    const first = stub.requests[0].at;
    const last = stub.requests[stub.requests.length - 1].at;
    assert.ok(last - first >= 1900 && last - first < 2600, `requests spread over ${last - first} ms`);
  });
});

describe('loadgen --target stripe', () => {
  let dir;
  let server;
  let url;
  /** Every call the stub Stripe received: `{method, path, auth, key, form}`. */
  const calls = [];

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'loadgen-stripe-'));
    let next = 0;
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        calls.push({
          method: req.method,
          path: req.url,
          auth: req.headers.authorization,
          key: req.headers['idempotency-key'],
          form: Object.fromEntries(new URLSearchParams(body)),
        });
        res.writeHead(200, {'Content-Type': 'application/json'});
        if (req.url.startsWith('/v1/payment_methods/')) res.end('{"id":"pm","object":"payment_method"}');
        else if (req.url === '/v1/payment_intents') res.end(`{"id":"pi_${++next}","status":"requires_payment_method"}`);
        else res.end('{"status":"succeeded"}');
      });
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${server.address().port}`;
  });

  after(() => {
    server.closeAllConnections();
    server.close();
    rmSync(dir, {recursive: true, force: true});
  });

  it('makes slotpay\'s three Stripe calls per request, in order, with its idempotency keys', async () => {
    const file = path.join(dir, 'pms.txt');
    writeFileSync(file, 'cs_a pm_a\ncs_b pm_b\ncs_c pm_c\n');
    const {json, code} = await loadgen([
      '--target', 'stripe', '--stripe-key', 'sk_test_stub', '--url', url, '--tokens', file, '--mode', 'open', '--rate', '10', '--duration', '0.3',
    ]);
    assert.equal(code, 0);
    assert.equal(json.target, 'stripe');
    assert.equal(json.completed, 3);
    assert.deepEqual(json.statuses, {200: 3});
    assert.equal(calls.length, 9);
    assert.ok(calls.every((c) => c.auth === 'Bearer sk_test_stub'));
    const forA = calls.filter((c) => c.path === '/v1/payment_methods/pm_a' || c.key?.startsWith('slotpay:cs_a:'));
    assert.deepEqual(forA.map((c) => `${c.method} ${c.path.replace(/pi_\d+/, 'pi_N')} ${c.key ?? ''}`.trim()), [
      'GET /v1/payment_methods/pm_a',
      'POST /v1/payment_intents slotpay:cs_a:pi',
      'POST /v1/payment_intents/pi_N/confirm slotpay:cs_a:confirm:1',
    ]);
    assert.equal(forA[1].form.amount, '2500');
    assert.equal(forA[1].form['metadata[slotpay_checkout]'], 'cs_a');
    assert.deepEqual(forA[2].form, {payment_method: 'pm_a', receipt_email: 'bench@example.com'});
  });

  it('refuses to run without a secret key', async () => {
    calls.length = 0;
    const error = await run(process.execPath, [LOADGEN, '--target', 'stripe', '--url', url, '--tokens', '/dev/null']).catch((e) => e);
    assert.equal(error.code, 2);
    assert.match(error.stderr, /--target stripe needs --stripe-key/);
    assert.equal(calls.length, 0);
  });
});
