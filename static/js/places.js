// The booking form's "saved place or recent address" choices (bookings.forms.AddressSourceSelect).
// Choosing one copies its address into the field named by data-fills; typing a different
// address there clears the choice, so a place's notes go only with its own address. Without
// this file the form still works: the server fills an empty address from the choice.
(() => {
  const sameAddress = (a, b) => {
    const norm = (text) => text.toLowerCase().replace(/[,.]/g, " ").split(/\s+/).filter(Boolean).join(" ");
    return norm(a) === norm(b);
  };

  // Capture phase: the address is in place before htmx (listening on the form) asks for a quote.
  document.addEventListener("change", (event) => {
    const select = event.target.closest && event.target.closest("select[data-fills]");
    if (!select) return;
    const input = document.getElementById(select.dataset.fills);
    const option = select.selectedOptions[0];
    if (input && option && option.dataset.address) input.value = option.dataset.address;
  }, true);

  document.addEventListener("input", (event) => {
    const input = event.target;
    if (!input.id) return;
    const select = document.querySelector(`select[data-fills="${CSS.escape(input.id)}"]`);
    if (!select || !select.value) return;
    const option = select.selectedOptions[0];
    if (option && option.dataset.address && !sameAddress(option.dataset.address, input.value)) select.value = "";
  });
})();
