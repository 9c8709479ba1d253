/**
 * Type conformance of the sandbox's Stripe.js stand-in (sandbox/assets/stripe.js) with the types
 * Stripe publishes in `@stripe/stripe-js`. Nothing here runs: `npx tsc -p tests/tsconfig.json`
 * type-checks the stand-in's JSDoc-typed implementation (checkJs) and the assignments below, so a
 * method that is missing, takes different arguments, or resolves a different shape fails the build.
 *
 * The stand-in models the card Element, the Payment Element, the Express Checkout Element and their payments; where Stripe's type covers more
 * (every Element type, every payment method), the check narrows Stripe's type to the card part,
 * and first proves that the narrowed type is a faithful slice of Stripe's.
 */
import type {
  ConfirmCardPaymentData,
  ConfirmCardPaymentOptions,
  ConfirmCardSetupData,
  ConfirmCardSetupOptions,
  CreatePaymentMethodCardData,
  CreatePaymentMethodFromElements,
  CreateTokenCardData,
  PaymentIntentOrSetupIntentResult,
  PaymentIntentResult,
  PaymentMethodResult,
  SetupIntentResult,
  Stripe as StripeJs,
  StripeCardElement,
  StripeCardElementChangeEvent,
  StripeCardElementOptions,
  StripeConstructor,
  StripeConstructorOptions,
  StripeElements,
  StripeElementsOptionsClientSecret,
  StripeElementsOptionsMode,
  StripeError,
  StripePaymentElement,
  StripePaymentElementChangeEvent,
  StripePaymentElementOptions,
  StripeExpressCheckoutElement,
  StripeExpressCheckoutElementConfirmEvent,
  StripeExpressCheckoutElementOptions,
  StripeExpressCheckoutElementReadyEvent,
  TokenResult,
} from '@stripe/stripe-js';

// `Stripe` here is the stand-in's global factory (a top-level `var` in stripe.js); Stripe's own
// interface is imported as `StripeJs`.
type SandboxFactory = typeof Stripe;
type SandboxInstance = ReturnType<SandboxFactory>;
declare const sandbox: SandboxInstance;

/** 1. `Stripe(publishableKey, options)` accepts what Stripe's constructor accepts. */
export const constructorArguments: (publishableKey: string, options?: StripeConstructorOptions) => unknown = Stripe;
export const constructorParameters: Parameters<StripeConstructor> extends Parameters<SandboxFactory> ? true : never = true;
/**
 * `Stripe.version`, which `loadStripe` compares with the release train it expects (Stripe does not
 * type it; `loadStripe` reads it as a string or the number 3 of the legacy v3 URL).
 */
export const version: string = Stripe.version;

/**
 * 2. The methods slotpay uses, with Stripe's exact (overloaded) signatures: every overload of
 * Stripe's must be satisfied by the stand-in's implementation, and the results it resolves must be
 * Stripe's result types.
 */
export const methods: Pick<
  StripeJs,
  | 'createPaymentMethod'
  | 'confirmCardPayment'
  | 'handleNextAction'
  | 'retrievePaymentIntent'
  | 'confirmCardSetup'
  | 'retrieveSetupIntent'
  | 'handleCardAction'
  | 'createToken'
> = sandbox;

/**
 * 3. The same methods as plain function types, compared strictly (contravariant parameters, which
 * method syntax above relaxes): the stand-in accepts at least every argument Stripe's types allow.
 */
export const strictConfirmCardPayment: (
  clientSecret: string,
  data?: ConfirmCardPaymentData,
  options?: ConfirmCardPaymentOptions,
) => Promise<PaymentIntentResult> = sandbox.confirmCardPayment;
export const strictConfirmCardSetup: (
  clientSecret: string,
  data?: ConfirmCardSetupData,
  options?: ConfirmCardSetupOptions,
) => Promise<SetupIntentResult> = sandbox.confirmCardSetup;
export const strictCreatePaymentMethod: (data: CreatePaymentMethodCardData) => Promise<PaymentMethodResult> =
  sandbox.createPaymentMethod;
export const strictCreateToken: (
  cardElement: StripeCardElement,
  data?: CreateTokenCardData,
) => Promise<TokenResult> = sandbox.createToken;
export const strictHandleNextAction: (options: {clientSecret: string}) => Promise<PaymentIntentOrSetupIntentResult> =
  sandbox.handleNextAction;
export const strictHandleCardAction: (clientSecret: string) => Promise<PaymentIntentResult> = sandbox.handleCardAction;
export const strictRetrievePaymentIntent: (clientSecret: string) => Promise<PaymentIntentResult> =
  sandbox.retrievePaymentIntent;
export const strictRetrieveSetupIntent: (clientSecret: string) => Promise<SetupIntentResult> =
  sandbox.retrieveSetupIntent;

/**
 * 4. `stripe.elements()`: Stripe's `StripeElements` creates every Element type; the stand-in only
 * the card. `CardElements` is the card part of Stripe's interface, written out here...
 */
interface CardElements {
  create(elementType: 'card', options?: StripeCardElementOptions): StripeCardElement;
  getElement(elementType: 'card'): StripeCardElement | null;
  update: StripeElements['update'];
}
/** ...and proven to be a slice of Stripe's own (each member is one of Stripe's overloads)... */
declare const stripesElements: StripeElements;
export const cardSliceOfStripe: CardElements = stripesElements;
/** ...which the stand-in's `elements()` must give, for both of Stripe's option shapes. */
export const elementsWithClientSecret: (options?: StripeElementsOptionsClientSecret) => CardElements =
  sandbox.elements;
export const elementsWithMode: (options?: StripeElementsOptionsMode) => CardElements = sandbox.elements;

/**
 * 4b. React Stripe.js calls `elements.getElement(CardElement)` with its component (a function
 * carrying `__elementType: 'card'`); its type declarations add that overload to `StripeElements`.
 */
type ReactCardElementComponent = ((props: {options?: StripeCardElementOptions}) => unknown) & {__elementType?: string};
interface ReactStripeCardElements {
  getElement(component: ReactCardElementComponent): StripeCardElement | null;
}
export const elementsForReactStripe: ReactStripeCardElements = sandbox.elements();

/** 5. The card Element, whole: mount/unmount/destroy/update/focus/blur/clear and on/once/off. */
export const cardElement: StripeCardElement = sandbox.elements().create('card');
export const cardElementFromGroup: StripeCardElement | null = sandbox.elements().getElement('card');

/** 6. The `change` event the stand-in builds is Stripe's, field for field. */
declare const sandboxChange: SandboxCardChangeEvent;
export const changeEvent: StripeCardElementChangeEvent = sandboxChange;

/** 7. Errors the stand-in makes itself (validation, connection) are Stripe's `StripeError`. */
declare const sandboxError: SandboxError;
export const error: StripeError = sandboxError;

/**
 * 8. The Payment Element with a deferred intent (`elements({mode, amount, currency,
 * paymentMethodCreation: 'manual'})`): `create('payment')`, `submit()` and
 * `createPaymentMethod({elements, params})`, as slices of Stripe's types like the card's above.
 */
interface PaymentElements {
  create(elementType: 'payment', options?: StripePaymentElementOptions): StripePaymentElement;
  getElement(elementType: 'payment'): StripePaymentElement | null;
  submit: StripeElements['submit'];
}
export const paymentSliceOfStripe: PaymentElements = stripesElements;
export const elementsForPayment: (options?: StripeElementsOptionsMode) => PaymentElements = sandbox.elements;
export const strictCreatePaymentMethodFromElements: (
  data: CreatePaymentMethodFromElements,
) => Promise<PaymentMethodResult> = sandbox.createPaymentMethod;
declare const sandboxPaymentChange: SandboxPaymentChangeEvent;
export const paymentChangeEvent: StripePaymentElementChangeEvent = sandboxPaymentChange;

/**
 * 9. The Express Checkout Element in the same group: `create('expressCheckout')`, whole, and the
 * `ready` and `confirm` events the stand-in fires are Stripe's.
 */
interface ExpressElements {
  create(elementType: 'expressCheckout', options?: StripeExpressCheckoutElementOptions): StripeExpressCheckoutElement;
  getElement(elementType: 'expressCheckout'): StripeExpressCheckoutElement | null;
}
export const expressSliceOfStripe: ExpressElements = stripesElements;
export const elementsForExpress: (options?: StripeElementsOptionsMode) => ExpressElements = sandbox.elements;
declare const sandboxExpressReady: SandboxExpressReadyEvent;
export const expressReadyEvent: StripeExpressCheckoutElementReadyEvent = sandboxExpressReady;
declare const sandboxExpressConfirm: SandboxExpressConfirmEvent;
export const expressConfirmEvent: StripeExpressCheckoutElementConfirmEvent = sandboxExpressConfirm;
