// The Logs page's rows: one <tr> per LogEntry, the level badge, and the filter test that decides
// whether a live `logs:entry` belongs to the view.
//
// Contract:
// - LEVELS: [[level, label]] from the most to the least severe; `level` in filters is a minimum.
// - logRow(entry) -> <tr data-log-id data-level> (data-testid "log-<id>"). Every value is inserted as
//   text (never parsed as HTML). Source and model are buttons carrying data-filter-source /
//   data-filter-model, so a click narrows the view to them.
// - levelBadge(level) -> <span class="log-level log-level--<level>"> with the level's name.
// - matchesLog(entry, {level, source, model, search}) mirrors `logs:get`: level at least as severe,
//   source and model equal, search a case-insensitive substring of the message.
import { h } from "../core/component.js";
import { DASH, formatDateTime } from "../core/format.js";

export const LEVELS = [
  ["error", "Errors only"],
  ["warn", "Warnings and errors"],
  ["info", "Info and above"],
  ["debug", "Debug and above"],
  ["trace", "All levels"],
];

const RANK = Object.fromEntries(LEVELS.map(([level], i) => [level, i]));

/** 0 for error .. 4 for trace; unknown levels rank as info. */
export function levelRank(level) {
  return RANK[level] ?? RANK.info;
}

export function levelBadge(level) {
  const known = level in RANK ? level : "info";
  return h("span", { class: `log-level log-level--${known}`, "data-testid": "log-level" }, level || DASH);
}

/** Epoch ms -> "13:56:04.123" (local time, 24 h). */
export function formatLogTime(ms) {
  if (!Number.isFinite(ms)) return DASH;
  const d = new Date(ms);
  const pad = (n, w = 2) => String(n).padStart(w, "0");
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

export function logRow(e) {
  const time = Number.isFinite(e.timestamp) ? new Date(e.timestamp).toISOString() : null;
  return h(
    "tr",
    { class: `log log--${e.level}`, "data-log-id": e.id, "data-level": e.level, "data-testid": `log-${e.id}` },
    h("td", { class: "log__time" },
      h("time", { datetime: time, title: formatDateTime(e.timestamp) }, formatLogTime(e.timestamp))),
    h("td", { class: "log__level" }, levelBadge(e.level)),
    h("td", { class: "log__source" },
      e.source
        ? h("button", { type: "button", class: "log__chip", "data-filter-source": e.source, "data-testid": "log-source",
          title: `Show only source ${e.source}` }, e.source)
        : DASH),
    h("td", { class: e.model ? "log__model" : "log__model log__model--none" },
      e.model
        ? h("button", { type: "button", class: "log__chip", "data-filter-model": e.model, "data-testid": "log-model",
          title: `Show only model ${e.model}` }, e.model)
        : h("span", { class: "muted" }, DASH)),
    h("td", { class: "log__msg", "data-testid": "log-message" }, e.message ?? ""),
  );
}

export function matchesLog(e, { level, source, model, search }) {
  if (level && levelRank(e.level) > levelRank(level)) return false;
  if (source && e.source !== source) return false;
  if (model && e.model !== model) return false;
  return !(search && !String(e.message ?? "").toLowerCase().includes(search.toLowerCase()));
}
