// Vitrine's only script besides htmx. Kept external (no inline scripts) for the CSP.
// Every htmx request carries the CSRF token from <meta name="csrf-token"> when the page has one.
document.addEventListener("htmx:config:request", (event) => {
  const meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) {
    event.detail.ctx.request.headers["X-CSRFToken"] = meta.content;
  }
});
