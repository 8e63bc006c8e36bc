// The Logs page's state and behaviour: the lines shown (newest first), the filters, following live
// `logs:entry` broadcasts, pause / resume and history paging. No DOM: the page renders what it is told.
//
// - Filters (minimum level, source, model, search) live in the URL query (?level=&source=&model=&search=),
//   so a view can be linked; each change reloads the first page (`logs:get`, PAGE_SIZE lines).
// - Live lines that match the filters are queued and prepended in batches every FLUSH_MS. At most `window`
//   lines stay shown: MAX_ROWS, or more once the user loaded older pages (up to HARD_MAX), so the lines
//   asked for do not vanish; the oldest are dropped first, and loadOlder() brings them back.
// - Pause holds matching lines (the newest `window` of them) and counts them (`heldCount`); resume() shows
//   them. A reconnect reloads the first page (at once when following, on resume() when paused: `stale`).
// - loadOlder() asks for `before` = the oldest shown id while the server says `hasMore`.
// - New lines are announced as one count at most every ANNOUNCE_MS, never each line.
//
// Events (Controller.on): "reset" (entries: the first page, replacing every row), "prepend" (entries
// oldest first, then the number of oldest rows to drop), "append" (older entries, newest first), "meta"
// (summary, pause and paging state), "held" (`heldCount`), "busy" (a first-page load started or ended),
// "error" (the last request's error, or null), "sources" (sorted source names seen), "models" (the model
// choices changed: modelNames()), "announce" ({kind: "page" | "older" | "new", count, hasMore, paused}).
import { Controller } from "../core/controller.js";
import { LEVELS, matchesLog } from "../components/log-list.js";

export const PAGE_SIZE = 100;
export const MAX_ROWS = 1000;
export const HARD_MAX = 5000;
export const DEFAULTS = { level: "trace", source: "", model: "", search: "" };
export const FILTER_KEYS = Object.keys(DEFAULTS);
const FLUSH_MS = 100;
const ANNOUNCE_MS = 4000;
const SEEN_LIMIT = 200;

export class LogsController extends Controller {
  constructor({ state }) {
    super();
    this.state = state;
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
    this.ids = []; // the ids of the lines shown, newest first
    this.oldestId = null;
    this.lastId = 0;
    this.window = MAX_ROWS;
    this.loadingOlder = false;
    this.unannounced = 0;
    this.seenSources = new Set();
    this.seenModels = new Set();
  }

  start() {
    const { state } = this;
    this.own(state.subscribe("models", () => this.emit("models")));
    this.own(state.on("logs:entry", ({ entry } = {}) => this._onEntry(entry)));
    let wasConnected = false;
    this.own(state.subscribe("connection", (status) => {
      const connected = status === "connected";
      if (connected && !wasConnected && this.loadedOnce) this._reconnected();
      wasConnected = connected;
    }));
    this.own(() => clearTimeout(this.flushTimer));
    this.own(() => clearTimeout(this.announceTimer));
    this._load();
  }

  // ---- filters -------------------------------------------------------------------------------

  /** Applies the filter form's values (trimmed; an unknown level is the default); a change reloads. */
  setFilters(values) {
    const next = {};
    for (const key of FILTER_KEYS) next[key] = String(values[key] ?? "").trim();
    if (!LEVELS.some(([l]) => l === next.level)) next.level = DEFAULTS.level;
    if (FILTER_KEYS.every((key) => next[key] === this.query[key])) return;
    this.query = next;
    this._writeQuery();
    this._load({ announce: true });
  }

  /** Whether any filter differs from its default. */
  filtered() {
    return FILTER_KEYS.some((key) => this.query[key] !== DEFAULTS[key]);
  }

  /** The model choices, sorted: catalog models, models seen in lines, the query's and `selected`. */
  modelNames(selected) {
    const names = new Set((this.state.get("models") || []).map((m) => m.id));
    for (const m of this.seenModels) names.add(m);
    for (const m of [this.query.model, selected]) if (m) names.add(m);
    return [...names].sort();
  }

  _writeQuery() {
    const params = new URLSearchParams();
    for (const key of FILTER_KEYS) if (this.query[key] && this.query[key] !== DEFAULTS[key]) params.set(key, this.query[key]);
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
    this.emit("busy", true);
    try {
      const { logs = [], hasMore = false } = await this.state.request("logs:get", { ...this._requestFilters(), limit: PAGE_SIZE });
      if (seq !== this.seq || this.destroyed) return;
      this.loadedOnce = true;
      this.window = MAX_ROWS;
      this.hasMore = Boolean(hasMore);
      this.incoming = [];
      this.held = [];
      this.heldCount = 0;
      this.stale = false;
      clearTimeout(this.flushTimer);
      this.flushTimer = null;
      this.ids = logs.map((e) => e.id);
      this.emit("reset", logs);
      this.lastId = logs[0]?.id ?? 0;
      this.oldestId = logs.at(-1)?.id ?? null;
      this._noteSeen(logs);
      this._setError(null);
      this.loading = false;
      const late = this.duringLoad.splice(0);
      for (const entry of late) this._onEntry(entry);
      this.emit("meta");
      if (announce) this.emit("announce", { kind: "page", count: logs.length, hasMore: this.hasMore });
    } catch (err) {
      if (seq === this.seq && !this.destroyed) this._setError(err);
    } finally {
      if (seq === this.seq && !this.destroyed) {
        this.loading = false;
        this.emit("busy", false);
      }
    }
  }

  async loadOlder() {
    if (this.loadingOlder || !this.hasMore || !this.oldestId || this.loading) return;
    if (this.ids.length >= HARD_MAX) return;
    const seq = this.seq;
    const before = this.oldestId;
    this.loadingOlder = true;
    this.emit("meta");
    try {
      const { logs = [], hasMore = false } = await this.state.request("logs:get", { ...this._requestFilters(), before, limit: PAGE_SIZE });
      // Filters changed, or live lines pushed the oldest row out meanwhile: the answer no longer joins on.
      if (seq !== this.seq || this.destroyed || this.oldestId !== before) return;
      const room = HARD_MAX - this.ids.length;
      const rows = logs.slice(0, Math.max(0, room));
      this.ids.push(...rows.map((e) => e.id));
      this.emit("append", rows);
      this.hasMore = Boolean(hasMore) || rows.length < logs.length;
      this.oldestId = rows.at(-1)?.id ?? this.oldestId;
      this.window = Math.min(HARD_MAX, Math.max(this.window, this.ids.length));
      this._noteSeen(rows);
      this._setError(null);
      this.emit("announce", { kind: "older", count: rows.length });
    } catch (err) {
      if (!this.destroyed) this._setError(err);
    } finally {
      this.loadingOlder = false;
      if (!this.destroyed) this.emit("meta");
    }
  }

  _reconnected() {
    // Lines logged while we were away never arrived: start again from the newest page.
    if (this.paused) {
      this.stale = true;
      this.emit("meta");
    } else {
      this._load();
    }
  }

  // ---- live lines ----------------------------------------------------------------------------

  _onEntry(entry) {
    if (!entry || !Number.isFinite(entry.id) || this.destroyed) return;
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
      this.emit("held");
      return;
    }
    this.incoming.push(entry);
    if (this.incoming.length > this.window) this.incoming.splice(0, this.incoming.length - this.window);
    if (!this.flushTimer) this.flushTimer = setTimeout(() => this._flush(), FLUSH_MS);
  }

  /** Shows the queued lines and drops the oldest past the window. */
  _flush() {
    clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (this.destroyed) return;
    const batch = this.incoming.splice(0);
    if (!batch.length) return;
    this.ids.unshift(...batch.map((e) => e.id).reverse());
    const drop = Math.max(0, this.ids.length - this.window);
    this.ids.length -= drop;
    this.emit("prepend", batch, drop);
    if (drop) {
      this.hasMore = true;
      this.oldestId = this.ids.at(-1) || null;
    } else if (this.oldestId === null) {
      this.oldestId = batch[0].id;
    }
    this.emit("meta");
  }

  pause() {
    if (this.paused) return;
    this.paused = true;
    this._flush();
    this.emit("meta");
  }

  resume() {
    if (!this.paused) return;
    this.paused = false;
    if (this.stale) {
      this._load();
    } else {
      this.incoming.push(...this.held);
      this.held = [];
      this._flush();
    }
    this.heldCount = 0;
    this.emit("meta");
  }

  _noteSeen(entries) {
    let sources = false;
    let models = false;
    for (const e of entries) {
      if (e.source && !this.seenSources.has(e.source) && this.seenSources.size < SEEN_LIMIT) {
        this.seenSources.add(e.source);
        sources = true;
      }
      if (e.model && !this.seenModels.has(e.model) && this.seenModels.size < SEEN_LIMIT) {
        this.seenModels.add(e.model);
        models = true;
      }
    }
    if (sources) this.emit("sources", [...this.seenSources].sort());
    if (models) this.emit("models");
  }

  _announceLater() {
    this.unannounced += 1;
    if (this.announceTimer) return;
    this.announceTimer = setTimeout(() => {
      this.announceTimer = null;
      const count = this.unannounced;
      this.unannounced = 0;
      if (count && !this.destroyed) this.emit("announce", { kind: "new", count, paused: this.paused });
    }, ANNOUNCE_MS);
  }

  _setError(err) {
    this.emit("error", err);
  }
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
