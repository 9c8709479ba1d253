/**
 * Gives each checkout token its own PaymentMethod, created with the publishable key as Stripe.js
 * would (`POST /v1/payment_methods`), and prints `token pm_...` lines for loadgen.mjs:
 *
 *   node tests/bench/payment-methods.mjs --stripe http://127.0.0.1:12111 --key pk_test_... \
 *        [--card 4242424242424242] < tokens.txt > tokens-with-pms.txt
 *
 * For servers that retrieve the PaymentMethod before charging (the brand check) on a sandbox that
 * does not resolve Stripe's `pm_card_*` test ids there, and to pay with what a browser sends.
 */
import {parseArgs} from 'node:util';

const {values} = parseArgs({
  options: {
    stripe: {type: 'string'},
    key: {type: 'string'},
    card: {type: 'string', default: '4242424242424242'},
    concurrency: {type: 'string', default: '16'},
  },
});
if (!values.stripe || !values.key?.startsWith('pk_')) {
  console.error('usage: node payment-methods.mjs --stripe STRIPE_API_URL --key pk_... [--card NUMBER] < tokens > out');
  process.exit(2);
}

let input = '';
for await (const chunk of process.stdin) input += chunk;
const tokens = input.split('\n').map((l) => l.trim().split(/\s+/)[0]).filter(Boolean);

async function createPaymentMethod() {
  const body = new URLSearchParams({
    type: 'card',
    'card[number]': values.card,
    'card[exp_month]': '12',
    'card[exp_year]': String(new Date().getFullYear() + 5),
    'card[cvc]': '123',
  });
  const response = await fetch(new URL('/v1/payment_methods', values.stripe), {
    method: 'POST',
    headers: {Authorization: `Bearer ${values.key}`, 'Content-Type': 'application/x-www-form-urlencoded'},
    body,
  });
  const json = await response.json();
  if (!response.ok) throw new Error(`creating a PaymentMethod failed: ${response.status} ${JSON.stringify(json.error)}`);
  return json.id;
}

const lines = new Array(tokens.length);
let next = 0;
async function worker() {
  while (next < tokens.length) {
    const i = next++;
    lines[i] = `${tokens[i]} ${await createPaymentMethod()}`;
  }
}
await Promise.all(Array.from({length: Number(values.concurrency)}, worker));
process.stdout.write(`${lines.join('\n')}\n`);
