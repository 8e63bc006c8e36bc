// Configuration page: the init file as a form grouped by section or as raw JSON, checked as you type with
// each problem shown at its field, a preview of the exact llama-server command line, Save and apply, and
// the presets card. The view only: ConfigurationController (configuration-controller.js) holds the working
// copy, the checks and the save, and says what changed; this page renders it and passes on the edits.
//
// - Both views show the controller's working copy. Switching views refills the other one only when this
//   one changed it (the JSON keeps its layout); invalid JSON (or an unreadable JSON field in the form)
//   keeps the view until fixed.
// - While `protection` says not editable (no security.adminToken), the keys that name a program or file
//   are read-only in the form with the reason beside them, and listed above the JSON.
// - Save is disabled while the last check found problems. A refused save's field is marked inline and gets
//   focus (its key is selected in the JSON view); any other failure is an alert.
// - Presets (the --models-preset INI file) are edited in their own card (PresetsEditor, presets:get/save).
import { Component, h, replaceChildren } from "../core/component.js";
import {
  buildForm, fillForm, readControl, showErrors, showProtection, fieldFor, fieldId, friendly,
} from "../components/config-form.js";
import { PresetsEditor } from "../components/presets-editor.js";
import { selectKey } from "../components/config-text.js";
import { previewCard, saveCard, showOutcome, showPreview, showStatus } from "../components/config-aside.js";
import { ConfigurationController } from "./configuration-controller.js";

const DEFAULT_FILE = "./llama-router.init.json";

export class ConfigurationPage extends Component {
  getEventMap() {
    return {
      "click [role=tab]": "handleTab",
      "keydown [role=tab]": "handleTabKey",
      "input form": "handleFormInput",
      "submit form": "handleSubmit",
      "input textarea[data-ref=json]": "handleJsonInput",
      "click button[data-action=save]": "handleSave",
      "click button[data-action=revert]": "handleRevert",
      "click button[data-problem]": "handleProblem",
    };
  }

  render() {
    const tab = (view, label, selected) => h("button", {
      type: "button", role: "tab", id: `cfg-tab-${view}`, class: "cfg-tab", "data-view": view,
      "aria-selected": String(selected), "aria-controls": `cfg-panel-${view}`, tabindex: selected ? "0" : "-1",
      "data-testid": `view-${view}`,
    }, label);
    return h(
      "section",
      { class: "page configuration", "aria-labelledby": "page-title" },
      h("header", { class: "page-head" },
        h("div", {},
          h("h1", { id: "page-title" }, "Configuration"),
          h("p", { class: "muted page-sub", "data-ref": "source", "data-testid": "config-source" }, "Loading…"))),
      h("p", { class: "notice notice--error", role: "alert", hidden: true, "data-ref": "loadError", "data-testid": "config-load-error" }),
      h("div", { class: "cfg-layout" },
        h("div", { class: "cfg-main" },
          h("div", { class: "cfg-tabs", role: "tablist", "aria-label": "Edit the init file as" },
            tab("form", "Form", true), tab("json", "JSON", false)),
          h("p", { class: "notice notice--warn cfg-switch-notice", role: "alert", hidden: true, "data-ref": "switchNotice", "data-testid": "switch-notice" }),
          h("div", { id: "cfg-panel-form", role: "tabpanel", "aria-labelledby": "cfg-tab-form", "data-ref": "formPanel" }, buildForm()),
          h("div", { id: "cfg-panel-json", role: "tabpanel", "aria-labelledby": "cfg-tab-json", "data-ref": "jsonPanel", hidden: true },
            h("div", { class: "card cfg-json" },
              h("label", { for: "cfg-json" }, "Init file as JSON"),
              h("small", { id: "cfg-json-hint", class: "muted" },
                "Every key is optional (missing keys take their defaults); unknown keys are errors. A secret's placeholder "
                + "(\"***\" and 12 hex digits) keeps that secret; type a new one as plain text."),
              h("p", { id: "cfg-json-locked", class: "cfg-field__locked", hidden: true, "data-ref": "jsonLocked", "data-testid": "json-locked" }),
              h("textarea", {
                id: "cfg-json", class: "cfg-code", rows: 28, spellcheck: "false", autocomplete: "off", autocapitalize: "off",
                "data-ref": "json", "data-testid": "config-json", "aria-describedby": "cfg-json-hint",
              }),
              h("p", { id: "cfg-json-error", class: "cfg-field__error", hidden: true, "data-ref": "jsonError", "data-testid": "json-parse-error" })))),
        h("aside", { class: "cfg-aside", "aria-label": "Check and save" },
          saveCard(),
          previewCard(),
          h("div", { "data-ref": "presetsSlot" }),
          h("section", { class: "card cfg-problems", "aria-labelledby": "cfg-problems-title", hidden: true, "data-ref": "problemsCard" },
            h("h2", { id: "cfg-problems-title", "data-ref": "problemsTitle" }, "Problems"),
            h("ul", { id: "cfg-problems", class: "cfg-problems__list", "data-ref": "problems", "data-testid": "problems-list" })))),
    );
  }

  onMount() {
    this.r = this.refs();
    this.form = this.r.formPanel.querySelector("form");
    this.view = "form";
    this.stale = { form: false, json: false }; // a view the other one changed since it was filled
    const c = new ConfigurationController({ state: this.props.state });
    this.c = c;
    this.own(() => c.destroy());
    c.on("change", () => this.refresh());
    c.on("apply", (withProtection) => this._showConfig(withProtection));
    c.on("outcome", (outcome) => showOutcome(this.r, outcome));
    c.on("loadError", (err) => this._showAlert(this.r.loadError, err && `Could not load the init file: ${err.message}`));
    c.start();
    this.presets = new PresetsEditor({ state: this.props.state }).mount(this.r.presetsSlot);
    this.own(() => this.presets.destroy());
  }

  /** Fills both views with the controller's fresh working copy. */
  _showConfig(withProtection) {
    this.stale = { form: false, json: false };
    fillForm(this.form, this.c.config);
    this.r.json.value = toJson(this.c.config);
    this._lockFields();
    if (withProtection) this._showJsonLock();
    this._showSource();
  }

  _showJsonLock() {
    const { jsonLocked } = this.r;
    const { protection } = this.c;
    const locked = protection?.editable === false;
    const keys = locked && Array.isArray(protection.keys) ? protection.keys : [];
    jsonLocked.hidden = !locked;
    replaceChildren(jsonLocked, locked
      ? ["Read-only without security.adminToken: ", keys.map((k, i) => [i ? ", " : null, h("code", {}, k)]),
        " (model files only outside models.directory, the Hugging Face cache and backends.importRoots). A change to them is refused when you save."]
      : null);
  }

  /** Read-only fields for the protected keys, except one whose value an edit in the JSON view changed. */
  _lockFields() {
    showProtection(this.form, this.c.protection, { differs: (path) => this.c.changedAt(path) });
  }

  _showSource() {
    const { source } = this.r;
    const { configPath } = this.c;
    if (configPath) {
      replaceChildren(source, "Init file: ", h("code", { "data-testid": "config-path" }, configPath));
    } else {
      replaceChildren(source, h("span", { "data-testid": "config-path" }, "Built-in defaults"),
        ": no init file is in use; saving writes ", h("code", {}, DEFAULT_FILE), " in the server's working directory.");
    }
  }

  // ---- editing -------------------------------------------------------------------------------------

  handleSubmit(event) {
    event.preventDefault();
  }

  handleFormInput(event) {
    const control = event.target.closest?.("[data-path]");
    if (!control) return;
    if (this.c.editField(control.dataset.path, readControl(control))) this._edited("json");
  }

  handleJsonInput() {
    if (this.c.editJson(this.r.json.value)) this._edited("form");
  }

  /** An edit in one view: the other one (`stale`) is refilled when shown. */
  _edited(stale) {
    this.stale[stale] = true;
    this._showAlert(this.r.switchNotice, null);
  }

  handleTab(event, button) {
    this.switchTo(button.dataset.view);
  }

  handleTabKey(event) {
    const keys = { ArrowLeft: "form", ArrowRight: "json", Home: "form", End: "json" };
    const view = keys[event.key];
    if (!view) return;
    event.preventDefault();
    this.switchTo(view);
    this.el.querySelector(`#cfg-tab-${this.view}`)?.focus();
  }

  switchTo(view) {
    const { config, parseError, localErrors } = this.c;
    if (view === this.view || !config) return;
    if (view === "form" && parseError) {
      this._showAlert(this.r.switchNotice, "Fix the JSON syntax error first: the form can only show a valid init file.");
      this.r.json.focus();
      return;
    }
    if (view === "json" && localErrors.size) {
      const [path] = localErrors.keys();
      this._showAlert(this.r.switchNotice, `Fix ${path} first: its text is not valid JSON.`);
      this.form.querySelector(`#${fieldId(path)}`)?.focus();
      return;
    }
    this._showAlert(this.r.switchNotice, null);
    if (view === "form" && this.stale.form) {
      fillForm(this.form, config);
      this._lockFields();
    }
    if (view === "json" && this.stale.json) this.r.json.value = toJson(config);
    this.stale[view] = false;
    this.view = view;
    for (const tab of this.el.querySelectorAll("[role=tab]")) {
      const selected = tab.dataset.view === view;
      tab.setAttribute("aria-selected", String(selected));
      tab.tabIndex = selected ? 0 : -1;
    }
    this.r.formPanel.hidden = view !== "form";
    this.r.jsonPanel.hidden = view !== "json";
    this.refresh();
  }

  /** A problem in the list: focus its field (form) or select its key in the text (JSON). */
  handleProblem(event, button) {
    const path = button.dataset.problem;
    if (this.view === "form") {
      const field = fieldFor(path);
      const control = field
        ? this.form.querySelector(`#${fieldId(field.path)}`)
        : this.form.querySelector(`[data-section="${CSS.escape(path.split(/[.[]/)[0])}"] [data-path]`);
      control?.scrollIntoView({ block: "center" });
      control?.focus({ preventScroll: true });
    } else {
      selectKey(this.r.json, path);
    }
  }

  // ---- saving --------------------------------------------------------------------------------------

  async handleSave() {
    const fromSave = document.activeElement === this.r.save;
    const result = await this.c.save();
    if (!result || !this.el) return;
    // The file or the admin token may have changed: the presets card reads its file again.
    if (result.saved) this.presets.load();
    // Controls were disabled while saving: give focus back (to the refused field, or to Save).
    let target = fromSave ? this.r.save : null;
    const path = result.refused;
    if (path && this.view === "form") {
      const field = fieldFor(path);
      if (field) target = this.form.querySelector(`#${fieldId(field.path)}`) || target;
    }
    if (target && !target.disabled) target.focus();
    if (path && this.view === "json") selectKey(this.r.json, path);
  }

  handleRevert() {
    this.c.revert();
  }

  // ---- showing -------------------------------------------------------------------------------------

  /** Brings every view of the state up to date: field errors, problems, status, buttons, preview. */
  refresh() {
    if (!this.el) return;
    const c = this.c;
    const problems = c.problems();
    showErrors(this.form, problems);
    this._showProblems(problems);
    this._showJsonState(problems);
    showStatus(this.r.check, c, problems);
    showPreview(this.r, c);
    const ready = Boolean(c.config) && !c.loading;
    const { save, revert, json } = this.r;
    save.disabled = !ready || c.saving || Boolean(c.parseError) || c.localErrors.size > 0 || c.valid === false;
    revert.disabled = c.loading || c.saving;
    for (const fieldset of this.form.querySelectorAll("fieldset")) fieldset.disabled = !ready || c.saving;
    json.readOnly = !ready || c.saving;
    this.el.setAttribute("aria-busy", String(c.loading || c.saving));
  }

  _showProblems(problems) {
    const { problemsCard, problemsTitle, problems: list } = this.r;
    problemsCard.hidden = problems.length === 0;
    problemsTitle.textContent = `${problems.length} ${problems.length === 1 ? "problem" : "problems"}`;
    replaceChildren(list, problems.map((e) => h("li", { "data-path": e.path },
      h("button", { type: "button", class: "link-btn cfg-problem", "data-problem": e.path },
        h("code", {}, e.path), h("span", { class: "visually-hidden" }, this.view === "form" ? " (go to field)" : " (select in JSON)")),
      " ", friendly(e.message))));
  }

  _showJsonState(problems) {
    const { json, jsonError } = this.r;
    const { parseError } = this.c;
    jsonError.hidden = !parseError;
    jsonError.textContent = parseError || "";
    const invalid = Boolean(parseError) || problems.length > 0;
    if (invalid) json.setAttribute("aria-invalid", "true");
    else json.removeAttribute("aria-invalid");
    const described = [parseError ? "cfg-json-error" : null, problems.length ? "cfg-problems" : null, "cfg-json-hint"];
    json.setAttribute("aria-describedby", described.filter(Boolean).join(" "));
  }

  _showAlert(el, text) {
    el.hidden = !text;
    el.textContent = text || "";
  }
}

function toJson(config) {
  return `${JSON.stringify(config, null, 2)}\n`;
}
