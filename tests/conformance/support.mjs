/**
 * Shared helpers of the conformance tests: start the stripe-sandbox binary
 * (`target/debug/stripe-sandbox --port 0`, built when missing) and read the `url=` and key lines
 * it prints; point the official `stripe` SDK at it; receive webhooks on a tiny Node HTTP server.
 */
import {spawn, spawnSync} from 'node:child_process';
import {existsSync} from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import Stripe from 'stripe';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = process.env.STRIPE_SANDBOX_BIN || path.join(ROOT, 'target', 'debug', 'stripe-sandbox');

function ensureBuilt() {
  if (existsSync(BIN)) return BIN;
  const build = spawnSync('cargo', ['build', '-p', 'stripe-sandbox'], {cwd: ROOT, stdio: 'inherit'});
  if (build.status !== 0 || !existsSync(BIN)) throw new Error('cargo build -p stripe-sandbox failed');
  return BIN;
}

/**
 * Starts a sandbox on a free port. Resolves to
 * `{url, port, publishableKey, secretKey, restrictedKey, control(path, body), stop()}`.
 */
export function startSandbox(extraArgs = ['--webhook-retry-ms', '50']) {
  const bin = ensureBuilt();
  const child = spawn(bin, ['--port', '0', ...extraArgs], {cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe']});
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (c) => {
    stderr = (stderr + c).slice(-4000);
  });
  return new Promise((resolve, reject) => {
    const values = {};
    let buffered = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`stripe-sandbox printed no keys within 15 s\n${stderr}`));
    }, 15_000);
    const onExit = (code) => {
      clearTimeout(timer);
      reject(new Error(`stripe-sandbox exited with ${code}\n${stderr}`));
    };
    child.once('exit', onExit);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      buffered += chunk;
      let nl;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        const eq = line.indexOf('=');
        if (eq > 0) values[line.slice(0, eq)] = line.slice(eq + 1);
      }
      if (values.url && values.publishable_key && values.secret_key && values.restricted_key) {
        clearTimeout(timer);
        child.off('exit', onExit);
        const url = values.url;
        resolve({
          url,
          port: Number(new URL(url).port),
          publishableKey: values.publishable_key,
          secretKey: values.secret_key,
          restrictedKey: values.restricted_key,
          /** POSTs JSON to the control API and returns the parsed answer. */
          async control(p, body = {}) {
            const r = await fetch(url + p, {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify(body)});
            return r.json();
          },
          async controlGet(p) {
            return (await fetch(url + p)).json();
          },
          async stop() {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
            await exited;
          },
        });
      }
    });
  });
}

/** The official SDK pointed at the sandbox. */
export function stripeFor(sb, key = sb.secretKey, options = {}) {
  return new Stripe(key, {host: '127.0.0.1', port: sb.port, protocol: 'http', telemetry: false, ...options});
}

/**
 * A webhook receiver on a free port: `{url, deliveries: [{body, signature}], waitFor(n), close()}`.
 * It keeps the raw body, as signature verification needs.
 */
export async function webhookServer() {
  const deliveries = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      deliveries.push({body: Buffer.concat(chunks).toString('utf8'), signature: req.headers['stripe-signature']});
      res.writeHead(200, {'content-type': 'application/json'});
      res.end('{"received":true}');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const {port} = server.address();
  return {
    url: `http://127.0.0.1:${port}/webhooks`,
    deliveries,
    async waitFor(predicate, ms = 5000) {
      const deadline = Date.now() + ms;
      while (!predicate(deliveries)) {
        if (Date.now() > deadline) throw new Error(`timed out; got ${deliveries.length} deliveries`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return deliveries;
    },
    close() {
      server.closeAllConnections?.();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}
