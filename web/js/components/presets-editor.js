// Configuration page card: the `--models-preset` INI (`models.presetsFile`) as text, saved with
// `presets:save` (the server checks its shape, keeps a backup and restarts the router to read it).
//
// Contract: new PresetsEditor({state}).mount(container) loads `presets:get`; load() reads it again (after
// the init file was saved: the file or the admin token may have changed). Without a configured file it
// says how to set one. When `presets:get` says the file is not `editable` (no security.adminToken: each
// preset is a llama-server command line), the text is read-only, Save is disabled and the reason is
// shown beside them. Save reports the presets found, the backup and the router restart, or the server's
// error (which names the line, or why saving is not allowed).
import { Component, h } from "../core/component.js";

export class PresetsEditor extends Component {
  getEventMap() {
    return { "click [data-action=save-presets]": "save" };
  }

  render() {
    return h(
      "section",
      { class: "card cfg-presets", "aria-labelledby": "cfg-presets-title", "data-testid": "presets-editor" },
      h("h2", { id: "cfg-presets-title" }, "Model presets (--models-preset)"),
      h("p", { id: "cfg-presets-where", class: "muted cfg-note", "data-ref": "where" }, "Loading…"),
      h("label", { for: "cfg-presets", class: "visually-hidden" }, "Presets INI"),
      h("textarea", { id: "cfg-presets", class: "cfg-code", rows: 10, spellcheck: "false", hidden: true,
        "data-ref": "text", "data-testid": "presets-text", "aria-describedby": "cfg-presets-where",
        placeholder: "[model-id]\nmodel = /path/to/model.gguf\nctx-size = 8192" }),
      h("p", { id: "cfg-presets-locked", class: "cfg-field__locked", hidden: true, "data-ref": "locked", "data-testid": "presets-locked" }),
      h("div", { class: "btn-row" },
        h("button", { type: "button", class: "btn", "data-action": "save-presets", "data-ref": "button", "data-testid": "presets-save",
          hidden: true, "aria-describedby": "cfg-presets-locked" }, "Save presets")),
      h("p", { class: "cfg-result", role: "status", "data-ref": "status", "data-testid": "presets-status" }),
    );
  }

  onMount() {
    this.r = this.refs();
    this.seq = 0;
    this.editable = false;
    this.saving = false;
    this.load();
  }

  async load() {
    const seq = ++this.seq;
    const { where, text, button, locked } = this.r;
    try {
      const data = await this.props.state.request("presets:get", {});
      if (!this.el || seq !== this.seq) return;
      where.textContent = `${data.path}: [sections] of key = value, as llama-server reads them.`;
      text.value = data.content;
      text.hidden = false;
      button.hidden = false;
      this.editable = data.editable !== false;
      locked.hidden = this.editable;
      locked.textContent = this.editable ? "" : sentence(data.reason || "read-only without security.adminToken");
      text.setAttribute("aria-describedby", this.editable ? "cfg-presets-where" : "cfg-presets-locked cfg-presets-where");
    } catch (err) {
      if (!this.el || seq !== this.seq) return;
      this.editable = false;
      text.hidden = true;
      button.hidden = true;
      locked.hidden = true;
      where.textContent = err.field === "models.presetsFile"
        ? "No presets file is configured: set models.presetsFile (Models section) and save, then edit the presets here."
        : `Could not load the presets: ${err.message}`;
    }
    this._sync();
  }

  async save() {
    if (!this.editable || this.saving) return;
    const { text, status } = this.r;
    this.saving = true;
    this._sync();
    text.removeAttribute("aria-invalid");
    status.textContent = "Saving…";
    try {
      const saved = await this.props.state.request("presets:save", { content: text.value });
      const names = saved.presets.length ? saved.presets.join(", ") : "none";
      const router = saved.routerRestarted ? "; the router restarted to read them" : "";
      status.textContent = `Saved (presets: ${names})${saved.backup ? `; backup ${saved.backup}` : ""}${router}.`;
    } catch (err) {
      status.textContent = `Not saved: ${err.message}`;
      text.setAttribute("aria-invalid", "true");
      if (err.code === "FORBIDDEN") this.load();
      this.focusText = err.field === "content";
    } finally {
      this.saving = false;
      if (this.el) this._sync();
      // Save was disabled while saving: the refused text gets focus (as a refused config field does).
      if (this.el && this.focusText) text.focus();
      this.focusText = false;
    }
  }

  _sync() {
    if (!this.el) return;
    const { text, button } = this.r;
    text.readOnly = !this.editable;
    button.disabled = !this.editable || this.saving;
  }
}

function sentence(text) {
  const t = String(text);
  return t.charAt(0).toUpperCase() + t.slice(1) + (/[.!?]$/.test(t) ? "" : ".");
}
