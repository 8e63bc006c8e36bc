// The "Manage" part of a model's details: Delete file (every model with a file; not while it is loaded),
// and for an own backend its settings form (backend-form.js, filled from the init file's entry) and, for
// one added by hand or import (state manual), Remove from backends.models.
//
// Contract: new ModelManage({state, id, container}); patch(model) keeps the buttons and hints in step with
// the model; load() reads the backend's entry (`router:init:load`) into the form; `original` and
// `fileConfig` are that entry and file (for backend-form's changes); showError(text) / showError(null).
// The page handles the buttons (data-action "delete" | "remove") and the form's submit. Test ids:
// delete-<id>, delete-hint-<id>, remove-<id>, manage-error-<id>, backend-form-<id> (backend-form.js).
import { h } from "../core/component.js";
import { backendForm, fillBackendForm } from "./backend-form.js";
import { loadBackends } from "../pages/models-backends.js";

const BUSY = new Set(["loaded", "loading", "unloading"]);

export class ModelManage {
  constructor({ state, id, container }) {
    this.state = state;
    this.id = id;
    this.seq = 0;
    this.original = null;
    this.fileConfig = null;
    this.form = null;
    const button = (action, label) => h("button", { type: "button", class: `btn${action === "delete" ? " btn--danger" : ""}`,
      "data-action": action, "data-testid": `${action}-${id}`, "aria-describedby": `${action}-hint-${id}`.replace(/[^A-Za-z0-9_-]/g, "_") }, label);
    this.el = h("section", { class: "manage", "data-testid": `manage-${id}` },
      h("div", { class: "btn-row" },
        this.deleteButton = button("delete", "Delete file"),
        this.removeButton = button("remove", "Remove from own backends")),
      this.hint = h("p", { class: "muted manage__hint", id: `delete-hint-${id}`.replace(/[^A-Za-z0-9_-]/g, "_"), "data-testid": `delete-hint-${id}` }),
      this.removeHint = h("p", { class: "muted manage__hint", id: `remove-hint-${id}`.replace(/[^A-Za-z0-9_-]/g, "_") }),
      this.error = h("p", { class: "field-error", role: "alert", "data-testid": `manage-error-${id}`, hidden: true }),
      this.formSlot = h("div", { class: "manage__form" }));
    container.append(this.el);
  }

  patch(model) {
    this.model = model;
    const busy = BUSY.has(model.status);
    const noFile = !model.path || model.preset;
    this.deleteButton.disabled = busy || noFile;
    this.hint.textContent = noFile
      ? "No file of its own (a preset of the router)."
      : busy ? `Unload ${model.id} first: a loaded model's file cannot be deleted.` : `Deletes ${model.path} from disk.`;
    const backend = model.source === "backend";
    const manual = backend && model.state === "manual";
    this.removeButton.hidden = !manual;
    this.removeButton.disabled = busy;
    this.removeHint.hidden = !backend;
    this.removeHint.textContent = !backend ? ""
      : manual ? (busy ? `Unload ${model.id} first to remove it.` : "Removes it from backends.models; the file stays.")
        : "Found in the Hugging Face cache: it is listed while its file is there.";
    if (backend && !this.form) {
      this.form = backendForm(this.id, { edit: true });
      this.formSlot.append(h("h3", {}, "Settings"), this.form);
    }
    // The pin toggle of the row changes `pinned` too: the form follows it.
    if (this.original && (this.original.pinned === true) !== (model.pinned === true)) {
      this.original = { ...this.original, pinned: model.pinned === true };
      this.form.elements.pinned.checked = model.pinned === true;
    }
  }

  async load() {
    if (this.model?.source !== "backend" || !this.form) return;
    const seq = ++this.seq;
    const status = this.form.querySelector("[role=status]");
    status.textContent = "Loading settings…";
    try {
      const { fileConfig, entries } = await loadBackends(this.state);
      if (seq !== this.seq) return;
      const m = this.model;
      this.fileConfig = fileConfig;
      this.original = entries.find((e) => e.name === this.id)
        || { name: this.id, path: m.path, group: m.group, aliases: m.aliases || [], mmproj: m.mmproj, ttl: null, spawn: null, pinned: m.pinned };
      this.original = { ...this.original, pinned: typeof m.pinned === "boolean" ? m.pinned : this.original.pinned === true };
      fillBackendForm(this.form, this.original);
      status.textContent = "";
    } catch (err) {
      if (seq === this.seq) status.textContent = `Could not read the settings: ${err.message}`;
    }
  }

  showError(text) {
    this.error.hidden = !text;
    this.error.textContent = text || "";
  }
}
