/* Kyoso card payments: Stripe.js tokenizes the card (its details never reach this site), the server
   confirms the PaymentIntent, and Stripe.js completes 3-D Secure when the bank asks for it.
   No inline script (CSP); loaded only on the card page, whose CSP allows the Stripe host. */
(function () {
  "use strict";

  function start() {
    var form = document.getElementById("card-form");
    if (!form || typeof window.Stripe !== "function") { return; }
    var stripe = window.Stripe(form.getAttribute("data-publishable-key"));
    var card = stripe.elements().create("card");
    card.mount("#card-element");
    var errorBox = document.getElementById("card-error");
    var progress = document.getElementById("card-progress");
    var button = document.getElementById("card-submit");

    function fail(message) {
      button.disabled = false;
      progress.textContent = "";
      errorBox.textContent = "";
      var p = document.createElement("p");
      p.className = "form-error";
      p.textContent = message || "Error";
      errorBox.appendChild(p);
    }

    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      button.disabled = true;
      errorBox.textContent = "";
      progress.textContent = progress.getAttribute("data-working");
      var tokenResult = await stripe.createToken(card);
      if (tokenResult.error || !tokenResult.token) {
        fail(tokenResult.error && tokenResult.error.message);
        return;
      }
      var body = new URLSearchParams();
      body.set("token", tokenResult.token.id);
      body.set("_csrf_token", form.getAttribute("data-csrf"));
      var response = await fetch(form.action, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: {"Accept": "application/json", "x-csrftoken": form.getAttribute("data-csrf")}
      });
      var result = await response.json().catch(function () { return {error: response.statusText}; });
      if (result.error) { fail(result.error); return; }
      if (result.status === "requires_action" && result.client_secret) {
        var confirmed = await stripe.confirmCardPayment(result.client_secret);
        if (confirmed.error) { fail(confirmed.error.message); return; }
      }
      window.location.assign(result.next);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
