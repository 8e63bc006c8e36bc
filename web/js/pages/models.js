// Models page: the catalog of `models.directory` with live status, Load / Unload, details.
//
// Renders its shell once. Each `models` change reconciles rows by id (a ModelRow per model is
// created, patched in place or removed, never rebuilt); each `router` change updates the
// directory, the "router is not running" notice and the buttons. Load / Unload replies only
// say "accepted": progress and the end arrive as `models:status` through the StateManager.
// Each row's idle-unload countdown ticks once a second (in server time); a row's details hold
// the TTL form, saved with `models:update`. The import form sends `models:import {dir}`.
import { Component, h } from "../core/component.js";
import { COLUMNS, ModelRow } from "../components/model-row.js";
import { parseTtl } from "../components/model-ttl.js";

export class ModelsPage extends Component {
  getEventMap() {
    return {
      "click [data-action]": "handleAction",
      "click [data-ref=rescan]": "handleRescan",
      "submit form[data-ttl-form]": "handleTtl",
      "submit form[data-import-form]": "handleImport",
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
      h("form", { class: "card import-form", "data-import-form": "", "data-testid": "import-form" },
        h("label", { for: "import-dir" }, "Import a directory as own backends"),
        h("div", { class: "import-form__row" },
          h("input", { id: "import-dir", name: "dir", type: "text", required: true, placeholder: "/path/inside/models.directory or backends.importRoots",
            "aria-describedby": "import-help", "data-testid": "import-dir" }),
          h("button", { type: "submit", class: "btn", "data-testid": "import-submit" }, "Import")),
        h("p", { class: "muted", id: "import-help" }, "Every GGUF under it (mmproj files paired) is added to backends.models as a manual model."),
        h("p", { class: "muted", role: "status", "data-ref": "importStatus", "data-testid": "import-status" })),
      h("p", { class: "notice notice--warn", "data-ref": "routerNotice", "data-testid": "router-notice", hidden: true }),
      h("p", { class: "notice notice--error", role: "alert", "data-ref": "error", hidden: true }),
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
  }

  /** Save TTL: `models:update {id, changes:{ttl}}`; the models:updated broadcast brings the new value. */
  async handleTtl(event, form) {
    event.preventDefault();
    const id = form.dataset.ttlForm;
    const input = form.elements.ttl;
    const status = form.querySelector("[role=status]");
    const button = form.querySelector("button");
    const { ttl, error } = parseTtl(input.value);
    if (error) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
    if (error) {
      status.textContent = error;
      return;
    }
    button.disabled = true;
    status.textContent = "Saving…";
    try {
      await this.props.state.request("models:update", { id, changes: { ttl } });
      status.textContent = ttl === null ? "Saved: back to the default" : "Saved";
      input.value = "";
    } catch (err) {
      status.textContent = `Not saved: ${err.message}`;
      input.setAttribute("aria-invalid", "true");
    } finally {
      button.disabled = false;
    }
  }

  async handleAction(event, button) {
    const row = this.rows.get(button.closest("tbody")?.dataset.modelId);
    if (!row) return;
    const action = button.dataset.action;
    if (action === "details") return row.toggleDetails();
    row.setBusy(action);
    try {
      await this.props.state.request(`models:${action}`, { id: row.id });
      row.setBusy(null);
    } catch (err) {
      row.setBusy(null, err);
    }
  }

  /** `models:import {dir}`: the server checks the directory against its roots and saves the init file. */
  async handleImport(event, form) {
    event.preventDefault();
    const { importStatus } = this.refsCache;
    const input = form.elements.dir;
    const button = form.querySelector("button");
    button.disabled = true;
    importStatus.textContent = "Importing…";
    input.removeAttribute("aria-invalid");
    try {
      const { added } = await this.props.state.request("models:import", { dir: input.value.trim() });
      importStatus.textContent = added.length ? `Added ${added.length}: ${added.join(", ")}` : "Nothing new in that directory.";
    } catch (err) {
      importStatus.textContent = `Not imported: ${err.message}`;
      input.setAttribute("aria-invalid", "true");
    } finally {
      if (this.el) button.disabled = false;
    }
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
