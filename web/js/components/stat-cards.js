// Dashboard stat cards: static markup once, then text-only patches per sample.
//
// Contract: statCards() builds the cards; describeSample(sample) -> {ref: [value, detail]};
// patchCards(refs, texts) sets textContent of `<ref>` and `<ref>Detail` elements.
import { h } from "../core/component.js";
import {
  DASH, formatBytes, formatDuration, formatNumber, formatPercent, percentOf,
} from "../core/format.js";

export const CARDS = [
  { ref: "cpu", label: "CPU", testid: "cpu-value" },
  { ref: "mem", label: "Memory", testid: "mem-value" },
  { ref: "swap", label: "Swap", testid: "swap-value" },
  { ref: "disk", label: "Disk", testid: "disk-value" },
  { ref: "load", label: "Load (1 min)", testid: "load-value" },
  { ref: "rss", label: "Dashboard process", testid: "rss-value" },
  { ref: "uptime", label: "Uptime", testid: "uptime-value" },
  { ref: "models", label: "Models", testid: "models-value" },
];

export function statCards() {
  return CARDS.map(({ ref, label, testid }) =>
    h(
      "article",
      { class: "card stat", "aria-labelledby": `stat-${ref}-label` },
      h("h2", { class: "stat__label", id: `stat-${ref}-label` }, label),
      h("p", { class: "stat__value", "data-ref": ref, "data-testid": testid }, DASH),
      h("p", { class: "stat__detail muted", "data-ref": `${ref}Detail` }, "\u00a0"),
    ),
  );
}

export function describeSample(s) {
  if (!s) return {};
  const { cpu = {}, memory = {}, swap = {}, disk = {}, load = {}, process = {}, system = {} } = s;
  return {
    cpu: [formatPercent(cpu.usagePercent), cpu.cores ? `${cpu.cores} cores` : DASH],
    mem: [formatBytes(memory.usedBytes), ofTotal(memory.totalBytes, memory.usagePercent)],
    swap: swapText(swap),
    disk: [formatBytes(disk.usedBytes), `${ofTotal(disk.totalBytes, disk.usagePercent)} on ${disk.mount || DASH}`],
    load: [formatNumber(load.one), `5 min ${formatNumber(load.five)} · 15 min ${formatNumber(load.fifteen)}`],
    rss: [formatBytes(process.rssBytes), `RSS · CPU ${formatPercent(process.cpuPercent)}`],
    uptime: [formatDuration(process.uptimeSec), `system up ${formatDuration(system.uptimeSec)}`],
  };
}

/** "of 23.5 GiB (2.9 %)" */
function ofTotal(totalBytes, percent) {
  return `of ${formatBytes(totalBytes)} (${formatPercent(percent)})`;
}

function swapText(swap) {
  if (swap.totalBytes === 0) return ["None", "no swap configured"];
  return [formatBytes(swap.usedBytes), ofTotal(swap.totalBytes, percentOf(swap.usedBytes, swap.totalBytes))];
}

/** Live from `models` (patched by every models:status): "1 loaded", "of 3 models · 1 loading". */
export function describeModels(models) {
  if (!Array.isArray(models)) return { models: [DASH, "\u00a0"] };
  const count = (status) => models.filter((m) => m.status === status).length;
  const loading = count("loading");
  const detail = `of ${models.length} ${models.length === 1 ? "model" : "models"}${loading ? ` · ${loading} loading` : ""}`;
  return { models: [`${count("loaded")} loaded`, detail] };
}

export function patchCards(refs, texts) {
  for (const [ref, [value, detail]] of Object.entries(texts)) {
    setText(refs[ref], value);
    setText(refs[`${ref}Detail`], detail);
  }
}

function setText(el, text) {
  if (el && el.textContent !== text) el.textContent = text;
}
