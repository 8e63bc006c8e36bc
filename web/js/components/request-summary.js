// Summaries from RequestStats (docs/socket-events.md): the totals of a time window and the live
// queue of each model.
//
// Contract:
// - totalsBlock() builds a <dl> once; patchTotals(el, totals) fills it (Totals or null).
// - queueList(queues) -> an element listing each model's running/limit, waiting and waits;
//   queueSummary(stats) -> "1 active · 0 queued" for the whole server.
import { h } from "../core/component.js";
import { DASH, formatCount, formatMs, formatRate } from "../core/format.js";

const TOTALS = [
  ["requests", "Requests", (t) => formatCount(t.requests)],
  ["errors", "Errors", (t) => formatCount(t.errors)],
  ["promptTokens", "Prompt tokens", (t) => formatCount(t.promptTokens)],
  ["completionTokens", "Generated tokens", (t) => formatCount(t.completionTokens)],
  ["avgTtftMs", "Avg TTFT", (t) => formatMs(t.avgTtftMs)],
  ["avgTokensPerSecond", "Avg speed", (t) => formatRate(t.avgTokensPerSecond)],
  ["avgTotalMs", "Avg total", (t) => formatMs(t.avgTotalMs)],
];

export function totalsBlock() {
  return h("dl", { class: "facts totals" }, TOTALS.map(([key, label]) =>
    h("div", { class: "facts__item" },
      h("dt", {}, label),
      h("dd", { "data-total": key, "data-testid": `totals-${key}` }, DASH))));
}

export function patchTotals(el, totals) {
  for (const [key, , format] of TOTALS) {
    const dd = el.querySelector(`[data-total="${key}"]`);
    const text = totals ? format(totals) : DASH;
    if (dd.textContent !== text) dd.textContent = text;
  }
}

/** The window's totals for one model (zeros when it has none), or for all models. */
export function totalsFor(stats, model) {
  if (!stats) return null;
  if (!model) return stats.totals || null;
  return (stats.models || []).find((m) => m.model === model)
    || { model, requests: 0, errors: 0, promptTokens: 0, completionTokens: 0 };
}

export function queueSummary(stats) {
  if (!stats) return DASH;
  return `${formatCount(stats.active ?? 0)} active · ${formatCount(stats.queued ?? 0)} queued`;
}

export function queueList(queues) {
  const list = Array.isArray(queues) ? queues : [];
  if (!list.length) return h("p", { class: "muted", "data-testid": "queue-empty" }, "No model has a queue yet: nothing was requested since the server started.");
  const head = ["Model", "Running", "Waiting", "Avg wait", "Max wait"];
  return h(
    "div",
    { class: "table-scroll", tabindex: "0", role: "region", "aria-label": "Queue per model" },
    h("table", { class: "history queue-table", "data-testid": "queue-table" },
      h("thead", {}, h("tr", {}, head.map((text, i) => h("th", { scope: "col", class: i ? "num" : null }, text)))),
      h("tbody", {}, list.map((q) => h(
        "tr",
        { "data-model": q.model, "data-testid": `queue-${q.model}` },
        h("th", { scope: "row" }, q.model),
        h("td", { class: "num", "data-testid": "queue-active" }, `${formatCount(q.active)} / ${formatCount(q.limit)}`),
        h("td", { class: "num", "data-testid": "queue-queued" }, formatCount(q.queued)),
        h("td", { class: "num" }, formatMs(q.avgWaitMs)),
        h("td", { class: "num" }, formatMs(q.maxWaitMs)),
      )))),
  );
}
