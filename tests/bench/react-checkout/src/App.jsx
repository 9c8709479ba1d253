// The Elements provider around the checkout: it gets its Stripe promise (and the locale and
// theme for Elements) once the checkout view has said which Stripe.js and key to use.
import {Elements} from '@stripe/react-stripe-js';
import {useCallback, useState} from 'react';
import Checkout from './Checkout.jsx';

export default function App(props) {
  const [stripe, setStripe] = useState({promise: null, options: undefined});
  const onStripe = useCallback((promise, options) => setStripe({promise, options}), []);
  return (
    <Elements stripe={stripe.promise} options={stripe.options}>
      <Checkout {...props} onStripe={onStripe} />
    </Elements>
  );
}
