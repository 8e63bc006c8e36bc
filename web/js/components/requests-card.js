// Dashboard card: /v1 requests of the last hour (count, errors, average speed) and the live queue
// (running / waiting over every model), from the StateManager's `requestStats`: requested afresh
// when the card mounts, then patched by every `requests:stats` broadcast.
import { Component, h } from "../core/component.js";
import { DASH, formatCount, formatRate } from "../core/format.js";
import { queueSummary } from "./request-summary.js";

export class RequestsCard extends Component {
  render() {
    return h(
      "article",
      { class: "card stat requests-stat", "aria-labelledby": "stat-requests-label", "data-testid": "requests-card" },
      h("h2", { class: "stat__label", id: "stat-requests-label" }, "Requests · last hour"),
      h("p", { class: "stat__value", "data-ref": "count", "data-testid": "requests-value" }, DASH),
      h("p", { class: "stat__detail muted", "data-ref": "detail", "data-testid": "requests-detail" }, "\u00a0"),
      h("p", { class: "stat__detail muted" },
        "Queue ", h("span", { "data-ref": "queue", "data-testid": "requests-queue" }, DASH),
        " · ", h("a", { href: "/requests", "data-link": true }, "History")),
    );
  }

  onMount() {
    const { state } = this.props;
    this.r = this.refs();
    state.refresh("requestStats"); // the last hour moved on since the last broadcast
    this.own(state.subscribe("requestStats", (stats) => this._show(stats)));
  }

  _show(stats) {
    if (!this.el || !stats) return;
    const t = stats.totals || {};
    setText(this.r.count, formatCount(t.requests ?? 0));
    const errors = t.errors ?? 0;
    const speed = Number.isFinite(t.avgTokensPerSecond) ? ` · avg ${formatRate(t.avgTokensPerSecond)}` : "";
    setText(this.r.detail, `${formatCount(errors)} ${errors === 1 ? "error" : "errors"}${speed}`);
    setText(this.r.queue, queueSummary(stats));
  }
}

function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}
