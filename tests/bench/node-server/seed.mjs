/**
 * Seeds fresh open checkouts on a running reference server and prints their tokens, one per
 * line, for the load generator:
 *
 *   node seed.mjs http://127.0.0.1:8090 5000 [--amount 2500] [--currency usd] > tokens.txt
 *
 * Batches of 10,000 per request (the server's limit is 100,000).
 */
import {parseArgs} from 'node:util';

const {positionals, values} = parseArgs({
  allowPositionals: true,
  options: {amount: {type: 'string', default: '2500'}, currency: {type: 'string', default: 'usd'}},
});
const [base, countText] = positionals;
const count = Number(countText);
if (!base || !Number.isInteger(count) || count < 1) {
  console.error('usage: node seed.mjs SERVER_URL COUNT [--amount 2500] [--currency usd]');
  process.exit(2);
}

/** POSTs `/bench/checkouts` for up to `count` checkouts; resolves to their tokens. */
async function seed(url, n, {amount = 2500, currency = 'usd'} = {}) {
  const tokens = [];
  while (tokens.length < n) {
    const batch = Math.min(10_000, n - tokens.length);
    const response = await fetch(new URL('/bench/checkouts', url), {
      method: 'POST',
      headers: {'content-type': 'application/json'},
      body: JSON.stringify({count: batch, amount, currency}),
    });
    if (response.status !== 201) throw new Error(`seeding failed: ${response.status} ${await response.text()}`);
    tokens.push(...(await response.json()).tokens);
  }
  return tokens;
}

const tokens = await seed(base, count, {amount: Number(values.amount), currency: values.currency});
process.stdout.write(`${tokens.join('\n')}\n`);
