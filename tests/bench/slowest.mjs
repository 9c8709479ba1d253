/**
 * Where the slowest requests waited: reads a slotpay server log written as JSON lines
 * (`SLOTPAY_LOG=json`) with its own and sqlx's debug events on
 * (`RUST_LOG=info,sqlx::query=debug,slotpay_server=debug`), and prints, for the slowest
 * requests of one route, each event inside the request's time span: when it came after the
 * request started, the gap since the event before it, and sqlx's own `elapsed` for statements.
 * A gap much longer than the step's own time is time the request was ready and not running.
 *
 *   node tests/bench/slowest.mjs LOG [--route /pay] [--count 5] [--skip 400]
 *
 * The log names no request on its events, so a request's events are the ones inside its span
 * (`request done` less its `latency_ms`): read it at a rate where requests seldom overlap
 * (200 requests/s against requests of about 2 ms), and read overlapping ones with care.
 */
import {readFileSync} from 'node:fs';
import {parseArgs} from 'node:util';

/**
 * The `count` slowest requests whose route contains `route` (after the first `skip`, the
 * warm-up), slowest first: `{latency_ms, steps: [{at_ms, gap_ms, what, elapsed_ms}]}`.
 */
export function slowestRequests(lines, {route = '/pay', count = 5, skip = 0} = {}) {
  // Milliseconds since the first event: epoch milliseconds with microseconds would need more
  // digits than a double keeps.
  const events = [];
  let origin = null;
  for (const line of lines) {
    if (!line.startsWith('{')) continue;
    const e = JSON.parse(line);
    const ms = Date.parse(e.timestamp);
    origin ??= ms;
    events.push({at: ms - origin + microseconds(e.timestamp) / 1000, e});
  }
  const done = events
    .filter(({e}) => e.message === 'request done' && String(e.span?.route ?? '').includes(route))
    .slice(skip)
    .sort((a, b) => b.e.latency_ms - a.e.latency_ms)
    .slice(0, count);
  return done.map(({at, e}) => {
    const start = at - e.latency_ms;
    let previous = start;
    const steps = [];
    for (const {at: t, e: x} of events) {
      if (t < start || t > at) continue;
      steps.push({
        at_ms: t - start,
        gap_ms: t - previous,
        what: [x.summary ?? x.message, x.span?.op].filter(Boolean).join(' '),
        elapsed_ms: typeof x.elapsed_secs === 'number' ? x.elapsed_secs * 1000 : null,
      });
      previous = t;
    }
    return {latency_ms: e.latency_ms, steps};
  });
}

/** The sub-millisecond digits of an RFC 3339 timestamp (Date.parse keeps milliseconds only). */
function microseconds(timestamp) {
  const fraction = /\.(\d+)/.exec(timestamp)?.[1] ?? '';
  return Number(fraction.slice(3, 6).padEnd(3, '0'));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const {values, positionals} = parseArgs({
    allowPositionals: true,
    options: {route: {type: 'string'}, count: {type: 'string'}, skip: {type: 'string'}},
  });
  if (positionals.length !== 1) {
    console.error('usage: node tests/bench/slowest.mjs LOG [--route /pay] [--count 5] [--skip 400]');
    process.exit(2);
  }
  const lines = readFileSync(positionals[0], 'utf8').split('\n');
  const options = {route: values.route, count: Number(values.count ?? 5), skip: Number(values.skip ?? 0)};
  for (const r of slowestRequests(lines, options)) {
    console.log(`--- ${r.latency_ms.toFixed(2)} ms`);
    for (const s of r.steps) {
      const own = s.elapsed_ms === null ? '' : `  (statement ${s.elapsed_ms.toFixed(3)} ms)`;
      console.log(`  +${s.at_ms.toFixed(3)}  gap ${s.gap_ms.toFixed(3)}  ${s.what.slice(0, 60)}${own}`);
    }
  }
}
