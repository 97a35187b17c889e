// The editor table's keyboard, focus and selection behaviour. No inline handlers (CSP):
// everything is delegated from the document, so rows that htmx swaps in work without re-binding.
// Without this script every row action is still a plain link or form (see row.html).
(() => {
  "use strict";

  const byId = (id) => document.getElementById(id);

  // -- one question dialog: htmx's hx-confirm and "discard your changes?" -----------------------
  // A native modal <dialog> (partials/editor/dialogs.html): focus stays inside, Escape means No,
  // and the browser puts the focus back where it was when it closes.
  const ask = (text, yesLabel, noLabel) => new Promise((resolve) => {
    const dialog = byId("confirm-dialog");
    if (!dialog || typeof dialog.showModal !== "function") {
      resolve(window.confirm(text));
      return;
    }
    byId("confirm-dialog-text").textContent = text;
    byId("confirm-dialog-yes").textContent = yesLabel;
    byId("confirm-dialog-no").textContent = noLabel;
    dialog.returnValue = "";
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "yes"), { once: true });
    dialog.showModal();
    byId("confirm-dialog-no").focus();
  });

  document.addEventListener("htmx:confirm", (event) => {
    const question = event.detail.ctx.confirm;
    if (!question || !byId("confirm-dialog")) return;
    event.preventDefault();
    ask(question, "Yes", "No").then((yes) => {
      if (yes) event.detail.issueRequest();
      else event.detail.dropRequest();
    });
  });

  // -- Escape cancels the row being edited, asking first when something was typed --------------
  const isDirty = (form) => [...form.elements].some((field) => {
    if (field.type === "hidden" || field.type === "submit" || field.type === "button") return false;
    if (field.type === "checkbox" || field.type === "radio") return field.checked !== field.defaultChecked;
    if (field.tagName === "SELECT") return [...field.options].some((o) => o.selected !== o.defaultSelected);
    return field.value !== field.defaultValue;
  });

  const selectIsOpen = (element) => {
    if (element.tagName !== "SELECT") return false;
    try {
      return element.matches(":open");
    } catch (error) {
      return false; // a browser without :open closes its popup before the page sees the key
    }
  };

  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || event.defaultPrevented) return;
    const field = event.target;
    const row = field.closest && field.closest("tr[data-edit-row]");
    if (!row || selectIsOpen(field)) return;
    const cancel = row.querySelector("[data-cancel]");
    if (!cancel) return;
    event.preventDefault();
    const form = row.querySelector("form");
    if (!form || !isDirty(form)) {
      cancel.click();
      return;
    }
    ask("Discard the changes you typed in this row?", "Discard changes", "Keep editing")
      .then((discard) => {
        if (discard) cancel.click();
        else if (field.isConnected) field.focus();
      });
  });

  // -- one Tab stop per row: the Edit link; the arrow keys reach the row's other controls -------
  const rove = () => {
    document.querySelectorAll("tr.product-row [data-rove]:not([tabindex])").forEach((control) => {
      control.setAttribute("tabindex", "-1");
    });
  };

  document.addEventListener("keydown", (event) => {
    if (!["ArrowLeft", "ArrowRight", "Home", "End"].includes(event.key)) return;
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const row = event.target.closest && event.target.closest("tr.product-row:not([data-edit-row])");
    if (!row) return;
    const controls = [...row.querySelectorAll("[data-rove], a.edit")]
      .filter((control) => control.getClientRects().length > 0);
    const index = controls.indexOf(event.target);
    if (index < 0) return;
    let next = index;
    if (event.key === "ArrowLeft") next = Math.max(0, index - 1);
    if (event.key === "ArrowRight") next = Math.min(controls.length - 1, index + 1);
    if (event.key === "Home") next = 0;
    if (event.key === "End") next = controls.length - 1;
    event.preventDefault();
    controls[next].focus();
  });

  // -- the selection: kept across pages, sent with the bulk form -------------------------------
  const selected = new Set();
  const announce = (text) => {
    const messages = byId("messages");
    if (!messages) return;
    const note = document.createElement("p");
    note.className = "alert alert-ok";
    note.textContent = text;
    messages.replaceChildren(note);
  };

  const syncSelection = () => {
    const bulkForm = byId("bulk-form");
    const holder = byId("bulk-selection");
    if (!bulkForm || !holder) return;
    const visible = new Set();
    document.querySelectorAll("#product-rows .row-select").forEach((box) => {
      visible.add(box.value);
      box.checked = selected.has(box.value);
    });
    holder.replaceChildren(...[...selected].filter((id) => !visible.has(id)).map((id) => {
      const input = document.createElement("input");
      input.type = "hidden";
      input.name = "ids";
      input.value = id;
      return input;
    }));
    const offPage = holder.children.length;
    const status = byId("selection-status");
    status.textContent = selected.size === 0 ? "" : `${selected.size.toLocaleString()} selected` +
      (offPage ? ` (${offPage.toLocaleString()} on other pages)` : "");
    byId("clear-selection").hidden = selected.size === 0;
    const selectPage = byId("select-page");
    if (selectPage) {
      selectPage.checked = visible.size > 0 && [...visible].every((id) => selected.has(id));
    }
  };

  const clearSelection = (why) => {
    if (selected.size === 0) return;
    selected.clear();
    syncSelection();
    if (why) announce(why);
  };

  const choose = (box) => {
    const bulkForm = byId("bulk-form");
    const limit = Number(bulkForm && bulkForm.dataset.maxSelection) || 500;
    if (box.checked && !selected.has(box.value) && selected.size >= limit) {
      box.checked = false;
      announce(`At most ${limit.toLocaleString()} rows can be selected; use “All matching the filter” for more.`);
      return;
    }
    if (box.checked) selected.add(box.value);
    else selected.delete(box.value);
  };

  // -- the bulk confirmation: withdrawn as soon as what it confirms changes -------------------
  const clearConfirmation = (why) => {
    const region = byId("bulk-confirmation");
    if (!region || region.children.length === 0) return;
    region.replaceChildren();
    announce(why);
  };

  document.addEventListener("change", (event) => {
    const target = event.target;
    if (target.classList.contains("row-select")) {
      choose(target);
      syncSelection();
      clearConfirmation("The confirmation was withdrawn because the selection changed.");
    } else if (target.id === "select-page") {
      document.querySelectorAll("#product-rows .row-select").forEach((box) => {
        box.checked = target.checked;
        choose(box);
      });
      syncSelection();
      clearConfirmation("The confirmation was withdrawn because the selection changed.");
    } else if (target.closest("#bulk-form")) {
      clearConfirmation("The confirmation was withdrawn because the bulk change is different now.");
    }
    if (target.id === "bulk-action") syncBulk();
  });

  document.addEventListener("input", (event) => {
    if (event.target.closest("#filters")) {
      clearConfirmation("The confirmation was withdrawn because the filter changed.");
      clearSelection("The selection was cleared because the filter changed.");
    } else if (event.target.closest("#bulk-form") && event.target.type !== "checkbox"
               && event.target.type !== "radio") {
      clearConfirmation("The confirmation was withdrawn because the bulk change is different now.");
    }
  });

  document.addEventListener("click", (event) => {
    const discard = event.target.closest("[data-discard-row]");
    if (discard) {
      discard.closest("tr").remove();
      const newButton = byId("new-product");
      if (newButton) newButton.focus();
      return;
    }
    if (event.target.closest("[data-bulk-cancel]")) {
      event.preventDefault();
      byId("bulk-confirmation").replaceChildren();
      const apply = byId("bulk-apply");
      if (apply) apply.focus();
      return;
    }
    if (event.target.closest("#clear-selection")) {
      clearSelection("The selection was cleared.");
      const apply = byId("bulk-apply");
      if (apply) apply.focus();
    }
  });

  // -- focus after every swap ----------------------------------------------------------------
  // The server marks the control that should get the focus (data-focus-me: the row's Edit link
  // after a save, Undo after a delete, the confirmation). Otherwise a control that htmx replaced
  // under the focus (the stock field after Tab, the Active toggle) is found again in the new row.
  let lastFocus = null;
  let paging = false;
  const keyOf = (element) => element.dataset.key || (element.classList.contains("stock-input") ? "stock" : "");

  document.addEventListener("htmx:before:swap", (event) => {
    const active = document.activeElement;
    const row = active && active.closest && active.closest("tr.product-row");
    lastFocus = row ? { rowId: row.id, key: keyOf(active) } : null;
    const source = event.detail.ctx.sourceElement;
    paging = Boolean(source && source.closest && source.closest(".pager, th.sortable"));
  });

  const syncCsrf = () => {
    const fresh = document.querySelector("[data-csrf-token]");
    if (!fresh) return;
    const token = fresh.getAttribute("data-csrf-token");
    fresh.removeAttribute("data-csrf-token");
    const meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) meta.content = token;
    document.querySelectorAll('input[name="csrf_token"]').forEach((input) => { input.value = token; });
  };

  // A live update (editor-live.js: a colleague's change redrawn, a notice filled in) never moves
  // the focus: only a control it replaced under the focus gets it back.
  const restoreLostFocus = () => {
    const lost = document.activeElement === document.body || !document.activeElement.isConnected;
    if (lastFocus && lost) {
      const row = byId(lastFocus.rowId);
      const again = row && ((lastFocus.key && row.querySelector(`[data-key="${lastFocus.key}"]`)) ||
        row.querySelector("a.edit"));
      if (again) again.focus();
    }
  };

  document.addEventListener("htmx:after:swap", (event) => {
    syncCsrf();
    rove();
    const ctx = event.detail.ctx;
    if (ctx.response && ctx.response.status === 200 && /\/products\/bulk$/.test(ctx.request.action || "")) {
      clearSelection();
    }
    syncSelection();
    if (ctx.request && ctx.request.headers && ctx.request.headers["X-Vitrine-Live"] === "1") {
      restoreLostFocus();
      return;
    }
    const summary = byId("table-summary");
    const tableStatus = byId("table-status");
    if (summary && tableStatus && ctx.target && ctx.target.id === "editor-table") {
      tableStatus.textContent = summary.textContent;
    }
    const marked = document.querySelector("[data-focus-me]");
    if (marked) {
      marked.removeAttribute("data-focus-me");
      marked.focus();
      return;
    }
    // A row form htmx just swapped in has its [autofocus] field focused already; after a refused
    // save the focus goes on to the first field with an error instead.
    const formRow = document.activeElement.closest && document.activeElement.closest("tr[data-edit-row]");
    const invalid = formRow && formRow.querySelector("[aria-invalid='true']");
    if (invalid && document.activeElement.getAttribute("aria-invalid") !== "true") {
      invalid.focus();
      if (invalid.select) invalid.select();
      return;
    }
    const editing = document.querySelector("tr[data-edit-row] [autofocus]");
    if (editing && !editing.closest("tr").contains(document.activeElement)) {
      editing.focus();
      if (editing.select) editing.select();
      return;
    }
    if (paging && summary) {
      summary.focus();
      return;
    }
    restoreLostFocus();
  });

  // -- the bulk form only shows the inputs the chosen action uses -----------------------------
  const syncBulk = () => {
    const action = byId("bulk-action");
    if (!action) return;
    byId("bulk-category").closest("label").hidden = action.value !== "set_category";
    byId("bulk-value").closest("label").hidden = !action.value.startsWith("price_");
  };

  // -- the import's drop zone: a file dropped on it becomes the file input's file -----------
  const showFileName = (input) => {
    const name = byId("import-file-name");
    if (name) name.textContent = input.files.length ? `Chosen: ${input.files[0].name}` : "";
  };
  document.addEventListener("change", (event) => {
    if (event.target.id === "import-file") showFileName(event.target);
  });
  ["dragenter", "dragover"].forEach((type) => document.addEventListener(type, (event) => {
    const zone = event.target.closest && event.target.closest("#import-drop");
    if (!zone) return;
    event.preventDefault();
    zone.classList.add("dragging");
  }));
  document.addEventListener("dragleave", (event) => {
    const zone = event.target.closest && event.target.closest("#import-drop");
    if (zone && !zone.contains(event.relatedTarget)) zone.classList.remove("dragging");
  });
  document.addEventListener("drop", (event) => {
    const zone = event.target.closest && event.target.closest("#import-drop");
    if (!zone) return;
    event.preventDefault();
    zone.classList.remove("dragging");
    const input = byId("import-file");
    if (!input || !event.dataTransfer || !event.dataTransfer.files.length) return;
    input.files = event.dataTransfer.files;
    showFileName(input);
    input.focus();
  });

  document.addEventListener("DOMContentLoaded", () => {
    syncBulk();
    rove();
    document.querySelectorAll("#product-rows .row-select:checked").forEach(choose);
    syncSelection();
  });
})();
