// slotpay admin pages: progressive enhancement only; every page works without it.
// - Copy buttons (hidden until this runs) copy the read-only field they name and say so.
// - A form's error summary gets focus, so screen readers announce it first.
(function () {
  'use strict';

  function say(name, text) {
    var status = document.querySelector('[data-copy-status="' + name + '"]');
    if (status) status.textContent = text;
  }

  function setupCopy(button) {
    var name = button.getAttribute('data-copy');
    var input = document.getElementById(name);
    if (!input) return;
    button.hidden = false;
    button.addEventListener('click', function () {
      var fallback = function () {
        input.focus();
        input.select();
        var copied = false;
        try {
          copied = document.execCommand('copy');
        } catch (e) {
          copied = false;
        }
        say(name, copied ? 'Link copied' : 'Selected: press Ctrl+C (or Cmd+C) to copy');
      };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(input.value).then(function () {
          say(name, 'Link copied');
        }, fallback);
      } else {
        fallback();
      }
    });
  }

  function setup() {
    var buttons = document.querySelectorAll('button[data-copy]');
    for (var i = 0; i < buttons.length; i++) setupCopy(buttons[i]);
    var summary = document.getElementById('error-summary');
    if (summary) summary.focus();
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', setup);
  } else {
    setup();
  }
})();
