// Dashboard page: live system metrics, the /v1 requests card, the llama-server router card, the nodes, the
// loaded models with their memory, and the recent warnings and errors.
//
// Renders its DOM once; each `metrics` push patches text nodes and each `metricsHistory`
// change feeds the two charts with setData. History is prefilled by the StateManager's
// metrics:history loader (limit HISTORY_LIMIT) as soon as this page subscribes.
import { Component, h } from "../core/component.js";
import { formatTime } from "../core/format.js";
import { LineChart } from "../components/line-chart.js";
import { describeModels, describeSample, patchCards, statCards } from "../components/stat-cards.js";
import { renderGpus } from "../components/gpu-list.js";
import { RouterCard } from "../components/router-card.js";
import { RequestsCard } from "../components/requests-card.js";
import { RecentErrors } from "../components/recent-errors.js";
import { LoadedModels } from "../components/loaded-models.js";
import { NodesCard } from "../components/nodes-card.js";

const CPU_COLOR = "#3b8eea";
const MEM_COLOR = "#2fb573";

export class DashboardPage extends Component {
  render() {
    return h(
      "section",
      { class: "page dashboard", "aria-labelledby": "page-title" },
      h(
        "header",
        { class: "page-head" },
        h("h1", { id: "page-title" }, "Dashboard"),
        h(
          "p",
          { class: "muted updated" },
          "Last update ",
          h("time", { "data-ref": "updated", "data-testid": "updated-value" }, "—"),
        ),
      ),
      h("p", { class: "notice notice--error", role: "alert", "data-ref": "error", hidden: true }),
      h("div", { class: "stat-grid", "data-ref": "statGrid" }, statCards()),
      h("div", { class: "router-slot", "data-ref": "routerSlot" }),
      h("div", { "data-ref": "nodesSlot" }),
      h(
        "div",
        { class: "chart-grid" },
        chartPanel("CPU usage", "cpuChart"),
        chartPanel("Memory usage", "memChart"),
      ),
      h("div", { class: "dashboard-pair" }, h("div", { "data-ref": "loadedSlot" }), h("div", { "data-ref": "errorsSlot" })),
      h(
        "section",
        { class: "card gpus", "aria-labelledby": "gpus-title" },
        h("h2", { id: "gpus-title" }, "GPUs"),
        h("div", { "data-ref": "gpus", "data-testid": "gpu-list" }, h("p", { class: "muted" }, "Waiting for the first sample…")),
      ),
    );
  }

  onMount() {
    const refs = this.refs();
    this.refsCache = refs;
    this.cpuChart = this._chart(refs.cpuChart, "CPU %", CPU_COLOR, "cpu-chart");
    this.memChart = this._chart(refs.memChart, "Memory %", MEM_COLOR, "mem-chart");
    const { state } = this.props;
    const routerCard = new RouterCard({ state }).mount(refs.routerSlot);
    this.own(() => routerCard.destroy());
    const requestsCard = new RequestsCard({ state }).mount(refs.statGrid);
    this.own(() => requestsCard.destroy());
    const nodesCard = new NodesCard({ state }).mount(refs.nodesSlot);
    this.own(() => nodesCard.destroy());
    const loadedModels = new LoadedModels({ state }).mount(refs.loadedSlot);
    this.own(() => loadedModels.destroy());
    const recentErrors = new RecentErrors({ state }).mount(refs.errorsSlot);
    this.own(() => recentErrors.destroy());
    this.own(state.subscribe("metrics", (sample) => this._showSample(sample)));
    this.own(state.subscribe("metricsHistory", (samples) => this._showHistory(samples)));
    this.own(state.subscribe("models", (models) => patchCards(refs, describeModels(models))));
    this.own(state.subscribe("metricsHistoryError", (err) => this._showError(err)));
  }

  _chart(container, label, color, testid) {
    const chart = new LineChart({ label, color, testid }).mount(container);
    this.own(() => chart.destroy());
    return chart;
  }

  _showSample(sample) {
    if (!sample) return;
    const refs = this.refsCache;
    patchCards(refs, describeSample(sample));
    refs.updated.textContent = formatTime(sample.timestamp);
    refs.updated.dateTime = new Date(sample.timestamp).toISOString();
    renderGpus(refs.gpus, sample.gpus);
  }

  _showHistory(samples) {
    const times = samples.map((s) => s.timestamp);
    this.cpuChart.setData(times, samples.map((s) => s.cpu?.usagePercent ?? null));
    this.memChart.setData(times, samples.map((s) => s.memory?.usagePercent ?? null));
  }

  _showError(err) {
    const el = this.refsCache.error;
    el.hidden = !err;
    el.textContent = err ? `Could not load metrics history: ${err.message}` : "";
  }
}

function chartPanel(title, ref) {
  const id = `${ref}-title`;
  return h(
    "section",
    { class: "card chart-card", "aria-labelledby": id },
    h("h2", { id }, title),
    h("div", { class: "chart-slot", "data-ref": ref }),
  );
}
