// The editors' pages follow the catalog as it changes (issue 15). The connection itself is
// htmx's SSE extension (hx-sse.js: <div id="editor-live" hx-sse:connect=...>); its named
// events ("product", "presence", "reset") arrive here as DOM events on that element, and this
// script decides what each means for the page, fetching the server's own partials with htmx:
//
// * a row shown (not being edited) that a colleague changed is redrawn in place
//   (GET .../row?live=1, the same row partial) unless the editor is typing in it;
// * a row open for edit is never replaced: its live region gets "ana@example.com set the price
//   to 12.00 — your save will merge" (GET .../changes?since=<the form's version>&typed=...);
// * a product added, deleted or shown/hidden may join or leave the filtered table: the table is
//   fetched again with the current filter (the URL) and a notice says what happened, unless a
//   row is being edited: then the notice offers to show the table as it is now;
// * presence: the product's badge ("ana@example.com is editing") is fetched again.
//
// It also ends this page's presences (app/editor/presence.py) when their row form leaves the
// page (Cancel, Save, any swap) or the page is left (pagehide, by navigator.sendBeacon), and
// restarts them when the browser brings the page back from its cache. Announcements go to one
// polite live region (#live-status); the focus is never moved by a live update.
(() => {
  "use strict";

  const byId = (id) => document.getElementById(id);
  const MAX_ROW_REDRAWS = 5;
  const LIVE = { "X-Vitrine-Live": "1" }; // editor.js leaves the focus alone for these swaps
  const csrf = () => {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  };

  // One save is often two events (the change, then "stopped editing"): what arrives within a
  // moment of the last announcement is added to it instead of replacing it unheard.
  let saidAt = 0;
  const say = (text) => {
    const region = byId("live-status");
    if (!region || !text) return;
    const now = Date.now();
    const recent = now - saidAt < 1500 && region.textContent && !region.textContent.includes(text);
    region.textContent = recent ? `${region.textContent} ${text}` : text;
    saidAt = now;
  };

  // -- presence: end what left the page, restart what the back/forward cache brings back -----
  const beats = () => new Map([...document.querySelectorAll("[data-presence-token]")]
    .map((beat) => [beat.dataset.presenceToken, beat]));
  let known = new Map();

  const post = (url, token, { beacon = false, lapsed = false } = {}) => {
    const body = new FormData();
    body.append("token", token);
    body.append("csrf_token", csrf());
    if (lapsed) body.append("lapsed", "1");
    if (beacon && navigator.sendBeacon && navigator.sendBeacon(url, body)) return;
    fetch(url, { method: "POST", body, credentials: "same-origin", keepalive: true,
                 headers: { "X-CSRFToken": csrf(), "HX-Request": "true" } }).catch(() => {});
  };

  const syncBeats = () => {
    const now = beats();
    known.forEach((beat, token) => {
      if (!now.has(token)) post(beat.dataset.presenceEnd, token);
    });
    known = now;
  };

  window.addEventListener("pagehide", () => {
    // Leaving (or going into the back/forward cache): colleagues stop seeing us at once. A page
    // brought back restarts it ("lapsed" ends may come back; a closed form's end is final).
    beats().forEach((beat, token) => post(beat.dataset.presenceEnd, token,
                                          { beacon: true, lapsed: true }));
  });
  window.addEventListener("pageshow", (event) => {
    if (!event.persisted) return;
    beats().forEach((beat, token) => post(beat.getAttribute("hx-post"), token));
  });

  // -- what the stream's events mean for this page -----------------------------------------
  const live = () => byId("editor-live");
  const me = () => Number((live() && live().dataset.userId) || 0);
  const who = (actor) => (actor && actor.email) || "An automated task";
  const rowName = (row) => row.dataset.name || "a product";

  const fieldsTyped = (row) => {
    const form = row.querySelector("form");
    if (!form) return [];
    return [...form.elements].filter((field) => {
      if (!field.name || ["hidden", "submit", "button"].includes(field.type)) return false;
      if (field.type === "checkbox") return field.checked !== field.defaultChecked;
      if (field.tagName === "SELECT") return [...field.options].some((o) => o.selected !== o.defaultSelected);
      return field.value !== field.defaultValue;
    }).map((field) => field.name);
  };

  const editing = () => document.querySelector("tr[data-edit-row]") !== null;

  const typingIn = (row) => {
    const active = document.activeElement;
    return row.contains(active) && "value" in active && "defaultValue" in active &&
      active.value !== active.defaultValue;
  };

  const tellOpenRow = (id, row) => {
    const region = byId(`live-notice-${id}`);
    if (!region) return; // a conflict being resolved: its own save shows what is current
    const params = new URLSearchParams({ since: region.dataset.since });
    fieldsTyped(row).forEach((name) => params.append("typed", name));
    htmx.ajax("GET", `${region.dataset.changesUrl}?${params}`,
              { target: region, swap: "innerHTML", headers: LIVE });
  };

  const redraw = (row) => htmx.ajax("GET", row.dataset.rowUrl,
                                    { target: row, swap: "outerHTML", headers: LIVE });

  const refreshTable = (before, describe) => {
    const table = byId("editor-table");
    if (!table) return;
    if (editing()) {
      const box = byId("live-table-notice");
      if (box) {
        box.hidden = false;
        byId("live-table-notice-text").textContent = describe(null);
      }
      return;
    }
    htmx.ajax("GET", window.location.pathname + window.location.search,
              { target: table, swap: "innerHTML", headers: LIVE })
      .then(() => say(describe(before)));
  };

  const onProduct = (data) => {
    if (!byId("product-rows")) return; // the history page follows presence only
    const byOther = !data.actor || data.actor.id !== me();
    const ids = data.ids || [];
    const versions = data.versions || [];
    const membership = data.op === "insert" || data.op === "delete" ||
      (data.fields || []).includes("is_active");
    const names = new Map();
    const toRedraw = [];
    let stale = false;
    ids.forEach((id, index) => {
      const row = byId(`product-${id}`);
      if (row) names.set(id, rowName(row));
      if (data.op === "insert") {
        stale = stale || (!row && byOther);
        return;
      }
      if (!row) {
        stale = stale || (membership && byOther);
        return;
      }
      if (row.hasAttribute("data-edit-row")) {
        if (byOther) tellOpenRow(id, row);
        return;
      }
      const version = versions[index];
      if (version && Number(row.dataset.version) >= version) return; // shown already
      if (membership && byOther) {
        stale = true;
        return;
      }
      if (typingIn(row)) return; // the editor's own change will bring the new row
      toRedraw.push(row);
    });
    // A bulk change over many shown rows: one request for the table instead of one per row.
    if (toRedraw.length > MAX_ROW_REDRAWS && !editing()) stale = true;
    else toRedraw.forEach(redraw);
    const redrawn = stale ? 0 : toRedraw.length;
    if (stale) {
      const present = new Set(ids.filter((id) => byId(`product-${id}`)));
      refreshTable(present, (before) => describeMembership(data, ids, before, names));
    } else if (redrawn === 1 && byOther) {
      const id = ids.find((one) => names.has(one));
      say(`${who(data.actor)} changed “${names.get(id)}”.`);
    } else if (redrawn > 1 && byOther) {
      say(`${who(data.actor)} changed ${redrawn} products in this table.`);
    }
  };

  const describeMembership = (data, ids, before, names) => {
    if (before === null) {
      return `${who(data.actor)} added, removed or hid products that this filter may show.`;
    }
    const came = ids.filter((id) => !before.has(id) && byId(`product-${id}`));
    const left = ids.filter((id) => before.has(id) && !byId(`product-${id}`));
    const name = (id) => {
      const row = byId(`product-${id}`);
      return `“${row ? rowName(row) : names.get(id) || "a product"}”`;
    };
    const parts = [];
    if (came.length === 1) parts.push(`${name(came[0])} is now in this table`);
    else if (came.length > 1) parts.push(`${came.length} products are now in this table`);
    if (left.length === 1) parts.push(`${name(left[0])} left this table`);
    else if (left.length > 1) parts.push(`${left.length} products left this table`);
    if (parts.length === 0) {
      const changed = ids.filter((id) => byId(`product-${id}`));
      if (changed.length === 1) return `${who(data.actor)} changed ${name(changed[0])}.`;
      if (changed.length > 1) return `${who(data.actor)} changed ${changed.length} products in this table.`;
      return "";
    }
    return `${who(data.actor)}: ${parts.join("; ")}.`;
  };

  const onPresence = (data) => {
    if (data.user && data.user.id === me()) return; // never shown to yourself
    (data.ids || []).forEach((id) => {
      const badge = byId(`presence-${id}`);
      if (!badge) return;
      const row = byId(`product-${id}`);
      const name = row ? rowName(row) : (byId("history") ? "this product" : "a product");
      htmx.ajax("GET", badge.dataset.presenceUrl,
                { target: badge, swap: "outerHTML", headers: LIVE })
        .then(() => {
          const email = (data.user && data.user.email) || "A colleague";
          const quoted = name === "this product" ? name : `“${name}”`;
          say(data.state === "editing" ? `${email} is editing ${quoted}.`
                                       : `${email} stopped editing ${quoted}.`);
        });
    });
  };

  const parse = (event) => {
    try {
      return JSON.parse(event.detail.data);
    } catch (error) {
      return null;
    }
  };

  // Listening on the document from the start: htmx may open the stream before this script
  // runs (it initialises in a timer once the page is parsed); its events bubble up to here.
  const fromStream = (handler) => (event) => {
    if (!event.target || event.target.id !== "editor-live") return;
    const data = parse(event);
    if (data) handler(data);
  };
  document.addEventListener("product", fromStream(onProduct));
  document.addEventListener("presence", fromStream(onPresence));
  document.addEventListener("reset", fromStream(() => refreshTable(new Set(), () =>
    "The table was brought up to date after the connection was lost for a while.")));
  // Whether updates are arriving (data-state; tests and styles read it).
  const state = (value) => (event) => {
    if (event.target && event.target.id === "editor-live") event.target.dataset.state = value;
  };
  document.addEventListener("htmx:sse:after:connection", state("open"));
  document.addEventListener("htmx:sse:error", state("retrying"));
  document.addEventListener("htmx:sse:close", state("closed"));
  document.addEventListener("DOMContentLoaded", () => {
    known = beats();
    const source = live();
    if (source && source._htmx && source._htmx.sse && !source.dataset.state) {
      source.dataset.state = "open"; // it connected before this script was listening
    }
  });

  document.addEventListener("htmx:after:swap", syncBeats);

  // "Show the table as it is now" (offered while a row was being edited): the editor decides.
  document.addEventListener("click", (event) => {
    if (!event.target.closest("#live-table-refresh")) return;
    event.preventDefault();
    byId("live-table-notice").hidden = true;
    htmx.ajax("GET", window.location.pathname + window.location.search,
              { target: byId("editor-table"), swap: "innerHTML" });
  });
})();
