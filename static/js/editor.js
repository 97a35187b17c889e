// The editor table's keyboard and selection behaviour. No inline handlers (CSP): everything is
// delegated from the document, so rows that htmx swaps in work without re-binding.
(() => {
  "use strict";

  // Escape cancels the row being edited (or a conflict): the row's Cancel / Keep-theirs button
  // asks the server for the display row; a new, unsaved row is simply removed.
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || event.defaultPrevented) return;
    const row = event.target.closest && event.target.closest("tr[data-edit-row]");
    if (!row) return;
    const cancel = row.querySelector("[data-cancel]");
    if (cancel) {
      event.preventDefault();
      cancel.click();
    }
  });

  document.addEventListener("click", (event) => {
    const discard = event.target.closest("[data-discard-row]");
    if (discard) {
      discard.closest("tr").remove();
      return;
    }
    const selectPage = event.target.closest("#select-page");
    if (selectPage) {
      document.querySelectorAll("#product-rows .row-select").forEach((box) => {
        box.checked = selectPage.checked;
      });
    }
  });

  // A row that just became a form gets the focus on its first field, so Tab moves through it.
  document.addEventListener("htmx:after:swap", () => {
    const editing = document.querySelector("tr[data-edit-row] [autofocus]");
    if (editing && !editing.closest("tr").contains(document.activeElement)) {
      editing.focus();
      if (editing.select) editing.select();
    }
    const selectPage = document.getElementById("select-page");
    if (selectPage) selectPage.checked = false;
  });

  // The bulk form only shows the inputs the chosen action uses.
  const syncBulk = () => {
    const action = document.getElementById("bulk-action");
    if (!action) return;
    const category = document.getElementById("bulk-category");
    const value = document.getElementById("bulk-value");
    category.closest("label").hidden = action.value !== "set_category";
    value.closest("label").hidden = !action.value.startsWith("price_");
  };
  document.addEventListener("change", (event) => {
    if (event.target.id === "bulk-action") syncBulk();
  });
  document.addEventListener("DOMContentLoaded", syncBulk);
})();
