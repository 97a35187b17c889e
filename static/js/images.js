// A product's images in the editor: a file dropped on the upload zone goes into the file field,
// and a file over the size limit is refused before it is sent (the server refuses it too, with
// the same words). Without this script the file field and the server's checks work alone.
(() => {
  const slot = () => document.getElementById("image-upload-error");

  const say = (text) => {
    const message = document.createElement("p");
    message.className = "alert alert-error";
    message.textContent = text;
    slot().replaceChildren(message);
  };

  // True when the chosen file may be sent.
  const check = (input) => {
    const form = input.form;
    const file = input.files && input.files[0];
    const max = Number(form.dataset.maxBytes || 0);
    if (file && max && file.size > max) {
      say(form.dataset.tooLarge);
      input.value = "";
      input.setAttribute("aria-invalid", "true");
      input.focus();
      return false;
    }
    slot().replaceChildren();
    input.removeAttribute("aria-invalid");
    return true;
  };

  document.addEventListener("change", (event) => {
    const input = event.target;
    if (input.id === "image-file" && check(input) && input.files.length) {
      const alt = document.getElementById("image-alt");
      if (alt && !alt.value) alt.focus();
    }
  });

  const zoneOf = (event) => event.target.closest && event.target.closest("[data-drop-zone]");

  ["dragenter", "dragover"].forEach((type) => document.addEventListener(type, (event) => {
    const zone = zoneOf(event);
    if (!zone) return;
    event.preventDefault();
    zone.classList.add("dragging");
  }));
  document.addEventListener("dragleave", (event) => {
    const zone = zoneOf(event);
    if (zone && !zone.contains(event.relatedTarget)) zone.classList.remove("dragging");
  });
  document.addEventListener("drop", (event) => {
    const zone = zoneOf(event);
    if (!zone) return;
    event.preventDefault();
    zone.classList.remove("dragging");
    const dropped = event.dataTransfer && event.dataTransfer.files;
    if (!dropped || !dropped.length) return;
    const input = zone.querySelector("input[type=file]");
    const one = new DataTransfer();
    one.items.add(dropped[0]);  // one image per upload: each needs its own alt text
    input.files = one.files;
    if (check(input)) {
      const alt = document.getElementById("image-alt");
      if (alt) alt.focus();
    }
  });
})();
