// Configuration page: the init file (`router:init:load`'s `fileConfig`: the file without env and CLI
// overrides, so saving never writes an override into it) as a form grouped by section or as raw JSON,
// checked as you type (`router:init:validate`, debounced) with each problem shown at its field, a
// preview of the exact llama-server command line, and Save and apply (`router:init:save`).
//
// - One working copy (`this.config`) backs both views. Form edits patch it key by key, so keys the
//   form does not show (`version`, anything typed in the JSON view) survive; valid JSON replaces it.
//   Switching views refills the other one only when this one changed it (the JSON keeps its layout).
//   Invalid JSON (or an unreadable JSON field in the form) keeps the view until fixed.
// - Secrets arrive as placeholders ("***" and 12 hex digits, one per secret) and are sent back as they
//   are: check and save put the stored secret back in place of each. Deleting an API key's line revokes
//   that key; new secrets are typed as plain text. After a save the page shows the server's placeholders
//   again (never the text typed), then reloads the file.
// - `protected` (router:init:load): while not editable (no security.adminToken), the keys that name a
//   program or file are read-only in the form with the reason beside them, and listed above the JSON.
// - Save is disabled while the last check found problems. A BAD_REQUEST or FORBIDDEN reply marks its
//   `error.field` (without `config.`) inline and moves focus there; any other failure is an alert.
// - A save that changes security.adminToken signs out every dashboard admitted under the old one. A token
//   typed here and saved is stored in this browser (state.setToken), so this page reconnects with it.
// - Presets (the --models-preset INI file) are edited in their own card (PresetsEditor, presets:get/save).
import { Component, h, replaceChildren } from "../core/component.js";
import {
  buildForm, fillForm, readControl, showErrors, showProtection, fieldFor, fieldId, getAt, setAt, describeJsonError, friendly,
} from "../components/config-form.js";
import { PresetsEditor } from "../components/presets-editor.js";
import { clone, tokenChange, withPlaceholders } from "../components/config-secrets.js";
import { argvGroups, selectKey, shellQuote } from "../components/config-text.js";

export const VALIDATE_DELAY_MS = 300;
/** A save that restarts the router waits for the /v1 requests in flight (up to 60 s) and for /health. */
const SAVE_TIMEOUT_MS = 150000;
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
          h("section", { class: "card cfg-actions", "aria-labelledby": "cfg-actions-title" },
            h("h2", { id: "cfg-actions-title" }, "Save"),
            h("p", { class: "cfg-status", role: "status", "data-ref": "check", "data-testid": "validation-status" }, "Loading…"),
            h("div", { class: "btn-row" },
              h("button", { type: "button", class: "btn btn--primary", "data-action": "save", "data-ref": "save", "data-testid": "config-save", disabled: true }, "Save and apply"),
              h("button", { type: "button", class: "btn", "data-action": "revert", "data-ref": "revert", "data-testid": "config-revert", disabled: true }, "Revert")),
            h("div", { class: "cfg-result", role: "status", "data-ref": "result", "data-testid": "save-result" }),
            h("p", { class: "notice notice--warn", hidden: true, "data-ref": "restartNotice", "data-testid": "restart-notice" }),
            h("p", { class: "notice notice--error", role: "alert", hidden: true, "data-ref": "saveError", "data-testid": "save-error" })),
          h("section", { class: "card cfg-preview", "aria-labelledby": "cfg-preview-title" },
            h("h2", { id: "cfg-preview-title" }, "llama-server command line"),
            h("pre", { class: "cfg-argv", "data-ref": "argv", "data-testid": "argv-preview", "aria-describedby": "cfg-argv-note" }),
            h("p", { id: "cfg-argv-note", class: "muted cfg-note", "data-ref": "argvNote" })),
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
    this.config = null; // the working copy both views edit
    this.loaded = null; // the config as last loaded or saved
    this.parseError = null; // the JSON view's text does not parse
    this.localErrors = new Map(); // form fields that cannot be read (a JSON field that does not parse)
    this.errors = []; // the last router:init:validate problems
    this.saveProblem = null; // {path, message} from a refused save, until the next edit
    this.valid = null;
    this.checking = false;
    this.checkError = null;
    this.args = null;
    this.argsStale = false;
    this.stale = { form: false, json: false };
    this.validateSeq = 0;
    this.loadSeq = 0;
    this.saving = false;
    this.loading = false;
    this.protection = null; // router:init:load's `protected`
    this.own(() => clearTimeout(this.validateTimer));
    let wasConnected;
    this.own(this.props.state.subscribe("connection", (status) => {
      // A load that failed (a timeout while the server was away) is retried on the next connect.
      if (status === "connected" && wasConnected === false && this.loadFailed) this.load();
      wasConnected = status === "connected";
    }));
    this.load();
    this.presets = new PresetsEditor({ state: this.props.state }).mount(this.r.presetsSlot);
    this.own(() => this.presets.destroy());
  }

  // ---- loading -------------------------------------------------------------------------------------

  async load({ note = "" } = {}) {
    const seq = ++this.loadSeq;
    this.loading = true;
    this.refresh();
    try {
      const data = await this.props.state.request("router:init:load", {});
      if (!this.el || seq !== this.loadSeq) return;
      this.loadFailed = false;
      this._showAlert(this.r.loadError, null);
      this._clearOutcome();
      this._apply(data.fileConfig || data.config || {}, data.source === "file" ? data.configPath : null, data.protected);
      if (note) this._setResult([note]);
      this.validateNow();
    } catch (err) {
      if (!this.el || seq !== this.loadSeq) return;
      this.loadFailed = true;
      this._showAlert(this.r.loadError, `Could not load the init file: ${err.message}`);
    } finally {
      if (this.el && seq === this.loadSeq) {
        this.loading = false;
        this.refresh();
      }
    }
  }

  /** Makes `config` the saved state and the working copy, shown in both views (`protection`: when known). */
  _apply(config, configPath, protection) {
    this.loaded = clone(config);
    this.config = clone(config);
    this.configPath = configPath;
    this.parseError = null;
    this.localErrors.clear();
    this.saveProblem = null;
    this.stale = { form: false, json: false };
    fillForm(this.form, this.config);
    this.r.json.value = toJson(this.config);
    if (protection !== undefined) this._showProtection(protection);
    else this._lockFields();
    this._showSource();
  }

  _showProtection(protection) {
    this.protection = protection || null;
    this._lockFields();
    const { jsonLocked } = this.r;
    const locked = this.protection?.editable === false;
    const keys = locked && Array.isArray(this.protection.keys) ? this.protection.keys : [];
    jsonLocked.hidden = !locked;
    replaceChildren(jsonLocked, locked
      ? ["Read-only without security.adminToken: ", keys.map((k, i) => [i ? ", " : null, h("code", {}, k)]),
        " (model files only outside models.directory, the Hugging Face cache and backends.importRoots). A change to them is refused when you save."]
      : null);
  }

  /** Read-only fields for the protected keys, except one whose value an edit in the JSON view changed. */
  _lockFields() {
    const differs = (path) => JSON.stringify(getAt(this.config, path)) !== JSON.stringify(getAt(this.loaded, path));
    showProtection(this.form, this.protection, { differs });
  }

  _showSource() {
    const { source } = this.r;
    if (this.configPath) {
      replaceChildren(source, "Init file: ", h("code", { "data-testid": "config-path" }, this.configPath));
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
    if (!control || !this.config) return;
    const path = control.dataset.path;
    const { value, error } = readControl(control);
    if (error) {
      this.localErrors.set(path, error);
    } else {
      this.localErrors.delete(path);
      setAt(this.config, path, value);
    }
    this.stale.json = true;
    this._edited();
  }

  handleJsonInput() {
    if (!this.config) return;
    const text = this.r.json.value;
    try {
      const parsed = JSON.parse(text);
      if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("the init file must be a JSON object ({…})");
      this.parseError = null;
      this.config = parsed;
    } catch (err) {
      this.parseError = `JSON syntax error: ${describeJsonError(err, text)}`;
    }
    this.stale.form = true;
    this._edited();
  }

  _edited() {
    this.saveProblem = null;
    this._clearOutcome();
    this._showAlert(this.r.switchNotice, null);
    if (this.parseError || this.localErrors.size) {
      // Nothing to check until it reads again; a check in flight would answer for an older text.
      clearTimeout(this.validateTimer);
      this.validateSeq += 1;
      this.checking = false;
      this.valid = null;
      this.errors = [];
    } else {
      this.scheduleValidate();
    }
    this.refresh();
  }

  scheduleValidate() {
    clearTimeout(this.validateTimer);
    this.checking = true;
    this.validateTimer = setTimeout(() => this.validateNow(), VALIDATE_DELAY_MS);
  }

  async validateNow() {
    clearTimeout(this.validateTimer);
    if (!this.config || this.parseError || this.localErrors.size) return;
    const seq = ++this.validateSeq;
    this.checking = true;
    this.refresh();
    const config = this.config;
    try {
      const data = await this.props.state.request("router:init:validate", { config });
      if (!this.el || seq !== this.validateSeq) return;
      this.valid = data.valid === true;
      this.errors = Array.isArray(data.errors) ? data.errors : [];
      this.checkError = null;
      if (this.valid) {
        this.args = { program: config.router?.serverPath || "llama-server", argv: data.args || [] };
        this.argsStale = false;
      } else {
        this.argsStale = Boolean(this.args);
      }
    } catch (err) {
      if (!this.el || seq !== this.validateSeq) return;
      this.valid = null;
      this.checkError = err.message;
    } finally {
      if (this.el && seq === this.validateSeq) {
        this.checking = false;
        this.refresh();
      }
    }
  }

  // ---- views ---------------------------------------------------------------------------------------

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
    if (view === this.view || !this.config) return;
    if (view === "form" && this.parseError) {
      this._showAlert(this.r.switchNotice, "Fix the JSON syntax error first: the form can only show a valid init file.");
      this.r.json.focus();
      return;
    }
    if (view === "json" && this.localErrors.size) {
      const [path] = this.localErrors.keys();
      this._showAlert(this.r.switchNotice, `Fix ${path} first: its text is not valid JSON.`);
      this.form.querySelector(`#${fieldId(path)}`)?.focus();
      return;
    }
    this._showAlert(this.r.switchNotice, null);
    if (view === "form" && this.stale.form) {
      fillForm(this.form, this.config);
      this._lockFields();
    }
    if (view === "json" && this.stale.json) this.r.json.value = toJson(this.config);
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

  /** Puts the user at the field of a refused save: its control in the form, its key in the JSON. */
  _focusProblem(path) {
    if (this.view === "form") {
      const field = fieldFor(path);
      if (field) this.focusAfter = this.form.querySelector(`#${fieldId(field.path)}`) || this.focusAfter;
    } else {
      this.selectAfter = path;
    }
  }

  // ---- saving --------------------------------------------------------------------------------------

  async handleSave() {
    if (!this.config || this.saving || this.parseError || this.localErrors.size) return;
    this.saving = true;
    this.focusAfter = document.activeElement === this.r.save ? this.r.save : null;
    clearTimeout(this.validateTimer);
    this.validateSeq += 1; // the save checks it anyway, and its answer supersedes a check in flight
    this.checking = false;
    this._clearOutcome();
    this._setResult(["Saving… a router restart waits for the requests in flight to finish."]);
    this.refresh();
    const submitted = this.config;
    const token = tokenChange(this.loaded, submitted);
    try {
      const data = await this.props.state.request("router:init:save", { config: submitted }, { timeoutMs: SAVE_TIMEOUT_MS });
      // The server drops every socket admitted under the old token right after this reply: a token typed
      // here is this browser's from now on, so it reconnects with it instead of asking.
      if (token.typed !== undefined) this.props.state.setToken(token.typed);
      if (!this.el) return;
      // What was saved, with the server's placeholders in place of the secrets typed (never shown back).
      this._apply(withPlaceholders(submitted, data.config), data.saved || this.configPath);
      this.valid = true;
      this.errors = [];
      this.checkError = null;
      this.args = { program: this.config.router?.serverPath || "llama-server", argv: data.args || [] };
      this.argsStale = false;
      this._showSaved(data, token);
      this.reloadKeepingOutcome();
      this.presets?.load();
    } catch (err) {
      if (!this.el) return;
      this._setResult([]);
      this._failed(err);
    } finally {
      if (this.el) {
        this.saving = false;
        this.refresh();
        // Controls were disabled while saving: give focus back (to the refused field, or to Save).
        const target = this.focusAfter;
        this.focusAfter = null;
        if (target && !target.disabled) target.focus();
        const key = this.selectAfter;
        this.selectAfter = null;
        if (key && this.view === "json") selectKey(this.r.json, key);
      }
    }
  }

  _failed(err) {
    if ((err.code === "BAD_REQUEST" || err.code === "FORBIDDEN") && err.field?.startsWith("config")) {
      const path = err.field.replace(/^config\.?/, "") || "(root)";
      const known = this.errors.find((e) => e.path === path);
      this.saveProblem = { path, message: known?.message || problemText(err) };
      this._showAlert(this.r.saveError, `Not saved: ${err.message}`);
      this.refresh();
      this._focusProblem(path);
      this.validateNow();
    } else if (err.code === "ROUTER_ERROR") {
      // The file was written and loaded; only the router's restart failed.
      this._showAlert(this.r.saveError, `Saved, but the router could not restart: ${err.message}`);
      this.reloadKeepingOutcome();
    } else {
      this._showAlert(this.r.saveError, `Not saved: ${err.message}`);
    }
  }

  async reloadKeepingOutcome() {
    try {
      const seq = ++this.loadSeq;
      const shown = JSON.stringify(this.config);
      const data = await this.props.state.request("router:init:load", {});
      // Not over edits made meanwhile, nor over a newer load.
      if (this.el && seq === this.loadSeq && JSON.stringify(this.config) === shown && !this.saving && !this.parseError) {
        this._apply(data.fileConfig || data.config || {}, data.source === "file" ? data.configPath : null, data.protected);
        this.validateNow();
      }
    } catch {
      // The outcome already shows what happened; Revert retries.
    }
  }

  _showSaved(data, token = {}) {
    const running = this.props.state.get("router")?.running;
    const router = data.routerRestarted
      ? "The router restarted with the new command line."
      : running
        ? "The router kept running: its command line did not change."
        : "The router is not running; the new settings apply when it starts.";
    this._setResult([
      h("span", {}, "Saved to ", h("code", { "data-testid": "saved-path" }, data.saved), "."),
      data.backup
        ? h("span", {}, "Previous version kept as ", h("code", { "data-testid": "backup-path" }, data.backup), ".")
        : h("span", {}, "There was no previous file to back up."),
      h("span", { "data-testid": "router-restarted", "data-restarted": String(Boolean(data.routerRestarted)) }, router),
      token.changed
        ? h("span", { "data-testid": "token-changed" }, token.typed
          ? "The admin token changed: this browser now uses the new one; other open dashboards must enter it."
          : "The admin token was removed: dashboards connect without one.")
        : null,
    ]);
    const keys = Array.isArray(data.requiresRestart) ? data.requiresRestart : [];
    this.r.restartNotice.hidden = keys.length === 0;
    replaceChildren(this.r.restartNotice, keys.length
      ? ["Restart llama-dashboard for: ", keys.map((k, i) => [i ? ", " : null, h("code", {}, k)])]
      : null);
  }

  handleRevert() {
    if (this.saving) return;
    this.validateSeq += 1;
    clearTimeout(this.validateTimer);
    this.checking = false;
    this.load({ note: "Reverted: showing the init file as it is saved." });
  }

  // ---- showing -------------------------------------------------------------------------------------

  /** Brings every view of the state up to date: field errors, problems, status, buttons, preview. */
  refresh() {
    if (!this.el) return;
    const problems = this._problems();
    showErrors(this.form, problems);
    this._showProblems(problems);
    this._showJsonState(problems);
    this._showStatus(problems);
    this._showPreview();
    const ready = Boolean(this.config) && !this.loading;
    const { save, revert, json } = this.r;
    save.disabled = !ready || this.saving || Boolean(this.parseError) || this.localErrors.size > 0 || this.valid === false;
    revert.disabled = this.loading || this.saving;
    for (const fieldset of this.form.querySelectorAll("fieldset")) fieldset.disabled = !ready || this.saving;
    json.readOnly = !ready || this.saving;
    this.el.setAttribute("aria-busy", String(this.loading || this.saving));
  }

  /** Local problems, then the refused save's field (unless the last check names it too), then the check's. */
  _problems() {
    const local = [...this.localErrors].map(([path, message]) => ({ path, message }));
    const out = [...local, ...this.errors];
    const p = this.saveProblem;
    if (p && !out.some((e) => e.path === p.path || (fieldFor(e.path) && fieldFor(e.path) === fieldFor(p.path)))) out.unshift(p);
    return out;
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
    jsonError.hidden = !this.parseError;
    jsonError.textContent = this.parseError || "";
    const invalid = Boolean(this.parseError) || problems.length > 0;
    if (invalid) json.setAttribute("aria-invalid", "true");
    else json.removeAttribute("aria-invalid");
    const described = [this.parseError ? "cfg-json-error" : null, problems.length ? "cfg-problems" : null, "cfg-json-hint"];
    json.setAttribute("aria-describedby", described.filter(Boolean).join(" "));
  }

  _showStatus(problems) {
    const { check } = this.r;
    let text;
    let tone = "idle";
    if (!this.config) text = this.loading ? "Loading…" : "Not loaded.";
    else if (this.parseError) [text, tone] = ["The JSON does not parse.", "error"];
    else if (this.saving) [text, tone] = ["Saving…", "busy"];
    else if (problems.length && !this.checking) [text, tone] = [`${problems.length} ${problems.length === 1 ? "problem" : "problems"} to fix before saving.`, "error"];
    else if (this.checking) [text, tone] = ["Checking…", "busy"];
    else if (this.checkError) [text, tone] = [`Could not check: ${this.checkError}`, "error"];
    else if (this.valid) [text, tone] = ["Valid.", "ok"];
    else text = "";
    const dirty = this.config && this.loaded && JSON.stringify(this.config) !== JSON.stringify(this.loaded);
    if (this.config && !this.saving) text += dirty ? " Unsaved changes." : " No changes.";
    check.textContent = text.trim();
    check.dataset.tone = tone;
    check.dataset.dirty = String(Boolean(dirty));
  }

  _showPreview() {
    const { argv, argvNote } = this.r;
    if (!this.args) {
      argv.textContent = "";
      argv.hidden = true;
      argvNote.textContent = this.config ? "Shown once the configuration is valid." : "Loading…";
      return;
    }
    argv.hidden = false;
    // One unbreakable group per program / flag with its value; lines break between groups.
    const groups = argvGroups([this.args.program, ...this.args.argv].map(shellQuote));
    replaceChildren(argv, groups.map((g, i) => [i ? " " : null, h("span", { class: "cfg-arg" }, g)]));
    argv.classList.toggle("cfg-argv--stale", this.argsStale || this.valid !== true);
    const notes = [];
    if (this.argsStale || this.valid === false || this.parseError) notes.push("For the last valid configuration.");
    if (this.config?.router?.enabled === false) notes.push("router.enabled is off: llama-server is not driven in router mode.");
    notes.push("Applied when you save; the router restarts when it changes.");
    argvNote.textContent = notes.join(" ");
  }

  _setResult(parts) {
    replaceChildren(this.r.result, parts.map((p) => h("p", {}, p)));
  }

  _clearOutcome() {
    this._setResult([]);
    this._showAlert(this.r.saveError, null);
    this.r.restartNotice.hidden = true;
    replaceChildren(this.r.restartNotice);
  }

  _showAlert(el, text) {
    el.hidden = !text;
    el.textContent = text || "";
  }
}

function toJson(config) {
  return `${JSON.stringify(config, null, 2)}\n`;
}

/** A refused save's message without the key path it starts with. */
function problemText(err) {
  return err.message.replace(`${err.field}: `, "").replace(/^invalid configuration: /, "");
}
