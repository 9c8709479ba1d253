// End-to-end tests in Debian's Chromium (browsers cannot be downloaded on these machines).
// The widget's tests start the whole stack (stripe-sandbox, the slotpay server, the demo sites)
// once per worker from tests/support/stack.mjs, on free loopback ports: one worker, since the
// tests share it and one of them kills and restarts the server. Build first (`./dev build`).
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: 'tests/e2e',
  outputDir: 'tests/artifacts/results',
  workers: 1,
  timeout: 60_000,
  // A paid state comes after Stripe.js, the pay call and the sandbox: allow a loaded machine.
  expect: { timeout: 10_000 },
  reporter: [['list']],
  use: {
    headless: true,
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
});
