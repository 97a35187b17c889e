// Catalog: the phone's filter sheet. The sheet is a popover (markup and CSS, no script: it is
// closed from the first paint and opens without JavaScript too); this only moves the focus to
// the results when "Show N results" closes it, instead of back to the Filters button.
(function () {
  "use strict";

  let showResults = false;

  document.addEventListener("click", (event) => {
    if (event.target.closest && event.target.closest("#catalog-show-results")) showResults = true;
  });
  document.addEventListener("toggle", (event) => {
    if (event.target.id !== "catalog-filters" || event.newState !== "closed") return;
    if (showResults) {
      showResults = false;
      const results = document.getElementById("catalog-main");
      if (results) {
        results.focus({ preventScroll: true });
        results.scrollIntoView({ block: "start" });
      }
    }
  }, true);
})();
