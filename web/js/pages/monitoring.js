// Monitoring page: history charts from SQLite for a chosen range (last hour, day or week).
//
// - System: CPU %, memory used, our own RSS, and GPU utilization / memory when the samples carry
//   GPUs, from `metrics:history` (through SampleHistory, which thins a long range out to about
//   240 points).
// - Requests by model: `requests:history` for the same range in whole buckets (1 min, 15 min or
//   2 h): requests per bucket, generated tokens per second of wall time (completionTokens / bucket
//   seconds), the average generation speed (tokensPerSecond), average time to first token and
//   total latency, one series per model, a table of each model's totals in the range, and the requests per
//   API they came in through (OpenAI, Anthropic, Ollama: `byApi`), each with its share as a bar.
//
// Range and model live in the URL query (?range=day&model=NAME), so a view can be linked. The DOM
// is built once; a range or model change and a refresh every REFRESH_MS only feed the charts
// (setData) and patch texts. The root carries data-range, data-bucket-ms and data-loads (loads
// finished) for tests.
import { Component, h, replaceChildren } from "../core/component.js";
import { apiName, formatCount, formatMs, formatRate, formatTime } from "../core/format.js";
import { HistoryChart } from "../components/history-chart.js";
import { SampleHistory } from "../components/sample-history.js";
import { fillModelSelect, writeQuery } from "../core/query.js";

export const RANGES = [
  // key, label, span, request bucket
  ["hour", "Last hour", 3600e3, 60e3],
  ["day", "Last day", 86400e3, 900e3],
  ["week", "Last week", 7 * 86400e3, 7200e3],
];
export const REFRESH_MS = 30000;
const DEFAULTS = { range: "hour", model: "" };
const PALETTE = ["#3b8eea", "#2fb573", "#e0a030", "#e5534b", "#a371f7", "#1fb5b5", "#e86fb0", "#8a9a5b"];
const CPU_COLOR = "#3b8eea";
const MEM_COLOR = "#2fb573";
const TOTAL_COLOR = "#8b949e";
const RSS_COLOR = "#e0a030";
const UNKNOWN_MODEL = "(unknown model)";

const SYSTEM_CHARTS = [
  ["cpu", "CPU usage", "percent", "CPU"],
  ["memory", "Memory used", "bytes", "Memory"],
  ["rss", "llama-dashboard memory (RSS)", "bytes", "RSS"],
  ["gpuUtil", "GPU utilization", "percent", "GPU"],
  ["gpuMem", "GPU memory used", "bytes", "VRAM"],
];
// Averages have no value in buckets without requests: their points are drawn, the gaps left open.
const MODEL_CHARTS = [
  ["requests", "Requests", "count", "Requests"],
  ["throughput", "Generated tokens per second", "rate", "Generated"],
  ["speed", "Average generation speed", "rate", "Speed", true],
  ["ttft", "Time to first token", "ms", "TTFT", true],
  ["total", "Total latency", "ms", "Latency", true],
];

export class MonitoringPage extends Component {
  getEventMap() {
    return {
      "change form[data-ref=controls]": "handleControls",
      "submit form[data-ref=controls]": "handleSubmit",
    };
  }

  render() {
    return h(
      "section",
      { class: "page monitoring", "aria-labelledby": "page-title", "data-testid": "monitoring" },
      h("header", { class: "page-head" },
        h("div", {},
          h("h1", { id: "page-title" }, "Monitoring"),
          h("p", { class: "muted page-sub" }, "System and per-model history from the server's database.")),
        h("p", { class: "muted updated", role: "status", "data-ref": "updated", "data-testid": "mon-updated" }, "Loading…")),
      h("form", { class: "card mon-controls", "data-ref": "controls", "aria-label": "Range and model" },
        h("fieldset", { class: "mon-range" },
          h("legend", {}, "Range"),
          h("div", { class: "mon-range__options" },
            RANGES.map(([value, label]) => h("label", { class: "mon-range__option" },
              h("input", { type: "radio", name: "range", value, "data-testid": `range-${value}` }),
              h("span", {}, label))))),
        h("div", { class: "form__field mon-model" },
          h("label", { for: "mon-model" }, "Model"),
          h("select", { id: "mon-model", name: "model", "data-testid": "mon-model" },
            h("option", { value: "" }, "All models")))),
      h("p", { class: "notice notice--error", role: "alert", "data-ref": "error", "data-testid": "mon-error", hidden: true }),
      h("section", { class: "mon-section", "aria-labelledby": "mon-system-title" },
        h("div", { class: "mon-section__head" },
          h("h2", { id: "mon-system-title" }, "System"),
          h("p", { class: "muted", "data-ref": "systemSummary", "data-testid": "mon-system-summary" }, "Loading…")),
        h("p", { class: "card muted empty", "data-ref": "systemEmpty", "data-testid": "mon-system-empty", hidden: true },
          "No metrics recorded in this range."),
        h("div", { class: "chart-grid mon-grid", "data-ref": "systemCharts" },
          SYSTEM_CHARTS.map(([ref, title]) => chartCard(ref, title)))),
      h("section", { class: "mon-section", "aria-labelledby": "mon-models-title" },
        h("div", { class: "mon-section__head" },
          h("h2", { id: "mon-models-title" }, "Requests by model"),
          h("p", { class: "muted", "data-ref": "modelsSummary", "data-testid": "mon-models-summary" }, "Loading…")),
        h("p", { class: "card muted empty", "data-ref": "modelsEmpty", "data-testid": "mon-models-empty", hidden: true }),
        h("div", { class: "card mon-table-card", "data-ref": "modelsTableCard", hidden: true },
          h("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": "Totals per model in this range" },
            h("table", { class: "history mon-table", "data-testid": "mon-models-table" },
              h("thead", {}, h("tr", {},
                ["Model", "Requests", "Errors", "Generated tokens", "Avg speed", "Avg TTFT", "Avg total"]
                  .map((text, i) => h("th", { scope: "col", class: i ? "num" : null }, text)))),
              h("tbody", { "data-ref": "modelsBody" })))),
        h("div", { class: "card mon-table-card", "data-ref": "apisCard", hidden: true },
          h("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": "Requests per API in this range" },
            h("table", { class: "history mon-table", "data-testid": "mon-apis-table" },
              h("thead", {}, h("tr", {},
                ["API", "Requests", "Errors", "Share"].map((text, i) => h("th", { scope: "col", class: i ? "num" : null }, text)))),
              h("tbody", { "data-ref": "apisBody" })))),
        h("div", { class: "chart-grid mon-grid", "data-ref": "modelCharts", hidden: true },
          MODEL_CHARTS.map(([ref, title]) => chartCard(ref, title)))),
    );
  }

  onMount() {
    this.r = this.refs();
    this.query = readQuery();
    this.colors = new Map();
    this.seen = new Set();
    this.seq = 0;
    this.loads = 0;
    this.history = new SampleHistory((event, data) => this.props.state.request(event, data));
    this.charts = {};
    for (const [ref, title, kind, axisTitle, points] of [...SYSTEM_CHARTS, ...MODEL_CHARTS]) {
      const chart = new HistoryChart({ title, kind, axisTitle, points, testid: `chart-${ref}` }).mount(this.r[ref]);
      this.own(() => chart.destroy());
      this.charts[ref] = chart;
    }
    this._showGpus(false);
    this._fillForm();
    const { state } = this.props;
    this.own(state.subscribe("models", () => this._modelOptions()));
    let wasConnected = false;
    this.own(state.subscribe("connection", (status) => {
      if (status === "connected" && !wasConnected && this.loads > 0) this._load();
      wasConnected = status === "connected";
    }));
    const timer = setInterval(() => {
      if (!document.hidden && !this.loading) this._load();
    }, REFRESH_MS);
    this.own(() => clearInterval(timer));
    this._load();
  }

  handleSubmit(event) {
    event.preventDefault();
  }

  handleControls() {
    const form = this.r.controls;
    const next = { range: form.elements.range.value || DEFAULTS.range, model: form.elements.model.value };
    if (next.range === this.query.range && next.model === this.query.model) return;
    if (next.range !== this.query.range) {
      this.history = new SampleHistory((event, data) => this.props.state.request(event, data));
    }
    this.query = next;
    this._writeQuery();
    this._load();
  }

  async _load() {
    const seq = ++this.seq;
    const [range, label, span, bucketMs] = rangeOf(this.query.range);
    const model = this.query.model;
    const until = Date.now() + (this.props.state.get("serverOffsetMs") || 0);
    const since = until - span;
    const history = this.history;
    this.loading = true;
    this.el.setAttribute("aria-busy", "true");
    try {
      const [samples, requests] = await Promise.all([
        history.load(since, until),
        this.props.state.request("requests:history", { since, until, bucketMs, model: model || undefined }),
      ]);
      if (seq !== this.seq || !this.el) return;
      const rangeText = label.toLowerCase();
      this._showSystem(samples, since, until, rangeText);
      this._showRequests(requests, rangeText);
      this._showError(null);
      this.loads += 1;
      Object.assign(this.el.dataset, { range, bucketMs: String(requests.bucketMs), loads: String(this.loads) });
      this.r.updated.textContent = `Updated ${formatTime(until)} · refreshes every ${REFRESH_MS / 1000} s`;
    } catch (err) {
      if (seq === this.seq && this.el) this._showError(err);
    } finally {
      if (seq === this.seq && this.el) {
        this.loading = false;
        this.el.removeAttribute("aria-busy");
      }
    }
  }

  _showSystem(samples, since, until, rangeText) {
    const { x, rows } = withGaps(samples);
    const pick = (fn) => rows.map((s) => (s ? fn(s) ?? null : null));
    const opts = { from: since, to: until, rangeText };
    this.charts.cpu.setData(x, [{ label: "CPU", color: CPU_COLOR, values: pick((s) => s.cpu?.usagePercent) }], opts);
    this.charts.memory.setData(x, [
      { label: "Used", color: MEM_COLOR, values: pick((s) => s.memory?.usedBytes) },
      { label: "Total", color: TOTAL_COLOR, values: pick((s) => s.memory?.totalBytes) },
    ], opts);
    this.charts.rss.setData(x, [{ label: "RSS", color: RSS_COLOR, values: pick((s) => s.process?.rssBytes) }], opts);

    const gpus = new Map();
    for (const s of samples) for (const g of s.gpus || []) if (!gpus.has(g.index)) gpus.set(g.index, g.name);
    const gpuIds = [...gpus.keys()].sort((a, b) => a - b);
    const gpuSeries = (field) => gpuIds.map((index, i) => ({
      label: `GPU ${index}${gpus.get(index) ? ` ${gpus.get(index)}` : ""}`,
      color: PALETTE[i % PALETTE.length],
      values: pick((s) => s.gpus?.find((g) => g.index === index)?.[field]),
    }));
    this._showGpus(gpuIds.length > 0);
    if (gpuIds.length) {
      this.charts.gpuUtil.setData(x, gpuSeries("utilizationPercent"), opts);
      this.charts.gpuMem.setData(x, gpuSeries("memoryUsedBytes"), opts);
    }

    const empty = samples.length === 0;
    this.r.systemEmpty.hidden = !empty;
    this.r.systemCharts.hidden = empty;
    this.r.systemSummary.dataset.count = String(samples.length);
    this.r.systemSummary.textContent = empty
      ? `No samples in the ${rangeText}`
      : `${formatCount(samples.length)} samples, ${formatTime(samples[0].timestamp)} to ${formatTime(samples.at(-1).timestamp)}`;
  }

  _showGpus(show) {
    this.r.gpuUtil.closest(".chart-card").hidden = !show;
    this.r.gpuMem.closest(".chart-card").hidden = !show;
  }

  _showRequests(reply, rangeText) {
    const bucketMs = reply.bucketMs;
    const buckets = reply.buckets || [];
    const start = Math.floor(reply.since / bucketMs) * bucketMs;
    const x = [];
    for (let t = start; t <= reply.until; t += bucketMs) x.push(t);
    const models = [...new Set(buckets.map((b) => b.model ?? UNKNOWN_MODEL))].sort();
    if (!this.query.model) for (const m of models) if (m !== UNKNOWN_MODEL) this.seen.add(m);
    this._modelOptions();
    for (const m of models) this._colorOf(m);

    const seconds = bucketMs / 1000;
    const perModel = new Map(models.map((m) => [m, {
      requests: x.map(() => 0), throughput: x.map(() => 0),
      speed: x.map(() => null), ttft: x.map(() => null), total: x.map(() => null),
      totals: { requests: 0, errors: 0, completionTokens: 0, speed: avg(), ttft: avg(), total: avg() },
    }]));
    for (const b of buckets) {
      const row = perModel.get(b.model ?? UNKNOWN_MODEL);
      const i = Math.round((b.timestamp - start) / bucketMs);
      if (i >= 0 && i < x.length) {
        row.requests[i] = b.requests;
        row.throughput[i] = b.completionTokens / seconds;
        row.speed[i] = b.tokensPerSecond ?? null;
        row.ttft[i] = b.ttftMs ?? null;
        row.total[i] = b.totalMs ?? null;
      }
      const t = row.totals;
      t.requests += b.requests;
      t.errors += b.errors;
      t.completionTokens += b.completionTokens;
      t.speed.add(b.tokensPerSecond, b.requests);
      t.ttft.add(b.ttftMs, b.requests);
      t.total.add(b.totalMs, b.requests);
    }

    const per = bucketLabel(bucketMs);
    this.charts.requests.setUnitLabel(`per ${per}`);
    const opts = { from: reply.since, to: reply.until, rangeText: `${rangeText}, ${per} buckets` };
    for (const [ref] of MODEL_CHARTS) {
      this.charts[ref].setData(x, models.map((m) => ({ label: m, color: this._colorOf(m), values: perModel.get(m)[ref] })), opts);
    }

    replaceChildren(this.r.modelsBody, models.map((m) => modelRow(m, perModel.get(m).totals, this._colorOf(m))));
    const apis = reply.byApi || [];
    const all = apis.reduce((n, a) => n + a.requests, 0);
    replaceChildren(this.r.apisBody, apis.map((a) => apiRow(a, all)));
    this.r.apisCard.hidden = apis.length === 0;
    const empty = buckets.length === 0;
    this.r.modelsEmpty.hidden = !empty;
    this.r.modelsEmpty.textContent = this.query.model
      ? `No requests in this range for ${this.query.model}.`
      : "No requests in this range.";
    this.r.modelsTableCard.hidden = empty;
    this.r.modelCharts.hidden = empty;
    const total = buckets.reduce((n, b) => n + b.requests, 0);
    this.r.modelsSummary.textContent = empty
      ? `${per} buckets`
      : `${formatCount(total)} request${total === 1 ? "" : "s"} · ${models.length} model${models.length === 1 ? "" : "s"} · ${per} buckets`;
  }

  _colorOf(model) {
    if (!this.colors.has(model)) this.colors.set(model, PALETTE[this.colors.size % PALETTE.length]);
    return this.colors.get(model);
  }

  _showError(err) {
    this.r.error.hidden = !err;
    this.r.error.textContent = err ? `Could not load the history: ${err.message}` : "";
  }

  _fillForm() {
    const form = this.r.controls;
    for (const input of form.querySelectorAll("input[name=range]")) input.checked = input.value === this.query.range;
    this._modelOptions();
  }

  /** Catalog models, models seen in this page's unfiltered history, and the chosen one. */
  _modelOptions() {
    const select = this.r.controls.elements.model;
    const names = new Set([...(this.props.state.get("models") || []).map((m) => m.id), ...this.seen]);
    if (this.query.model) names.add(this.query.model);
    fillModelSelect(select, names, this.query.model);
  }

  _writeQuery() {
    writeQuery(this.query, DEFAULTS);
  }
}

function chartCard(ref, title) {
  const id = `mon-${ref}-title`;
  return h("section", { class: "card chart-card", "aria-labelledby": id, "data-testid": `card-${ref}` },
    h("h3", { id, class: "chart-card__title" }, title),
    h("div", { class: "chart-slot", "data-ref": ref }));
}

function modelRow(model, t, color) {
  const cell = (key, text) => h("td", { class: "num", "data-testid": `mon-${key}-${model}` }, text);
  return h("tr", { "data-model": model, "data-testid": `mon-row-${model}` },
    h("th", { scope: "row" }, swatch(color), model),
    cell("requests", formatCount(t.requests)),
    cell("errors", formatCount(t.errors)),
    cell("tokens", formatCount(t.completionTokens)),
    cell("speed", formatRate(t.speed.value())),
    cell("ttft", formatMs(t.ttft.value())),
    cell("total", formatMs(t.total.value())));
}

/** One API's totals, with its share of the range's requests as a bar. */
function apiRow(a, all) {
  const share = all ? Math.round((100 * a.requests) / all) : 0;
  return h("tr", { "data-api": a.api, "data-testid": `mon-api-${a.api}` },
    h("th", { scope: "row" }, apiName(a.api)),
    h("td", { class: "num", "data-testid": `mon-api-requests-${a.api}` }, formatCount(a.requests)),
    h("td", { class: "num" }, formatCount(a.errors)),
    h("td", { class: "num" },
      h("meter", { min: "0", max: "100", value: String(share), title: `${share} % of the requests`, "aria-label": `${apiName(a.api)}: ${share} %` }),
      ` ${share} %`));
}

/** The series' color chip. Set through the CSSOM: the Content-Security-Policy refuses inline style attributes. */
function swatch(color) {
  const el = h("span", { class: "mon-swatch", "aria-hidden": "true" });
  el.style.background = color;
  return el;
}

/** A mean weighted by request counts, skipping buckets without a value. */
function avg() {
  let sum = 0;
  let weight = 0;
  return {
    add(value, n) {
      if (typeof value === "number" && Number.isFinite(value) && n > 0) {
        sum += value * n;
        weight += n;
      }
    },
    value: () => (weight ? sum / weight : null),
  };
}

/** Sample times and rows, with a null row where samples stop for a while (the server was down). */
function withGaps(samples) {
  const x = [];
  const rows = [];
  const deltas = samples.slice(1).map((s, i) => s.timestamp - samples[i].timestamp).sort((a, b) => a - b);
  const gap = deltas.length ? Math.max(deltas[Math.floor(deltas.length / 2)] * 5, 1000) : Infinity;
  samples.forEach((s, i) => {
    if (i > 0 && s.timestamp - samples[i - 1].timestamp > gap) {
      x.push(samples[i - 1].timestamp + 1);
      rows.push(null);
    }
    x.push(s.timestamp);
    rows.push(s);
  });
  return { x, rows };
}

function bucketLabel(ms) {
  if (ms % 3600e3 === 0) return `${ms / 3600e3} h`;
  if (ms % 60e3 === 0) return `${ms / 60e3} min`;
  return `${Math.round(ms / 1000)} s`;
}

function rangeOf(key) {
  return RANGES.find(([k]) => k === key) || RANGES[0];
}

function readQuery() {
  const params = new URLSearchParams(window.location.search);
  const range = params.get("range");
  return {
    range: RANGES.some(([k]) => k === range) ? range : DEFAULTS.range,
    model: params.get("model") || "",
  };
}
