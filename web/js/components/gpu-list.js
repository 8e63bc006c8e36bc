// GPU section of the dashboard. renderGpus(container, gpus) rebuilds rows only when the set of
// GPUs changes and otherwise patches their text; an empty list reads "No GPU detected".
import { h, replaceChildren } from "../core/component.js";
import { formatPercent, formatUsage, DASH } from "../core/format.js";

export function renderGpus(container, gpus) {
  const list = Array.isArray(gpus) ? gpus : [];
  const key = list.map((g) => `${g.index}:${g.vendor}:${g.name}`).join("|") || "none";
  if (container.dataset.key !== key) {
    container.dataset.key = key;
    replaceChildren(container, list.length ? h("ul", { class: "gpu-list" }, list.map(gpuRow)) : emptyNote());
  }
  list.forEach((gpu, i) => patchRow(container.querySelectorAll(".gpu")[i], gpu));
}

function emptyNote() {
  return h("p", { class: "muted", "data-testid": "no-gpu" }, "No GPU detected");
}

function gpuRow(gpu) {
  return h(
    "li",
    { class: "gpu" },
    h("span", { class: "gpu__name" }, `#${gpu.index} ${gpu.name || "GPU"}`, h("span", { class: "badge" }, gpu.vendor || "?")),
    h("span", { class: "gpu__util", title: "Utilization" }),
    h("span", { class: "gpu__mem", title: "Memory" }),
    h("span", { class: "gpu__temp", title: "Temperature" }),
  );
}

function patchRow(row, gpu) {
  if (!row) return;
  row.querySelector(".gpu__util").textContent = `${formatPercent(gpu.utilizationPercent)} util`;
  row.querySelector(".gpu__mem").textContent = formatUsage(gpu.memoryUsedBytes, gpu.memoryTotalBytes);
  row.querySelector(".gpu__temp").textContent =
    typeof gpu.temperatureC === "number" ? `${Math.round(gpu.temperatureC)} °C` : DASH;
}
