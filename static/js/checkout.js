// localstripe's fake Stripe.js (development and tests only) declares a global `class Element`.
// A global class shadows the DOM's `Element` for every script on the page, so Bootstrap's
// `Element.prototype.matches.call(...)` finds nothing and its menu and alert buttons die.
// Chaining the fake class's prototype to the DOM's gives those calls the real methods back.
// With real Stripe.js `Element` is the DOM's own and this does nothing.
if (typeof Element === "function" && Element !== window.Element) {
  Object.setPrototypeOf(Element.prototype, window.Element.prototype);
}

// Checkout. The browser only talks to Stripe (real Stripe.js, or localstripe's fake one):
// - "card" mode: save the card with confirmCardSetup (a declined card shows its error here
//   and the customer tries again without leaving the page);
// - "action" mode: finish the bank's check (3-D Secure) with confirmCardPayment.
// Then the form is posted and the server asks Stripe itself what happened.
(() => {
  const form = document.getElementById("payment-form");
  if (!form) return;
  const button = document.getElementById("pay-button");
  const errors = document.getElementById("card-errors");
  const label = button.innerHTML;

  const busy = (text) => {
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    button.innerHTML = '<span class="spinner-border spinner-border-sm me-2" aria-hidden="true"></span>' + text;
  };
  const ready = () => {
    button.disabled = false;
    button.removeAttribute("aria-busy");
    button.innerHTML = label;
  };
  const fail = (message) => {
    errors.textContent = message;
    ready();
  };

  if (typeof Stripe === "undefined") {
    button.disabled = true;
    errors.textContent = "The card form could not load. Check your connection and reload the page.";
    return;
  }
  const stripe = Stripe(form.dataset.stripeKey);
  const mode = form.dataset.mode;
  let card = null;

  if (mode === "card") {
    card = stripe.elements().create("card", {
      style: { base: { fontSize: "16px", color: "#212529", "::placeholder": { color: "#6c757d" } } },
    });
    card.mount("#card-element");
    card.on("change", (event) => {
      errors.textContent = event && event.error ? event.error.message : "";
    });
  }

  const confirmWithBank = async () => {
    busy("Waiting for your bank…");
    try {
      await stripe.confirmCardPayment(form.dataset.clientSecret);
    } finally {
      busy("Checking the payment…");
      form.submit(); // the server looks at the payment either way
    }
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    errors.textContent = "";
    if (mode === "action") return confirmWithBank();
    busy("Checking your card…");
    let result;
    try {
      result = await stripe.confirmCardSetup(form.dataset.clientSecret, { payment_method: { card } });
    } catch (err) {
      result = { error: err };
    }
    if (result.error) {
      const message = result.error.message || "";
      return fail(
        /undefined|null/.test(message) || !message
          ? "Please enter your card details."
          : message,
      );
    }
    busy("Booking…");
    form.submit();
  });

  if (mode === "action") confirmWithBank();
})();
