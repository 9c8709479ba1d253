/**
 * The pieces `./dev bench` (run.mjs) starts and measures: the release stripe-sandbox, the release
 * `slotpay` server (SQLite or PostgreSQL) with a merchant seeded through the platform API, the
 * reference server, checkouts on either with their own PaymentMethods, and the memory of a
 * process tree (`/proc/<pid>/status` VmHWM, reset through `clear_refs` before a measured run).
 *
 * Every process logs to a file in the run's directory (not to a pipe this process would have to
 * drain while it generates load). Secrets (the admin token, Stripe keys) go to the processes by
 * environment and are never printed.
 */
import {spawn, spawnSync} from 'node:child_process';
import {randomBytes} from 'node:crypto';
import {closeSync, openSync, readdirSync, readFileSync, writeFileSync} from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, '../..');
export const BIN = {
  sandbox: process.env.STRIPE_SANDBOX_BIN || path.join(ROOT, 'target', 'release', 'stripe-sandbox'),
  slotpay: process.env.SLOTPAY_BIN || path.join(ROOT, 'target', 'release', 'slotpay'),
  floor: process.env.SLOTPAY_FLOOR_BIN || path.join(ROOT, 'target', 'release', 'examples', 'pay_floor'),
};
/** The checkouts both servers are paid on: the reference seeds the same by default. */
export const CHECKOUT = {amount: 2500, currency: 'usd', description: 'Haircut'};
/**
 * The bench server's public rate limits (`SLOTPAY_RATE_LIMIT_*`, `<per second>,<burst>`): one
 * load generator on one IP would otherwise be answered 429 after 30 requests.
 */
export const BENCH_RATE_LIMIT = '1000000,1000000';
const START_TIMEOUT_MS = 30_000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A free TCP port on 127.0.0.1 (bound, then released). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const {port} = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Spawns `bin` with its stderr in `logFile`; resolves once its stdout has printed every
 * `key=value` line named in `keys` (none: at once). Resolves to `{pid, values, log, stop()}`.
 */
export function launch(bin, args, {env = {}, logFile, keys = []} = {}) {
  const log = openSync(logFile, 'a');
  const child = spawn(bin, args, {cwd: ROOT, env: {...process.env, ...env}, stdio: ['ignore', 'pipe', log]});
  closeSync(log);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const proc = {
    pid: child.pid,
    child,
    values: {},
    log: logFile,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
  child.stdout.setEncoding('utf8');
  let buffered = '';
  const seen = new Promise((resolve, reject) => {
    const tail = () => readFileSync(logFile, 'utf8').slice(-3000);
    const timer = setTimeout(() => reject(new Error(`${path.basename(bin)} printed no ${keys.join(', ')} in ${START_TIMEOUT_MS} ms:\n${tail()}`)), START_TIMEOUT_MS);
    const check = () => {
      if (keys.every((k) => k in proc.values)) {
        clearTimeout(timer);
        resolve(proc);
      }
    };
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${path.basename(bin)} exited with ${code}:\n${tail()}`));
    });
    child.stdout.on('data', (chunk) => {
      buffered += chunk;
      let nl;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        const eq = line.indexOf('=');
        if (eq > 0) proc.values[line.slice(0, eq)] = line.slice(eq + 1);
      }
      check();
    });
    check();
  });
  return seen;
}

/** Polls `url` until it answers 200 (or the process exits). */
async function waitHealthy(url, proc) {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (proc.child.exitCode !== null) throw new Error(`exited with ${proc.child.exitCode}:\n${readFileSync(proc.log, 'utf8').slice(-3000)}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`${url} not healthy after ${START_TIMEOUT_MS} ms`);
    await sleep(50);
  }
}

/** A JSON request; throws with the answer when the status is not 2xx. */
export async function call(method, url, {body, token} = {}) {
  const response = await fetch(url, {
    method,
    headers: {
      ...(body === undefined ? {} : {'Content-Type': 'application/json'}),
      ...(token ? {Authorization: `Bearer ${token}`} : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${new URL(url).pathname} answered ${response.status}: ${text.slice(0, 500)}`);
  return text ? JSON.parse(text) : null;
}

/** A fresh release sandbox on a free port: `{url, publishableKey, secretKey, pid, stop()}`. */
export async function startSandbox(dir) {
  const proc = await launch(BIN.sandbox, ['--port', '0'], {
    env: {STRIPE_SANDBOX_LOG: 'warn'},
    logFile: path.join(dir, `sandbox-${Date.now()}.log`),
    keys: ['url', 'publishable_key', 'secret_key'],
  });
  return {
    url: proc.values.url.replace(/\/+$/, ''),
    publishableKey: proc.values.publishable_key,
    secretKey: proc.values.secret_key,
    pid: proc.pid,
    stop: proc.stop,
  };
}

/**
 * The release `slotpay` server against `sandbox`, on a fresh data directory in `dir`
 * (SQLite there unless `databaseUrl` is given), with the bench rate limits, then a merchant
 * allowing `origins`, in Sandbox mode with the sandbox's keys and a pasted signing secret (so
 * no webhook endpoint is registered and the sandbox sends no webhooks during the load: the
 * reference handles none either). Resolves to `{url, pid, merchantId, adminToken, stop()}`.
 */
export async function startSlotpay(dir, sandbox, {databaseUrl, origins = [], label = 'slotpay'} = {}) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const adminToken = `bench_${randomBytes(24).toString('hex')}`;
  const dataDir = path.join(dir, `${label}-data-${Date.now()}`);
  const env = {
    SLOTPAY_LISTEN: `127.0.0.1:${port}`,
    SLOTPAY_PUBLIC_URL: url,
    SLOTPAY_DATA_DIR: dataDir,
    SLOTPAY_ADMIN_TOKEN: adminToken,
    SLOTPAY_STRIPE_API_BASE: sandbox.url,
    SLOTPAY_STRIPE_JS_URL: `${sandbox.url}/v3/`,
    SLOTPAY_WWW_DIR: path.join(ROOT, 'www'),
    SLOTPAY_LOG: 'json',
    SLOTPAY_RATE_LIMIT_IP: BENCH_RATE_LIMIT,
    SLOTPAY_RATE_LIMIT_MERCHANT: BENCH_RATE_LIMIT,
    SLOTPAY_DATABASE_URL: databaseUrl ?? '',
  };
  const proc = await launch(BIN.slotpay, ['serve'], {env, logFile: path.join(dir, `${label}-${Date.now()}.log`)});
  try {
    await waitHealthy(`${url}/healthz`, proc);
    const admin = (method, p, body) => call(method, `${url}/v1/admin${p}`, {body, token: adminToken});
    const merchant = await admin('POST', '/merchants', {name: 'Salon Bench', allowed_origins: origins, locale: 'en'});
    await admin('PUT', `/merchants/${merchant.id}/integration`, {
      publishable_key: sandbox.publishableKey,
      secret_key: sandbox.secretKey,
      webhook_secret: `whsec_${randomBytes(24).toString('hex')}`,
      mode: 'sandbox',
    });
    await admin('POST', `/merchants/${merchant.id}/integration/activate`);
    return {url, pid: proc.pid, merchantId: merchant.id, adminToken, admin, stop: proc.stop};
  } catch (error) {
    await proc.stop();
    throw error;
  }
}

/**
 * The pay floor (`server/examples/pay_floor.rs`: slotpay's HTTP stack and Stripe client making
 * the three Stripe calls of a payment, nothing else) against `sandbox` on a free port. Resolves
 * to `{url, pid, stop()}`.
 */
export async function startFloor(dir, sandbox) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = await launch(BIN.floor, [`127.0.0.1:${port}`], {
    env: {FLOOR_STRIPE_API_BASE: sandbox.url, FLOOR_STRIPE_KEY: sandbox.secretKey},
    logFile: path.join(dir, `floor-${Date.now()}.log`),
  });
  try {
    await waitHealthy(`${url}/healthz`, proc);
  } catch (error) {
    await proc.stop();
    throw error;
  }
  return {url, pid: proc.pid, stop: proc.stop};
}

/** `count` checkouts made through slotpay's platform API, `concurrency` at a time: their tokens. */
export async function seedSlotpay(slotpay, count, concurrency = 8) {
  const tokens = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const made = await slotpay.admin('POST', `/merchants/${slotpay.merchantId}/checkouts`, CHECKOUT);
      tokens[i] = made.token;
    }
  };
  await Promise.all(Array.from({length: concurrency}, worker));
  return tokens;
}

/** `count` checkouts on the reference server (`POST /bench/checkouts`, in batches): tokens. */
export async function seedReference(url, count) {
  const tokens = [];
  while (tokens.length < count) {
    const batch = Math.min(10_000, count - tokens.length);
    const made = await call('POST', `${url}/bench/checkouts`, {body: {count: batch, ...CHECKOUT, currency: CHECKOUT.currency}});
    tokens.push(...made.tokens);
  }
  return tokens;
}

/**
 * Writes `token pm_...` lines to `file`: each token gets its own PaymentMethod on `sandbox`
 * (payment-methods.mjs, as Stripe.js would make them).
 */
export function writeTokensWithPaymentMethods(file, tokens, sandbox) {
  const made = spawnSync(
    process.execPath,
    [path.join(HERE, 'payment-methods.mjs'), '--stripe', sandbox.url, '--key', sandbox.publishableKey, '--concurrency', '8'],
    {input: `${tokens.join('\n')}\n`, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024},
  );
  if (made.status !== 0) throw new Error(`payment-methods.mjs failed: ${made.stderr}`);
  writeFileSync(file, made.stdout);
  return file;
}

/** The pids of `pid` and its descendants (a cluster's workers). */
export function processTree(pid) {
  const children = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // Fields after the parenthesised command: state, ppid, ...
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(name));
    } catch {
      // Exited meanwhile.
    }
  }
  const all = [pid];
  for (let i = 0; i < all.length; i++) all.push(...(children.get(all[i]) ?? []));
  return all;
}

/** Resets the peak RSS (VmHWM) of a process tree, so the next reading is this run's peak. */
export function resetPeakRss(pid) {
  for (const p of processTree(pid)) {
    try {
      writeFileSync(`/proc/${p}/clear_refs`, '5');
    } catch {
      // Not ours or gone: its peak then counts from its start.
    }
  }
}

/** The peak RSS of a process tree in bytes (the sum of each process's VmHWM). */
export function peakRss(pid) {
  let kb = 0;
  for (const p of processTree(pid)) {
    try {
      const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      if (match) kb += Number(match[1]);
    } catch {
      // Gone.
    }
  }
  return kb * 1024;
}

/** CPU seconds a process tree has used so far, in user space and in the kernel. */
export function cpuTimes(pid) {
  let user = 0;
  let system = 0;
  for (const p of processTree(pid)) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      // After the command: state is field 3; utime and stime are fields 14 and 15.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      user += Number(fields[11]);
      system += Number(fields[12]);
    } catch {
      // Gone.
    }
  }
  // USER_HZ is 100 on Linux.
  return {user: user / 100, system: system / 100};
}

/** CPU seconds (user + system) a process tree has used so far. */
export function cpuSeconds(pid) {
  const t = cpuTimes(pid);
  return t.user + t.system;
}

/** The machine: cores, CPU model, load average now. */
export function machine() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? 'unknown';
  const nproc = spawnSync('nproc', {encoding: 'utf8'}).stdout.trim();
  return {nproc: Number(nproc), cpu: model, load: loadAverage()};
}

/** `[1 min, 5 min, 15 min]` load averages. */
export function loadAverage() {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
}
