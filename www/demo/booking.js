/* The demo booking page's own script: lists services and slots from this site's backend,
 * books one (the backend creates the slotpay checkout, with the amount decided server-side and
 * the slot held for the deposit), mounts <slotpay-checkout checkout="TOKEN"> (defined by
 * slotpay.js, loaded from the slotpay server), and logs the widget's slotpay:* events.
 *
 * Whether the booking is confirmed is the backend's word, not the widget's: the backend hears
 * it from slotpay's signed events, so it knows even when this tab was closed during 3-D Secure.
 * The page polls GET /api/bookings/{ref} until the booking is settled, and keeps ?booking=REF in
 * its address so reopening it shows the booking again. No inline code: the page has a strict CSP. */
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
  var statusBox = document.getElementById('booking-status');
  var changeButton = document.getElementById('change');
  var catalogue = {services: [], slots: []};
  // How often the page asks its backend how the booking stands.
  var POLL_MS = 1000;
  // Bumped whenever the page stops following a booking, so an older poll loop ends.
  var following = 0;

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
      changeButton.hidden = true;
    }
  }

  function time(unixSeconds) {
    // The 24-hour clock, as the slots are listed.
    return new Date(unixSeconds * 1000).toLocaleTimeString(document.documentElement.lang || 'en', {
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
  }

  /** What the client reads about a booking in each state the backend reports. */
  function statusText(booking) {
    var deposit = money(booking.amount);
    switch (booking.state) {
      case 'confirmed':
        return 'Booking confirmed: the deposit of ' + deposit + ' is paid.';
      case 'released':
        return booking.reason === 'canceled'
          ? 'Slot released: the booking was canceled.'
          : 'Slot released: the deposit was not paid in time. Choose another time to book again.';
      case 'refunded':
        return 'Refunded: the deposit of ' + deposit + ' was paid back.';
      case 'partially_refunded':
        return 'Partly refunded: ' + money({amount: booking.amount_refunded, currency: booking.amount.currency}) +
          ' of the deposit was paid back.';
      default: {
        var until = booking.held_until ? ' until ' + time(booking.held_until) : '';
        return booking.payment_failures > 0
          ? 'Payment not completed yet: the slot is still held' + until + '.'
          : 'Slot held' + until + ' while you pay the deposit.';
      }
    }
  }

  function showStatus(booking) {
    statusBox.dataset.state = booking.state;
    statusBox.textContent = statusText(booking);
    if (booking.state === 'released') {
      // The checkout has expired or was canceled: nothing left to pay there.
      checkoutBox.replaceChildren();
    }
    if (booking.state !== 'pending' && booking.state !== 'released') changeButton.hidden = true;
  }

  /** Polls the backend for `ref` until the booking is no longer waiting for its deposit. */
  function follow(ref) {
    var mine = ++following;
    function poll() {
      if (mine !== following) return;
      fetch('/api/bookings/' + encodeURIComponent(ref))
        .then(function (r) {
          if (r.status === 404) throw new Error('gone');
          if (!r.ok) return null;
          return r.json();
        })
        .then(function (booking) {
          if (mine !== following) return;
          if (booking) showStatus(booking);
          // Pending: the deposit may still come (3-D Secure, another card); anything else is settled.
          if (!booking || booking.state === 'pending') setTimeout(poll, POLL_MS);
        })
        .catch(function (e) {
          if (mine !== following) return;
          if (e.message === 'gone') {
            statusBox.dataset.state = '';
            statusBox.textContent = 'This booking is not known here any more.';
          } else setTimeout(poll, POLL_MS);
        });
    }
    poll();
  }

  /** Shows a booking (just made, or reopened from the address) and follows its state. */
  function showBooking(booking) {
    form.hidden = true;
    payment.hidden = false;
    paymentNote.textContent = booking.description;
    // The address names the booking (a reload reopens it); back from a bank it keeps Stripe's
    // parameters for the widget, which then asks how the payment went.
    if (new URLSearchParams(location.search).get('booking') !== booking.ref) {
      history.replaceState(null, '', '?booking=' + encodeURIComponent(booking.ref));
    }
    checkoutBox.replaceChildren();
    if (booking.state === 'pending') {
      var widget = document.createElement('slotpay-checkout');
      widget.setAttribute('checkout', booking.checkout);
      checkoutBox.appendChild(widget);
    }
    showStatus(booking);
    follow(booking.ref);
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
      .then(showBooking)
      .catch(function (e) {
        fail(e.message);
      });
  });

  changeButton.addEventListener('click', function () {
    // The old booking's hold lapses on its own; this page stops following it.
    following++;
    history.replaceState(null, '', location.pathname);
    statusBox.textContent = '';
    statusBox.dataset.state = '';
    // Removing the element unmounts the widget (and everything it added).
    checkoutBox.replaceChildren();
    payment.hidden = true;
    form.hidden = false;
    bookButton.disabled = false;
  });

  // Reopened at ?booking=REF (after a reload, or a tab closed during 3-D Secure): the booking
  // as the backend knows it.
  var reopened = new URLSearchParams(location.search).get('booking');
  if (reopened) {
    fetch('/api/bookings/' + encodeURIComponent(reopened))
      .then(function (r) {
        if (!r.ok) throw new Error('That booking was not found: choose a service and a time.');
        return r.json();
      })
      .then(showBooking)
      .catch(function (e) {
        history.replaceState(null, '', location.pathname);
        fail(e.message);
      });
  }

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
