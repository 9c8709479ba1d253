/**
 * The whole slotpay stack on loopback, for the demo (`scripts/demo.mjs`) and the browser tests
 * (`tests/e2e/*.spec.ts`): the stripe-sandbox binary, the `slotpay` server against it, a seeded
 * merchant ("Salon Lumière", Sandbox mode, its own sandbox Stripe account, webhook endpoint
 * registered), two services, a payment link, and the two demo sites on their own origins
 * (`hosts.mjs`: the platform's booking page, the salon's page under a strict CSP). slotpay
 * sends the merchant's events to the booking site's backend (a platform webhook endpoint at
 * `<booking origin>/slotpay-events`, registered through the platform API).
 *
 * Plain ESM JavaScript so Node scripts and Playwright load the same file. The binaries must be
 * built (`cargo build --workspace --bins`, which `./dev build` does); `ensureBuilt()` builds
 * them when missing. Secrets (the admin token, the merchant's secret key) go to the server by
 * environment or request body, the webhook endpoint's signing secret to the booking host's
 * backend, and none is printed here.
 */
import {spawn, spawnSync} from 'node:child_process';
import {randomBytes} from 'node:crypto';
import {existsSync, mkdirSync, mkdtempSync, rmSync} from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

import {BOOKING_EVENTS, startBookingHost, startSalonHost} from './hosts.mjs';
import {startSmtpSink} from './smtp-sink.mjs';
import {platformClient} from './platform.mjs';

/** The repository's root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = {
  sandbox: process.env.STRIPE_SANDBOX_BIN || path.join(ROOT, 'target', 'debug', 'stripe-sandbox'),
  server: process.env.SLOTPAY_BIN || path.join(ROOT, 'target', 'debug', 'slotpay'),
};
const START_TIMEOUT_MS = 20_000;

/** The seeded merchant's name. */
export const MERCHANT_NAME = 'Salon Lumière';

/** The widget's built files the server serves (`./dev build` makes them). */
const WIDGET_FILES = ['www/slotpay.js', 'www/pkg/slotpay_widget.js', 'www/pkg/slotpay_widget_bg.wasm'];

/**
 * Builds the two binaries when one is missing (a cold build takes minutes); the widget must be
 * built already (`./dev build`: it needs the wasm toolchain).
 */
export function ensureBuilt() {
  const missing = WIDGET_FILES.filter((f) => !existsSync(path.join(ROOT, f)));
  if (missing.length > 0) throw new Error(`the widget is not built (${missing.join(', ')} missing): run ./dev build`);
  if (existsSync(BIN.sandbox) && existsSync(BIN.server)) return;
  const build = spawnSync('cargo', ['build', '--workspace', '--bins'], {cwd: ROOT, stdio: 'inherit'});
  if (build.status !== 0) throw new Error(`cargo build --workspace --bins failed (status ${build.status})`);
}

/** Fails unless `port` can be bound on 127.0.0.1 (fixed ports: another program may hold one). */
function assertFree(port, what) {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', () => reject(new Error(`port ${port} (${what}) is in use by another program`)));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(undefined)));
  });
}

/** A free TCP port on 127.0.0.1 (bound, then released). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const {port} = /** @type {net.AddressInfo} */ (probe.address());
      probe.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Spawns a binary, keeping the tail of its output for error messages (or echoing it with a
 * prefix when `SLOTPAY_STACK_LOGS=1`).
 */
function launch(name, bin, args, env) {
  const child = spawn(bin, args, {cwd: ROOT, env: {...process.env, ...env}, stdio: ['ignore', 'pipe', 'pipe']});
  const proc = {child, tail: '', exited: new Promise((resolve) => child.once('exit', resolve))};
  const echo = process.env.SLOTPAY_STACK_LOGS === '1';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    proc.tail = (proc.tail + chunk).slice(-6000);
    if (echo) process.stderr.write(chunk.replace(/^/gm, `[${name}] `));
  });
  return proc;
}

/** Stops a launched process (SIGTERM by default) and waits until it has exited. */
async function halt(proc, signal = 'SIGTERM') {
  if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill(signal);
  await proc.exited;
}

/** Polls `url` until it answers 200, or fails with the process's last output. */
async function waitHealthy(url, proc, what) {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (proc.child.exitCode !== null) {
      throw new Error(`${what} exited with ${proc.child.exitCode}:\n${proc.tail}`);
    }
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`${what} not healthy at ${url} after ${START_TIMEOUT_MS} ms:\n${proc.tail}`);
    await sleep(100);
  }
}

/** Starts stripe-sandbox on `port` and reads the url and keys it prints. */
async function startSandbox(port) {
  const proc = launch('sandbox', BIN.sandbox, ['--port', String(port)], {});
  let onExit;
  const values = await new Promise((resolve, reject) => {
    const found = {};
    let buffered = '';
    const timer = setTimeout(() => reject(new Error(`stripe-sandbox printed no url:\n${proc.tail}`)), START_TIMEOUT_MS);
    onExit = (code) => {
      clearTimeout(timer);
      reject(new Error(`stripe-sandbox exited with ${code}:\n${proc.tail}`));
    };
    proc.child.once('exit', onExit);
    proc.child.stdout.setEncoding('utf8');
    proc.child.stdout.on('data', (chunk) => {
      buffered += chunk;
      let newline;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        const eq = line.indexOf('=');
        if (eq > 0) found[line.slice(0, eq)] = line.slice(eq + 1);
      }
      if (found.url && found.publishable_key && found.secret_key && found.restricted_key) {
        clearTimeout(timer);
        resolve(found);
      }
    });
  });
  proc.child.off('exit', onExit);
  return {proc, url: values.url.replace(/\/+$/, '')};
}

/** A JSON request; throws with the answer's body when the status is not `expect`. */
async function call(method, url, {body, token, expect = [200, 201], headers = {}} = {}) {
  const response = await fetch(url, {
    method,
    headers: {
      ...(body === undefined ? {} : {'Content-Type': 'application/json'}),
      ...(token ? {Authorization: `Bearer ${token}`} : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const json = text ? JSON.parse(text) : null;
  if (!expect.includes(response.status)) {
    throw new Error(`${method} ${new URL(url).pathname} answered ${response.status}: ${text}`);
  }
  return json;
}

/**
 * Starts everything. Options (all optional): `dataDir` (the server's data directory, a fresh
 * temporary one by default, removed by `stop()`), `sandboxPort`, `serverPort`, `hostPorts:
 * {booking, salon}` (free ports by default), `adminToken` (random by default), `serverEnv`
 * (more `SLOTPAY_*` settings for the server), `bookingHoldSeconds` (how long the booking page's
 * checkouts hold their slot: 15 minutes by default, 60 at least), `mailPort` (the port
 * listing the emails sent, free by default).
 *
 * Origins: the server and the sandbox on `http://127.0.0.1:PORT`, the booking page on
 * `http://127.0.0.1:PORT` (another port: another origin), the salon on `http://localhost:PORT`.
 */
export async function startStack(options = {}) {
  ensureBuilt();
  const ownDataDir = !options.dataDir;
  const dataDir = options.dataDir
    ? path.resolve(ROOT, options.dataDir)
    : mkdtempSync(path.join(os.tmpdir(), 'slotpay-stack-'));
  mkdirSync(dataDir, {recursive: true});
  const ports = {
    sandbox: options.sandboxPort || (await freePort()),
    server: options.serverPort || (await freePort()),
    booking: options.hostPorts?.booking || (await freePort()),
    salon: options.hostPorts?.salon || (await freePort()),
  };
  for (const [what, port] of Object.entries(ports)) await assertFree(port, what);
  const serverUrl = `http://127.0.0.1:${ports.server}`;
  const bookingOrigin = `http://127.0.0.1:${ports.booking}`;
  const salonOrigin = `http://localhost:${ports.salon}`;
  const adminToken = options.adminToken || `adm_${randomBytes(24).toString('hex')}`;

  const sandbox = await startSandbox(ports.sandbox);
  // A real SMTP server for the emails slotpay sends (links, receipts), listed over HTTP.
  const sink = await startSmtpSink({httpPort: options.mailPort || 0});
  let server = null;
  const hosts = [];
  const stack = {
    sandbox: {url: sandbox.url, accountId: '', publishableKey: '', secretKey: '', restrictedKey: ''},
    server: {url: serverUrl, adminToken, dataDir},
    merchant: /** @type {any} */ (null),
    services: /** @type {Record<string, any>} */ ({}),
    link: /** @type {any} */ (null),
    bookingUrl: `${bookingOrigin}/`,
    salonUrl: `${salonOrigin}/`,
    origins: {booking: bookingOrigin, salon: salonOrigin},
    /** The emails the server sent, as the SMTP server received them (`GET` lists them as JSON). */
    mailsUrl: `http://127.0.0.1:${sink.httpPort}/mails`,
    /** The booking site's webhook endpoint at slotpay (`{id, url}`; its secret stays with the host). */
    bookingEndpoint: /** @type {{id: string, url: string} | null} */ (null),
    /** CSP violation reports the salon host received (`report-uri /csp-report`). */
    cspReports: /** @type {unknown[]} */ ([]),

    /** Starts the server process (again) on the same port and data directory. */
    async startServer() {
      if (server && server.child.exitCode === null && server.child.signalCode === null) return;
      server = launch('slotpay', BIN.server, ['serve'], {
        SLOTPAY_LISTEN: `127.0.0.1:${ports.server}`,
        SLOTPAY_PUBLIC_URL: serverUrl,
        SLOTPAY_DATA_DIR: dataDir,
        SLOTPAY_ADMIN_TOKEN: adminToken,
        SLOTPAY_STRIPE_API_BASE: sandbox.url,
        SLOTPAY_STRIPE_JS_URL: `${sandbox.url}/v3/`,
        SLOTPAY_WWW_DIR: path.join(ROOT, 'www'),
        SLOTPAY_LOG: 'json',
        // The booking site's webhook endpoint is on loopback, which slotpay refuses otherwise.
        SLOTPAY_WEBHOOK_ALLOW_PRIVATE: 'true',
        SLOTPAY_SMTP_URL: `smtp://127.0.0.1:${sink.smtpPort}`,
        SLOTPAY_MAIL_FROM: 'Salon Lumière <pay@salon.example>',
        ...(options.serverEnv || {}),
      });
      await waitHealthy(`${serverUrl}/healthz`, server, 'slotpay serve');
    },
    /** Stops the server: SIGTERM (graceful) or SIGKILL (a crash). */
    async stopServer(signal = 'SIGTERM') {
      if (server) await halt(server, signal);
    },
    /** Stops the server (SIGKILL by default: a crash) and starts it again on the same port and data. */
    async restartServer(signal = 'SIGKILL') {
      await stack.stopServer(signal);
      await stack.startServer();
    },
    /** The server's last log lines (JSON), for failure messages. */
    serverLog() {
      return server ? server.tail : '';
    },
    /** The platform API: `admin('POST', '/merchants', body)` → JSON. */
    admin(method, apiPath, body, expect) {
      return call(method, `${serverUrl}/v1/admin${apiPath}`, {body, token: adminToken, expect});
    },
    /** The sandbox's control API: `control('GET', '/counters')` → JSON. */
    control(method, apiPath, body) {
      return call(method, `${sandbox.url}/_sandbox${apiPath}`, {body});
    },
    /** Stops everything; removes the data directory when it was a temporary one. */
    async stop() {
      await Promise.all(hosts.map((h) => h.close()));
      if (server) await halt(server);
      await halt(sandbox.proc);
      await sink.close();
      if (ownDataDir) rmSync(dataDir, {recursive: true, force: true});
    },
  };

  try {
    await stack.startServer();
    await seed(stack);
    // Registered before the booking host listens: nothing is sent before a client pays, and
    // a delivery that finds no one is tried again.
    const platform = platformClient((method, apiPath, body) => stack.admin(method, apiPath, body));
    const endpoint = await platform.registerEndpoint({
      url: `${bookingOrigin}/slotpay-events`,
      events: BOOKING_EVENTS,
      merchant_id: stack.merchant.id,
      description: 'Bookly (demo booking site)',
    });
    stack.bookingEndpoint = {id: endpoint.id, url: endpoint.url};
    hosts.push(
      await startBookingHost({
        port: ports.booking,
        slotpayUrl: serverUrl,
        sandboxUrl: sandbox.url,
        // The booking site's backend calls the platform API with the admin token; the
        // browser never sees it.
        createCheckout: (input) => platform.createCheckout(stack.merchant.id, input),
        services: () => platform.services(stack.merchant.id),
        webhookSecret: endpoint.secret,
        holdSeconds: options.bookingHoldSeconds,
      }),
      await startSalonHost({
        port: ports.salon,
        slotpayUrl: serverUrl,
        sandboxUrl: sandbox.url,
        merchantId: stack.merchant.id,
        serviceId: stack.services.haircut.id,
        reports: stack.cspReports,
      }),
    );
  } catch (error) {
    await stack.stop().catch(() => {});
    throw error;
  }
  return stack;
}

/**
 * Seeds through the platform API: the merchant with the two demo origins, its integration in
 * Sandbox mode with a sandbox account of its own (restricted key, as slotpay recommends),
 * activated (webhook endpoint registered), two services and a payment link.
 */
async function seed(stack) {
  const account = await stack.control('POST', '/accounts', {
    country: 'FR',
    default_currency: 'eur',
    business_name: MERCHANT_NAME,
  });
  stack.sandbox.accountId = typeof account.account === 'string' ? account.account : account.account?.id;
  stack.sandbox.publishableKey = account.publishable_key;
  stack.sandbox.secretKey = account.secret_key;
  stack.sandbox.restrictedKey = account.restricted_key;

  const merchant = await stack.admin('POST', '/merchants', {
    name: MERCHANT_NAME,
    allowed_origins: [stack.origins.booking, stack.origins.salon],
    locale: 'en',
  });
  stack.merchant = merchant;
  await stack.admin('PUT', `/merchants/${merchant.id}/integration`, {
    publishable_key: account.publishable_key,
    secret_key: account.restricted_key,
    mode: 'sandbox',
  });
  const activated = await stack.admin('POST', `/merchants/${merchant.id}/integration/activate`);
  if (activated?.payments_available !== true) {
    throw new Error(`the integration did not activate: ${JSON.stringify(activated)}`);
  }
  stack.services.haircut = await stack.admin('POST', `/merchants/${merchant.id}/services`, {
    name: 'Haircut',
    price: '45.00',
    currency: 'eur',
    prepayment: {type: 'percent', percent: 30},
  });
  stack.services.colour = await stack.admin('POST', `/merchants/${merchant.id}/services`, {
    name: 'Colour',
    price: '120.00',
    currency: 'eur',
    prepayment: {type: 'fixed', amount: 2000},
    cancellation_fee: '30.00',
  });
  stack.link = await createCheckout(stack, {
    amount: 3500,
    currency: 'eur',
    description: 'Beard trim and hot towel',
    booking_ref: 'LINK-0001',
    link: true,
  });
}

/**
 * Creates a checkout through the platform API (`POST /v1/admin/merchants/{id}/checkouts`) for
 * the stack's merchant; `input` as the API takes it (`{amount, currency, description,
 * booking_ref, link, service_id, ...}`). Resolves to the API's answer (`token`, `url`, ...).
 */
export function createCheckout(stack, input) {
  return stack.admin('POST', `/merchants/${stack.merchant.id}/checkouts`, input);
}
