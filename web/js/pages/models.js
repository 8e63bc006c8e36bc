// Models page: the catalog of `models.directory` with live status, Load / Unload, details.
//
// Renders its shell once. Each `models` change reconciles rows by id (a ModelRow per model is
// created, patched in place or removed, never rebuilt); each `router` change updates the
// directory, the "router is not running" notice and the buttons. Load / Unload replies only
// say "accepted": progress and the end arrive as `models:status` through the StateManager.
// Load asks `models:plan` first and confirms what it would unload (models-actions.js); Pin, Delete
// file and Remove act on the row's model. Each row's idle-unload countdown ticks once a second (in
// server time); a row's details hold the TTL form or, for an own backend, its settings form
// (models-forms.js). Above the table: the pull panel (download from Hugging Face), the downloads
// in progress, the own backends card (add one with a form, or edit the list as JSON on the
// Configuration page), the import form (`models:import {dir}`), and the models on other nodes.
import { Component, h } from "../core/component.js";
import { NodeModels } from "../components/node-models.js";
import { COLUMNS, ModelRow } from "../components/model-row.js";
import { PullPanel } from "../components/pull-panel.js";
import { Downloads } from "../components/downloads.js";
import { backendForm } from "../components/backend-form.js";
import { plannedLoad, togglePin, deleteFile, removeFromBackends } from "./models-actions.js";
import { submitBackendForm, submitImport, submitTtl, validateBackendForm } from "./models-forms.js";

export class ModelsPage extends Component {
  getEventMap() {
    return {
      "click [data-action]": "handleAction",
      "click [data-ref=rescan]": "handleRescan",
      "submit form[data-ttl-form]": "handleTtl",
      "submit form[data-import-form]": "handleImport",
      "submit form[data-backend-form]": "handleBackendSubmit",
      "input form[data-backend-form]": "handleBackendInput",
      "click [data-ref=addBackend]": "handleAddToggle",
    };
  }

  render() {
    return h(
      "section",
      { class: "page models", "aria-labelledby": "page-title" },
      h("header", { class: "page-head" },
        h("div", {},
          h("h1", { id: "page-title" }, "Models"),
          h("p", { class: "muted page-sub" }, "GGUF files in ", h("code", { "data-ref": "dir", "data-testid": "models-dir" }, "…"))),
        h("div", { class: "btn-row" },
          h("p", { class: "muted scan-status", role: "status", "data-ref": "scanStatus", "data-testid": "scan-status" }),
          h("button", { type: "button", class: "btn", "data-ref": "rescan", "data-testid": "rescan" }, "Rescan"))),
      h("p", { class: "notice notice--warn", "data-ref": "routerNotice", "data-testid": "router-notice", hidden: true }),
      h("p", { class: "notice notice--error", role: "alert", "data-ref": "error", hidden: true }),
      h("p", { class: "notice notice--ok", role: "status", "data-ref": "notice", "data-testid": "models-notice", hidden: true }),
      h("div", { class: "card models-card" },
        h("table", { class: "models-table", "data-ref": "table", "data-testid": "models-table" },
          h("caption", { class: "visually-hidden" }, "Models, their status and actions"),
          h("thead", {}, h("tr", {}, COLUMNS.map((text) => h("th", { scope: "col" }, text))))),
        h("div", { class: "empty", "data-ref": "empty", "data-testid": "models-empty", hidden: true },
          h("h2", {}, "No models yet"),
          h("p", {}, "Models are the ", h("code", {}, ".gguf"), " files in ", h("code", { "data-ref": "emptyDir" }, "models.directory"),
            " (searched 4 levels deep; ", h("code", {}, "mmproj*"), " projectors are paired with their model)."),
          h("p", { class: "muted" }, "Copy a model there, or point ", h("code", {}, "models.directory"),
            " in llama-router.init.json (or LLAMA_MODELS_DIR) at your models, then press Rescan."))),
      h("div", { "data-ref": "nodeModelsSlot" }),
      h("div", { "data-ref": "pullSlot" }),
      h("div", { "data-ref": "downloadsSlot" }),
      h("section", { class: "card backends-card", "aria-labelledby": "backends-title" },
        h("div", { class: "backends-card__head" },
          h("h2", { id: "backends-title" }, "Own backends"),
          h("div", { class: "btn-row" },
            h("button", { type: "button", class: "btn", "data-ref": "addBackend", "data-testid": "add-backend",
              "aria-expanded": "false", "aria-controls": "add-backend-panel" }, "Add own backend"),
            h("a", { href: "/configuration", "data-link": true, class: "btn", "data-testid": "backends-json",
              title: "backends.models as JSON: Configuration, Backends section (or its JSON tab)" }, "JSON"))),
        h("p", { class: "muted" }, "Own llama-server processes, one per model, started on demand. Change one in its Details."),
        h("div", { id: "add-backend-panel", "data-ref": "addPanel", hidden: true }, backendForm("add"))),
      h("form", { class: "card import-form", "data-import-form": "", "data-testid": "import-form" },
        h("label", { for: "import-dir" }, "Import a directory as own backends"),
        h("div", { class: "import-form__row" },
          h("input", { id: "import-dir", name: "dir", type: "text", required: true, placeholder: "/path/inside/models.directory or backends.importRoots",
            "aria-describedby": "import-help", "data-testid": "import-dir" }),
          h("button", { type: "submit", class: "btn", "data-testid": "import-submit" }, "Import")),
        h("p", { class: "muted", id: "import-help" }, "Every GGUF under it (mmproj files paired) is added to backends.models as a manual model."),
        h("p", { class: "muted", role: "status", "data-ref": "importStatus", "data-testid": "import-status" })),
    );
  }

  onMount() {
    this.rows = new Map();
    this.refsCache = this.refs();
    const { state } = this.props;
    this.own(state.subscribe("router", (router) => this._showRouter(router)));
    this.own(state.subscribe("models", (models) => this._reconcile(models)));
    const tick = () => {
      const now = Date.now() + (state.get("serverOffsetMs") || 0);
      for (const row of this.rows.values()) row.tick(now);
    };
    tick();
    const timer = setInterval(tick, 1000);
    this.own(() => clearInterval(timer));
    this.own(() => { for (const row of this.rows.values()) row.destroy(); });
    this.downloads = new Downloads({ state }).mount(this.refsCache.downloadsSlot);
    this.pull = new PullPanel({ state, onStarted: (reply) => this.downloads.track(reply) }).mount(this.refsCache.pullSlot);
    const nodeModels = new NodeModels({ state }).mount(this.refsCache.nodeModelsSlot);
    this.own(() => { this.pull.destroy(); this.downloads.destroy(); nodeModels.destroy(); });
  }

  notify(text) {
    const { notice } = this.refsCache;
    notice.hidden = !text;
    notice.textContent = text || "";
  }

  handleAddToggle(event, button) {
    const open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", String(open));
    this.refsCache.addPanel.hidden = !open;
    if (open) this.refsCache.addPanel.querySelector("input")?.focus();
  }

  handleBackendInput(event, form) {
    validateBackendForm(this.props.state, form, event.target);
  }

  handleBackendSubmit(event, form) {
    event.preventDefault();
    const key = form.dataset.backendForm;
    submitBackendForm(this.props.state, form, key === "add" ? null : this.rows.get(key)?.manage);
  }

  handleTtl(event, form) {
    event.preventDefault();
    submitTtl(this.props.state, form);
  }

  async handleAction(event, button) {
    const row = this.rows.get(button.closest("tbody")?.dataset.modelId);
    if (!row) return;
    const action = button.dataset.action;
    const { state } = this.props;
    const notify = (text) => this.notify(text);
    if (action === "details") return row.toggleDetails();
    if (action === "load") return plannedLoad(state, row);
    if (action === "pin") return togglePin(state, row);
    if (action === "delete") return deleteFile(state, row, notify);
    if (action === "remove") return removeFromBackends(state, row, notify);
    row.setBusy(action);
    try {
      await state.request(`models:${action}`, { id: row.id });
      row.setBusy(null);
    } catch (err) {
      row.setBusy(null, err);
    }
  }

  handleImport(event, form) {
    event.preventDefault();
    submitImport(this.props.state, form, this.refsCache.importStatus);
  }

  async handleRescan(event, button) {
    const { scanStatus, error } = this.refsCache;
    button.disabled = true;
    scanStatus.textContent = "Scanning…";
    try {
      const { added, removed, total } = await this.props.state.request("models:scan", {});
      scanStatus.textContent = `Scan done: ${added} added, ${removed} removed, ${total} total`;
      error.hidden = true;
    } catch (err) {
      scanStatus.textContent = "";
      error.hidden = false;
      error.textContent = `Rescan failed: ${err.message}`;
    } finally {
      if (this.el) button.disabled = false;
    }
  }

  _showRouter(router) {
    const { dir, emptyDir, routerNotice } = this.refsCache;
    this.routerRunning = router?.state === "running";
    if (router?.modelsDir) dir.textContent = emptyDir.textContent = router.modelsDir;
    routerNotice.hidden = this.routerRunning || !router;
    if (router && !this.routerRunning) {
      routerNotice.replaceChildren(
        `The llama-server router is ${router.state}, so models cannot be loaded or unloaded. `,
        h("a", { href: "/", "data-link": true }, "Start it from the Dashboard"), ".",
      );
    }
    for (const row of this.rows.values()) row.patch(row.model, this.routerRunning);
  }

  _reconcile(models) {
    const list = Array.isArray(models) ? models : [];
    const { table, empty } = this.refsCache;
    const seen = new Set();
    let previous = table.tHead;
    for (const model of list) {
      seen.add(model.id);
      let row = this.rows.get(model.id);
      if (!row) this.rows.set(model.id, (row = new ModelRow(model, { state: this.props.state })));
      row.patch(model, this.routerRunning);
      if (previous.nextElementSibling !== row.el) previous.after(row.el);
      previous = row.el;
    }
    for (const [id, row] of this.rows) {
      if (!seen.has(id)) {
        row.destroy();
        this.rows.delete(id);
      }
    }
    empty.hidden = list.length > 0;
    table.hidden = list.length === 0;
  }
}
