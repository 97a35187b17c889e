// Catalog: where the focus goes. The phone's filter sheet is a popover (markup and CSS, no
// script: it is closed from the first paint and opens without JavaScript too); this only moves
// the focus to the results when "Show N results" closes it, instead of back to the Filters
// button. And a link that a swap replaced under the focus (a removed filter's chip, "Clear all
// filters", a price band) hands it on to the results, or within the open sheet to "Show N
// results", rather than dropping it on the page's body (checkboxes and page links keep theirs:
// htmx finds them again by id).
(function () {
  "use strict";

  const byId = (id) => document.getElementById(id);

  // The results' region, from its top (as a new page would show them).
  const focusResults = () => {
    const results = byId("catalog-main");
    if (results) {
      results.focus({ preventScroll: true });
      results.scrollIntoView({ block: "start" });
    }
  };

  // Whether the phone's filter sheet is open (a browser without popovers shows no sheet).
  const sheetOpen = () => {
    const sheet = byId("catalog-filters");
    try {
      return Boolean(sheet && sheet.matches(":popover-open"));
    } catch (error) {
      return false;  // ":popover-open" is not a selector there
    }
  };

  // The link that made the request being swapped in, if it had the focus.
  let activated = null;

  document.addEventListener("htmx:before:swap", (event) => {
    const source = event.detail.ctx && event.detail.ctx.sourceElement;
    if (source && source.tagName === "A" && document.activeElement === source) activated = source;
  });
  document.addEventListener("htmx:after:swap", () => {
    if (!activated || activated.isConnected) return;  // not replaced (yet: a partial may follow)
    activated = null;
    const active = document.activeElement;
    if (active && active !== document.body && active.isConnected) return;
    const show = byId("catalog-show-results");
    if (show && sheetOpen()) {
      show.focus();
      return;
    }
    focusResults();
  });
  document.addEventListener("htmx:finally:request", (event) => {
    // That link's request is over (not another's: a stream the swap closed ends meanwhile).
    const ctx = event.detail.ctx;
    if (ctx && ctx.sourceElement === activated) activated = null;
  });

  let showResults = false;

  document.addEventListener("click", (event) => {
    if (event.target.closest && event.target.closest("#catalog-show-results")) showResults = true;
  });
  document.addEventListener("toggle", (event) => {
    if (event.target.id !== "catalog-filters" || event.newState !== "closed") return;
    if (showResults) {
      showResults = false;
      focusResults();
    }
  }, true);
})();
