// Long facet lists: the search box inside a list hides the values that do not match what is
// typed (and unfolds the "Show more" part while it filters), and says how many match. Which
// lists are unfolded and what their search boxes hold survive the facets being re-rendered
// after every search, as does the focus on a box that was inside a folded part.
(function () {
  "use strict";

  const unfolded = new Set(); // ids of the "Show more" lists the shopper opened
  const searches = new Map(); // facet name -> text in its search box
  let focusedId = null;

  function filter(input) {
    const fieldset = input.closest("fieldset");
    const text = input.value.trim().toLowerCase();
    let shown = 0;
    fieldset.querySelectorAll(".facet-value").forEach((item) => {
      const label = item.querySelector("label");
      const match = !text || label.textContent.toLowerCase().includes(text);
      item.hidden = !match;
      if (match) shown += 1;
    });
    fieldset.querySelectorAll(".facet-more").forEach((details) => {
      // While filtering, the folded part is open (and its summary hidden); afterwards it is
      // as it was.
      if (text) {
        if (!details.classList.contains("is-filtering")) {
          details.dataset.wasOpen = details.open ? "1" : "";
          details.classList.add("is-filtering");
        }
        details.open = true;
      } else if (details.classList.contains("is-filtering")) {
        details.classList.remove("is-filtering");
        details.open = details.dataset.wasOpen === "1";
      }
    });
    fieldset.querySelectorAll(".facet-group").forEach((heading) => {
      const group = heading.nextElementSibling;
      const any = group && group.querySelector(".facet-value:not([hidden])");
      heading.hidden = Boolean(text) && !any;
      if (group) group.hidden = Boolean(text) && !any;
    });
    const status = document.getElementById(input.id + "-status");
    if (status) status.textContent = text ? `${shown} match${shown === 1 ? "" : "es"}` : "";
  }

  function restore() {
    document.querySelectorAll(".facet-more").forEach((details) => {
      if (unfolded.has(details.dataset.facetMore)) details.open = true;
    });
    searches.forEach((text, name) => {
      const input = document.querySelector(`[data-facet-search="${name}"]`);
      if (input && text) {
        input.value = text;
        filter(input);
      }
    });
    const active = document.activeElement;
    if (focusedId && (!active || active === document.body)) {
      const element = document.getElementById(focusedId);
      if (element) element.focus();
    }
  }

  document.addEventListener("input", (event) => {
    const input = event.target;
    if (input.dataset && input.dataset.facetSearch) {
      searches.set(input.dataset.facetSearch, input.value);
      filter(input);
    }
  });
  // Enter in a facet's search box must not submit the search form.
  document.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && event.target.dataset && event.target.dataset.facetSearch) {
      event.preventDefault();
    }
  });
  document.addEventListener("toggle", (event) => {
    const details = event.target;
    if (!details.classList || !details.classList.contains("facet-more")) return;
    if (details.classList.contains("is-filtering")) return;
    if (details.open) unfolded.add(details.dataset.facetMore);
    else unfolded.delete(details.dataset.facetMore);
  }, true);
  // The facet control last focused, forgotten as soon as the focus goes elsewhere (a swap
  // after a page link must not pull the focus back into the facets).
  document.addEventListener("focusin", (event) => {
    const inFacets = event.target.closest && event.target.closest("#catalog-facets");
    focusedId = inFacets && event.target.id ? event.target.id : null;
  });
  document.addEventListener("htmx:after:swap", restore);
})();
