// The Configuration page's state and behaviour: the init file as `router:init:load` gives it (`fileConfig`:
// the file without env and CLI overrides, so saving never writes an override into it), checked as it is
// edited (`router:init:validate`, debounced) and saved with `router:init:save`. No DOM: the page renders it.
//
// - `config` is the working copy both of the page's views edit: editField() patches it key by key, so keys
//   the form does not show (`version`, anything typed as JSON) survive; editJson() replaces it when the text
//   parses. While a field or the JSON does not read (`localErrors`, `parseError`) nothing is checked or saved.
// - Secrets arrive as placeholders ("***" and 12 hex digits, one per secret) and are sent back as they are:
//   check and save put the stored secret back in place of each. Deleting an API key's line revokes that key;
//   new secrets are typed as plain text. After a save the working copy holds the server's placeholders
//   (never the text typed), then the file is loaded again unless it was edited meanwhile.
// - A save that changes security.adminToken signs out every dashboard admitted under the old one: a token
//   typed here is stored in this browser (state.setToken), so the page reconnects with it.
// - A BAD_REQUEST or FORBIDDEN reply naming a `config` field becomes `saveProblem` (the path without
//   `config.`) until the next edit; save() resolves with {refused: path} so the page can move focus there.
// - A load that failed (a timeout while the server was away) is retried on the next connect.
//
// Events (Controller.on): "change" (any state the page shows), "apply" (a config from the server replaced
// the working copy: refill both views; its argument tells whether `protection` was part of it),
// "outcome" (the save area: `outcome`), "loadError" (the last load's error, or null).
import { Controller } from "../core/controller.js";
import { fieldFor, getAt, setAt, describeJsonError } from "../components/config-form.js";
import { clone, tokenChange, withPlaceholders } from "../components/config-secrets.js";

export const VALIDATE_DELAY_MS = 300;
/** A save that restarts the router waits for the /v1 requests in flight (up to 60 s) and for /health. */
const SAVE_TIMEOUT_MS = 150000;

export class ConfigurationController extends Controller {
  constructor({ state }) {
    super();
    this.state = state;
    this.config = null;
    this.loaded = null; // the config as last loaded or saved
    this.configPath = null; // null: built-in defaults, no init file in use
    this.parseError = null;
    this.localErrors = new Map(); // form fields whose text does not read (a JSON field that does not parse)
    this.errors = []; // the last router:init:validate problems
    this.saveProblem = null; // {path, message} from a refused save, until the next edit
    this.valid = null;
    this.checking = false;
    this.checkError = null;
    this.args = null; // {program, argv} of the last valid configuration
    this.argsStale = false;
    this.validateSeq = 0;
    this.loadSeq = 0;
    this.saving = false;
    this.loading = false;
    this.loadFailed = false;
    this.protection = null; // router:init:load's `protected`: {editable, reason, keys}
    this.revision = null; // router:init:load's `revision`: the file as loaded, sent back with a save
    // kind: "none" | "saving" | "reverted" | "saved" (saved: the reply, token, routerRunning)
    //       | "failed" | "restartFailed" (message: the error's)
    this.outcome = { kind: "none" };
  }

  start() {
    this.own(() => clearTimeout(this.validateTimer));
    let wasConnected;
    this.own(this.state.subscribe("connection", (status) => {
      if (status === "connected" && wasConnected === false && this.loadFailed) this.load();
      wasConnected = status === "connected";
    }));
    this.load();
  }

  async load({ reverted = false } = {}) {
    const seq = ++this.loadSeq;
    this.loading = true;
    this.emit("change");
    try {
      const data = await this.state.request("router:init:load", {});
      if (this.destroyed || seq !== this.loadSeq) return;
      this.loadFailed = false;
      this.emit("loadError", null);
      this._apply(data.fileConfig || data.config || {}, data.source === "file" ? data.configPath : null, data.protected);
      this.revision = data.revision;
      this._setOutcome({ kind: reverted ? "reverted" : "none" });
      this.validateNow();
    } catch (err) {
      if (this.destroyed || seq !== this.loadSeq) return;
      this.loadFailed = true;
      this.emit("loadError", err);
    } finally {
      if (!this.destroyed && seq === this.loadSeq) {
        this.loading = false;
        this.emit("change");
      }
    }
  }

  /** Makes `config` the saved state and the working copy (`protection`: when the reply carries it). */
  _apply(config, configPath, protection) {
    this.loaded = clone(config);
    this.config = clone(config);
    this.configPath = configPath;
    this.parseError = null;
    this.localErrors.clear();
    this.saveProblem = null;
    if (protection !== undefined) this.protection = protection || null;
    this.emit("apply", protection !== undefined);
  }

  /** Whether the working copy's value at `path` differs from the loaded one. */
  changedAt(path) {
    return JSON.stringify(getAt(this.config, path)) !== JSON.stringify(getAt(this.loaded, path));
  }

  isDirty() {
    return Boolean(this.config && this.loaded && JSON.stringify(this.config) !== JSON.stringify(this.loaded));
  }

  /** A form field's reading ({value} or {error}); false while nothing is loaded. */
  editField(path, { value, error }) {
    if (!this.config) return false;
    if (error) {
      this.localErrors.set(path, error);
    } else {
      this.localErrors.delete(path);
      setAt(this.config, path, value);
    }
    this._edited();
    return true;
  }

  /** The JSON view's text; false while nothing is loaded. */
  editJson(text) {
    if (!this.config) return false;
    try {
      const parsed = JSON.parse(text);
      if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("the init file must be a JSON object ({…})");
      this.parseError = null;
      this.config = parsed;
    } catch (err) {
      this.parseError = `JSON syntax error: ${describeJsonError(err, text)}`;
    }
    this._edited();
    return true;
  }

  _edited() {
    this.saveProblem = null;
    this._setOutcome({ kind: "none" });
    if (this.parseError || this.localErrors.size) {
      // Nothing to check until it reads again; a check in flight would answer for an older text.
      this._cancelCheck();
      this.valid = null;
      this.errors = [];
    } else {
      this.scheduleValidate();
    }
    this.emit("change");
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
    this.emit("change");
    const config = this.config;
    try {
      const data = await this.state.request("router:init:validate", { config });
      if (this.destroyed || seq !== this.validateSeq) return;
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
      if (this.destroyed || seq !== this.validateSeq) return;
      this.valid = null;
      this.checkError = err.message;
    } finally {
      if (!this.destroyed && seq === this.validateSeq) {
        this.checking = false;
        this.emit("change");
      }
    }
  }

  /** Drops the pending check and any answer still to come. */
  _cancelCheck() {
    clearTimeout(this.validateTimer);
    this.validateSeq += 1;
    this.checking = false;
  }

  /** Local problems, then the refused save's field (unless the last check names it too), then the check's. */
  problems() {
    const local = [...this.localErrors].map(([path, message]) => ({ path, message }));
    const out = [...local, ...this.errors];
    const p = this.saveProblem;
    if (p && !out.some((e) => e.path === p.path || (fieldFor(e.path) && fieldFor(e.path) === fieldFor(p.path)))) out.unshift(p);
    return out;
  }

  /**
   * Saves the working copy. Resolves with {saved: true} or {refused: path | null}; with undefined when
   * there was nothing to save (not loaded, saving, unreadable) or the controller was destroyed meanwhile.
   */
  async save() {
    if (!this.config || this.saving || this.parseError || this.localErrors.size) return undefined;
    this.saving = true;
    this._cancelCheck(); // the save checks it anyway, and its answer supersedes a check in flight
    this._setOutcome({ kind: "saving" });
    this.emit("change");
    const submitted = this.config;
    const token = tokenChange(this.loaded, submitted);
    let result;
    try {
      // The revision of the file as loaded: a save over a file that changed since is refused (CONFLICT).
      const data = await this.state.request("router:init:save", { config: submitted, revision: this.revision }, { timeoutMs: SAVE_TIMEOUT_MS });
      this.revision = data.revision;
      // The server drops every socket admitted under the old token right after this reply: a token typed
      // here is this browser's from now on, so it reconnects with it instead of asking.
      if (token.typed !== undefined) this.state.setToken(token.typed);
      if (this.destroyed) return undefined;
      this._apply(withPlaceholders(submitted, data.config), data.saved || this.configPath);
      this.valid = true;
      this.errors = [];
      this.checkError = null;
      this.args = { program: this.config.router?.serverPath || "llama-server", argv: data.args || [] };
      this.argsStale = false;
      this._setOutcome({ kind: "saved", saved: data, token, routerRunning: this.state.get("router")?.running });
      this.reloadKeepingOutcome();
      result = { saved: true };
    } catch (err) {
      if (this.destroyed) return undefined;
      result = { refused: this._failed(err) };
    } finally {
      if (!this.destroyed) {
        this.saving = false;
        this.emit("change");
      }
    }
    return result;
  }

  /** Shows why a save failed; returns the refused key path, or null when no field is to blame. */
  _failed(err) {
    if ((err.code === "BAD_REQUEST" || err.code === "FORBIDDEN") && err.field?.startsWith("config")) {
      const path = err.field.replace(/^config\.?/, "") || "(root)";
      const known = this.errors.find((e) => e.path === path);
      this.saveProblem = { path, message: known?.message || problemText(err) };
      this._setOutcome({ kind: "failed", message: err.message });
      this.emit("change");
      this.validateNow();
      return path;
    }
    if (err.code === "CONFLICT") {
      // Another save, a model's settings or an edit on disk changed the file after this page loaded it.
      this._setOutcome({ kind: "failed", message: `${err.message}. Revert loads the file as it is now.` });
    } else if (err.code === "ROUTER_ERROR") {
      // The file was written and loaded; only the router's restart failed.
      this._setOutcome({ kind: "restartFailed", message: err.message });
      this.reloadKeepingOutcome();
    } else {
      this._setOutcome({ kind: "failed", message: err.message });
    }
    return null;
  }

  async reloadKeepingOutcome() {
    try {
      const seq = ++this.loadSeq;
      const shown = JSON.stringify(this.config);
      const data = await this.state.request("router:init:load", {});
      // Not over edits made meanwhile, nor over a newer load.
      if (!this.destroyed && seq === this.loadSeq && JSON.stringify(this.config) === shown && !this.saving && !this.parseError) {
        this._apply(data.fileConfig || data.config || {}, data.source === "file" ? data.configPath : null, data.protected);
        this.revision = data.revision;
        this.validateNow();
      }
    } catch {
      // The outcome already shows what happened; Revert retries.
    }
  }

  revert() {
    if (this.saving) return;
    this._cancelCheck();
    this.load({ reverted: true });
  }

  _setOutcome(outcome) {
    this.outcome = outcome;
    this.emit("outcome", outcome);
  }
}

/** A refused save's message without the key path it starts with. */
function problemText(err) {
  return err.message.replace(`${err.field}: `, "").replace(/^invalid configuration: /, "");
}
