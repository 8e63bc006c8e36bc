// Details panel of one model: GGUF metadata and the lifecycle history, from `models:get`, and the
// model's own llama-server output (`logs:get {model}`, then live from `logs:entry`), so a failed
// load shows why.
//
// Contract: new ModelDetails({state, id, container}); load() requests `models:get {id}` and
// replaces the container's content with the answer (or the error, role=alert). Only the
// newest of overlapping loads is shown. The history table has data-testid="history-<id>",
// one row per ModelEvent, newest first (the server's order). Once shown, new output lines of
// this model are appended (the last LOG_LINES kept) until destroy().
import { h, replaceChildren } from "../core/component.js";
import { DASH, formatCount, formatDateTime, formatMs } from "../core/format.js";

export class ModelDetails {
  constructor({ state, id, container }) {
    this.state = state;
    this.id = id;
    this.container = container;
    this.seq = 0;
    this.shown = false;
    this.lines = [];
    this.stopLive = state.on("logs:entry", ({ entry } = {}) => this._append(entry));
  }

  destroy() {
    this.stopLive?.();
  }

  _append(entry) {
    if (!this.shown || !entry || entry.model !== this.id) return;
    this.lines = [...this.lines, formatLine(entry)].slice(-LOG_LINES);
    const pre = this.container.querySelector(`[data-testid="logs-${CSS.escape(this.id)}"]`);
    if (pre?.tagName === "PRE") pre.textContent = this.lines.join("\n");
    else if (pre) pre.replaceWith(logBlock(this.id, this.lines));
  }

  async load() {
    const seq = ++this.seq;
    if (!this.shown) replaceChildren(this.container, h("p", { class: "muted", role: "status" }, "Loading details…"));
    this.container.setAttribute("aria-busy", "true");
    try {
      const [{ model, events }, { logs }] = await Promise.all([
        this.state.request("models:get", { id: this.id }),
        this.state.request("logs:get", { model: this.id, limit: LOG_LINES }),
      ]);
      if (seq === this.seq) this._show(model, events || [], logs || []);
    } catch (err) {
      if (seq === this.seq) {
        replaceChildren(this.container, h("p", { class: "notice notice--error", role: "alert" }, `Could not load details: ${err.message}`));
      }
    } finally {
      if (seq === this.seq) this.container.removeAttribute("aria-busy");
    }
  }

  _show(model, events, logs) {
    this.shown = true;
    this.lines = logs.slice().reverse().map(formatLine);
    replaceChildren(
      this.container,
      h("div", { class: "details" },
        h("section", { class: "details__meta" },
          h("h3", {}, "Metadata"), metadataList(model || {})),
        h("section", { class: "details__history" },
          h("h3", {}, "Lifecycle history"), historyTable(this.id, events)),
        h("section", { class: "details__logs" },
          h("h3", {}, "Recent output"), logBlock(this.id, this.lines))),
    );
  }
}

const LOG_LINES = 30;

const formatLine = (l) => `${l.level.toUpperCase().padEnd(5)} ${l.message}`;

/** The model's last output lines, oldest first. */
function logBlock(id, lines) {
  if (!lines.length) return h("p", { class: "muted", "data-testid": `logs-${id}` }, "No output from this model yet.");
  return h("pre", { class: "log-tail", tabindex: "0", "data-testid": `logs-${id}`, "aria-label": `${id} recent output` }, lines.join("\n"));
}

function metadataList(model) {
  const meta = model.metadata || {};
  const yesNo = (v) => (v === true ? "yes" : v === false ? "no" : DASH);
  const rows = [
    ["Name", meta.name || DASH],
    ["File", model.path || DASH],
    ["Layers", formatCount(meta.blockCount)],
    ["Heads (KV)", meta.headCount != null ? `${meta.headCount} (${meta.headCountKv ?? DASH})` : DASH],
    ["Embedding", formatCount(meta.embeddingLength)],
    ["Chat template", yesNo(meta.hasChatTemplate)],
    ["Projector", model.projector || DASH],
    ["Modified", formatDateTime(model.modifiedAt)],
    ["Last used", formatDateTime(model.lastUsed)],
  ];
  if (model.metadataError) rows.push(["Metadata error", model.metadataError]);
  return h("dl", { class: "details__list" }, rows.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

function historyTable(id, events) {
  if (!events.length) return h("p", { class: "muted", "data-testid": `history-${id}` }, "No lifecycle events yet.");
  const head = ["Event", "Actor", "Duration", "Exit code", "Detail", "Time"];
  return h(
    "div",
    { class: "table-scroll", tabindex: "0", role: "region", "aria-label": `${id} lifecycle history` },
    h("table", { class: "history", "data-testid": `history-${id}` },
      h("thead", {}, h("tr", {}, head.map((text) => h("th", { scope: "col" }, text)))),
      h("tbody", {}, events.map((e) => h(
        "tr",
        { "data-event": e.event },
        h("td", {}, h("code", {}, e.event)),
        h("td", {}, e.actor || DASH),
        h("td", { class: "num" }, formatMs(e.durationMs)),
        h("td", { class: "num" }, e.exitCode ?? DASH),
        h("td", { class: "history__detail" }, e.detail || DASH),
        h("td", { class: "num" }, h("time", { datetime: isoTime(e.timestamp) }, formatDateTime(e.timestamp))),
      )))),
  );
}

function isoTime(ms) {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}
