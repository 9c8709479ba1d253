/* The demo booking page's own script: lists services and slots from this site's backend,
 * books one (the backend creates the slotpay checkout, with the amount decided server-side),
 * mounts <slotpay-checkout checkout="TOKEN"> (defined by slotpay.js, loaded from the slotpay
 * server), and logs the widget's slotpay:* events. No inline code: the page has a strict CSP. */
(function () {
  'use strict';

  var form = document.getElementById('booking-form');
  var servicesBox = document.getElementById('services');
  var slotsBox = document.getElementById('slots');
  var summary = document.getElementById('booking-summary');
  var bookButton = document.getElementById('book');
  var errorBox = document.getElementById('booking-error');
  var payment = document.getElementById('payment');
  var paymentNote = document.getElementById('payment-note');
  var checkoutBox = document.getElementById('checkout');
  var eventsList = document.getElementById('events');
  var catalogue = {services: [], slots: []};

  function money(m) {
    return new Intl.NumberFormat(document.documentElement.lang || 'en', {style: 'currency', currency: m.currency.toUpperCase()})
      .format(m.amount / Math.pow(10, minorDigits(m.currency)));
  }

  function minorDigits(currency) {
    return new Intl.NumberFormat('en', {style: 'currency', currency: currency.toUpperCase()}).resolvedOptions()
      .maximumFractionDigits;
  }

  function el(tag, props, children) {
    var node = document.createElement(tag);
    Object.keys(props || {}).forEach(function (k) {
      if (k === 'text') node.textContent = props[k];
      else node.setAttribute(k, props[k]);
    });
    (children || []).forEach(function (c) {
      node.appendChild(c);
    });
    return node;
  }

  function choice(name, value, label, detail, checked) {
    var input = el('input', {type: 'radio', name: name, value: value, id: name + '-' + value});
    input.checked = !!checked;
    return el('label', {class: 'choice', for: input.id}, [
      input,
      el('span', {class: 'choice-label', text: label}),
      el('span', {class: 'choice-detail', text: detail}),
    ]);
  }

  function selected(name) {
    var input = form.querySelector('input[name="' + name + '"]:checked');
    return input ? input.value : null;
  }

  function describe() {
    var service = catalogue.services.filter(function (s) {
      return s.id === selected('service');
    })[0];
    var slot = catalogue.slots.filter(function (s) {
      return s.id === selected('slot');
    })[0];
    summary.textContent =
      service && slot
        ? service.name + ', ' + slot.label + ': ' + money(service.price) + ', deposit today ' + money(service.prepayment)
        : '';
  }

  function showCatalogue(data) {
    catalogue = data;
    servicesBox.querySelector('.loading').remove();
    data.services.forEach(function (s, i) {
      servicesBox.appendChild(
        choice('service', s.id, s.name, money(s.price) + ' · deposit ' + money(s.prepayment), i === 0)
      );
    });
    data.slots.forEach(function (s, i) {
      slotsBox.appendChild(choice('slot', s.id, s.label, '', i === 0));
    });
    describe();
  }

  function fail(message) {
    errorBox.textContent = message;
    bookButton.disabled = false;
  }

  function logEvent(event) {
    var detail = event.detail ? JSON.stringify(event.detail) : '';
    var item = el('li', {class: 'event event-' + event.type.replace('slotpay:', '')}, [
      el('strong', {text: event.type}),
      el('code', {text: detail}),
    ]);
    eventsList.appendChild(item);
    if (event.type === 'slotpay:succeeded') {
      paymentNote.textContent = 'Deposit paid: your appointment is confirmed.';
      document.getElementById('change').hidden = true;
    }
  }

  ['slotpay:ready', 'slotpay:succeeded', 'slotpay:failed'].forEach(function (type) {
    document.addEventListener(type, logEvent);
  });

  form.addEventListener('change', describe);
  form.addEventListener('submit', function (event) {
    event.preventDefault();
    errorBox.textContent = '';
    var service = selected('service');
    var slot = selected('slot');
    if (!service || !slot) return fail('Choose a service and a time.');
    bookButton.disabled = true;
    fetch('/api/bookings', {
      method: 'POST',
      headers: {'Content-Type': 'application/json'},
      body: JSON.stringify({service_id: service, slot: slot}),
    })
      .then(function (r) {
        return r.json().then(function (body) {
          if (!r.ok) throw new Error(body.error ? body.error.message : 'The booking failed.');
          return body;
        });
      })
      .then(function (booking) {
        form.hidden = true;
        payment.hidden = false;
        paymentNote.textContent = booking.description;
        var widget = document.createElement('slotpay-checkout');
        widget.setAttribute('checkout', booking.checkout);
        checkoutBox.replaceChildren(widget);
      })
      .catch(function (e) {
        fail(e.message);
      });
  });

  document.getElementById('change').addEventListener('click', function () {
    // Removing the element unmounts the widget (and everything it added).
    checkoutBox.replaceChildren();
    payment.hidden = true;
    form.hidden = false;
    bookButton.disabled = false;
  });

  fetch('/api/catalogue')
    .then(function (r) {
      if (!r.ok) throw new Error('The services could not be loaded.');
      return r.json();
    })
    .then(showCatalogue)
    .catch(function (e) {
      fail(e.message);
    });
})();
