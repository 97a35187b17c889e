// Catalog: on a phone-width screen the filter panel starts folded so the results come first
// (one tap on "Filters" opens it). Without JavaScript the panel simply stays open.
(function () {
  const narrow = window.matchMedia("(max-width: 760px)");

  function foldFilters() {
    const panel = document.querySelector(".catalog-filters");
    if (panel && narrow.matches) {
      panel.open = false;
    }
  }

  document.addEventListener("DOMContentLoaded", foldFilters);
  // Back/forward restores swap the whole body (htmx 4 re-requests the page): fold again.
  document.addEventListener("htmx:after:swap", (event) => {
    if (event.detail && event.detail.ctx && event.detail.ctx.target === document.body) {
      foldFilters();
    }
  });
})();
