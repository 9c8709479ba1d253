/**
 * Starts the stripe-sandbox binary for a browser test: `target/debug/stripe-sandbox --port 0`
 * (built with `cargo build -p stripe-sandbox` when missing or stale), reading the `url=`,
 * `publishable_key=`, `secret_key=` and `restricted_key=` lines it prints on stdout.
 *
 * `STRIPE_SANDBOX_BIN` may name another executable with the same command line (a release build).
 */
import {spawn, spawnSync} from 'node:child_process';
import {existsSync, readdirSync, statSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

/** A running sandbox and the keys it created. */
export interface Sandbox {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  url: string;
  publishableKey: string;
  secretKey: string;
  restrictedKey: string;
  /** Stops the process and waits for it to exit. */
  stop(): Promise<void>;
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const DEFAULT_BIN = path.join(ROOT, 'target', 'debug', 'stripe-sandbox');
const START_TIMEOUT_MS = 15_000;

/** The newest modification time of the files under `dir` (recursively). */
function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, {withFileTypes: true})) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

/**
 * Builds the debug binary when it is missing or older than the sandbox's sources: the Stripe.js
 * assets are embedded at compile time, so a stale binary would test old JavaScript. (A cold build
 * takes minutes.)
 */
export function ensureSandboxBuilt(): string {
  const override = process.env.STRIPE_SANDBOX_BIN;
  if (override) {
    if (!existsSync(override)) throw new Error(`STRIPE_SANDBOX_BIN=${override} does not exist`);
    return override;
  }
  const bin = DEFAULT_BIN;
  const sources = ['src', 'assets', 'Cargo.toml'].map((p) => path.join(ROOT, 'sandbox', p));
  const newestSource = Math.max(
    ...sources.map((p) => (statSync(p).isDirectory() ? newestMtime(p) : statSync(p).mtimeMs)),
  );
  if (existsSync(bin) && statSync(bin).mtimeMs >= newestSource) return bin;
  const build = spawnSync('cargo', ['build', '-p', 'stripe-sandbox'], {cwd: ROOT, stdio: 'inherit'});
  if (build.status !== 0 || !existsSync(bin)) {
    throw new Error(`cargo build -p stripe-sandbox failed (status ${build.status})`);
  }
  return bin;
}

/** Spawns the sandbox on a free port and resolves once it has printed its URL and keys. */
export function startSandbox(): Promise<Sandbox> {
  const bin = ensureSandboxBuilt();
  const child = spawn(bin, ['--port', '0'], {cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe']});
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    // Keep the tail only: the sandbox logs every request.
    stderr = (stderr + chunk).slice(-4000);
  });

  return new Promise<Sandbox>((resolve, reject) => {
    const values: Record<string, string> = {};
    let buffered = '';
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`stripe-sandbox did not start: ${why}\nstderr:\n${stderr}`));
    };
    const timer = setTimeout(() => fail(`no url and keys within ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS);
    const onExit = (code: number | null) => fail(`exited with ${code}`);
    child.once('error', (e) => fail(String(e)));
    child.once('exit', onExit);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        const eq = line.indexOf('=');
        if (eq > 0) values[line.slice(0, eq)] = line.slice(eq + 1);
      }
      const {url, publishable_key, secret_key, restricted_key} = values;
      if (url && publishable_key && secret_key && restricted_key) {
        clearTimeout(timer);
        child.off('exit', onExit);
        resolve({
          url: url.replace(/\/+$/, ''),
          publishableKey: publishable_key,
          secretKey: secret_key,
          restrictedKey: restricted_key,
          async stop() {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
            await exited;
          },
        });
      }
    });
  });
}
