// The search box's suggestions, the WAI-ARIA combobox pattern (list autocomplete, focus stays
// in the input). htmx fetches the listbox (#catalog-suggestions) as the shopper types; this
// script shows it, moves through its options with the arrow keys (aria-activedescendant),
// and picks one with Enter or a click: a category or brand ticks that facet (the typed text
// was there to find it, so it is cleared) and runs the search; a product opens its page.
// Escape closes the list until the next keystroke. Listeners are delegated to the document:
// the search field is re-rendered when a link changes the search.
(function () {
  "use strict";

  let dismissed = false; // Escape closed the list: keep it closed until the text changes
  let shown = null; // the suggestions last shown: other swaps (the results) do not reopen them

  const input = () => document.getElementById("catalog-q");
  const listbox = () => document.getElementById("catalog-suggestions");
  const options = () => Array.from(listbox().querySelectorAll('[role="option"]'));
  const current = () => listbox().querySelector('[role="option"][aria-selected="true"]');
  const isOpen = () => !listbox().hidden;

  function setActive(option) {
    const field = input();
    options().forEach((o) => o.setAttribute("aria-selected", o === option ? "true" : "false"));
    if (option) {
      field.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    } else {
      field.removeAttribute("aria-activedescendant");
    }
  }

  function open() {
    if (!options().length || dismissed || document.activeElement !== input()) {
      close();
      return;
    }
    listbox().hidden = false;
    input().setAttribute("aria-expanded", "true");
  }

  function close() {
    const box = listbox();
    const field = input();
    if (!box || !field) return;
    setActive(null);
    box.hidden = true;
    field.setAttribute("aria-expanded", "false");
  }

  function move(step) {
    const all = options();
    if (!all.length) return;
    if (!isOpen()) {
      dismissed = false;
      open();
    }
    const index = all.indexOf(current());
    let next;
    if (index === -1) next = step > 0 ? 0 : all.length - 1;
    else next = (index + step + all.length) % all.length;
    setActive(all[next]);
  }

  function tick(form, facet, value) {
    const boxes = Array.from(form.querySelectorAll('input[type="checkbox"]'))
      .filter((box) => box.name === facet && box.value === value);
    const box = boxes[0];
    if (box && !box.disabled) {
      box.checked = true;
      return;
    }
    // Not in the current list (the facets follow the typed text): send it all the same;
    // the answer re-renders the facets with it ticked.
    const hidden = document.createElement("input");
    hidden.type = "hidden";
    hidden.name = facet;
    hidden.value = value;
    document.getElementById("catalog-facets").appendChild(hidden);
  }

  function pick(option) {
    if (option.dataset.href) {
      window.location.assign(option.dataset.href);
      return;
    }
    const field = input();
    const form = field.form;
    field.value = "";
    close();
    listbox().replaceChildren(); // these suggestions were for the text just cleared
    document.getElementById("catalog-suggest-status").textContent = "";
    tick(form, option.dataset.facet, option.dataset.value);
    form.requestSubmit();
  }

  document.addEventListener("keydown", (event) => {
    if (!event.target || event.target.id !== "catalog-q" || event.isComposing) return;
    switch (event.key) {
      case "ArrowDown":
        if (options().length) {
          event.preventDefault();
          move(1);
        }
        break;
      case "ArrowUp":
        if (isOpen()) {
          event.preventDefault();
          move(-1);
        }
        break;
      case "Enter": {
        const option = isOpen() && current();
        if (option) {
          event.preventDefault();
          pick(option);
        } else {
          close();
        }
        break;
      }
      case "Escape":
        if (isOpen()) {
          event.preventDefault(); // also keeps a search input from clearing itself
          dismissed = true;
          close();
        }
        break;
      default:
        break;
    }
  });

  document.addEventListener("input", (event) => {
    if (event.target && event.target.id === "catalog-q") {
      dismissed = false;
      shown = null;
      setActive(null);
    }
  });

  document.addEventListener("focusin", (event) => {
    if (event.target && event.target.id === "catalog-q") shown = null; // its focus trigger asks again
  });
  document.addEventListener("focusout", (event) => {
    if (event.target && event.target.id === "catalog-q") close();
  });

  // A click on an option picks it; pressing it must not take the focus from the input.
  document.addEventListener("mousedown", (event) => {
    if (event.target.closest && event.target.closest("#catalog-suggestions")) event.preventDefault();
  });
  document.addEventListener("click", (event) => {
    const option = event.target.closest && event.target.closest('#catalog-suggestions [role="option"]');
    if (option) pick(option);
  });

  // New suggestions arrived: show them if there are any (other swaps - the results - leave
  // the list as it is).
  document.addEventListener("htmx:after:swap", () => {
    const box = listbox();
    if (!box || !input()) return;
    if (box.innerHTML !== shown) {
      shown = box.innerHTML;
      open();
    }
  });
})();
