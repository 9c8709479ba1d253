#!/usr/bin/env node
/**
 * `./dev demo` (after the build): the whole stack on fixed loopback ports with a freshly seeded
 * demo merchant, until Ctrl-C. Every run starts clean: the sandbox keeps its state in memory,
 * so a merchant stored by a previous run would hold keys the new sandbox does not know; the
 * data directory `.data/demo` is therefore emptied and the merchant seeded again.
 *
 * Ports (environment): SLOTPAY_DEMO_PORT (slotpay, 8080), SANDBOX_DEMO_PORT (12111),
 * BOOKING_DEMO_PORT (8081), SALON_DEMO_PORT (8082). SLOTPAY_ADMIN_TOKEN picks the platform
 * API's token (random otherwise; it is not printed).
 */
import {rmSync} from 'node:fs';
import path from 'node:path';

import {ROOT, startStack} from '../tests/support/stack.mjs';

const port = (name, fallback) => Number(process.env[name] || fallback);
const dataDir = path.join(ROOT, '.data', 'demo');
rmSync(dataDir, {recursive: true, force: true});

let stack;
try {
  stack = await startStack({
    dataDir,
    serverPort: port('SLOTPAY_DEMO_PORT', 8080),
    sandboxPort: port('SANDBOX_DEMO_PORT', 12111),
    hostPorts: {booking: port('BOOKING_DEMO_PORT', 8081), salon: port('SALON_DEMO_PORT', 8082)},
    mailPort: port('MAIL_DEMO_PORT', 8083),
    adminToken: process.env.SLOTPAY_ADMIN_TOKEN,
  });
} catch (error) {
  console.error(`demo: ${error.message}`);
  process.exit(1);
}

const bold = (text) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);
console.log(`
${bold('slotpay demo')}: ${stack.merchant.name} (${stack.merchant.id}), Sandbox mode, services ${Object.values(stack.services)
  .map((s) => s.name)
  .join(' and ')}.

  Booking page (the platform)       ${stack.bookingUrl}
  Salon's own page (script tag)     ${stack.salonUrl}
  Payment link                      ${stack.link.url}
  slotpay server                    ${stack.server.url}/healthz
  API reference                     ${stack.server.url}/docs
  Stripe sandbox (offline Stripe)   ${stack.sandbox.url}/_sandbox/health
  Emails sent (an SMTP server)      ${stack.mailsUrl}

Pay with ${bold('4242 4242 4242 4242')}, any future date, any CVC.
Declined: 4000 0000 0000 0002 · 3-D Secure: 4000 0027 6000 3184 (then Complete or Fail).
Data: ${path.relative(ROOT, dataDir)} (emptied at each start). Ctrl-C stops everything.
`);

let stopping = false;
async function stop(signal) {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping the demo…`);
  await stack.stop();
  process.exit(0);
}
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
