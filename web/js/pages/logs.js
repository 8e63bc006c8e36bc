// Logs page: a live tail of the server's log (our own lines and every llama-server's output), newest
// first, with filters, pause / resume and history paging.
//
// - Filters (minimum level, source, model, search) live in the URL query (?level=&source=&model=&search=),
//   so a view can be linked; each change reloads the first page (`logs:get`, PAGE_SIZE lines).
// - Live `logs:entry` broadcasts that match the filters are queued and prepended in small batches
//   (rows are appended to the DOM, never re-rendered). At most `window` rows stay in the DOM:
//   MAX_ROWS, or more once the user loaded older pages (up to HARD_MAX), so the lines asked for do
//   not vanish; the oldest rows are dropped first, and "Load older" brings them back.
// - Pause holds matching lines (the newest `window` of them) and counts them ("N new"); Resume
//   shows them. A reconnect reloads the first page (at once when following, on Resume when paused).
// - "Load older" asks for `before` = the oldest shown id while the server says `hasMore`.
// - A polite live region announces the number of new lines at most every ANNOUNCE_MS, never each line.
import { Component, h, replaceChildren } from "../core/component.js";
import { LEVELS, logRow, matchesLog } from "../components/log-list.js";
import { formatCount } from "../core/format.js";

export const PAGE_SIZE = 100;
export const MAX_ROWS = 1000;
export const HARD_MAX = 5000;
const FLUSH_MS = 100;
const TYPING_MS = 350;
const ANNOUNCE_MS = 4000;
const DEFAULTS = { level: "trace", source: "", model: "", search: "" };
const KEYS = Object.keys(DEFAULTS);
const SEEN_LIMIT = 200;

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
    this.query = readQuery();
    this.seq = 0;
    this.loading = false;
    this.loadedOnce = false;
    this.duringLoad = [];
    this.incoming = [];
    this.held = [];
    this.heldCount = 0;
    this.paused = false;
    this.stale = false;
    this.hasMore = false;
    this.oldestId = null;
    this.lastId = 0;
    this.window = MAX_ROWS;
    this.loadingOlder = false;
    this.unannounced = 0;
    this.seenSources = new Set();
    this.seenModels = new Set();
    this._fillForm();
    const { state } = this.props;
    this.own(state.subscribe("models", () => this._modelOptions()));
    this.own(state.on("logs:entry", ({ entry } = {}) => this._onEntry(entry)));
    let wasConnected = false;
    this.own(state.subscribe("connection", (status) => {
      const connected = status === "connected";
      if (connected && !wasConnected && this.loadedOnce) this._reconnected();
      wasConnected = connected;
    }));
    this.own(() => clearTimeout(this.flushTimer));
    this.own(() => clearTimeout(this.typingTimer));
    this.own(() => clearTimeout(this.announceTimer));
    this._load();
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
    for (const key of KEYS) form.elements[key].value = DEFAULTS[key];
    this._applyForm({ announce: true });
    form.elements.level.focus();
  }

  handleChip(event, button) {
    const form = this.r.filters;
    if (button.dataset.filterSource !== undefined) {
      form.elements.source.value = button.dataset.filterSource;
      this._applyForm({ announce: true });
      form.elements.source.focus();
    } else {
      this._modelOptions(button.dataset.filterModel);
      this._applyForm({ announce: true });
      form.elements.model.focus();
    }
  }

  _applyForm({ announce = true } = {}) {
    clearTimeout(this.typingTimer);
    const form = this.r.filters;
    const next = {};
    for (const key of KEYS) next[key] = form.elements[key].value.trim();
    if (!LEVELS.some(([l]) => l === next.level)) next.level = DEFAULTS.level;
    if (KEYS.every((key) => next[key] === this.query[key])) return;
    this.query = next;
    this._writeQuery();
    this._load({ announce });
  }

  _fillForm() {
    const form = this.r.filters;
    form.elements.level.value = this.query.level;
    form.elements.source.value = this.query.source;
    form.elements.search.value = this.query.search;
    this._modelOptions();
  }

  /**
   * Catalog models, models seen in log lines, and the chosen one; rebuilt only when the set changes.
   * `selected` (default: the query's model) is chosen afterwards.
   */
  _modelOptions(selected) {
    const select = this.r.filters.elements.model;
    const value = selected ?? this.query.model;
    const names = new Set((this.props.state.get("models") || []).map((m) => m.id));
    for (const m of this.seenModels) names.add(m);
    for (const m of [this.query.model, value]) if (m) names.add(m);
    const sorted = [...names].sort();
    const current = [...select.options].slice(1).map((o) => o.value);
    if (sorted.join("\n") !== current.join("\n")) {
      replaceChildren(select, h("option", { value: "" }, "Any model"), sorted.map((id) => h("option", { value: id }, id)));
    }
    select.value = value;
  }

  _writeQuery() {
    const params = new URLSearchParams();
    for (const key of KEYS) if (this.query[key] && this.query[key] !== DEFAULTS[key]) params.set(key, this.query[key]);
    const search = params.toString();
    window.history.replaceState(window.history.state, "", `${window.location.pathname}${search ? `?${search}` : ""}`);
  }

  _requestFilters() {
    const { level, source, model, search } = this.query;
    return {
      level: level && level !== "trace" ? level : undefined,
      source: source || undefined,
      model: model || undefined,
      search: search || undefined,
    };
  }

  // ---- loading -------------------------------------------------------------------------------

  async _load({ announce = false } = {}) {
    const seq = ++this.seq;
    this.loading = true;
    this.duringLoad = [];
    this.r.table.setAttribute("aria-busy", "true");
    try {
      const { logs = [], hasMore = false } = await this.props.state.request("logs:get", { ...this._requestFilters(), limit: PAGE_SIZE });
      if (seq !== this.seq || !this.el) return;
      this.loadedOnce = true;
      this.window = MAX_ROWS;
      this.hasMore = Boolean(hasMore);
      this.incoming = [];
      this.held = [];
      this.heldCount = 0;
      this.stale = false;
      clearTimeout(this.flushTimer);
      this.flushTimer = null;
      replaceChildren(this.r.body, logs.map(logRow));
      this.lastId = logs[0]?.id ?? 0;
      this.oldestId = logs.at(-1)?.id ?? null;
      this._noteSeen(logs);
      this._showError(null);
      this.loading = false;
      const late = this.duringLoad.splice(0);
      for (const entry of late) this._onEntry(entry);
      this._showMeta();
      if (announce) this._say(logs.length ? `Showing ${countText(logs.length)}${this.hasMore ? ", older lines available" : ""}` : "No log lines match these filters");
    } catch (err) {
      if (seq === this.seq && this.el) this._showError(err);
    } finally {
      if (seq === this.seq && this.el) {
        this.loading = false;
        this.r.table.removeAttribute("aria-busy");
      }
    }
  }

  async handleOlder() {
    if (this.loadingOlder || !this.hasMore || !this.oldestId || this.loading) return;
    if (this.r.body.rows.length >= HARD_MAX) return;
    const seq = this.seq;
    const before = this.oldestId;
    this.loadingOlder = true;
    this._showMeta();
    try {
      const { logs = [], hasMore = false } = await this.props.state.request("logs:get", { ...this._requestFilters(), before, limit: PAGE_SIZE });
      // Filters changed, or live lines pushed the oldest row out meanwhile: the answer no longer joins on.
      if (seq !== this.seq || !this.el || this.oldestId !== before) return;
      const room = HARD_MAX - this.r.body.rows.length;
      const rows = logs.slice(0, Math.max(0, room));
      const frag = document.createDocumentFragment();
      for (const entry of rows) frag.append(logRow(entry));
      this.r.body.append(frag);
      this.hasMore = Boolean(hasMore) || rows.length < logs.length;
      this.oldestId = rows.at(-1)?.id ?? this.oldestId;
      this.window = Math.min(HARD_MAX, Math.max(this.window, this.r.body.rows.length));
      this._noteSeen(rows);
      this._showError(null);
      this._say(rows.length ? `Loaded ${countText(rows.length)} older` : "No older lines");
    } catch (err) {
      if (this.el) this._showError(err);
    } finally {
      this.loadingOlder = false;
      if (this.el) this._showMeta();
    }
  }

  _reconnected() {
    // Lines logged while we were away never arrived: start again from the newest page.
    if (this.paused) {
      this.stale = true;
      this._showMeta();
    } else {
      this._load();
    }
  }

  // ---- live lines ----------------------------------------------------------------------------

  _onEntry(entry) {
    if (!entry || !Number.isFinite(entry.id) || !this.el) return;
    if (this.loading) {
      this.duringLoad.push(entry);
      return;
    }
    if (!this.loadedOnce || entry.id <= this.lastId || !matchesLog(entry, this.query)) return;
    this.lastId = entry.id;
    this._noteSeen([entry]);
    this._announceLater();
    if (this.paused) {
      this.heldCount += 1;
      this.held.push(entry);
      if (this.held.length > this.window) this.held.splice(0, this.held.length - this.window);
      this._showFresh();
      return;
    }
    this.incoming.push(entry);
    if (this.incoming.length > this.window) this.incoming.splice(0, this.incoming.length - this.window);
    if (!this.flushTimer) this.flushTimer = setTimeout(() => this._flush(), FLUSH_MS);
  }

  /** Prepends the queued lines (oldest of them lowest) and drops the oldest rows past the window. */
  _flush() {
    clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (!this.el) return;
    const batch = this.incoming.splice(0);
    if (!batch.length) return;
    const frag = document.createDocumentFragment();
    for (let i = batch.length - 1; i >= 0; i -= 1) frag.append(logRow(batch[i]));
    this.r.body.prepend(frag);
    const body = this.r.body;
    let dropped = false;
    while (body.rows.length > this.window) {
      body.lastElementChild.remove();
      dropped = true;
    }
    if (dropped) {
      this.hasMore = true;
      this.oldestId = Number(body.lastElementChild?.dataset.logId) || null;
    } else if (this.oldestId === null) {
      this.oldestId = batch[0].id;
    }
    this._showMeta();
  }

  handlePause() {
    if (this.paused) return this.handleResume();
    this.paused = true;
    this._flush();
    this._showMeta();
  }

  handleResume() {
    if (!this.paused) return;
    const focusPause = document.activeElement === this.r.fresh;
    this.paused = false;
    if (this.stale) {
      this._load();
    } else {
      this.incoming.push(...this.held);
      this.held = [];
      this.heldCount = 0;
      this._flush();
    }
    this.heldCount = 0;
    this._showMeta();
    if (focusPause) this.r.pause.focus();
  }

  _noteSeen(entries) {
    let models = false;
    for (const e of entries) {
      if (e.source && !this.seenSources.has(e.source) && this.seenSources.size < SEEN_LIMIT) {
        this.seenSources.add(e.source);
        const options = [...this.seenSources].sort().map((s) => h("option", { value: s }));
        replaceChildren(this.r.sources, options);
      }
      if (e.model && !this.seenModels.has(e.model) && this.seenModels.size < SEEN_LIMIT) {
        this.seenModels.add(e.model);
        models = true;
      }
    }
    if (models) this._modelOptions();
  }

  // ---- status --------------------------------------------------------------------------------

  _announceLater() {
    this.unannounced += 1;
    if (this.announceTimer) return;
    this.announceTimer = setTimeout(() => {
      this.announceTimer = null;
      const n = this.unannounced;
      this.unannounced = 0;
      if (n && this.el) this._say(`${countText(n, "new log line")}${this.paused ? " while paused" : ""}`);
    }, ANNOUNCE_MS);
  }

  /** Sets the live region's text; a repeat of the same text is varied so it is read again. */
  _say(text) {
    const region = this.r.announce;
    region.textContent = region.textContent === text ? `${text}\u00a0` : text;
  }

  _showMeta() {
    const { summary, empty, table, older, olderNote, pause, live, liveText } = this.r;
    const shown = this.r.body.rows.length;
    const filtered = KEYS.some((key) => this.query[key] !== DEFAULTS[key]);
    summary.textContent = shown
      ? `${countText(shown)} shown, newest first${this.hasMore ? " · older lines available" : ""}`
      : "No lines shown";
    empty.hidden = shown > 0;
    table.hidden = shown === 0;
    empty.textContent = filtered ? "No log lines match these filters." : "No log lines yet.";
    pause.textContent = this.paused ? "Resume" : "Pause";
    pause.dataset.state = this.paused ? "paused" : "live";
    live.dataset.state = this.paused ? "paused" : "live";
    liveText.textContent = this.paused ? (this.stale ? "Paused · reconnected, Resume reloads" : "Paused") : "Live";
    const full = shown >= HARD_MAX;
    const canLoad = this.hasMore && !!this.oldestId && !this.loadingOlder && !full;
    older.setAttribute("aria-disabled", String(!canLoad));
    older.textContent = this.loadingOlder ? "Loading older…" : this.hasMore ? "Load older" : "No older lines";
    // Kept (disabled) while focused, so reaching the end does not drop keyboard focus.
    older.hidden = !this.hasMore && !this.loadingOlder && document.activeElement !== older;
    olderNote.textContent = full ? `Showing the newest ${formatCount(HARD_MAX)} lines; narrow the filters to see older ones.` : "";
    this._showFresh();
  }

  _showFresh() {
    const { fresh } = this.r;
    const show = this.paused && this.heldCount > 0;
    fresh.hidden = !show;
    fresh.textContent = show ? `${formatCount(this.heldCount)} new` : "";
    if (show) fresh.title = "Resume and show them";
  }

  _showError(err) {
    this.r.error.hidden = !err;
    this.r.error.textContent = err ? `Could not load logs: ${err.message}` : "";
  }
}

function countText(n, noun = "line") {
  return `${formatCount(n)} ${noun}${n === 1 ? "" : "s"}`;
}

function readQuery() {
  const params = new URLSearchParams(window.location.search);
  const level = params.get("level");
  return {
    level: LEVELS.some(([l]) => l === level) ? level : DEFAULTS.level,
    source: (params.get("source") || "").trim().slice(0, 128),
    model: (params.get("model") || "").trim().slice(0, 256),
    search: (params.get("search") || "").trim().slice(0, 256),
  };
}
