// slotpay admin pages: progressive enhancement only; every page works without it.
// - Copy buttons (hidden until this runs) copy the read-only field they name and say so;
//   an id's copy button copies the id and says so on itself.
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

  function setupCopyText(button) {
    if (!(navigator.clipboard && navigator.clipboard.writeText)) return;
    var label = button.firstChild;
    button.hidden = false;
    button.addEventListener('click', function () {
      navigator.clipboard.writeText(button.getAttribute('data-copy-text')).then(function () {
        label.textContent = 'Copied';
        setTimeout(function () { label.textContent = 'Copy'; }, 2000);
      });
    });
  }

  function setup() {
    var buttons = document.querySelectorAll('button[data-copy]');
    for (var i = 0; i < buttons.length; i++) setupCopy(buttons[i]);
    var ids = document.querySelectorAll('button[data-copy-text]');
    for (var j = 0; j < ids.length; j++) setupCopyText(ids[j]);
    var summary = document.getElementById('error-summary');
    if (summary) summary.focus();
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', setup);
  } else {
    setup();
  }
})();
