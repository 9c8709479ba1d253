/**
 * The reference server's HTTP API: the same public checkout routes as slotpay
 * (`GET /v1/checkouts/:token`, `POST .../pay`, `POST .../refresh`) with the same answers and
 * database writes on the pay path, written the way a competent Express team would write them
 * with the official `stripe` SDK and `pg`. Plus `POST /bench/checkouts` to seed fresh checkouts.
 *
 * The pay path, in order: read the checkout, check its status and amount, record the attempt
 * (unique per checkout and Idempotency-Key), take the checkout with a conditional UPDATE, retrieve
 * the PaymentMethod (brand check), create the PaymentIntent once per checkout, confirm it once per
 * attempt, store the outcome. Stripe idempotency keys derive from the checkout and attempt, so a
 * retry after a lost answer replays instead of charging again.
 */
import {randomBytes} from 'node:crypto';
import {readFile} from 'node:fs/promises';
import express from 'express';
import Stripe from 'stripe';
import {HttpError, MINIMUM_CHARGE, checkMinimum, parsePayRequest, parseToken} from './rules.mjs';

const SCHEMA = new URL('./schema.sql', import.meta.url);
/** Any constant: serialises schema creation between processes starting together. */
const SCHEMA_LOCK = 0x5107_9a7;

/** Creates the tables (idempotent), under an advisory lock. */
export async function migrate(pool) {
  const schema = await readFile(SCHEMA, 'utf8');
  await pool.query(`BEGIN; SELECT pg_advisory_xact_lock(${SCHEMA_LOCK}); ${schema}; COMMIT;`);
}

/** The official SDK pointed at `apiBase` (Stripe, or the sandbox's URL). */
export function stripeClient(secretKey, apiBase = 'https://api.stripe.com') {
  const url = new URL(apiBase);
  return new Stripe(secretKey, {
    host: url.hostname,
    port: url.port || (url.protocol === 'https:' ? 443 : 80),
    protocol: url.protocol.replace(':', ''),
  });
}

/** Stripe failures worth running the same attempt again for: nothing was decided. */
function isRetryable(error) {
  return (
    error instanceof Stripe.errors.StripeConnectionError ||
    error instanceof Stripe.errors.StripeAPIError ||
    error instanceof Stripe.errors.StripeRateLimitError ||
    (error instanceof Stripe.errors.StripeError && error.statusCode >= 500)
  );
}

/** A failed payment: HTTP 402 with `{status: "failed", error}`, as slotpay answers. */
function failed(code, message, declineCode) {
  const error = {code, message};
  if (declineCode) error.decline_code = declineCode;
  return {status: 402, body: {status: 'failed', error}};
}

/**
 * The Express app. `config`: `{publishableKey, stripeJsUrl, corsOrigins: string[]}`.
 */
export function createApp({pool, stripe, config = {}}) {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(cors(new Set(config.corsOrigins ?? [])));
  const json = express.json({limit: '16kb'});

  async function loadCheckout(token) {
    const {rows} = await pool.query('SELECT * FROM checkouts WHERE token = $1', [token]);
    if (rows.length === 0) throw new HttpError(404, 'checkout_not_found', 'No checkout has this token.', 'token');
    return rows[0];
  }

  function receipt(checkout) {
    return {
      brand: checkout.card_brand,
      last4: checkout.card_last4,
      amount: Number(checkout.amount),
      currency: checkout.currency,
      reference: checkout.booking_ref ?? checkout.payment_intent_id,
    };
  }

  /** The answer for a PaymentIntent's status, and the checkout status to store with it. */
  function outcome(checkout, intent) {
    switch (intent.status) {
      case 'succeeded':
      case 'requires_capture':
        return {checkoutStatus: 'paid', status: 200, body: {status: 'succeeded', receipt: receipt(checkout)}};
      case 'requires_action':
        return {checkoutStatus: 'requires_action', status: 200, body: {status: 'requires_action', client_secret: intent.client_secret}};
      case 'processing':
        return {checkoutStatus: 'processing', status: 200, body: {status: 'processing'}};
      default: {
        // requires_payment_method after a decline or a failed 3-D Secure.
        const last = intent.last_payment_error;
        const code = last?.code === 'card_declined' ? 'card_declined' : 'authentication_required';
        const message = last?.message ?? 'We could not authenticate your payment.';
        return {checkoutStatus: 'failed', ...failed(code, message, last?.decline_code)};
      }
    }
  }

  /** Stores the attempt's answer and the checkout's new state in one statement. */
  async function finish(checkout, attemptId, result) {
    await pool.query(
      `WITH attempt AS (
         UPDATE pay_attempts SET state = 'done', response_status = $2, response_body = $3, updated_at = now()
         WHERE id = $1
       )
       UPDATE checkouts
       SET status = $5, payment_intent_id = $6, email = $7, card_brand = $8, card_last4 = $9, updated_at = now()
       WHERE token = $4`,
      [attemptId, result.status, result.body, checkout.token, result.checkoutStatus,
        checkout.payment_intent_id, checkout.email, checkout.card_brand, checkout.card_last4],
    );
  }

  /** Records the attempt; answers `{id}` to run it, or `{replay}` with the stored answer. */
  async function recordAttempt(token, key, request) {
    const inserted = await pool.query(
      `INSERT INTO pay_attempts (checkout_token, idempotency_key, request) VALUES ($1, $2, $3)
       ON CONFLICT (checkout_token, idempotency_key) DO NOTHING RETURNING id`,
      [token, key, request],
    );
    if (inserted.rows.length > 0) return {id: inserted.rows[0].id};
    const {rows} = await pool.query(
      'SELECT id, request, state, response_status, response_body FROM pay_attempts WHERE checkout_token = $1 AND idempotency_key = $2',
      [token, key],
    );
    const previous = rows[0];
    if (!previous) return recordAttempt(token, key, request); // deleted meanwhile: record it afresh
    const same = ['payment_method', 'email', 'save_card'].every((k) => previous.request[k] === request[k]);
    if (!same) throw new HttpError(409, 'idempotency_conflict', 'This Idempotency-Key was used with another request.');
    if (previous.state === 'done') return {replay: {status: previous.response_status, body: previous.response_body}};
    // A previous run of this attempt failed on Stripe or the database: run it again, once.
    const claimed = await pool.query(
      `UPDATE pay_attempts SET state = 'running', updated_at = now() WHERE id = $1 AND state = 'retryable' RETURNING id`,
      [previous.id],
    );
    if (claimed.rows.length > 0) return {id: previous.id};
    throw new HttpError(409, 'payment_in_progress', 'Another payment attempt for this checkout is still in flight.');
  }

  /** Retrieves, checks, creates (once) and confirms; returns the answer to store. */
  async function charge(checkout, attemptId, request) {
    let paymentMethod;
    try {
      paymentMethod = await stripe.paymentMethods.retrieve(request.payment_method);
    } catch (error) {
      if (error.code === 'resource_missing') {
        return {checkoutStatus: 'failed', status: 400, body: {error: {code: 'invalid_payment_method', message: 'Stripe does not know this card token.', param: 'payment_method'}}};
      }
      throw error;
    }
    checkout.email = request.email;
    checkout.card_brand = paymentMethod.card?.brand ?? 'unknown';
    checkout.card_last4 = paymentMethod.card?.last4 ?? null;
    if (!checkout.card_brands.includes(checkout.card_brand)) {
      return {checkoutStatus: 'failed', ...failed('card_brand_not_accepted', 'This merchant does not accept this card brand.')};
    }
    if (!checkout.payment_intent_id) {
      const intent = await stripe.paymentIntents.create(
        {
          amount: Number(checkout.amount),
          currency: checkout.currency,
          payment_method_types: ['card'],
          description: checkout.description,
          metadata: {checkout: checkout.token},
        },
        {idempotencyKey: `slotpay:${checkout.token}:pi`},
      );
      checkout.payment_intent_id = intent.id;
    }
    if (request.save_card) {
      const customer = await stripe.customers.create({email: request.email}, {idempotencyKey: `slotpay:${checkout.token}:customer`});
      await stripe.paymentIntents.update(checkout.payment_intent_id, {customer: customer.id, setup_future_usage: 'off_session'});
    }
    try {
      const intent = await stripe.paymentIntents.confirm(
        checkout.payment_intent_id,
        {payment_method: paymentMethod.id, receipt_email: request.email, use_stripe_sdk: true},
        {idempotencyKey: `slotpay:${checkout.token}:confirm:${attemptId}`},
      );
      return outcome(checkout, intent);
    } catch (error) {
      if (error instanceof Stripe.errors.StripeCardError) {
        const code = error.code === 'authentication_required' ? 'authentication_required' : 'card_declined';
        return {checkoutStatus: 'failed', ...failed(code, error.message, error.decline_code || undefined)};
      }
      if (error.code === 'payment_intent_unexpected_state') {
        // An earlier attempt's answer was lost after Stripe ran it: Stripe has the truth.
        return outcome(checkout, await stripe.paymentIntents.retrieve(checkout.payment_intent_id));
      }
      throw error;
    }
  }

  app.get('/healthz', (req, res) => res.json({ok: true}));

  app.get('/v1/checkouts/:token', async (req, res) => {
    const checkout = await loadCheckout(parseToken(req.params.token));
    const view = {
      token: checkout.token,
      status: checkout.status,
      merchant_name: checkout.merchant_name,
      description: checkout.description,
      amount: Number(checkout.amount),
      currency: checkout.currency,
      publishable_key: config.publishableKey ?? '',
      stripe_js_url: config.stripeJsUrl ?? 'https://js.stripe.com/v3/',
      mode: (config.publishableKey ?? '').startsWith('pk_live_') ? 'live' : 'sandbox',
      card_brands: checkout.card_brands,
      locale: checkout.locale,
    };
    if (checkout.booking_ref) view.booking_ref = checkout.booking_ref;
    if (MINIMUM_CHARGE[checkout.currency] !== undefined) view.minimum_amount = MINIMUM_CHARGE[checkout.currency];
    if (checkout.save_card_consent) view.save_card = {consent_text: checkout.save_card_consent};
    if (checkout.email) view.email = checkout.email;
    if (checkout.status === 'paid') view.receipt = receipt(checkout);
    res.json(view);
  });

  app.post('/v1/checkouts/:token/pay', json, async (req, res) => {
    const key = req.get('Idempotency-Key');
    if (!key || key.length > 255) {
      throw new HttpError(400, 'missing_idempotency_key', 'A pay request needs an Idempotency-Key header.');
    }
    const token = parseToken(req.params.token);
    const request = parsePayRequest(req.body);
    const checkout = await loadCheckout(token);
    if (checkout.status === 'paid') {
      // The retry of a request whose answer was lost gets that answer again.
      const {rows} = await pool.query(
        `SELECT response_status, response_body FROM pay_attempts
         WHERE checkout_token = $1 AND idempotency_key = $2 AND state = 'done'`,
        [token, key],
      );
      if (rows.length > 0) return res.status(rows[0].response_status).json(rows[0].response_body);
    }
    refuseUnpayable(checkout);
    checkMinimum(Number(checkout.amount), checkout.currency);

    const attempt = await recordAttempt(token, key, request);
    if (attempt.replay) return res.status(attempt.replay.status).json(attempt.replay.body);

    const taken = await pool.query(
      `UPDATE checkouts SET status = 'processing', updated_at = now()
       WHERE token = $1 AND status IN ('open', 'failed') RETURNING status`,
      [token],
    );
    if (taken.rows.length === 0) {
      // Someone else's attempt holds the checkout (or just paid it): this key may run later.
      await pool.query('DELETE FROM pay_attempts WHERE id = $1', [attempt.id]);
      const {status} = await loadCheckout(token);
      if (status === 'paid') throw new HttpError(409, 'checkout_already_paid', 'The checkout is already paid.');
      throw new HttpError(409, 'payment_in_progress', 'Another payment attempt for this checkout is still in flight.');
    }

    let result;
    try {
      result = await charge(checkout, attempt.id, request);
    } catch (error) {
      // Nothing was decided: free the checkout and let the same key run the attempt again.
      await pool.query(
        `WITH attempt AS (UPDATE pay_attempts SET state = 'retryable', updated_at = now() WHERE id = $1)
         UPDATE checkouts SET status = 'failed', payment_intent_id = COALESCE($3, payment_intent_id), updated_at = now()
         WHERE token = $2 AND status = 'processing'`,
        [attempt.id, token, checkout.payment_intent_id],
      );
      throw error;
    }
    await finish(checkout, attempt.id, result);
    res.status(result.status).json(result.body);
  });

  app.post('/v1/checkouts/:token/refresh', async (req, res) => {
    const checkout = await loadCheckout(parseToken(req.params.token));
    if (checkout.status === 'paid') return res.json({status: 'succeeded', receipt: receipt(checkout)});
    refuseUnpayable(checkout);
    if (!checkout.payment_intent_id || checkout.status === 'open') {
      throw new HttpError(409, 'conflict', 'This checkout has no payment to refresh.');
    }
    const intent = await stripe.paymentIntents.retrieve(checkout.payment_intent_id);
    const result = outcome(checkout, intent);
    // Only a checkout still waiting on Stripe moves; a paid one stays paid.
    await pool.query(
      `UPDATE checkouts SET status = $2, updated_at = now()
       WHERE token = $1 AND status IN ('processing', 'requires_action', 'failed')`,
      [checkout.token, result.checkoutStatus],
    );
    res.status(result.status).json(result.body);
  });

  app.post('/bench/checkouts', json, async (req, res) => {
    const {
      count = 1,
      amount = 2500,
      currency = 'usd',
      merchant_name = 'Salon Bench',
      description = 'Haircut',
      locale = 'en',
      save_card_consent = null,
    } = req.body ?? {};
    if (!Number.isInteger(count) || count < 1 || count > 100_000) throw new HttpError(400, 'invalid_request', '`count` must be 1 to 100000.', 'count');
    if (!Number.isInteger(amount) || amount < 1) throw new HttpError(400, 'invalid_amount', '`amount` must be a positive integer.', 'amount');
    const tokens = Array.from({length: count}, () => `cs_${randomBytes(24).toString('hex')}`);
    await pool.query(
      `INSERT INTO checkouts (token, merchant_name, description, amount, currency, locale, save_card_consent)
       SELECT t, $2, $3, $4, $5, $6, $7 FROM unnest($1::text[]) AS t`,
      [tokens, merchant_name, description, amount, currency, locale, save_card_consent],
    );
    res.status(201).json({tokens});
  });

  app.use((req, res) => res.status(404).json({error: {code: 'not_found', message: 'No such route.'}}));

  // Express 5 passes rejected promises of async handlers here.
  app.use((error, req, res, next) => {
    if (res.headersSent) return next(error);
    if (error instanceof HttpError) return res.status(error.status).json(error.toBody());
    if (error.type === 'entity.parse.failed') return res.status(400).json({error: {code: 'invalid_json', message: 'The body is not valid JSON.'}});
    if (error.type === 'entity.too.large') return res.status(413).json({error: {code: 'payload_too_large', message: 'The body is too large.'}});
    if (isRetryable(error)) {
      return res.status(503).json({error: {code: 'stripe_unavailable', message: 'Stripe could not be reached; try again.'}});
    }
    if (error instanceof Stripe.errors.StripeError) {
      return res.status(502).json({error: {code: 'stripe_error', message: 'Stripe refused the request.'}});
    }
    console.error('internal error:', error.message);
    res.status(500).json({error: {code: 'internal_error', message: 'An unexpected error occurred.'}});
  });

  return app;
}

/** Refuses checkouts that cannot take a payment, with slotpay's codes. */
function refuseUnpayable(checkout) {
  switch (checkout.status) {
    case 'paid':
      throw new HttpError(409, 'checkout_already_paid', 'The checkout is already paid.');
    case 'expired':
      throw new HttpError(410, 'checkout_expired', 'The checkout expired before it was paid.');
    case 'canceled':
      throw new HttpError(410, 'checkout_canceled', 'The merchant canceled the checkout.');
    default:
  }
}

/** CORS for the listed origins only (the checkout page's), as slotpay answers its public routes. */
function cors(origins) {
  return (req, res, next) => {
    const origin = req.get('Origin');
    if (!origin || !origins.has(origin)) return next();
    res.set('Access-Control-Allow-Origin', origin);
    res.set('Vary', 'Origin');
    if (req.method !== 'OPTIONS') return next();
    res.set('Access-Control-Allow-Methods', 'GET, POST');
    res.set('Access-Control-Allow-Headers', 'Content-Type, Idempotency-Key');
    res.set('Access-Control-Max-Age', '600');
    res.status(204).end();
  };
}
