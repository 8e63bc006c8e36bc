// Settings page: edits the server-stored `theme` and `metricsIntervalMs` via settings:update.
//
// The form renders once. Server values fill the inputs until the user edits them; Save sends
// both fields, shows "Saved" on success or the server's error message (role=alert) on failure,
// marking the offending input aria-invalid when error.field names it.
import { Component, h } from "../core/component.js";

const THEMES = [
  ["dark", "Dark"],
  ["light", "Light"],
  ["system", "Follow system"],
];

export class SettingsPage extends Component {
  getEventMap() {
    return { "submit form": "handleSubmit", "input form": "handleInput" };
  }

  render() {
    return h(
      "section",
      { class: "page settings", "aria-labelledby": "page-title" },
      h("header", { class: "page-head" }, h("h1", { id: "page-title" }, "Settings")),
      h(
        "form",
        { class: "card form", novalidate: true, "data-ref": "form" },
        field("theme", "Theme", h("select", { id: "theme", name: "theme", "data-testid": "theme-select" },
          THEMES.map(([value, text]) => h("option", { value }, text)))),
        field("metricsIntervalMs", "Metrics interval (ms)",
          h("input", { id: "metricsIntervalMs", name: "metricsIntervalMs", type: "number", inputmode: "numeric",
            min: 250, max: 60000, step: 1, "aria-describedby": "metricsIntervalMs-hint", "data-testid": "interval-input" }),
          h("small", { id: "metricsIntervalMs-hint", class: "muted" }, "How often the server samples metrics: 250 to 60000.")),
        h(
          "div",
          { class: "form__actions" },
          h("button", { type: "submit", class: "btn btn--primary", "data-ref": "save", "data-testid": "settings-save" }, "Save"),
          h("p", { class: "form__status", role: "status", "data-ref": "status", "data-testid": "settings-status" }),
        ),
        h("p", { id: "settings-error", class: "notice notice--error", role: "alert", hidden: true, "data-ref": "error", "data-testid": "settings-error" }),
      ),
    );
  }

  onMount() {
    this.dirty = false;
    this.refsCache = this.refs();
    this.own(this.props.state.subscribe("settings", (settings) => this._fill(settings)));
  }

  handleInput() {
    this.dirty = true;
    this._status("");
  }

  async handleSubmit(event) {
    event.preventDefault();
    const { form, save } = this.refsCache;
    const raw = form.elements.metricsIntervalMs.value.trim();
    const settings = {
      theme: form.elements.theme.value,
      metricsIntervalMs: raw === "" ? null : Number(raw),
    };
    save.disabled = true;
    this._status("Saving…");
    try {
      const data = await this.props.state.request("settings:update", { settings });
      this.dirty = false;
      this._showError(null);
      this._status("Saved");
      if (data?.settings) this.props.state.set("settings", data.settings);
    } catch (err) {
      this._status("");
      this._showError(err);
    } finally {
      if (this.el) save.disabled = false;
    }
  }

  _fill(settings) {
    if (!settings || this.dirty) return;
    const { form } = this.refsCache;
    if (settings.theme) form.elements.theme.value = settings.theme;
    if (settings.metricsIntervalMs != null) form.elements.metricsIntervalMs.value = settings.metricsIntervalMs;
  }

  _status(text) {
    if (this.el) this.refsCache.status.textContent = text;
  }

  _showError(err) {
    if (!this.el) return;
    const { error, form } = this.refsCache;
    error.hidden = !err;
    error.textContent = err ? err.message : "";
    for (const input of form.querySelectorAll("input, select")) {
      const invalid = Boolean(err?.field) && err.field.endsWith(input.name);
      if (invalid) {
        input.setAttribute("aria-invalid", "true");
        input.setAttribute("aria-errormessage", "settings-error");
      } else {
        input.removeAttribute("aria-invalid");
        input.removeAttribute("aria-errormessage");
      }
    }
  }
}

function field(name, label, control, hint) {
  return h("div", { class: "form__field" }, h("label", { for: name }, label), control, hint || null);
}
