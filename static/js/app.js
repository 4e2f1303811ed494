// Small progressive enhancements; every page works without this file.
document.addEventListener("submit", (event) => {
  // Plain (non-HTMX) form posts: disable the button and show it is working,
  // so a second tap cannot submit twice.
  const form = event.target;
  if (form.hasAttribute("hx-post") || form.hasAttribute("hx-get")) return;
  const button = event.submitter;
  if (button && !button.hasAttribute("data-no-busy")) {
    window.setTimeout(() => {
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
      if (!button.querySelector(".spinner-border")) {
        button.insertAdjacentHTML("afterbegin",
          '<span class="spinner-border spinner-border-sm me-1" aria-hidden="true"></span>');
      }
    }, 0);
  }
});

// Pages that refresh themselves do so only while someone is looking (without a filter in
// hx-trigger, which would need eval: the Content-Security-Policy forbids it).
document.addEventListener("htmx:beforeRequest", (event) => {
  if (event.detail.elt.hasAttribute("data-refresh-when-visible") && document.visibilityState !== "visible") {
    event.preventDefault();
  }
});

// Print buttons (receipts).
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});

// Suggested pickup times (the booking form's price panel): a tap puts the time in the form's
// pickup field and asks for a new quote. Without JavaScript the times are listed as text.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-fill-time]");
  if (!button) return;
  // The booking form holds its quote panel; the reschedule page's sits beside its form.
  const name = button.dataset.fillField || "scheduled_at"; // a round trip's return: "return_at"
  const field = (button.form || document).querySelector(`input[name=${name}]`);
  if (!field) return;
  field.value = button.dataset.fillTime;
  field.dispatchEvent(new Event("change", { bubbles: true }));
  field.focus();
});

// Parts of a form shown only for some choices: data-shown-when="trip:round_trip" shows the
// element while the form's "trip" radio is "round_trip". Without JavaScript everything shows.
function syncShownWhen(root) {
  root.querySelectorAll("[data-shown-when]").forEach((el) => {
    const [name, values] = el.dataset.shownWhen.split(":");
    const form = el.closest("form") || document;
    const checked = form.querySelector(`input[name=${name}]:checked`);
    const shown = checked ? values.split(",").includes(checked.value) : false;
    el.hidden = !shown;
  });
}
document.addEventListener("change", (event) => {
  if (event.target.matches("input[type=radio]")) syncShownWhen(event.target.form || document);
});
document.addEventListener("DOMContentLoaded", () => syncShownWhen(document));

// Live field errors: each quote re-validates its form, and its fragment says each filled-in
// field's errors as they are now (#quote-field-errors, from LiveErrorsForm.live_errors). They
// are put beside the fields, so no error stays once fixed; the summary above is replaced too.
function showFieldErrors(form, name, errors) {
  const inputs = [...form.querySelectorAll(`[name="${name}"]`)].filter((el) => el.type !== "hidden");
  if (!inputs.length) return;
  const id = `id_${name}_error`;
  document.getElementById(id)?.remove();
  inputs.forEach((input) => {
    const described = (input.getAttribute("aria-describedby") || "").split(" ").filter((t) => t && t !== id);
    input.classList.toggle("is-invalid", errors.length > 0);
    if (errors.length) {
      input.setAttribute("aria-invalid", "true");
      described.push(id);
    } else {
      input.removeAttribute("aria-invalid");
    }
    if (described.length) input.setAttribute("aria-describedby", described.join(" "));
    else input.removeAttribute("aria-describedby");
  });
  if (!errors.length) return;
  const box = document.createElement("div");
  box.id = id;
  box.className = "invalid-feedback d-block";
  errors.forEach((text) => {
    const line = document.createElement("p");
    line.className = "mb-0";
    line.append(Object.assign(document.createElement("strong"), { textContent: text }));
    box.append(line);
  });
  const last = inputs[inputs.length - 1];
  (last.closest(".form-check") || last).after(box);
}
document.addEventListener("htmx:afterSwap", () => {
  const data = document.getElementById("quote-field-errors");
  const form = document.querySelector("form[hx-target='#quote']");
  if (!data || !form) return;
  const live = JSON.parse(data.textContent);
  Object.entries(live.fields || {}).forEach(([name, errors]) => showFieldErrors(form, name, errors));
  const summary = form.querySelector("[data-form-summary]");
  if (summary) {
    summary.textContent = live.summary || "";
    summary.hidden = !live.summary;
  }
});
