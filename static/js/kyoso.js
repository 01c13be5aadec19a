/* Kyoso: small progressive enhancements. No inline handlers (CSP script-src 'self'). Plain ES2017.
   Works without htmx: it only listens for the DOM events htmx dispatches. */
(function () {
  "use strict";

  var INVALID = '[aria-invalid="true"]';
  var FORM_ERROR = ".form-error";
  var pending = [];
  var scheduled = false;

  function within(root, selector) {
    var found = [];
    if (!root || root.nodeType !== 1) { return found; }
    if (root.matches(selector)) { found.push(root); }
    return found.concat(Array.prototype.slice.call(root.querySelectorAll(selector)));
  }

  function firstInDocumentOrder(elements) {
    return elements.reduce(function (first, el) {
      if (!first) { return el; }
      return first.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_PRECEDING ? el : first;
    }, null);
  }

  // htmx fires htmx:afterSwap once per swapped element, so gather the roots of one swap and
  // focus once: the earliest .form-error or [aria-invalid="true"] in document order (a summary
  // box above the form therefore wins over the first invalid field below it).
  function focusFirstError() {
    var roots = pending;
    pending = [];
    scheduled = false;
    var candidates = [];
    roots.forEach(function (root) {
      if (!document.body.contains(root)) { return; }
      candidates = candidates.concat(within(root, FORM_ERROR), within(root, INVALID));
    });
    var target = firstInDocumentOrder(candidates);
    if (!target) { return; }
    if (target.matches(FORM_ERROR) && !target.hasAttribute("tabindex")) {
      target.setAttribute("tabindex", "-1");
    }
    target.focus();
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    pending.push(event.target);
    if (!scheduled) {
      scheduled = true;
      window.setTimeout(focusFirstError, 0);
    }
  });

  // Invitation links: a click or focus on the read-only field selects the whole link for copying.
  document.addEventListener("focusin", function (event) {
    var el = event.target;
    if (el && el.matches && el.matches(".copy-field input[readonly]")) {
      window.setTimeout(function () { el.select(); }, 0);
    }
  });

  // Character counts as a reader counts them: code points (𠮷 and emoji are one), CRLF as one line break.
  function characters(text) {
    return Array.from(text.replace(/\r\n/g, "\n")).length;
  }

  function updateCount(input) {
    var counter = document.querySelector('[data-count-for="' + input.id + '"]');
    var limit = parseInt(input.getAttribute("data-max-chars"), 10);
    if (!counter || !limit) { return; }
    var count = characters(input.value);
    counter.textContent = counter.textContent.replace(/^[\d,]+/, count.toLocaleString("en-US"));
    counter.classList.toggle("char-count--over", count > limit);
  }

  document.addEventListener("input", function (event) {
    var el = event.target;
    if (el && el.matches && el.matches("[data-max-chars]")) { updateCount(el); }
  });

  // Upload progress: htmx reports the bytes sent; the form's <progress> shows them.
  document.addEventListener("htmx:xhr:progress", function (event) {
    var form = event.target.closest && event.target.closest("form");
    var bar = form && form.querySelector("progress.upload-progress");
    if (bar && event.detail && event.detail.lengthComputable) {
      bar.value = Math.round((event.detail.loaded / event.detail.total) * 100);
    }
  });
})();
