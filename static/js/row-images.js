// Images from the products table's rows (app/editor/images.py, "From the row"): "Add image"
// opens the row's upload form in a row under it (htmx); a file dropped on a product's row opens
// it with that file chosen and asks for the alt text. One such form at a time (its fields have
// the images page's ids, so images.js checks the size here too). Escape or Cancel closes it and
// gives the focus back to the row's "Add image". Without JavaScript the Images page does it all.
(() => {
  const closeForms = () => document.querySelectorAll("tr.row-images").forEach((row) => row.remove());
  const close = (formRow) => {
    const button = document.querySelector(`#product-${formRow.dataset.product} [data-add-image]`);
    formRow.remove();
    if (button) button.focus();
  };

  // After an accepted upload the server sent the product's row (with its notice, focused by
  // editor.js): the form under it has done its job.
  document.addEventListener("htmx:after:swap", (event) => {
    const ctx = event.detail.ctx;
    const source = ctx && ctx.sourceElement;
    const formRow = source && source.closest && source.closest("tr.row-images");
    if (formRow && ctx.response && ctx.response.status === 201) formRow.remove();
  });

  // Capture: runs before htmx's own click handler sends the request for the new form.
  document.addEventListener("click", (event) => {
    if (!event.target.closest) return;
    if (event.target.closest("[data-add-image]")) closeForms();
    const cancel = event.target.closest("[data-close-row-images]");
    if (cancel) close(cancel.closest("tr.row-images"));
  }, true);

  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || !event.target.closest) return;
    const formRow = event.target.closest("tr.row-images");
    if (!formRow) return;
    event.preventDefault();
    event.stopPropagation();
    close(formRow);
  }, true);

  const rowOf = (event) => event.target.closest && event.target.closest("tr[data-image-drop]");
  ["dragenter", "dragover"].forEach((type) => document.addEventListener(type, (event) => {
    const row = rowOf(event);
    if (!row || !row.querySelector("[data-add-image]")) return;
    event.preventDefault();
    row.classList.add("dropping");
  }));
  document.addEventListener("dragleave", (event) => {
    const row = rowOf(event);
    if (row && !row.contains(event.relatedTarget)) row.classList.remove("dropping");
  });

  const formField = async () => {
    for (let tries = 0; tries < 100; tries += 1) {
      const input = document.querySelector("tr.row-images #image-file");
      if (input) return input;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return null;
  };

  document.addEventListener("drop", async (event) => {
    const row = rowOf(event);
    const button = row && row.querySelector("[data-add-image]");
    const dropped = event.dataTransfer && event.dataTransfer.files;
    if (!button || !dropped || !dropped.length) return;
    event.preventDefault();
    row.classList.remove("dropping");
    const one = new DataTransfer();
    one.items.add(dropped[0]);  // one image per upload: each needs its own alt text
    closeForms();
    await htmx.ajax("GET", button.getAttribute("hx-get"),
                    { source: button, target: row, swap: "afterend" });
    const input = await formField();
    if (!input) return;
    input.files = one.files;
    // images.js refuses a file over the size limit in place, or moves on to the alt text.
    input.dispatchEvent(new Event("change", { bubbles: true }));
  });
})();
