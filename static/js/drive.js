// The driver's pages: location sharing during a ride, busy labels, photo previews, and
// keeping the board's self-refresh from wiping a half-filled form. Pages work without it.
(() => {
  const KEY = "ww-share-location";
  let watchId = null;
  let lastSent = 0;
  let latest = null;
  let timer = null;

  const panel = () => document.querySelector("[data-position-url]");
  const csrf = () => JSON.parse(document.body.getAttribute("hx-headers") || "{}")["x-csrftoken"];

  function setStatus(text, sharing) {
    const el = panel();
    if (!el) return;
    el.querySelector("[data-location-status]").textContent = text;
    const button = el.querySelector("[data-share-location]");
    button.setAttribute("aria-pressed", sharing ? "true" : "false");
    button.textContent = sharing ? "Stop sharing my location" : "Share my location with the owner";
    button.classList.toggle("btn-success", sharing);
    button.classList.toggle("btn-outline-secondary", !sharing);
  }

  async function send() {
    const el = panel();
    if (!el || !latest) return;
    lastSent = Date.now();
    const body = new FormData();
    body.append("lat", latest.coords.latitude);
    body.append("lng", latest.coords.longitude);
    if (Number.isFinite(latest.coords.accuracy)) body.append("accuracy", Math.round(latest.coords.accuracy));
    try {
      const response = await fetch(el.dataset.positionUrl, {
        method: "POST", body, headers: { "X-CSRFToken": csrf() }, credentials: "same-origin",
      });
      if (response.status === 409) { stop("The ride is over: location sharing stopped."); return; }
      if (!response.ok) throw new Error(response.status);
      setStatus(`Sharing your location · sent ${new Date().toLocaleTimeString([], { hour: "numeric", minute: "2-digit" })}`, true);
    } catch (error) {
      setStatus("Couldn't send your location; trying again shortly.", true);
    }
  }

  function start() {
    const el = panel();
    if (!el || watchId !== null) return;
    if (!("geolocation" in navigator)) { setStatus("This phone can't share its location.", false); return; }
    const interval = (Number(el.dataset.interval) || 20) * 1000;
    localStorage.setItem(KEY, "1");
    setStatus("Finding your location…", true);
    watchId = navigator.geolocation.watchPosition(
      (position) => { latest = position; if (Date.now() - lastSent >= interval) send(); },
      (error) => {
        stop(error.code === error.PERMISSION_DENIED
          ? "Location is blocked for this site. Allow it in your browser settings to share it."
          : "Couldn't get your location.");
        if (error.code === error.PERMISSION_DENIED) localStorage.removeItem(KEY);
      },
      { enableHighAccuracy: true, maximumAge: 10000, timeout: 30000 },
    );
    // watchPosition may stay quiet while parked: resend the latest fix on schedule anyway.
    timer = window.setInterval(() => { if (Date.now() - lastSent >= interval) send(); }, interval);
  }

  function stop(message) {
    if (watchId !== null) navigator.geolocation.clearWatch(watchId);
    if (timer) window.clearInterval(timer);
    watchId = null; timer = null; latest = null;
    setStatus(message || "Not sharing your location.", false);
  }

  // After every swap: keep sharing across re-rendered cards, stop when no ride is under way.
  async function sync() {
    if (!panel()) { if (watchId !== null) stop(); return; }
    if (watchId !== null) { setStatus("Sharing your location.", true); return; }
    if (localStorage.getItem(KEY) === "1" && navigator.permissions) {
      const state = await navigator.permissions.query({ name: "geolocation" }).catch(() => null);
      if (state && state.state === "granted") start();
    }
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-share-location]");
    if (!button) return;
    if (watchId === null) start();
    else { localStorage.removeItem(KEY); stop(); }
  });

  // Photo preview, so the driver sees what they are about to send.
  document.addEventListener("change", (event) => {
    const input = event.target.closest("[data-photo-input]");
    if (!input) return;
    const preview = input.form.querySelector("[data-photo-preview]");
    const error = input.form.querySelector("[data-photo-error]");
    const file = input.files && input.files[0];
    const refuse = (message) => {
      input.value = "";
      input.setCustomValidity(message);
      input.classList.add("is-invalid");
      if (error) error.textContent = message;
      if (preview) preview.classList.add("d-none");
    };
    input.setCustomValidity("");
    input.classList.remove("is-invalid");
    if (error) error.textContent = "";
    if (!file) return;
    // The server checks again; these only spare the driver a long upload that is refused.
    const accepted = (input.accept || "").split(",");
    if (!accepted.includes(file.type)) {
      refuse("That file isn't a photo we can read. Take a JPEG, PNG or WebP photo.");
      return;
    }
    shrinkPhoto(file, Number(input.dataset.maxEdge) || 1600).then((small) => {
      const maxBytes = Number(input.dataset.maxBytes) || Infinity;
      if (small.size > maxBytes) {
        const mb = (n) => (n / 1048576).toFixed(1);
        refuse(`That photo is too large (${mb(small.size)} MB); the limit is ${Math.floor(maxBytes / 1048576)} MB.`);
        return;
      }
      if (small !== file) {
        const files = new DataTransfer();
        files.items.add(small);
        input.files = files.files;
      }
      if (preview) {
        preview.src = URL.createObjectURL(small);
        preview.classList.remove("d-none");
      }
    });
  });

  // A photo larger than the server keeps (it stores at most `maxEdge` pixels on the long side)
  // is scaled down here first, as a JPEG: a phone's 12 MP photo uploads in a fraction of the time.
  function shrinkPhoto(file, maxEdge) {
    if (!window.createImageBitmap || !window.DataTransfer) return Promise.resolve(file);
    return createImageBitmap(file)
      .then((bitmap) => {
        const scale = Math.min(1, maxEdge / Math.max(bitmap.width, bitmap.height));
        if (scale === 1 && file.size < 2 * 1048576) return file;
        const canvas = document.createElement("canvas");
        canvas.width = Math.round(bitmap.width * scale);
        canvas.height = Math.round(bitmap.height * scale);
        canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
        return new Promise((resolve) =>
          canvas.toBlob(
            (blob) => resolve(blob ? new File([blob], file.name.replace(/\.\w+$/, "") + ".jpg", { type: "image/jpeg" }) : file),
            "image/jpeg",
            0.85,
          ),
        );
      })
      .catch(() => file); // unreadable here: let the server say why
  }

  // Upload progress on the button of a photo step.
  document.addEventListener("htmx:xhr:progress", (event) => {
    const form = event.target.closest && event.target.closest(".drive-photo-step");
    if (!form || !event.detail.lengthComputable) return;
    const label = form.querySelector("[data-label]");
    label.textContent = `Uploading ${Math.round((event.detail.loaded / event.detail.total) * 100)}%`;
  });

  // Failed requests (lost signal, a ride taken away): say so, and refresh the board.
  document.addEventListener("htmx:responseError", (event) => {
    if (!event.target.closest || !event.target.closest(".drive")) return;
    const messages = document.getElementById("messages");
    if (messages) {
      messages.innerHTML = '<div class="alert alert-warning" role="alert">That didn\'t go through: the ride may have changed. Showing the latest.</div>';
    }
    document.body.dispatchEvent(new Event("rides-changed"));
  });
  document.addEventListener("htmx:sendError", () => {
    const messages = document.getElementById("messages");
    if (messages) messages.innerHTML = '<div class="alert alert-warning" role="alert">No connection. Try again when you have signal.</div>';
  });

  // The board refreshes itself only when nothing is half done on it. (A filter in hx-trigger
  // would need eval, which the Content-Security-Policy forbids: the request is cancelled here.)
  document.addEventListener("htmx:beforeRequest", (event) => {
    if (event.detail.elt.hasAttribute("data-refresh-when-idle") && !window.driveBoardIdle()) event.preventDefault();
  });
  window.driveBoardIdle = () => {
    if (document.visibilityState !== "visible") return false;
    const board = document.getElementById("drive-board");
    if (!board || board.querySelector(".htmx-request")) return false;
    if ([...board.querySelectorAll("input[type=file]")].some((i) => i.files && i.files.length)) return false;
    if ([...board.querySelectorAll("textarea")].some((t) => t.value.trim())) return false;
    return !board.querySelector("details[open]");
  };

  // A newly assigned ride: a short buzz on phones that allow it.
  document.addEventListener("htmx:afterSwap", (event) => {
    if (event.target.id === "drive-board" && event.target.dataset.newRide && navigator.vibrate) navigator.vibrate(200);
  });
  document.addEventListener("htmx:afterSettle", sync);
  document.addEventListener("DOMContentLoaded", sync);
})();
