/* Scorecard: no score is ever silently dropped. A save that could not reach the server (offline, timeout,
   server error) stays in a queue, is marked "Not sent", and is sent again when the browser is back online
   and every few seconds. Stale (409) and refused (422) saves are not retried: the judge must look at them.
   Plain ES2017, no inline handlers (CSP script-src 'self'); htmx sends, this file only listens. */
(function () {
  "use strict";

  var RETRY_EVERY_MS = 5000;
  var RETRY_EVENT = "kyoso-retry";
  var unsent = [];

  function form() { return document.getElementById("scorecard-scores"); }

  function criterionOf(event) {
    var el = event.detail && event.detail.elt;
    return el && el.matches && el.matches("[data-criterion]") ? el : null;
  }

  function stateOf(criterion) { return document.getElementById(criterion.getAttribute("data-state")); }

  function showBanner() {
    var banner = document.getElementById("scorecard-unsent");
    if (banner) { banner.hidden = unsent.length === 0; }
  }

  function keep(criterion) {
    if (unsent.indexOf(criterion) < 0) { unsent.push(criterion); }
    var state = stateOf(criterion);
    var scores = form();
    if (state && scores) {
      state.textContent = scores.getAttribute("data-unsent-label");
      state.classList.add("save-state--unsent");
    }
    showBanner();
  }

  function settle(criterion) {
    var at = unsent.indexOf(criterion);
    if (at >= 0) { unsent.splice(at, 1); }
    var state = stateOf(criterion);
    if (state) { state.classList.remove("save-state--unsent"); }
    showBanner();
  }

  function onFailure(event) {
    var criterion = criterionOf(event);
    if (criterion) { keep(criterion); }
  }

  document.addEventListener("htmx:sendError", onFailure);
  document.addEventListener("htmx:timeout", onFailure);
  document.addEventListener("htmx:sendAbort", onFailure);

  document.addEventListener("htmx:afterRequest", function (event) {
    var criterion = criterionOf(event);
    var xhr = event.detail && event.detail.xhr;
    if (!criterion || !xhr || !xhr.status) { return; }  // status 0: never reached the server
    if (xhr.status >= 500) { keep(criterion); } else { settle(criterion); }
  });

  // Resend what is queued; hx-sync on the form sends them one after another with the latest version.
  function retry() {
    if (!unsent.length || navigator.onLine === false || !window.htmx) { return; }
    var scores = form();
    unsent.slice().forEach(function (criterion) {
      var state = stateOf(criterion);
      if (state && scores) { state.textContent = scores.getAttribute("data-sending-label"); }
      window.htmx.trigger(criterion, RETRY_EVENT);
    });
  }

  window.addEventListener("online", retry);
  window.setInterval(retry, RETRY_EVERY_MS);

  // Leaving with unsent scores would lose them: ask the browser to warn first.
  window.addEventListener("beforeunload", function (event) {
    if (unsent.length) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
})();
