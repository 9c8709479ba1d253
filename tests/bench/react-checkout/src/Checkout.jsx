// The checkout: loads the checkout view, then Stripe.js, the Payment Element and the Express
// Checkout Element above the form (Stripe's deferred intent: the server creates and confirms the
// PaymentIntent), and runs a payment from Pay or a wallet's confirm (elements.submit →
// createPaymentMethod → pay → 3-D Secure → refresh), with the same states, words, events and
// markup classes as slotpay's widget.
import {ExpressCheckoutElement, PaymentElement, useElements, useStripe} from '@stripe/react-stripe-js';
import {useCallback, useEffect, useId, useRef, useState} from 'react';
import {ApiProblem, getCheckout, pay, refresh} from './api.js';
import {parseLocale, problemText, t} from './i18n.js';
import {chargeProblem, formatMoney, parseEmail} from './money.js';
import {loadStripeFrom} from './stripe.js';

const PROCESSING_POLL_MS = 2000;
const PROCESSING_POLLS = 5;
const BUSY = ['paying', 'authenticating', 'processing'];
const PAID_STATUSES = ['paid', 'authorized', 'partially_refunded', 'refunded'];
/** Server codes that end the checkout, and the phase they end it in. */
const CLOSING = {checkout_expired: 'expired', checkout_canceled: 'canceled', payments_unavailable: 'unavailable'};
const BRANDS = {
  visa: 'Visa',
  mastercard: 'Mastercard',
  amex: 'American Express',
  discover: 'Discover',
  jcb: 'JCB',
  diners: 'Diners Club',
  unionpay: 'UnionPay',
};

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The embedder's locale, else the checkout's, else the page's, else English. */
function pickLocale(requested, view, host) {
  return parseLocale(requested) ?? parseLocale(view?.locale) ?? parseLocale(host.closest('[lang]')?.lang) ?? 'en';
}

/** The code a host page sees in `slotpay:failed`. */
function problemCode(problem) {
  switch (problem.kind) {
    case 'email':
      return 'invalid_email';
    case 'card':
      return problem.code ?? 'card_error';
    case 'stripejs':
      return 'stripe_js_unavailable';
    default:
      return problem.code ?? 'internal_error';
  }
}

function asProblem(error) {
  return error instanceof ApiProblem ? error.problem : {kind: 'api', code: 'internal_error'};
}

/** Only the values that are set (Stripe refuses undefined options). */
function defined(object) {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value));
}

/** Stripe's appearance from slotpay.css's resolved custom properties, as the widget reads it. */
function readAppearance(node) {
  const style = getComputedStyle(node);
  const value = (name) => style.getPropertyValue(name).trim();
  return {
    theme: value('--sp-stripe-theme') === 'night' ? 'night' : 'stripe',
    variables: defined({
      colorPrimary: value('--sp-color-primary'),
      colorText: value('--sp-color-text'),
      colorBackground: value('--sp-color-background'),
      colorDanger: value('--sp-color-danger'),
      fontFamily: value('--sp-font-family'),
      borderRadius: value('--sp-radius'),
    }),
  };
}

/** Bank redirects come back to this page. */
const REDIRECTS = ['ideal', 'bancontact'];

function Skeleton() {
  return (
    <div className="sp-skeleton" aria-hidden="true">
      <div className="sp-bone sp-bone-title" />
      <div className="sp-bone" />
      <div className="sp-bone sp-bone-field" />
      <div className="sp-bone sp-bone-field" />
      <div className="sp-bone sp-bone-button" />
    </div>
  );
}

function Receipt({locale, view, receipt}) {
  const rows = [
    ['paidTo', view.merchant_name],
    ['amount', formatMoney(receipt?.amount ?? view.amount, receipt?.currency ?? view.currency, locale)],
    ['card', receipt && `${BRANDS[receipt.brand] ?? 'Card'} •••• ${receipt.last4}`],
    ['reference', receipt?.reference],
  ];
  return (
    <dl className="sp-receipt">
      {rows
        .filter(([, value]) => value)
        .map(([label, value]) => (
          <div className="sp-receipt-row" key={label}>
            <dt>{t(locale, label)}</dt>
            <dd>{value}</dd>
          </div>
        ))}
    </dl>
  );
}

/**
 * Props: `host` (the mount element, where events are dispatched), `api` (the server's base URL),
 * `token`, `locale` (the embedder's, optional), `onStripe(promise, elementsOptions)` (hands the
 * Stripe promise to the surrounding <Elements>).
 */
export default function Checkout({host, api, token, locale: requested, onStripe}) {
  const stripe = useStripe();
  const elements = useElements();
  const [view, setView] = useState(null);
  const [phase, setPhase] = useState({name: 'loading'});
  const [email, setEmail] = useState('');
  const [saveCard, setSaveCard] = useState(false);
  const [cardReady, setCardReady] = useState(false);
  const [elementOptions, setElementOptions] = useState(null);
  const [expressShown, setExpressShown] = useState(false);
  const frameRef = useRef(null);
  const emailRef = useRef(null);
  const titleRef = useRef(null);
  const readySent = useRef(false);
  const inFlight = useRef(false);
  const id = useId();

  const locale = pickLocale(requested, view, host);
  const busy = BUSY.includes(phase.name);

  const emit = useCallback(
    (name, detail) => host.dispatchEvent(new CustomEvent(name, {bubbles: true, composed: true, detail})),
    [host],
  );

  /** Ends in `name` (or fails the attempt), telling the host page why. */
  const stop = useCallback(
    (name, problem, forView) => {
      setPhase({name, problem});
      const loc = pickLocale(requested, forView, host);
      const money = (amount) => formatMoney(amount, forView?.currency ?? 'usd', loc);
      const detail = {code: problemCode(problem), message: problemText(loc, problem, money)};
      if (forView) detail.token = forView.token;
      emit('slotpay:failed', detail);
    },
    [emit, host, requested],
  );

  useEffect(() => {
    let live = true;
    getCheckout(api, token).then(
      (loaded) => {
        if (!live) return;
        setView(loaded);
        setEmail(loaded.email ?? '');
        const apiProblem = (code) => ({kind: 'api', code});
        if (PAID_STATUSES.includes(loaded.status)) return setPhase({name: 'paid', receipt: loaded.receipt ?? null});
        if (loaded.status === 'expired') return stop('expired', apiProblem('checkout_expired'), loaded);
        if (loaded.status === 'canceled') return stop('canceled', apiProblem('checkout_canceled'), loaded);
        if (loaded.mode === 'off') return stop('unavailable', apiProblem('payments_unavailable'), loaded);
        const refused = chargeProblem(loaded);
        if (refused) return stop('refused', refused, loaded);
        const appearance = readAppearance(frameRef.current);
        const loc = pickLocale(requested, loaded, host);
        // The wallets are the Express Checkout Element's, above the form.
        setElementOptions({business: {name: loaded.merchant_name}, wallets: {applePay: 'never', googlePay: 'never'}});
        const stripePromise = loadStripeFrom(loaded.stripe_js_url, loaded.publishable_key, loc).catch(() => {
          if (live) stop('broken', {kind: 'stripejs'}, loaded);
          return null;
        });
        onStripe(stripePromise, {
          mode: 'payment',
          amount: loaded.amount,
          currency: loaded.currency,
          paymentMethodCreation: 'manual',
          paymentMethodTypes: loaded.payment_methods ?? ['card'],
          locale: loc,
          appearance,
        });
      },
      (error) => {
        if (!live) return;
        const problem = asProblem(error);
        if (problem.code === 'checkout_already_paid') return setPhase({name: 'paid', receipt: null});
        stop(CLOSING[problem.code] ?? 'broken', problem, null);
      },
    );
    return () => {
      live = false;
    };
  }, [api, token, requested, host, onStripe, stop]);

  // Stripe.js is in: show the form (the card element mounts and says when it is ready).
  useEffect(() => {
    if (stripe && phase.name === 'loading') setPhase({name: 'ready'});
  }, [stripe, phase.name]);

  useEffect(() => {
    if (cardReady && phase.name === 'ready' && !readySent.current) {
      readySent.current = true;
      emit('slotpay:ready', {token: view.token, amount: view.amount, currency: view.currency});
    }
  }, [cardReady, phase.name, view, emit]);

  // Move focus to the outcome, so a screen reader reads it.
  useEffect(() => {
    if (phase.name === 'paid' || phase.name === 'failed') titleRef.current?.focus();
  }, [phase.name]);

  /** Follows the server's answers until the payment is paid, failed or left processing. */
  async function settle(first) {
    let stage = 'paying';
    let next = first;
    let stripeError = null;
    let polls = 0;
    const again = () => refresh(api, view.token);
    for (;;) {
      let answer;
      try {
        answer = await next();
      } catch (error) {
        const problem = asProblem(error);
        if (problem.kind === 'network') {
          // Keep the form and what was typed; the client may press Pay again.
          setPhase({name: 'ready', problem});
          emit('slotpay:failed', {code: 'network_error', message: problemText(locale, problem), token: view.token});
          return;
        }
        if (problem.code === 'checkout_already_paid') {
          if (stage !== 'paying') return setPhase({name: 'paid', receipt: null});
          // Paid in another tab or by an earlier attempt: the refresh says how.
          stage = 'processing';
          setPhase({name: 'processing'});
          next = again;
          continue;
        }
        return stop(CLOSING[problem.code] ?? 'failed', problem, view);
      }
      if (answer.status === 'succeeded') {
        setPhase({name: 'paid', receipt: answer.receipt ?? null});
        emit('slotpay:succeeded', {token: view.token, amount: view.amount, currency: view.currency});
        return;
      }
      if (answer.status === 'failed') {
        const error = answer.error ?? {code: 'internal_error'};
        return stop('failed', {kind: 'api', code: error.code, message: error.message, declineCode: error.decline_code}, view);
      }
      if (answer.status === 'requires_action' && stage === 'authenticating' && stripeError !== null) {
        // The bank's challenge failed and the server has not seen it yet.
        return stop('failed', {kind: 'api', code: 'authentication_required', message: stripeError}, view);
      }
      if (answer.status === 'requires_action' && stage !== 'authenticating') {
        if (!answer.client_secret) return stop('failed', {kind: 'api', code: 'stripe_error'}, view);
        stage = 'authenticating';
        setPhase({name: 'authenticating'});
        try {
          const result = await stripe.handleNextAction({clientSecret: answer.client_secret});
          // The server has the last word on the PaymentIntent; Stripe.js's error only explains
          // a failure the server has not seen yet.
          stripeError = result.error ? (result.error.message ?? '') : null;
        } catch {
          stripeError = '';
        }
        next = again;
        continue;
      }
      // processing, or requires_action that Stripe.js says went through: ask again a few times.
      stage = 'processing';
      setPhase({name: 'processing'});
      if (polls >= PROCESSING_POLLS) return;
      polls += 1;
      await sleep(PROCESSING_POLL_MS);
      next = again;
    }
  }

  function handleSubmit(event) {
    event.preventDefault();
    payWith(email);
  }

  /** A wallet approved in the Express Checkout Element: its email, then Pay's path. */
  function handleExpressConfirm(event) {
    const given = event.billingDetails?.email ?? '';
    setEmail(given);
    if (!payWith(given)) event.paymentFailed();
  }

  /** Pays with `typed` as the email; false when the payment could not start. */
  function payWith(typed) {
    if (phase.name !== 'ready' || !stripe || !elements || inFlight.current) return false;
    const address = parseEmail(typed);
    if (!address) {
      setPhase({name: 'ready', problem: {kind: 'email'}});
      emailRef.current.focus();
      return false;
    }
    const refused = chargeProblem(view);
    if (refused) {
      stop('refused', refused, view);
      return false;
    }
    payAs(address);
    return true;
  }

  async function payAs(address) {
    inFlight.current = true;
    setPhase({name: 'paying'});
    try {
      let created;
      try {
        created = await elements.submit();
        if (!created.error) {
          created = await stripe.createPaymentMethod({elements, params: {billing_details: {email: address}}});
        }
      } catch (error) {
        // Stripe.js throws only for integration mistakes; say something rather than spin.
        created = {error: {message: error.message}};
      }
      const {paymentMethod, error} = created;
      if (error) {
        setPhase({name: 'ready', problem: {kind: 'card', code: error.code, message: error.message}});
        elements.getElement('payment')?.focus();
        return;
      }
      const request = {payment_method: paymentMethod.id, email: address, save_card: saveCard && Boolean(view.save_card)};
      if (REDIRECTS.includes(paymentMethod.type)) request.return_url = location.href;
      // One key per attempt, reused by every retry of it.
      const key = crypto.randomUUID();
      await settle(() => pay(api, view.token, request, key));
    } finally {
      inFlight.current = false;
    }
  }

  function tryAnotherCard() {
    setPhase({name: 'ready'});
    const payment = elements.getElement('payment');
    payment?.clear();
    payment?.focus();
  }

  const money = (amount) => formatMoney(amount, view?.currency ?? 'usd', locale);
  const loading = phase.name === 'loading';
  const paid = phase.name === 'paid';
  const failed = phase.name === 'failed';
  const amount = view && money(view.amount);
  const status = {loading: 'loading', paying: 'paying', authenticating: 'authenticating', processing: 'processing'}[phase.name];
  const alert = phase.problem
    ? problemText(locale, phase.problem, money)
    : ['unavailable', 'expired', 'canceled'].includes(phase.name)
      ? t(locale, phase.name)
      : '';

  return (
    <div
      ref={frameRef}
      className="sp"
      role="region"
      lang={locale}
      aria-label={t(locale, 'region')}
      aria-busy={loading || busy}
      data-state={phase.name}
    >
      {loading && <Skeleton />}
      {view?.mode === 'sandbox' && (
        <p className="sp-badge">
          <strong className="sp-badge-title">{t(locale, 'testMode')}</strong> <span>{t(locale, 'testCardHint')}</span>
        </p>
      )}
      {view && !loading && !paid && (
        <div className="sp-summary">
          <p className="sp-merchant">{view.merchant_name}</p>
          <p className="sp-description">{view.description}</p>
          <p className="sp-amount">{amount}</p>
        </div>
      )}
      <form className="sp-form" noValidate onSubmit={handleSubmit} hidden={!(phase.name === 'ready' || busy)}>
        {stripe && elementOptions && view?.wallets !== false && (
          <div className="sp-express" hidden={!expressShown}>
            <ExpressCheckoutElement
              options={{emailRequired: true, buttonType: {applePay: 'book', googlePay: 'book'}}}
              onReady={(event) => setExpressShown(Boolean(event.availablePaymentMethods))}
              onConfirm={handleExpressConfirm}
            />
          </div>
        )}
        <label className="sp-label" htmlFor={`${id}-email`}>
          {t(locale, 'email')}
        </label>
        <input
          ref={emailRef}
          id={`${id}-email`}
          className="sp-input"
          type="email"
          name="email"
          required
          autoComplete="email"
          inputMode="email"
          aria-describedby={`${id}-email-hint`}
          aria-invalid={phase.problem?.kind === 'email'}
          readOnly={busy}
          value={email}
          onChange={(event) => setEmail(event.target.value)}
        />
        <p id={`${id}-email-hint`} className="sp-hint">
          {t(locale, 'emailHint')}
        </p>
        {/* Stripe's Payment Element labels its own fields and tabs. */}
        <div className="sp-card">
          {stripe && elementOptions && <PaymentElement options={elementOptions} onReady={() => setCardReady(true)} />}
        </div>
        {view?.save_card && (
          <label className="sp-consent">
            <input
              type="checkbox"
              name="save_card"
              checked={saveCard}
              disabled={busy}
              onChange={(event) => setSaveCard(event.target.checked)}
            />
            <span>{view.save_card.consent_text}</span>
          </label>
        )}
        <button className="sp-pay" type="submit" disabled={busy || !cardReady}>
          {busy && <span className="sp-spinner" aria-hidden="true" />}
          <span>{amount && t(locale, 'pay', amount)}</span>
        </button>
      </form>
      {(paid || failed) && (
        <div className="sp-result">
          <h2 ref={titleRef} className="sp-result-title" tabIndex={-1}>
            {t(locale, paid ? 'paidTitle' : 'failedTitle')}
          </h2>
          {paid && view && <Receipt locale={locale} view={view} receipt={phase.receipt} />}
          {failed && (
            <button className="sp-retry" type="button" onClick={tryAnotherCard}>
              {t(locale, 'tryAnotherCard')}
            </button>
          )}
        </div>
      )}
      <p className="sp-status" role="status">
        {status ? t(locale, status) : ''}
      </p>
      <p className="sp-alert" role="alert">
        {alert}
      </p>
    </div>
  );
}
