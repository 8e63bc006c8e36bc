// Logs page: a live tail of the server's log (our own lines and every llama-server's output), newest
// first, with filters, pause / resume and history paging. The view only: LogsController
// (logs-controller.js) holds the lines, the filters and the live buffering, and says what changed;
// this page keeps the table's rows in step with it and passes on the clicks and the filter form.
//
// - Rows are added and removed as the controller says (prepended, appended, dropped), never re-rendered.
// - Selects apply on change; text fields after a TYPING_MS pause, or at once on Enter.
// - A polite live region announces what the controller reports (a page, older lines, a count of new lines).
import { Component, h, replaceChildren } from "../core/component.js";
import { LEVELS, logRow } from "../components/log-list.js";
import { formatCount } from "../core/format.js";
import { DEFAULTS, FILTER_KEYS, HARD_MAX, LogsController } from "./logs-controller.js";

const TYPING_MS = 350;

export class LogsPage extends Component {
  getEventMap() {
    return {
      "submit form[data-ref=filters]": "handleSubmit",
      "change form[data-ref=filters]": "handleFilter",
      "input form[data-ref=filters]": "handleTyping",
      "keydown form[data-ref=filters] input": "handleKey",
      "click button[data-action=clear]": "handleClear",
      "click button[data-action=pause]": "handlePause",
      "click button[data-action=show-new]": "handleResume",
      "click button[data-action=older]": "handleOlder",
      "click button[data-filter-source]": "handleChip",
      "click button[data-filter-model]": "handleChip",
    };
  }

  render() {
    const field = (name, label, ...controls) => h("div", { class: "form__field" },
      h("label", { for: `logs-${name}` }, label), controls);
    return h(
      "section",
      { class: "page logs", "aria-labelledby": "page-title" },
      h("header", { class: "page-head" },
        h("div", {},
          h("h1", { id: "page-title" }, "Logs"),
          h("p", { class: "muted page-sub" }, "The server's own log and every llama-server's output, live."))),
      h("p", { class: "notice notice--error", role: "alert", "data-ref": "error", "data-testid": "logs-error", hidden: true }),
      h("form", { class: "card logs-filters", "data-ref": "filters", "aria-label": "Log filters", role: "search" },
        field("level", "Level",
          h("select", { id: "logs-level", name: "level", "data-testid": "logs-filter-level" },
            LEVELS.map(([value, text]) => h("option", { value }, text)))),
        field("source", "Source",
          h("input", { id: "logs-source", name: "source", type: "text", list: "logs-sources", autocomplete: "off",
            spellcheck: "false", placeholder: "any", maxlength: 128, "aria-describedby": "logs-source-hint",
            "data-testid": "logs-filter-source" }),
          h("span", { id: "logs-source-hint", class: "visually-hidden" }, "The exact name, such as llama_server, proxy or app; names seen so far are suggested."),
          h("datalist", { id: "logs-sources", "data-ref": "sources" })),
        field("model", "Model",
          h("select", { id: "logs-model", name: "model", "data-testid": "logs-filter-model" }, h("option", { value: "" }, "Any model"))),
        field("search", "Search messages",
          h("input", { id: "logs-search", name: "search", type: "search", autocomplete: "off", spellcheck: "false",
            maxlength: 256, placeholder: "text in the message", "data-testid": "logs-filter-search" })),
        h("div", { class: "logs-filters__actions" },
          h("button", { type: "button", class: "btn", "data-action": "clear", "data-testid": "logs-clear" }, "Clear filters"))),
      h("section", { class: "card logs-view", "aria-labelledby": "logs-title" },
        h("div", { class: "logs-bar" },
          h("div", { class: "logs-bar__text" },
            h("h2", { id: "logs-title" }, "Log lines"),
            h("p", { class: "muted logs-summary", "data-ref": "summary", "data-testid": "logs-summary" }, "Loading…")),
          h("div", { class: "btn-row logs-bar__actions" },
            h("span", { class: "logs-live", "data-ref": "live", "data-testid": "logs-live", "data-state": "live" },
              h("span", { class: "logs-live__dot", "aria-hidden": "true" }), h("span", { "data-ref": "liveText" }, "Live")),
            h("button", { type: "button", class: "btn logs-new", "data-action": "show-new", "data-ref": "fresh",
              "data-testid": "logs-new", hidden: true }),
            h("button", { type: "button", class: "btn", "data-action": "pause", "data-ref": "pause", "data-testid": "logs-pause",
              "aria-controls": "logs-table" }, "Pause"))),
        h("p", { class: "visually-hidden", role: "status", "aria-live": "polite", "aria-atomic": "true",
          "data-ref": "announce", "data-testid": "logs-announce" }),
        h("table", { class: "log-table", id: "logs-table", "data-ref": "table", "data-testid": "logs-table" },
          h("caption", { class: "visually-hidden" }, "Log lines, newest first"),
          h("thead", {},
            h("tr", {},
              ["Time", "Level", "Source", "Model", "Message"].map((label) =>
                h("th", { scope: "col", class: `log__${label.toLowerCase()}-head` }, label)))),
          h("tbody", { "data-ref": "body" })),
        h("p", { class: "muted empty", "data-ref": "empty", "data-testid": "logs-empty", hidden: true }),
        h("div", { class: "btn-row logs-more" },
          h("button", { type: "button", class: "btn", "data-action": "older", "data-ref": "older", "data-testid": "logs-older",
            "aria-disabled": "true" }, "Load older"),
          h("span", { class: "muted", "data-ref": "olderNote", "data-testid": "logs-older-note" }))),
    );
  }

  onMount() {
    this.r = this.refs();
    const c = new LogsController({ state: this.props.state });
    this.c = c;
    this.own(() => c.destroy());
    this.own(() => clearTimeout(this.typingTimer));
    const { body, table, sources } = this.r;
    c.on("reset", (logs) => replaceChildren(body, logs.map(logRow)));
    c.on("prepend", (batch, drop) => this._prepend(batch, drop));
    c.on("append", (logs) => {
      const frag = document.createDocumentFragment();
      for (const entry of logs) frag.append(logRow(entry));
      body.append(frag);
    });
    c.on("busy", (busy) => (busy ? table.setAttribute("aria-busy", "true") : table.removeAttribute("aria-busy")));
    c.on("meta", () => this._showMeta());
    c.on("held", () => this._showFresh());
    c.on("error", (err) => this._showError(err));
    c.on("sources", (names) => replaceChildren(sources, names.map((s) => h("option", { value: s }))));
    c.on("models", () => this._modelOptions());
    c.on("announce", (what) => this._say(announcement(what)));
    this._fillForm();
    c.start();
  }

  // ---- filters -------------------------------------------------------------------------------

  handleSubmit(event) {
    event.preventDefault();
    this._applyForm();
  }

  handleFilter() {
    this._applyForm();
  }

  /** Typing in the text fields applies after a short pause; selects apply on change. */
  handleTyping(event) {
    if (event.target.tagName !== "INPUT") return;
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => this._applyForm(), TYPING_MS);
  }

  /** Enter applies a text field at once (the form has no submit button, so it does not submit). */
  handleKey(event) {
    if (event.key === "Enter" && !event.isComposing) this._applyForm();
  }

  handleClear() {
    const form = this.r.filters;
    for (const key of FILTER_KEYS) form.elements[key].value = DEFAULTS[key];
    this._applyForm();
    form.elements.level.focus();
  }

  handleChip(event, button) {
    const form = this.r.filters;
    if (button.dataset.filterSource !== undefined) {
      form.elements.source.value = button.dataset.filterSource;
      this._applyForm();
      form.elements.source.focus();
    } else {
      this._modelOptions(button.dataset.filterModel);
      this._applyForm();
      form.elements.model.focus();
    }
  }

  _applyForm() {
    clearTimeout(this.typingTimer);
    const { elements } = this.r.filters;
    this.c.setFilters(Object.fromEntries(FILTER_KEYS.map((key) => [key, elements[key].value])));
  }

  _fillForm() {
    const form = this.r.filters;
    form.elements.level.value = this.c.query.level;
    form.elements.source.value = this.c.query.source;
    form.elements.search.value = this.c.query.search;
    this._modelOptions();
  }

  /** The model choices, rebuilt only when the set changes; `selected` (default: the query's model) is chosen. */
  _modelOptions(selected) {
    const select = this.r.filters.elements.model;
    const value = selected ?? this.c.query.model;
    const sorted = this.c.modelNames(value);
    const current = [...select.options].slice(1).map((o) => o.value);
    if (sorted.join("\n") !== current.join("\n")) {
      replaceChildren(select, h("option", { value: "" }, "Any model"), sorted.map((id) => h("option", { value: id }, id)));
    }
    select.value = value;
  }

  // ---- lines ---------------------------------------------------------------------------------

  handleOlder() {
    this.c.loadOlder();
  }

  handlePause() {
    if (this.c.paused) this.handleResume();
    else this.c.pause();
  }

  handleResume() {
    if (!this.c.paused) return;
    const focusPause = document.activeElement === this.r.fresh;
    this.c.resume();
    if (focusPause) this.r.pause.focus();
  }

  /** New lines on top (`batch` is oldest first, so its first line ends lowest), `drop` oldest rows off the end. */
  _prepend(batch, drop) {
    const { body } = this.r;
    const frag = document.createDocumentFragment();
    for (let i = batch.length - 1; i >= 0; i -= 1) frag.append(logRow(batch[i]));
    body.prepend(frag);
    for (let i = 0; i < drop; i += 1) body.lastElementChild.remove();
  }

  // ---- status --------------------------------------------------------------------------------

  /** Sets the live region's text; a repeat of the same text is varied so it is read again. */
  _say(text) {
    const region = this.r.announce;
    region.textContent = region.textContent === text ? `${text}\u00a0` : text;
  }

  _showMeta() {
    const { summary, empty, table, older, olderNote, pause, live, liveText } = this.r;
    const c = this.c;
    const shown = this.r.body.rows.length;
    summary.textContent = shown
      ? `${countText(shown)} shown, newest first${c.hasMore ? " · older lines available" : ""}`
      : "No lines shown";
    empty.hidden = shown > 0;
    table.hidden = shown === 0;
    empty.textContent = c.filtered() ? "No log lines match these filters." : "No log lines yet.";
    pause.textContent = c.paused ? "Resume" : "Pause";
    pause.dataset.state = c.paused ? "paused" : "live";
    live.dataset.state = c.paused ? "paused" : "live";
    liveText.textContent = c.paused ? (c.stale ? "Paused · reconnected, Resume reloads" : "Paused") : "Live";
    const full = shown >= HARD_MAX;
    const canLoad = c.hasMore && !!c.oldestId && !c.loadingOlder && !full;
    older.setAttribute("aria-disabled", String(!canLoad));
    older.textContent = c.loadingOlder ? "Loading older…" : c.hasMore ? "Load older" : "No older lines";
    // Kept (disabled) while focused, so reaching the end does not drop keyboard focus.
    older.hidden = !c.hasMore && !c.loadingOlder && document.activeElement !== older;
    olderNote.textContent = full ? `Showing the newest ${formatCount(HARD_MAX)} lines; narrow the filters to see older ones.` : "";
    this._showFresh();
  }

  _showFresh() {
    const { fresh } = this.r;
    const show = this.c.paused && this.c.heldCount > 0;
    fresh.hidden = !show;
    fresh.textContent = show ? `${formatCount(this.c.heldCount)} new` : "";
    if (show) fresh.title = "Resume and show them";
  }

  _showError(err) {
    this.r.error.hidden = !err;
    this.r.error.textContent = err ? `Could not load logs: ${err.message}` : "";
  }
}

/** The live region's text for a controller "announce" event. */
function announcement({ kind, count, hasMore, paused }) {
  if (kind === "page") {
    return count ? `Showing ${countText(count)}${hasMore ? ", older lines available" : ""}` : "No log lines match these filters";
  }
  if (kind === "older") return count ? `Loaded ${countText(count)} older` : "No older lines";
  return `${countText(count, "new log line")}${paused ? " while paused" : ""}`;
}

function countText(n, noun = "line") {
  return `${formatCount(n)} ${noun}${n === 1 ? "" : "s"}`;
}
