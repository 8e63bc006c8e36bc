// The GGUF files of a Hugging Face repository (`models:pull:files`), to pick one to download.
//
// Contract:
// - filesTable(data) -> element: one row per model file (radio name="pull-file", the reply's `default`
//   checked) with its size, quantization, header facts and fit verdict; then the mmproj `sidecars` as
//   checkboxes (name="pull-sidecar"). Rows: data-testid "pull-file-<file>"; badges "fit-<file>".
// - readSelection(root) -> {file, sidecars:[file]} as picked.
// - fitBadge(fit) -> <span class="fit fit--…" data-verdict=…>: "fits" (ok), "fits after unloading X, Y" (warn),
//   "does not fit: needs A, B free" (danger), "unknown" (no memory sample yet, or no estimate).
import { h } from "../core/component.js";
import { DASH, formatBytes, formatCount, formatParams } from "../core/format.js";

export function fitBadge(fit, testid) {
  const verdict = fit?.verdict || "unknown";
  const need = formatBytes(fit?.needBytes);
  const free = fit?.freeBytes == null ? "unknown" : formatBytes(fit.freeBytes);
  const [tone, text, title] = {
    fits: ["ok", "fits", `needs ${need}, ${free} free`],
    evict: ["warn", `fits after unloading ${(fit?.evicts || []).join(", ")}`, `needs ${need}, ${free} free now`],
    no: ["danger", `does not fit: needs ${need}, ${free} free`, null],
  }[verdict] || ["idle", "unknown", fit ? `needs ${need}; free memory not measured yet` : "no estimate: the header could not be read"];
  return h("span", { class: `fit fit--${tone}`, "data-verdict": verdict, "data-testid": testid, title }, text);
}

export function filesTable(data) {
  const files = Array.isArray(data?.files) ? data.files : [];
  const sidecars = Array.isArray(data?.sidecars) ? data.sidecars : [];
  if (!files.length) return h("p", { class: "muted", "data-testid": "pull-no-files" }, `No GGUF model files in ${data?.repo || "this repository"}.`);
  const head = ["", "File", "Size", "Quant", "Architecture", "Context", "Fits in memory"];
  return h("div", { class: "pull-files" },
    h("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": "GGUF files" },
      h("table", { class: "pull-files__table", "data-testid": "pull-files" },
        h("caption", { class: "visually-hidden" }, `GGUF files of ${data.repo}; pick one to download`),
        h("thead", {}, h("tr", {}, head.map((text) => h("th", { scope: "col" }, text)))),
        h("tbody", {}, files.map((f) => fileRow(f, f.file === data.default))))),
    sidecars.length
      ? h("fieldset", { class: "pull-sidecars", "data-testid": "pull-sidecars" },
        h("legend", {}, "Vision projectors (mmproj) to download with it"),
        sidecars.map((s) => h("label", { class: "pull-check" },
          h("input", { type: "checkbox", name: "pull-sidecar", value: s.file, "data-testid": `pull-sidecar-${s.file}` }),
          ` ${s.file} (${formatBytes(s.sizeBytes)})`)))
      : null);
}

function fileRow(f, preselected) {
  const id = `pull-file-${f.file}`.replace(/[^A-Za-z0-9_-]/g, "_");
  const header = f.header || {};
  const arch = f.header ? [header.architecture || DASH, header.parameters ? ` · ${formatParams(header.parameters)}` : ""].join("") : DASH;
  return h("tr", { "data-testid": `pull-file-${f.file}`, "data-file": f.file },
    h("td", {}, h("input", { type: "radio", name: "pull-file", id, value: f.file, checked: preselected, "data-testid": `pull-pick-${f.file}` })),
    h("th", { scope: "row" }, h("label", { for: id }, f.file),
      f.parts > 1 ? h("span", { class: "muted" }, ` (${f.parts} parts)`) : null,
      preselected ? h("span", { class: "badge" }, "default") : null,
      f.headerError ? h("span", { class: "model__warn" }, `Header unreadable: ${f.headerError}`) : null),
    h("td", { class: "num" }, formatBytes(f.sizeBytes)),
    h("td", {}, f.quant || DASH),
    h("td", {}, arch),
    h("td", { class: "num" }, formatCount(header.contextLength)),
    h("td", {}, fitBadge(f.fit, `fit-${f.file}`)));
}

export function readSelection(root) {
  const file = root.querySelector("input[name=pull-file]:checked")?.value || null;
  const sidecars = [...root.querySelectorAll("input[name=pull-sidecar]:checked")].map((el) => el.value);
  return { file, sidecars };
}
