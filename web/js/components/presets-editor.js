// Configuration page card: the `--models-preset` INI (`models.presetsFile`) as text, saved with
// `presets:save` (the server checks its shape, keeps a backup and restarts the router to read it).
//
// Contract: new PresetsEditor({state}).mount(container) loads `presets:get` once; without a configured
// file it says how to set one. Save reports the presets found, the backup and the router restart, or
// the server's error (which names the line).
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
      h("p", { class: "muted cfg-note", "data-ref": "where" }, "Loading…"),
      h("label", { for: "cfg-presets", class: "visually-hidden" }, "Presets INI"),
      h("textarea", { id: "cfg-presets", class: "cfg-code", rows: 10, spellcheck: "false", hidden: true,
        "data-ref": "text", "data-testid": "presets-text", placeholder: "[model-id]\nmodel = /path/to/model.gguf\nctx-size = 8192" }),
      h("div", { class: "btn-row" },
        h("button", { type: "button", class: "btn", "data-action": "save-presets", "data-ref": "button", "data-testid": "presets-save", hidden: true }, "Save presets")),
      h("p", { class: "cfg-result", role: "status", "data-ref": "status", "data-testid": "presets-status" }),
    );
  }

  async onMount() {
    this.r = this.refs();
    try {
      const { path, content } = await this.props.state.request("presets:get", {});
      if (!this.el) return;
      this.r.where.textContent = `${path}: [sections] of key = value, as llama-server reads them.`;
      this.r.text.value = content;
      this.r.text.hidden = false;
      this.r.button.hidden = false;
    } catch (err) {
      if (!this.el) return;
      this.r.where.textContent = err.field === "models.presetsFile"
        ? "No presets file is configured: set models.presetsFile (Models section) and save, then edit the presets here."
        : `Could not load the presets: ${err.message}`;
    }
  }

  async save() {
    const { text, button, status } = this.r;
    button.disabled = true;
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
    } finally {
      if (this.el) button.disabled = false;
    }
  }
}
