/**
 * Shared helpers of the bench tests: a fresh PostgreSQL database on SLOTPAY_TEST_POSTGRES_URL's
 * cluster, the reference server started as a child process (as the benchmark starts it), and
 * seeding checkouts on it.
 */
import {spawn} from 'node:child_process';
import {randomUUID} from 'node:crypto';
import pg from 'pg';

export const PG_URL = process.env.SLOTPAY_TEST_POSTGRES_URL;
// `./dev test` requires PostgreSQL (SLOTPAY_REQUIRE_POSTGRES=1): there, its tests fail instead of skipping.
if (!PG_URL && process.env.SLOTPAY_REQUIRE_POSTGRES === '1') {
  throw new Error('SLOTPAY_REQUIRE_POSTGRES=1 but SLOTPAY_TEST_POSTGRES_URL is unset');
}
/** A `skip` value for tests that need PostgreSQL. */
export const SKIP_WITHOUT_PG = PG_URL ? false : 'SLOTPAY_TEST_POSTGRES_URL is unset: run `./dev pg` and export the URL it prints';

/** A new, empty database on the test cluster: `{url, drop()}`. */
export async function freshDatabase() {
  const name = `bench_ref_${randomUUID().replaceAll('-', '')}`;
  const admin = new pg.Client({connectionString: PG_URL});
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  return {
    url: url.href,
    async drop() {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

/** Starts node-server/server.mjs on a free port; resolves to `{url, stderr(), stop()}`. */
export function startReferenceServer(env) {
  const child = spawn(process.execPath, [new URL('./node-server/server.mjs', import.meta.url).pathname], {
    env: {...process.env, PORT: '0', ...env},
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c) => (stderr += c));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server printed no url within 15 s\n${stderr}`)), 15_000);
    child.once('exit', (code) => reject(new Error(`server exited with ${code}\n${stderr}`)));
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /^url=(\S+)$/m.exec(out);
      if (!match) return;
      clearTimeout(timer);
      resolve({
        url: match[1],
        pid: child.pid,
        stderr: () => stderr,
        async stop() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          await exited;
        },
      });
    });
  });
}

/** Seeds open checkouts on the reference server; resolves to their tokens. */
export async function seedCheckouts(serverUrl, body = {}) {
  const response = await fetch(`${serverUrl}/bench/checkouts`, {
    method: 'POST',
    headers: {'content-type': 'application/json'},
    body: JSON.stringify({count: 1, ...body}),
  });
  if (response.status !== 201) throw new Error(`seeding failed: ${response.status} ${await response.text()}`);
  return (await response.json()).tokens;
}
