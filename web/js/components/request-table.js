// The Requests page's table: sortable headers, one row per stored /v1 request, the outcome badge
// with the error text of failed requests, and the pager text.
//
// Contract:
// - COLUMNS: [{label, sort?, num?}]; headRow(sort, order) builds the header row. Sortable headers
//   hold a <button data-sort="<key>">; the active one carries aria-sort on its <th>.
// - requestRow(request) -> <tr data-request-id data-outcome> (data-testid "request-<id>"). Model
//   output is never shown; every value is inserted as text.
// - outcomeBadge(outcome) -> <span class="status ..."> with glyph and text.
// - matches(request, filters) says whether a live `requests:completed` row belongs to the view.
import { h } from "../core/component.js";
import { DASH, apiName, formatCount, formatDateTime, formatMs, formatRate, formatTime } from "../core/format.js";

export const OUTCOMES = [
  ["ok", "OK"],
  ["error", "Error"],
  ["rejected", "Rejected"],
  ["cancelled", "Cancelled"],
];

export const RANGES = [
  ["hour", "Last hour", 3600e3],
  ["day", "Last 24 hours", 86400e3],
  ["week", "Last 7 days", 7 * 86400e3],
  ["all", "All time", null],
];

export const ORDERS = [
  ["desc", "Highest / newest first"],
  ["asc", "Lowest / oldest first"],
];

export const COLUMNS = [
  { label: "Time", sort: "timestamp" },
  { label: "Model" },
  { label: "Outcome" },
  { label: "Prompt", sort: "promptTokens", num: true, title: "Prompt tokens" },
  { label: "Generated", sort: "completionTokens", num: true, title: "Generated (completion) tokens" },
  { label: "TTFT", sort: "ttftMs", num: true, title: "Time to first token" },
  { label: "Total", sort: "totalMs", num: true, title: "Total time" },
  { label: "Speed", sort: "tokensPerSecond", num: true, title: "Generated tokens per second" },
  { label: "Queue", num: true, title: "Time spent waiting for a free slot" },
];

const TONES = { ok: "ok", error: "error", rejected: "warn", cancelled: "idle" };
const GLYPHS = { ok: "●", warn: "▲", idle: "○", error: "✕" };

/** The since timestamp (ms) of a range key, or null for all time. */
export function sinceOf(range, now = Date.now()) {
  const span = RANGES.find(([key]) => key === range)?.[2];
  return span ? now - span : null;
}

export function headRow(sort, order) {
  return h("tr", {}, COLUMNS.map((col) => {
    const active = col.sort === sort;
    const cls = col.num ? "num" : null;
    if (!col.sort) return h("th", { scope: "col", class: cls, title: col.title }, col.label);
    const arrow = active ? (order === "asc" ? "▲" : "▼") : "↕";
    const next = active && order === "desc" ? "ascending" : "descending";
    return h(
      "th",
      { scope: "col", class: cls, "aria-sort": active ? (order === "asc" ? "ascending" : "descending") : null },
      h("button", { type: "button", class: "sort-btn", "data-sort": col.sort, "data-testid": `sort-${col.sort}`,
        title: `${col.title || col.label}: sort ${next}` },
        col.label, h("span", { class: "sort-btn__arrow", "aria-hidden": "true" }, arrow)),
    );
  }));
}

export function outcomeBadge(outcome) {
  const tone = TONES[outcome] || "idle";
  return h("span", { class: `status status--${tone}`, "data-state": outcome },
    h("span", { class: "status__glyph", "aria-hidden": "true" }, GLYPHS[tone]),
    h("span", { class: "status__text" }, outcome || DASH));
}

export function requestRow(r) {
  const num = (label, text, testid) => h("td", { class: "num", "data-label": label, "data-testid": testid }, text);
  return h(
    "tr",
    { "data-request-id": r.id, "data-outcome": r.outcome, "data-testid": `request-${r.id}` },
    h("td", { class: "req__time", "data-label": "Time" },
      h("time", { datetime: Number.isFinite(r.timestamp) ? new Date(r.timestamp).toISOString() : null, title: formatDateTime(r.timestamp) },
        h("span", { class: "req__clock" }, formatTime(r.timestamp)),
        h("span", { class: "req__date muted" }, formatDateTime(r.timestamp).slice(0, 10)))),
    h("td", { class: "req__model", "data-label": "Model" },
      h("span", { class: "req__model-id", "data-testid": "request-model" }, r.model || DASH),
      r.node ? h("span", { class: "badge req__node", "data-testid": "request-node", title: "served by this node" }, `node ${r.node}`) : null,
      h("span", { class: "req__endpoint muted" },
        h("span", { class: "req__api", "data-testid": "request-api", "data-api": r.api || "" }, apiName(r.api)),
        ` · ${r.endpoint || ""}${r.stream ? " · stream" : ""}`)),
    h("td", { class: "req__outcome", "data-label": "Outcome" },
      h("span", { class: "req__outcome-line" },
        h("span", { "data-testid": "request-outcome" }, outcomeBadge(r.outcome)),
        r.statusCode ? h("span", { class: "muted", title: "HTTP status" }, r.statusCode) : null),
      r.error ? errorDetails(r.error) : null),
    num("Prompt", formatCount(r.promptTokens), "request-prompt"),
    num("Generated", formatCount(r.completionTokens), "request-completion"),
    num("TTFT", formatMs(r.ttftMs), "request-ttft"),
    num("Total", formatMs(r.totalMs), "request-total"),
    num("Speed", formatRate(r.tokensPerSecond), "request-speed"),
    num("Queue", formatMs(r.queueMs)),
  );
}

/** The error text, expandable: the summary shows its start, the body all of it. */
function errorDetails(text) {
  return h("details", { class: "req__error", "data-testid": "request-error" },
    h("summary", { title: text }, h("span", { class: "req__error-summary" }, text)),
    h("p", {}, text));
}

export function matches(r, { model, outcome, since }) {
  if (model && r.model !== model) return false;
  if (outcome && r.outcome !== outcome) return false;
  return !(since && r.timestamp < since);
}

/** "Showing 1–50 of 123" */
export function pagerText(offset, shown, total) {
  if (!total) return "No requests";
  if (!shown) return `Nothing at ${formatCount(offset + 1)} of ${formatCount(total)}`;
  return `Showing ${formatCount(offset + 1)}–${formatCount(offset + shown)} of ${formatCount(total)}`;
}
