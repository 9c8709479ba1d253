/**
 * slowest.mjs on a made-up server log: the slowest request of the route is found, its own
 * events (and no other request's) are its steps, and a long wait shows as the gap before the
 * step that ended it, beside the statement's own short time.
 * Run: node --test tests/bench/slowest.test.mjs
 */
import assert from 'node:assert/strict';
import {describe, it} from 'node:test';

import {slowestRequests} from './slowest.mjs';

/** A log line at `ms` milliseconds (microsecond precision) past a fixed second. */
function line(ms, fields) {
  const micros = String(Math.round(ms * 1000)).padStart(6, '0');
  return JSON.stringify({timestamp: `2026-12-05T12:00:00.${micros}Z`, ...fields});
}
const statement = (ms, summary, elapsed) => line(ms, {summary, elapsed_secs: elapsed / 1000});
const done = (ms, latency, route = '/v1/checkouts/{token}/pay') =>
  line(ms, {message: 'request done', latency_ms: latency, span: {route}});

const LOG = [
  'not json: a line the server printed before its logger',
  // A quick payment: 1 ms.
  statement(0.2, 'SELECT token …', 0.05),
  done(1.0, 1.0),
  // A slow one: 5 ms, of which 3.5 ms waited before a 0.04 ms statement.
  statement(10.3, 'SELECT token …', 0.05),
  line(10.8, {message: 'Stripe answered', span: {op: 'confirm_payment_intent'}}),
  statement(14.3, 'UPDATE checkouts …', 0.04),
  done(15.0, 5.0),
  // Another route, slower still: not a payment.
  done(40.0, 9.0, '/healthz'),
];

describe('slowest requests', () => {
  it('finds the slowest payment and shows where it waited', () => {
    const [slowest, next] = slowestRequests(LOG, {route: '/pay', count: 2});
    assert.equal(slowest.latency_ms, 5.0);
    assert.equal(next.latency_ms, 1.0);
    assert.deepEqual(slowest.steps.map((s) => s.what), ['SELECT token …', 'Stripe answered confirm_payment_intent', 'UPDATE checkouts …', 'request done']);
    const update = slowest.steps[2];
    assert.ok(Math.abs(update.gap_ms - 3.5) < 1e-6, `gap ${update.gap_ms}`);
    assert.ok(Math.abs(update.elapsed_ms - 0.04) < 1e-9);
    assert.ok(Math.abs(slowest.steps[0].at_ms - 0.3) < 1e-6, `at ${slowest.steps[0].at_ms}`);
  });

  it('skips the warm-up and counts only the route', () => {
    const found = slowestRequests(LOG, {route: '/pay', count: 5, skip: 1});
    assert.deepEqual(found.map((r) => r.latency_ms), [5.0]);
  });
});
