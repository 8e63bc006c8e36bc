// Display formatters. Every formatter returns DASH for null, undefined or non-finite input.

export const DASH = "—";

const isNum = (v) => typeof v === "number" && Number.isFinite(v);
const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/** 1536 -> "1.5 KiB"; binary units, one decimal below 100. */
export function formatBytes(bytes) {
  if (!isNum(bytes)) return DASH;
  let value = Math.max(0, bytes);
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}

/** "used / total", e.g. "3.2 GiB / 16.0 GiB". */
export function formatUsage(used, total) {
  if (!isNum(used) || !isNum(total)) return DASH;
  return `${formatBytes(used)} / ${formatBytes(total)}`;
}

/** 12.345 -> "12.3 %". */
export function formatPercent(value) {
  return isNum(value) ? `${value.toFixed(1)} %` : DASH;
}

/** Share of total as a percentage, or null when total is not positive. */
export function percentOf(used, total) {
  return isNum(used) && isNum(total) && total > 0 ? (used / total) * 100 : null;
}

/** 3725 -> "1h 02m", 65 -> "1m 05s": the two most significant units. */
export function formatDuration(seconds) {
  if (!isNum(seconds)) return DASH;
  const s = Math.max(0, Math.floor(seconds));
  const parts = [
    [Math.floor(s / 86400), "d"],
    [Math.floor((s % 86400) / 3600), "h"],
    [Math.floor((s % 3600) / 60), "m"],
    [s % 60, "s"],
  ];
  const first = parts.findIndex(([n]) => n > 0);
  if (first < 0) return "0s";
  return parts
    .slice(first, first + 2)
    .map(([n, unit], i) => `${i > 0 ? String(n).padStart(2, "0") : n}${unit}`)
    .join(" ");
}

/** Epoch milliseconds -> local wall-clock time with seconds. */
export function formatTime(ms) {
  return isNum(ms) ? new Date(ms).toLocaleTimeString([], { hour12: false }) : DASH;
}

/** 0.5 -> "0.50". */
export function formatNumber(value, digits = 2) {
  return isNum(value) ? value.toFixed(digits) : DASH;
}

/** 134515008 -> "135M", 7241732096 -> "7.2B": one decimal below 10 of a unit. */
export function formatParams(count) {
  if (!isNum(count)) return DASH;
  const units = [[1e12, "T"], [1e9, "B"], [1e6, "M"], [1e3, "K"]];
  const [size, unit] = units.find(([n]) => count >= n) || [1, ""];
  const value = count / size;
  return `${value < 10 && unit ? value.toFixed(1).replace(/\.0$/, "") : Math.round(value)}${unit}`;
}

/** 8192 -> "8,192". */
export function formatCount(value) {
  return isNum(value) ? Math.round(value).toLocaleString("en-US") : DASH;
}

/** Milliseconds: 413 -> "413 ms", 1520 -> "1.5 s", longer -> formatDuration. */
export function formatMs(ms) {
  if (!isNum(ms)) return DASH;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
  return formatDuration(ms / 1000);
}

/** Epoch milliseconds -> local date and time, e.g. "2026-11-23 13:56:04". */
export function formatDateTime(ms) {
  if (!isNum(ms)) return DASH;
  const d = new Date(ms);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${formatTime(ms)}`;
}

/** Generation speed: 85.26 -> "85.3 tok/s". */
export function formatRate(tokensPerSecond) {
  return isNum(tokensPerSecond) ? `${tokensPerSecond.toFixed(1)} tok/s` : DASH;
}

/** The API a request came in through (a Request's `api`), as people name it. */
const API_NAMES = { openai: "OpenAI", anthropic: "Anthropic", ollama: "Ollama" };
export function apiName(api) {
  return API_NAMES[api] || api || DASH;
}
