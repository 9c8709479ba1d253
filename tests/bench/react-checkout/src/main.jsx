// Mounts the checkout on the page's [data-slotpay-checkout] element. The checkout token, the API
// base URL and the locale come from its data attributes, or from the page URL's query.
import {StrictMode} from 'react';
import {createRoot} from 'react-dom/client';
import App from './App.jsx';
import '../../../../www/slotpay.css';
import './checkout.css';

const host = document.querySelector('[data-slotpay-checkout]');
const query = new URLSearchParams(location.search);
const setting = (name) => host.dataset[name] || query.get(name) || undefined;

createRoot(host).render(
  <StrictMode>
    <App host={host} token={setting('checkout')} api={(setting('api') ?? location.origin).replace(/\/$/, '')} locale={setting('locale')} />
  </StrictMode>,
);
