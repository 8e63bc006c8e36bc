// Requests page: the stored history of /v1 requests (`requests:list`) with filters, sorting and
// paging, the totals of the chosen window (`requests:stats {since}`), and the live queue of each
// model (the `requests:stats` broadcast, through the StateManager's `requestStats`).
//
// Filters, sort and order live in the URL query (?model=&outcome=&range=&sort=&order=), so a
// view can be linked. A `requests:completed` broadcast that matches the filters is prepended
// when the view shows the newest requests first page; on another sort it reloads the first
// page, on a later page it only counts. Totals follow with a short delay.
import { Component, h, replaceChildren } from "../core/component.js";
import {
  OUTCOMES, ORDERS, RANGES, COLUMNS, headRow, requestRow, matches, pagerText, sinceOf,
} from "../components/request-table.js";
import { patchTotals, queueList, totalsBlock, totalsFor } from "../components/request-summary.js";
import { fillModelSelect, writeQuery } from "../core/query.js";

export const PAGE_SIZE = 50;
const REFRESH_DELAY_MS = 800;
const DEFAULTS = { model: "", outcome: "", range: "day", sort: "timestamp", order: "desc" };

export class RequestsPage extends Component {
  getEventMap() {
    return {
      "change form[data-ref=filters]": "handleFilter",
      "submit form[data-ref=filters]": "handleSubmit",
      "click button[data-sort]": "handleSort",
      "click button[data-page]": "handlePage",
    };
  }

  render() {
    const select = (name, label, options) => h("div", { class: "form__field" },
      h("label", { for: `req-${name}` }, label),
      h("select", { id: `req-${name}`, name, "data-testid": `filter-${name}` }, options));
    return h(
      "section",
      { class: "page requests", "aria-labelledby": "page-title" },
      h("header", { class: "page-head" },
        h("div", {},
          h("h1", { id: "page-title" }, "Requests"),
          h("p", { class: "muted page-sub" }, "Every ", h("code", {}, "/v1"), " request through this server, live."))),
      h("p", { class: "notice notice--error", role: "alert", "data-ref": "error", "data-testid": "requests-error", hidden: true }),
      h("section", { class: "card req-queue", "aria-labelledby": "queue-title" },
        h("h2", { id: "queue-title" }, "Live queue"),
        h("div", { "data-ref": "queues" }, h("p", { class: "muted" }, "Loading…"))),
      h("form", { class: "card req-filters", "data-ref": "filters", "aria-label": "Filters" },
        select("model", "Model", h("option", { value: "" }, "All models")),
        select("outcome", "Outcome", [h("option", { value: "" }, "Any outcome"), OUTCOMES.map(([v, t]) => h("option", { value: v }, t))]),
        select("range", "Time", RANGES.map(([v, t]) => h("option", { value: v }, t))),
        select("sort", "Sort by", COLUMNS.filter((c) => c.sort).map((c) => h("option", { value: c.sort }, c.title || c.label))),
        select("order", "Order", ORDERS.map(([v, t]) => h("option", { value: v }, t)))),
      h("section", { class: "card req-totals", "aria-labelledby": "totals-title" },
        h("h2", { id: "totals-title", "data-ref": "totalsTitle" }, "Totals"),
        h("div", { "data-ref": "totals" }, totalsBlock())),
      h("section", { class: "card req-history", "aria-labelledby": "history-title" },
        h("div", { class: "req-history__head" },
          h("h2", { id: "history-title" }, "History"),
          h("p", { class: "muted req-pager-text", role: "status", "data-ref": "pagerText", "data-testid": "pager-text" }, "Loading…")),
        h("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-labelledby": "history-title" },
          h("table", { class: "req-table", "data-ref": "table", "data-testid": "requests-table" },
            h("thead", { "data-ref": "head" }),
            h("tbody", { "data-ref": "body" }))),
        h("p", { class: "muted empty", "data-ref": "empty", "data-testid": "requests-empty", hidden: true }),
        h("div", { class: "btn-row req-pager" },
          h("button", { type: "button", class: "btn", "data-page": "newer", "data-ref": "newer", "data-testid": "page-newer", disabled: true }, "← Newer"),
          h("button", { type: "button", class: "btn", "data-page": "older", "data-ref": "older", "data-testid": "page-older", disabled: true }, "Older →"),
          h("span", { class: "muted", "data-ref": "fresh", "data-testid": "fresh-count", hidden: true }))),
    );
  }

  onMount() {
    this.r = this.refs();
    this.query = readQuery();
    this.offset = 0;
    this.rows = [];
    this.total = 0;
    this.fresh = 0;
    this.seq = 0;
    const { state } = this.props;
    this._fillForm();
    this.own(state.subscribe("models", () => this._modelOptions()));
    this.own(state.subscribe("requestStats", (stats) => {
      replaceChildren(this.r.queues, queueList(stats?.queues));
      this._modelOptions(stats);
    }));
    this.own(state.on("requests:completed", ({ request }) => request && this._onCompleted(request)));
    let wasConnected = false;
    this.own(state.subscribe("connection", (status) => {
      if (status === "connected" && wasConnected === false && this.loadedOnce) this._load();
      wasConnected = status === "connected";
    }));
    this.own(() => clearTimeout(this.refreshTimer));
    this.own(() => clearTimeout(this.totalsTimer));
    this._load();
  }

  handleSubmit(event) {
    event.preventDefault();
  }

  handleFilter(event) {
    const form = this.r.filters;
    const value = (name) => form.elements[name].value;
    this.query = { model: value("model"), outcome: value("outcome"), range: value("range"), sort: value("sort"), order: value("order") };
    this.offset = 0;
    this._writeQuery();
    this._load();
  }

  handleSort(event, button) {
    const key = button.dataset.sort;
    const order = this.query.sort === key && this.query.order === "desc" ? "asc" : "desc";
    this.query = { ...this.query, sort: key, order };
    this.offset = 0;
    this.r.filters.elements.sort.value = key;
    this.r.filters.elements.order.value = order;
    this._writeQuery();
    this._load().then(() => this.el?.querySelector(`button[data-sort="${key}"]`)?.focus());
  }

  handlePage(event, button) {
    this.offset = Math.max(0, this.offset + (button.dataset.page === "older" ? PAGE_SIZE : -PAGE_SIZE));
    if (this.offset === 0) this.fresh = 0;
    this._load();
  }

  async _load() {
    const seq = ++this.seq;
    const { sort, order, model, outcome, range } = this.query;
    const since = sinceOf(range);
    const filters = { model: model || undefined, outcome: outcome || undefined, since: since ?? undefined };
    this.r.table.setAttribute("aria-busy", "true");
    try {
      const [list, stats] = await Promise.all([
        this.props.state.request("requests:list", { ...filters, sort, order, limit: PAGE_SIZE, offset: this.offset }),
        this.props.state.request("requests:stats", { since: since ?? 0 }),
      ]);
      if (seq !== this.seq || !this.el) return;
      this.loadedOnce = true;
      this.rows = list.requests || [];
      this.total = list.total ?? this.rows.length;
      this._showRows();
      this._showTotals(stats);
      this._showError(null);
    } catch (err) {
      if (seq === this.seq && this.el) this._showError(err);
    } finally {
      if (seq === this.seq && this.el) this.r.table.removeAttribute("aria-busy");
    }
  }

  _onCompleted(request) {
    const filters = { ...this.query, since: sinceOf(this.query.range) };
    if (!this.loadedOnce || !matches(request, filters)) return;
    this._scheduleTotals();
    if (this.offset > 0) {
      this.fresh += 1;
      this.total += 1;
      return this._showPager();
    }
    if (this.query.sort !== "timestamp" || this.query.order !== "desc") return this._scheduleReload();
    if (this.rows.some((r) => r.id === request.id)) return;
    this.total += 1;
    this.rows = [request, ...this.rows].slice(0, PAGE_SIZE);
    this.r.body.prepend(requestRow(request));
    while (this.r.body.rows.length > PAGE_SIZE) this.r.body.lastElementChild.remove();
    this._showPager();
  }

  _scheduleReload() {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => this._load(), REFRESH_DELAY_MS);
  }

  _scheduleTotals() {
    clearTimeout(this.totalsTimer);
    this.totalsTimer = setTimeout(async () => {
      if (!this.el) return;
      try {
        const since = sinceOf(this.query.range);
        this._showTotals(await this.props.state.request("requests:stats", { since: since ?? 0 }));
      } catch {
        // The next load shows the error; stale totals are harmless meanwhile.
      }
    }, REFRESH_DELAY_MS);
  }

  _showRows() {
    const { head, body } = this.r;
    replaceChildren(head, headRow(this.query.sort, this.query.order));
    replaceChildren(body, this.rows.map(requestRow));
    this._showPager();
  }

  _showPager() {
    const { pagerText: text, newer, older, empty, table, fresh } = this.r;
    text.textContent = pagerText(this.offset, this.rows.length, this.total);
    newer.disabled = this.offset === 0;
    older.disabled = this.offset + this.rows.length >= this.total;
    const filtered = this.query.model || this.query.outcome || this.query.range !== "all";
    empty.hidden = this.rows.length > 0;
    table.hidden = this.rows.length === 0;
    empty.textContent = filtered
      ? "No requests match these filters."
      : "No requests yet. Send one from the Playground, or point any OpenAI client at /v1.";
    fresh.hidden = !this.fresh;
    fresh.textContent = this.fresh ? `${this.fresh} newer since this page loaded` : "";
  }

  _showTotals(stats) {
    if (!this.el) return;
    const range = RANGES.find(([key]) => key === this.query.range)?.[1] || "";
    this.r.totalsTitle.textContent = `Totals · ${range.toLowerCase()}${this.query.model ? ` · ${this.query.model}` : ""}`;
    patchTotals(this.r.totals, totalsFor(stats, this.query.model));
    this._modelOptions(stats);
  }

  _showError(err) {
    this.r.error.hidden = !err;
    this.r.error.textContent = err ? `Could not load requests: ${err.message}` : "";
  }

  _fillForm() {
    const form = this.r.filters;
    this._modelOptions();
    form.elements.outcome.value = this.query.outcome;
    form.elements.range.value = this.query.range;
    form.elements.sort.value = this.query.sort;
    form.elements.order.value = this.query.order;
    replaceChildren(this.r.head, headRow(this.query.sort, this.query.order));
  }

  /** Catalog models, models seen in stats (also unknown names that were rejected), and the chosen one. */
  _modelOptions(stats) {
    const select = this.r.filters.elements.model;
    const names = new Set((this.props.state.get("models") || []).map((m) => m.id));
    for (const m of stats?.models || []) if (m.model) names.add(m.model);
    for (const q of stats?.queues || []) names.add(q.model);
    for (const option of select.options) if (option.value) names.add(option.value);
    if (this.query.model) names.add(this.query.model);
    fillModelSelect(select, names, this.query.model);
  }

  _writeQuery() {
    writeQuery(this.query, DEFAULTS);
  }
}

function readQuery() {
  const params = new URLSearchParams(window.location.search);
  const pick = (key, allowed) => (allowed.includes(params.get(key)) ? params.get(key) : DEFAULTS[key]);
  return {
    model: params.get("model") || "",
    outcome: pick("outcome", OUTCOMES.map(([v]) => v)),
    range: pick("range", RANGES.map(([v]) => v)),
    sort: pick("sort", COLUMNS.filter((c) => c.sort).map((c) => c.sort)),
    order: pick("order", ["asc", "desc"]),
  };
}
