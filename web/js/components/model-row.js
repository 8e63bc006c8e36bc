// One model of the Models page: a <tbody> holding the summary row and its details row.
//
// Contract:
// - new ModelRow(model, {onToggle}) builds the DOM once (row.el); patch(model, routerRunning)
//   only rewrites what changed (text, badge, progress, button states), so focus and the
//   details panel survive every broadcast.
// - Buttons carry data-action="load" | "unload" | "pin" | "details" (and the details' "delete" | "remove");
//   the page delegates the clicks and calls setBusy(action) / setBusy(null, error) around the request.
// - The pin toggle (aria-pressed) shows `model.pinned`; a pinned model is marked "pinned" by its name.
// - Load is enabled only for unloaded/error models, Unload only for loaded ones, both only
//   while no request of this row is in flight and, for router-mode models, the router runs.
// - tick(nowMs) refreshes the idle-unload countdown; the details row starts with the TTL form
//   (<form data-ttl-form>, submitted through the page), then ModelManage (delete file, the own backend's
//   settings form), then the ModelDetails panel.
import { h } from "../core/component.js";
import { DASH, formatBytes, formatCount, formatParams } from "../core/format.js";
import { statusBadge, patchBadge } from "./status-badge.js";
import { ModelDetails } from "./model-details.js";
import { ModelManage } from "./model-manage.js";
import { pinIcon } from "./icons.js";
import { idleCell, patchIdle, ttlForm } from "./model-ttl.js";

export const COLUMNS = ["Model", "Size", "Architecture", "Parameters", "Quantization", "Context", "Status", "Idle unload", "Actions"];
const LOADABLE = new Set(["unloaded", "error"]);
let nextKey = 0;

export class ModelRow {
  constructor(model, { state }) {
    this.id = model.id;
    this.key = `model-${++nextKey}`;
    this.busy = null;
    this.model = null;
    this.el = this._build(model.id);
    this.details = new ModelDetails({ state, id: model.id, container: this.refs.detailsBody });
    this.manage = new ModelManage({ state, id: model.id, container: this.refs.manageBody });
  }

  patch(model, routerRunning) {
    if (model !== this.model) this._patchModel(model, this.model);
    this.model = model;
    this.routerRunning = routerRunning;
    this._patchButtons();
  }

  tick(nowMs) {
    this.now = nowMs;
    if (this.model) patchIdle(this.refs, this.model, nowMs);
  }

  setBusy(action, error) {
    this.busy = action;
    this.refs.actionError.hidden = !error;
    this.refs.actionError.textContent = error ? error.message : "";
    if (action === "load" || action === "unload") this.focusAfter = action === "load" ? "unload" : "load";
    else if (error) this.focusAfter = null; // the clicked button is usable again: leave focus alone
    this._patchButtons();
  }

  toggleDetails() {
    const open = this.refs.toggle.getAttribute("aria-expanded") !== "true";
    this.refs.toggle.setAttribute("aria-expanded", String(open));
    this.refs.chevron.textContent = open ? "▾" : "▸";
    this.refs.detailsRow.hidden = !open;
    if (open) {
      this.details.load();
      this.manage.load();
    }
  }

  destroy() {
    this.details.destroy();
    this.el.remove();
  }

  _patchModel(m, old) {
    const r = this.refs;
    setText(r.name, m.source === "backend" ? backendLine(m) : m.metadata?.name || "");
    if (r.ttlForm) r.ttlForm.hidden = m.source === "backend"; // a backend's ttl lives in backends.models
    setText(r.metaError, m.metadataError ? `Unreadable metadata: ${m.metadataError}` : "");
    r.metaError.hidden = !m.metadataError;
    setText(r.size, formatBytes(m.sizeBytes));
    setText(r.arch, m.architecture || DASH);
    setText(r.params, formatParams(m.parameters));
    setText(r.quant, m.quantization || DASH);
    setText(r.context, formatCount(m.contextLength));
    patchBadge(r.badge, m.status);
    r.pinned.hidden = !m.pinned;
    r.pin.setAttribute("aria-pressed", String(m.pinned === true));
    setText(r.pinText, m.pinned ? "Pinned" : "Pin");
    this.manage.patch(m);
    patchIdle(r, m, this.now ?? Date.now());
    this._patchProgress(m);
    setText(r.error, m.error || "");
    r.error.hidden = !m.error;
    const settled = old && old.status !== m.status && !["loading", "unloading"].includes(m.status);
    if (settled && r.toggle.getAttribute("aria-expanded") === "true") this.details.load();
  }

  _patchProgress(m) {
    const { progress, progressText } = this.refs;
    const loading = m.status === "loading";
    progress.hidden = !loading;
    progressText.hidden = !loading;
    if (!loading) return;
    if (typeof m.progress === "number") {
      progress.value = m.progress;
      setText(progressText, `${Math.round(m.progress * 100)} %`);
    } else {
      progress.removeAttribute("value"); // indeterminate until the router reports a fraction
      setText(progressText, "starting…");
    }
  }

  _patchButtons() {
    const { load, unload, pin } = this.refs;
    pin.disabled = Boolean(this.busy);
    const status = this.model?.status;
    // Our own backends do not need the router; router-mode models do.
    const available = this.model?.source === "backend" || this.routerRunning;
    const idle = available && !this.busy;
    load.disabled = !(idle && LOADABLE.has(status));
    unload.disabled = !(idle && status === "loaded");
    const title = available ? null : "The llama-server router is not running";
    for (const btn of [load, unload]) title ? btn.setAttribute("title", title) : btn.removeAttribute("title");
    this._restoreFocus();
  }

  /** After Load/Unload, focus moves to the opposite button once it is enabled (the clicked one got disabled). */
  _restoreFocus() {
    const target = this.focusAfter && this.refs[this.focusAfter];
    if (!target || target.disabled) return;
    this.focusAfter = null;
    const active = document.activeElement;
    if (!active || active === document.body || this.el.contains(active)) target.focus();
  }

  _build(id) {
    const panelId = `${this.key}-details`;
    const t = (name) => `${name}-${id}`;
    const el = h(
      "tbody",
      { class: "model", "data-model-id": id, "data-testid": t("model") },
      h(
        "tr",
        { class: "model__main" },
        h("th", { scope: "row", class: "model__id", "data-label": COLUMNS[0] },
          h("span", { class: "model__name-id" }, id),
          h("span", { class: "model__pinned", "data-ref": "pinned", "data-testid": t("pinned"), hidden: true },
            pinIcon(), " pinned"),
          h("span", { class: "model__name muted", "data-ref": "name" }),
          h("span", { class: "model__warn", "data-ref": "metaError", hidden: true }),
          h("button", { type: "button", class: "link-btn", "data-action": "details", "data-ref": "toggle",
            "data-testid": t("details"), "aria-expanded": "false", "aria-controls": panelId, "aria-label": `Details of ${id}` },
            h("span", { "data-ref": "chevron", "aria-hidden": "true" }, "▸"), " Details")),
        cell(1, "size"), cell(2, "arch"), cell(3, "params", t("params")), cell(4, "quant"), cell(5, "context", t("context")),
        h("td", { class: "model__status", "data-label": COLUMNS[6] },
          statusBadge(t("status")),
          h("span", { class: "model__progress" },
            h("progress", { max: 1, "data-ref": "progress", "data-testid": t("progress"), "aria-label": `Loading ${id}`, hidden: true }),
            h("span", { class: "muted", "data-ref": "progressText", "aria-hidden": "true", hidden: true })),
          h("span", { class: "model__error", "data-ref": "error", "data-testid": t("error"), hidden: true })),
        idleCell(id, COLUMNS[7]),
        h("td", { class: "model__actions", "data-label": COLUMNS[8] },
          h("div", { class: "btn-row" },
            button("load", "Load", t("load"), id, "btn--primary"),
            button("unload", "Unload", t("unload"), id),
            h("button", { type: "button", class: "btn btn--pin", "data-action": "pin", "data-ref": "pin", "data-testid": t("pin"),
              "aria-pressed": "false", "aria-label": `Pin ${id}`, title: "A pinned model is never unloaded when idle nor evicted to make room" },
              pinIcon(), h("span", { "data-ref": "pinText" }, "Pin"))),
          h("p", { class: "model__action-error", role: "alert", "data-ref": "actionError", "data-testid": t("action-error"), hidden: true })),
      ),
      h("tr", { class: "model__details", "data-ref": "detailsRow", hidden: true },
        h("td", { colspan: COLUMNS.length, id: panelId, "data-ref": "panel", "data-testid": t("details-panel") },
          ttlForm(id),
          h("div", { "data-ref": "manageBody" }),
          h("div", { "data-ref": "detailsBody" }))),
    );
    this.refs = {};
    for (const node of el.querySelectorAll("[data-ref]")) this.refs[node.dataset.ref] = node;
    this.refs.badge = el.querySelector(".status");
    this.refs.ttlForm = el.querySelector("[data-ttl-form]");
    return el;
  }
}

function cell(column, ref, testid) {
  return h("td", { "data-label": COLUMNS[column], "data-ref": ref, "data-testid": testid }, DASH);
}

function button(action, label, testid, id, extra = "") {
  return h("button", { type: "button", class: `btn ${extra}`.trim(), "data-action": action, "data-ref": action,
    "data-testid": testid, "aria-label": `${label} ${id}`, disabled: true }, label);
}

/** "own backend · group g · needs ~1.2 GB of 20 GB free (KV cache 96 MB for 1024 tokens)" */
function backendLine(m) {
  const free = m.memory?.freeBytes != null ? ` of ${formatBytes(m.memory.freeBytes)} free` : "";
  const need = m.memory
    ? ` · needs ~${formatBytes(m.memory.totalBytes)}${free} (KV cache ${formatBytes(m.memory.kvCacheBytes)} for ${formatCount(m.memory.context)} tokens)`
    : "";
  return `own backend · group ${m.group}${need}`;
}

function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}
