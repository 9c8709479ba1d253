/**
 * Starts the reference server. Configured by the environment:
 *   PORT (default 8090; 0 picks a free port), HOST (default 127.0.0.1),
 *   DATABASE_URL (postgres://..., required), PG_POOL_MAX (connections per process, default 10),
 *   STRIPE_SECRET_KEY (required), STRIPE_API_BASE (default https://api.stripe.com; the sandbox's URL),
 *   STRIPE_PUBLISHABLE_KEY and STRIPE_JS_URL (for the checkout view; the JS URL defaults to the
 *   sandbox's /v3/ when STRIPE_API_BASE is not Stripe's), CORS_ORIGINS (comma-separated),
 *   WORKERS (processes sharing the port through node:cluster, default 1).
 * Prints `url=http://HOST:PORT` on stdout once it listens, like stripe-sandbox.
 */
import cluster from 'node:cluster';
import pg from 'pg';
import {createApp, migrate, stripeClient} from './app.mjs';

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`${name} is required`);
    process.exit(2);
  }
  return value;
}

const env = process.env;
const databaseUrl = required('DATABASE_URL');
const secretKey = required('STRIPE_SECRET_KEY');
const apiBase = env.STRIPE_API_BASE || 'https://api.stripe.com';
const workers = Number(env.WORKERS || 1);
const host = env.HOST || '127.0.0.1';

if (cluster.isPrimary) {
  // Tables first, once, then the workers (or this process) serve.
  const pool = new pg.Pool({connectionString: databaseUrl, max: 1});
  await migrate(pool);
  await pool.end();
}

if (cluster.isPrimary && workers > 1) {
  let printed = false;
  cluster.on('listening', (worker, address) => {
    if (!printed) {
      printed = true;
      console.log(`url=http://${host}:${address.port}`);
    }
  });
  cluster.on('exit', (worker, code, signal) => {
    if (code !== 0) console.error(`worker ${worker.process.pid} exited (${signal ?? code})`);
  });
  // Port 0 in a cluster: the first worker's port is shared by the others (cluster's round robin).
  for (let i = 0; i < workers; i++) cluster.fork();
  // Each worker stops itself on the signal; the primary exits when they all have.
  const stop = () => {
    for (const worker of Object.values(cluster.workers)) process.kill(worker.process.pid, 'SIGTERM');
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else {
  const pool = new pg.Pool({connectionString: databaseUrl, max: Number(env.PG_POOL_MAX || 10)});
  pool.on('error', (error) => console.error('postgres:', error.message));
  const stripe = stripeClient(secretKey, apiBase);
  const stripeJsUrl = env.STRIPE_JS_URL || (new URL(apiBase).hostname === 'api.stripe.com' ? 'https://js.stripe.com/v3/' : new URL('/v3/', apiBase).href);
  const app = createApp({
    pool,
    stripe,
    config: {
      publishableKey: env.STRIPE_PUBLISHABLE_KEY,
      stripeJsUrl,
      corsOrigins: (env.CORS_ORIGINS || '').split(',').map((s) => s.trim()).filter(Boolean),
    },
  });
  const server = app.listen(Number(env.PORT ?? 8090), host, () => {
    if (cluster.isPrimary) console.log(`url=http://${host}:${server.address().port}`);
  });
  // Keep idle keep-alive connections longer than load generators' gaps.
  server.keepAliveTimeout = 65_000;
  // A benchmark server: stop at once, dropping idle keep-alive connections.
  const stop = () => {
    server.close();
    server.closeAllConnections();
    pool.end().finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
