// The init file (`llama-router.init.json`) as a form: one fieldset per section, one input per key.
//
// Contract:
// - SECTIONS describes every key the form edits: {path, label, type, min?, max?, def, hint?, flag?,
//   nullable?, secret?, options?}. type: "number" (whole numbers), "checkbox", "text", "select",
//   "list" (a textarea, one entry per line, blank lines dropped) or "json" (a textarea holding JSON).
//   Keys the form does not show (`version`, unknown keys typed in the JSON view) are left untouched.
// - buildForm() -> <form>; each control carries data-path="<key path>" and an id from fieldId(path);
//   its inline error is the element with id errorId(path), its read-only note the one with lockedId(path).
// - fillForm(form, config) shows config's values (a missing key shows its default).
// - readControl(control) -> {value} or {error} (a "json" field whose text does not parse).
// - showErrors(form, errors) marks the fields the errors point at (aria-invalid, aria-describedby the
//   message) and puts the rest under their section; it returns the errors that matched no field.
// - showProtection(form, protection) applies `router:init:load`'s `protected` ({editable, reason, keys}):
//   while not editable, the fields of those keys are read-only with the reason beside them, and a field
//   holding some of them inside a JSON list (`backends.models[].spawn.command`) says which stay read-only.
// - fieldFor(path) maps an error's key path ("backends.models[2].name") to the field that shows it.
import { h, replaceChildren } from "../core/component.js";

const LEVELS = ["trace", "debug", "info", "warn", "error"];
const num = (path, label, min, max, def, extra = {}) => ({ path, label, type: "number", min, max, def, ...extra });
const check = (path, label, def, extra = {}) => ({ path, label, type: "checkbox", def, ...extra });
const text = (path, label, def, extra = {}) => ({ path, label, type: "text", def, ...extra });
const list = (path, label, def, extra = {}) => ({ path, label, type: "list", def, ...extra });

export const SECTIONS = [
  {
    key: "server", title: "Server", intro: "Where llama-dashboard itself listens (dashboard, Socket.IO, /v1).",
    fields: [
      text("server.host", "Host", "127.0.0.1", { hint: "A non-loopback host requires security.adminToken." }),
      num("server.port", "Port", 0, 65535, 3000, { hint: "0 = any free port." }),
      num("server.maxConnections", "Most connections at once", 16, 1000000, 2048, {
        hint: "Open connections and Socket.IO clients at once.",
      }),
      num("server.headerTimeoutMs", "Header timeout (ms)", 1000, 600000, 15000, {
        hint: "A request's headers must arrive within it; also the keep-alive idle limit.",
      }),
      num("server.sendTimeoutMs", "Send timeout (ms)", 1000, 3600000, 60000, {
        hint: "A client that stops reading for this long is disconnected.",
      }),
      num("server.shutdownTimeoutSec", "Shutdown timeout (s)", 0, 3600, 30, {
        hint: "On SIGTERM or Ctrl-C, how long requests in flight get to finish before the models stop.",
      }),
    ],
  },
  {
    key: "router", title: "Router", intro: "The llama-server process driven in router mode.",
    fields: [
      check("router.enabled", "Drive llama-server in router mode", true),
      text("router.host", "Host", "127.0.0.1", { flag: "--host", hint: "Loopback unless router.allowNonLoopback is set." }),
      num("router.port", "Port", 1, 65535, 8134, { flag: "--port", hint: "Must differ from server.port." }),
      text("router.serverPath", "llama-server path", null, {
        nullable: true, hint: "Empty: $LLAMA_SERVER_BIN, PATH, then the setup script's cache.",
      }),
      check("router.allowNonLoopback", "Allow a non-loopback router host", false, {
        hint: "router.host may be a non-loopback address only when this is set.",
      }),
    ],
  },
  {
    key: "models", title: "Models",
    fields: [
      text("models.directory", "Models directory", "./models", { flag: "--models-dir", hint: "GGUF files, searched 4 levels deep." }),
      num("models.maxLoaded", "Most models loaded at once", 1, 64, 4, { flag: "--models-max" }),
      num("models.idleTimeoutSec", "Idle unload after (s)", 0, 31536000, 300, { hint: "0 = never." }),
      check("models.autoDiscovery", "Discover models automatically", true),
      list("models.preloadModels", "Preload at boot", [], { hint: "Model ids, one per line." }),
      text("models.presetsFile", "Presets file (INI)", null, {
        nullable: true, flag: "--models-preset", hint: "Empty = none. Its contents are edited in the presets card.",
      }),
    ],
  },
  {
    key: "performance", title: "Performance",
    fields: [
      num("performance.contextSize", "Context size (tokens)", 128, 1048576, 4096, { flag: "-c" }),
      num("performance.batchSize", "Batch size", 1, null, 512, { flag: "-b" }),
      num("performance.gpuLayers", "GPU layers", -1, null, -1, { flag: "-ngl", hint: "-1 = every layer." }),
      num("performance.parallelSlots", "Parallel slots", 1, 256, 1, { flag: "-np" }),
      num("performance.httpThreads", "HTTP threads", -1, null, -1, { flag: "--threads-http", hint: "-1 = llama-server's default." }),
      num("performance.threads", "Threads", -1, null, -1, { flag: "-t", hint: "-1 = llama-server's default." }),
    ],
  },
  {
    key: "logging", title: "Logging",
    fields: [
      { path: "logging.level", label: "Level", type: "select", options: LEVELS, def: "info" },
      num("logging.maxRows", "Log rows kept", 1000, null, 100000),
      text("logging.logFile", "Also append to file", null, { nullable: true, hint: "Empty = no file." }),
      check("logging.enableDebugOutput", "Verbose llama-server output", false, { flag: "--verbose" }),
    ],
  },
  {
    key: "startup", title: "Startup",
    fields: [
      check("startup.autoStart", "Start the router at boot", true),
      num("startup.timeout", "Start timeout (ms)", 1000, null, 30000, { hint: "Deadline for llama-server to answer /health." }),
      num("startup.retryAttempts", "Retry attempts", 0, 100, 3, { hint: "Start retries, and restarts after crashes." }),
      num("startup.retryDelay", "Retry delay (ms)", 0, null, 2000),
    ],
  },
  {
    key: "security", title: "Security",
    intro: "Secrets are never sent to the browser: each stored one shows as a placeholder, \"***\" and 12 hex digits, "
      + "which keeps that secret when saved. Type a new secret as plain text.",
    fields: [
      text("security.adminToken", "Admin token", null, {
        nullable: true, secret: true,
        hint: "At least 8 characters; every dashboard and Socket.IO client must send it. Empty = none. "
          + "A new token signs out the other open dashboards.",
      }),
      list("security.apiKeys", "API keys for /v1", [], { secret: true, hint: "One per line; empty = /v1 is open." }),
      list("security.corsOrigins", "CORS origins", [], {
        hint: "Origins allowed besides our own, one per line; empty = our own only. \"*\" opens /v1 only, "
          + "never the dashboard's socket or /admin.",
      }),
      list("security.allowedHosts", "Allowed host names", [], {
        hint: "Host names besides IP addresses and localhost that may reach the server, one per line; *.example.com allowed.",
      }),
    ],
  },
  {
    key: "metrics", title: "Metrics",
    fields: [
      num("metrics.intervalMs", "Sampling interval (ms)", 250, 60000, 2000),
      num("metrics.retentionDays", "Retention (days)", 1, 365, 7, { hint: "Older metrics, logs and requests are deleted." }),
    ],
  },
  {
    key: "proxy", title: "Proxy",
    fields: [
      num("proxy.maxBodyBytes", "Largest request body (bytes)", 1024, 4294967296, 67108864),
      num("proxy.queueSize", "Queue size per model", 0, 100000, 32),
      num("proxy.queueTimeoutMs", "Queue timeout (ms)", 100, 3600000, 120000),
      num("proxy.bodyTimeoutMs", "Body timeout (ms)", 1000, 3600000, 60000, {
        hint: "The whole /v1 request body must arrive within it.",
      }),
      check("proxy.directToChild", "Send requests straight to a loaded model's process", true, {
        hint: "Skips the router's hop; loads and unloads still go through the router.",
      }),
    ],
  },
  {
    key: "backends", title: "Backends", intro: "Own llama-server processes, one per model.",
    fields: [
      num("backends.basePort", "Base port", 1024, 65535, 50000),
      num("backends.connectionTimeoutSec", "Connect timeout (s)", 1, 600, 5),
      num("backends.readTimeoutSec", "Read timeout (s)", 1, 86400, 600),
      num("backends.startTimeoutSec", "Start timeout (s)", 1, 3600, 300),
      num("backends.idleTimeoutSec", "Idle stop after (s)", 0, 31536000, 300, { hint: "0 = never." }),
      num("backends.maxRunning", "Most running at once", 0, 64, 0, { hint: "0 = no limit." }),
      text("backends.healthEndpoint", "Health endpoint", "/health"),
      check("backends.hfDiscovery", "Discover Hugging Face cache models", true),
      list("backends.importRoots", "Import roots", [], { hint: "Directories models:import may read, one per line." }),
      list("backends.defaultSpawn.command", "Spawn command", ["llama-server"], { hint: "Program and arguments, one per line." }),
      list("backends.defaultSpawn.proxyEndpoints", "Forwarded path prefixes", ["/v1/", "/health", "/slots", "/props"]),
      {
        path: "backends.models", label: "Backend models (JSON)", type: "json", def: [], wide: true,
        hint: "[{name, path, state, group, spawn, ttl, aliases, mmproj}]",
      },
    ],
  },
  {
    key: "nodes", title: "Nodes",
    intro: "Other llama-dashboards (or OpenAI-compatible servers) this one watches: each is looked at every 2 s "
      + "(the Dashboard's Nodes card). A node's apiKey and adminToken show as placeholders; a node with "
      + "credentials keeps its URL unless you have the admin token.",
    fields: [
      {
        path: "nodes", label: "Nodes (JSON)", type: "json", def: [], wide: true,
        hint: "[{name, url, apiKey?, adminToken?}]: name a plain name, url http(s)://host:port",
      },
    ],
  },
];

const FIELDS = new Map(SECTIONS.flatMap((s) => s.fields.map((f) => [f.path, f])));

export const fieldId = (path) => `cfg-${path.replace(/[^A-Za-z0-9]+/g, "-")}`;
export const errorId = (path) => `${fieldId(path)}-error`;
export const lockedId = (path) => `${fieldId(path)}-locked`;
const hintId = (path) => `${fieldId(path)}-hint`;

export function getAt(obj, path) {
  return path.split(".").reduce((node, key) => (node && typeof node === "object" ? node[key] : undefined), obj);
}

/** Sets obj's value at a dotted path, creating (or replacing non-object) parents. */
export function setAt(obj, path, value) {
  const keys = path.split(".");
  let node = obj;
  for (const key of keys.slice(0, -1)) {
    if (!node[key] || typeof node[key] !== "object" || Array.isArray(node[key])) node[key] = {};
    node = node[key];
  }
  node[keys.at(-1)] = value;
}

/** The field that shows an error at `path` (array indexes and unknown sub-keys fall back to the nearest field). */
export function fieldFor(path) {
  const keys = String(path).replace(/\[\d+\]/g, "").split(".").filter((k) => k && !/^\d+$/.test(k));
  for (let i = keys.length; i > 0; i -= 1) {
    const field = FIELDS.get(keys.slice(0, i).join("."));
    if (field) return field;
  }
  return null;
}

export function sectionOf(path) {
  const key = String(path).split(/[.[]/)[0];
  return SECTIONS.find((s) => s.key === key) || null;
}

export function buildForm() {
  return h(
    "form",
    { class: "cfg-form", novalidate: true, "data-testid": "config-form", "aria-label": "Init file settings" },
    SECTIONS.map((section) => h(
      "fieldset",
      { class: "card cfg-section", "data-section": section.key, "aria-describedby": `cfg-section-${section.key}-errors` },
      h("legend", { class: "cfg-section__title" }, section.title, " ", h("code", { class: "muted" }, section.key)),
      section.intro ? h("p", { class: "muted cfg-section__intro" }, section.intro) : null,
      h("ul", {
        id: `cfg-section-${section.key}-errors`, class: "cfg-section__errors", hidden: true,
        "data-testid": `section-errors-${section.key}`,
      }),
      h("div", { class: "cfg-grid" }, section.fields.map(fieldBlock)),
    )),
  );
}

function fieldBlock(field) {
  const id = fieldId(field.path);
  const common = {
    id, name: field.path, "data-path": field.path, "data-testid": `field-${field.path}`,
    "aria-describedby": hintId(field.path),
  };
  const hint = h("small", { id: hintId(field.path), class: "muted cfg-field__hint" }, hintText(field));
  const error = h("p", { id: errorId(field.path), class: "cfg-field__error", hidden: true, "data-testid": `error-${field.path}` });
  const locked = h("p", { id: lockedId(field.path), class: "cfg-field__locked", hidden: true, "data-testid": `locked-${field.path}` });
  const label = h("label", { for: id }, field.label);
  const classes = `cfg-field cfg-field--${field.type}${field.wide || field.type === "json" ? " cfg-field--wide" : ""}`;
  if (field.type === "checkbox") {
    return h("div", { class: classes, "data-field": field.path },
      h("div", { class: "cfg-check" }, h("input", { ...common, type: "checkbox" }), label), hint, locked, error);
  }
  let control;
  if (field.type === "number") {
    control = h("input", {
      ...common, type: "number", inputmode: "numeric", step: 1, min: field.min ?? null, max: field.max ?? null,
      placeholder: String(field.def),
    });
  } else if (field.type === "select") {
    control = h("select", common, field.options.map((value) => h("option", { value }, value)));
  } else if (field.type === "list" || field.type === "json") {
    control = h("textarea", {
      ...common, rows: field.type === "json" ? 6 : 3, spellcheck: "false", autocomplete: "off",
      autocapitalize: "off", class: field.type === "json" ? "cfg-code" : null,
      placeholder: field.type === "list" ? field.def.join("\n") : JSON.stringify(field.def),
    });
  } else {
    control = h("input", {
      ...common, type: "text", spellcheck: "false", autocomplete: "off", autocapitalize: "off",
      placeholder: field.def ?? "",
    });
  }
  return h("div", { class: classes, "data-field": field.path }, label, control, hint, locked, error);
}

function hintText(field) {
  const parts = [];
  if (field.flag) parts.push(h("code", {}, field.flag));
  if (field.type === "number") parts.push(rangeText(field));
  if (field.hint) parts.push(field.hint);
  if (field.secret) {
    parts.push(field.type === "list"
      ? "Each placeholder keeps its stored key; delete a line to revoke that key; type a new key as plain text."
      : "The placeholder keeps the stored token; type a new one to replace it.");
  }
  return parts.flatMap((p, i) => (i ? [" · ", p] : [p]));
}

function rangeText({ min, max }) {
  if (min != null && max != null) return `${min} to ${max}`;
  return min != null ? `>= ${min}` : "";
}

/** Shows config's value in each control; missing keys show their default. */
export function fillForm(form, config) {
  for (const control of form.querySelectorAll("[data-path]")) {
    const field = FIELDS.get(control.dataset.path);
    const raw = getAt(config, field.path);
    const value = raw === undefined ? field.def : raw;
    if (field.type === "checkbox") control.checked = value === true;
    else if (field.type === "number") control.value = value === null || value === undefined ? "" : String(value);
    else if (field.type === "select") {
      const text = value == null ? "" : String(value);
      for (const extra of control.querySelectorAll("option[data-extra]")) extra.remove();
      if (![...control.options].some((o) => o.value === text)) control.append(h("option", { value: text, "data-extra": true }, text || "(none)"));
      control.value = text;
    } else if (field.type === "list") control.value = Array.isArray(value) ? value.join("\n") : value == null ? "" : JSON.stringify(value);
    else if (field.type === "json") control.value = JSON.stringify(value ?? null, null, 2);
    else control.value = value == null ? "" : typeof value === "string" ? value : JSON.stringify(value);
    if (field.type === "list" || field.type === "json") {
      // Tall enough for what it holds (within reason); it can still be resized.
      const lines = control.value.split("\n").length + 1;
      control.rows = Math.min(Math.max(lines, field.type === "json" ? 4 : 3), 14);
    }
  }
}

/** The control's value for the config: {value}, or {error} when it cannot be read. */
export function readControl(control) {
  const field = FIELDS.get(control.dataset.path);
  const raw = control.value;
  switch (field.type) {
    case "checkbox":
      return { value: control.checked };
    case "number":
      // An empty or partial number is sent as null: the server names the field ("invalid type: null").
      return { value: raw.trim() === "" || control.validity.badInput ? null : Number(raw) };
    case "list":
      return { value: raw.split("\n").map((line) => line.trim()).filter(Boolean) };
    case "json":
      try {
        return { value: JSON.parse(raw) };
      } catch (err) {
        return { error: `JSON syntax error: ${describeJsonError(err, raw)}` };
      }
    case "text":
      return { value: field.nullable && raw.trim() === "" ? null : raw };
    default:
      return { value: raw };
  }
}

/**
 * Marks the fields named by `errors` ([{path, message}]); errors inside a section but at no field
 * are listed at the top of that section. Returns the errors that matched neither.
 */
export function showErrors(form, errors) {
  const byField = new Map();
  const bySection = new Map();
  const rest = [];
  for (const error of errors) {
    const field = fieldFor(error.path);
    const section = sectionOf(error.path);
    if (field) push(byField, field.path, error);
    else if (section) push(bySection, section.key, error);
    else rest.push(error);
  }
  for (const control of form.querySelectorAll("[data-path]")) {
    const path = control.dataset.path;
    const found = byField.get(path) || [];
    const message = form.querySelector(`#${CSS.escape(errorId(path))}`);
    message.hidden = found.length === 0;
    replaceChildren(message, found.map((e, i) => [i ? h("br") : null, messageFor(e, path)]));
    control.closest(".cfg-field").classList.toggle("cfg-field--invalid", found.length > 0);
    if (found.length) control.setAttribute("aria-invalid", "true");
    else control.removeAttribute("aria-invalid");
    describe(form, control);
  }
  for (const section of SECTIONS) {
    const list = form.querySelector(`#cfg-section-${section.key}-errors`);
    const found = bySection.get(section.key) || [];
    list.hidden = found.length === 0;
    replaceChildren(list, found.map((e) => h("li", {}, h("code", {}, e.path), ": ", e.message)));
  }
  return rest;
}

/** aria-describedby: the visible error, the read-only note, then the hint. */
function describe(form, control) {
  const path = control.dataset.path;
  const shown = (id) => {
    const el = form.querySelector(`#${CSS.escape(id)}`);
    return el && !el.hidden ? id : null;
  };
  const ids = [shown(errorId(path)), shown(lockedId(path)), hintId(path)].filter(Boolean);
  control.setAttribute("aria-describedby", ids.join(" "));
}

/**
 * Applies `router:init:load`'s `protected` ({editable, reason, keys}). While not editable, a key that is
 * a field of its own (`router.serverPath`) makes that field read-only with the reason beside it; keys
 * inside a field's JSON list (`backends.models[].spawn.command`) leave it editable with a note saying
 * which of its keys stay read-only. Editable (or no protection info): nothing is read-only.
 * `differs(path)`: the working copy's value differs from the saved one (an edit made in the JSON view);
 * such a field stays editable, so that it can be put back, its note saying why a change is refused.
 */
export function showProtection(form, protection, { differs = () => false } = {}) {
  const locked = new Map(); // field path -> null (the whole field) or [sub-keys]
  if (protection && protection.editable === false) {
    for (const key of Array.isArray(protection.keys) ? protection.keys : []) {
      if (FIELDS.has(key)) {
        locked.set(key, null);
        continue;
      }
      const field = fieldFor(key.replace(/\[\]/g, ""));
      if (!field || locked.get(field.path) === null) continue;
      const sub = key.slice(field.path.length).replace(/^(\[\])?\.?/, "");
      locked.set(field.path, [...(locked.get(field.path) || []), sub || key]);
    }
  }
  const reason = sentence(protection?.reason || "read-only without security.adminToken");
  for (const control of form.querySelectorAll("[data-path]")) {
    const path = control.dataset.path;
    const note = form.querySelector(`#${CSS.escape(lockedId(path))}`);
    const lock = locked.get(path);
    const whole = lock === null && !differs(path);
    control.readOnly = whole;
    control.closest(".cfg-field").classList.toggle("cfg-field--locked", whole);
    note.hidden = lock === undefined;
    note.textContent = lock === null ? reason : lock ? partialNote(path, lock) : "";
    describe(form, control);
  }
}

/** The note of a JSON field some of whose keys are read-only. */
function partialNote(path, keys) {
  if (path === "backends.models") {
    const commands = keys.filter((k) => /command$/.test(k));
    const files = keys.filter((k) => !/command$/.test(k));
    const parts = [];
    if (commands.length) parts.push(`each model's ${commands.join(", ")}`);
    if (files.length) {
      parts.push(`a model file (${files.join(", ")}) outside models.directory, the Hugging Face cache and backends.importRoots`);
    }
    return `Without security.adminToken, ${parts.join(", and ")} cannot be changed here; the other keys can.`;
  }
  return `Without security.adminToken, ${keys.join(", ")} cannot be changed here; the other keys can.`;
}

function sentence(text) {
  const t = String(text);
  return t.charAt(0).toUpperCase() + t.slice(1) + (/[.!?]$/.test(t) ? "" : ".");
}

/** An error's text at its field: the key path is spelled out when it points inside the field (an index, a sub-key). */
function messageFor(error, fieldPath) {
  const message = friendly(error.message);
  return error.path === fieldPath ? message : `${error.path}: ${message}`;
}

export function friendly(message) {
  return /^invalid type: null, expected (i64|u16|a number)/.test(message) ? "enter a whole number" : message;
}

function push(map, key, value) {
  if (!map.has(key)) map.set(key, []);
  map.get(key).push(value);
}

/** JSON.parse's message with a line and column added when it only gives a position. */
export function describeJsonError(err, text) {
  const message = String(err?.message || err);
  const at = /at position (\d+)/.exec(message);
  if (!at || /line \d+/.test(message)) return message;
  const before = text.slice(0, Number(at[1]));
  const line = before.split("\n").length;
  const column = before.length - before.lastIndexOf("\n");
  return `${message} (line ${line}, column ${column})`;
}
