// The form of one own backend (an entry of `backends.models`): name, path, aliases, group, TTL, spawn
// command, mmproj and pinned, checked as they are typed with the same rules as the server's.
//
// Contract:
// - backendForm(key, {edit}) -> <form data-backend-form=key novalidate> ("add", or the model id when editing;
//   editing keeps the path read-only: a new file is a new backend). Test ids:
//   "bf-<field>-<key>" for the controls, "bf-<field>-error-<key>" for their errors, "bf-submit-<key>",
//   "bf-status-<key>".
// - fillBackendForm(form, entry) shows an entry ({name, path, aliases, group, ttl, spawn:{command}, mmproj, pinned}).
// - readBackendForm(form, {taken}) -> {values, errors}: values = {name, path, aliases:[], group|null,
//   ttl|null, command:[args]|null, mmproj|null, pinned}; errors = {field: message}; `taken`: names and
//   aliases of the other backend models.
// - showBackendErrors(form, errors, fields) marks the errors of `fields` (all when omitted) and clears the rest.
// - fieldOf(serverField) -> the form field a server error's `field` names ("config.backends.models[2].path",
//   "changes.spawn.command"), or null.
import { h } from "../core/component.js";
import { MAX_TTL_SEC } from "./model-ttl.js";

const FIELDS = [
  ["name", "Name", "What clients ask for. A plain name: no '/', '\\' or '..'."],
  ["path", "GGUF file", "The model file's path on the server."],
  ["aliases", "Aliases", "Other names for it, separated by commas."],
  ["group", "Group", "Models of one group run side by side; a model of another group stops them first. Empty: a group of its own."],
  ["ttl", "Unload after idle (seconds)", "0 = never; empty = backends.idleTimeoutSec."],
  ["spawn", "Spawn command", "Program and arguments: on one line split at spaces, or one per line. Empty = backends.defaultSpawn. "
    + "--model, --port, --host and --api-key are set by llama-dashboard."],
  ["mmproj", "Vision projector (mmproj)", "Optional: a projector GGUF passed as --mmproj."],
];
const FIXED = new Set(["path"]);
const RESERVED_FLAGS = ["--port", "--host", "--model", "--api-key", "--api-key-file"];

export function backendForm(key, { edit = false } = {}) {
  const id = (field) => `bf-${field}-${key}`.replace(/[^A-Za-z0-9_-]/g, "_");
  const field = ([name, label, hint]) => {
    const control = name === "spawn"
      ? h("textarea", { rows: 2, spellcheck: "false", autocomplete: "off" })
      : h("input", { type: name === "ttl" ? "number" : "text", inputmode: name === "ttl" ? "numeric" : null, min: name === "ttl" ? 0 : null,
        step: name === "ttl" ? 1 : null, spellcheck: "false", autocomplete: "off" });
    const fixed = edit && FIXED.has(name);
    for (const [k, v] of Object.entries({ id: id(name), name, "data-testid": `bf-${name}-${key}`,
      "aria-describedby": `${id(name)}-error ${id(name)}-hint`, readonly: fixed ? "" : null, required: ["name", "path"].includes(name) ? "" : null })) {
      if (v !== null) control.setAttribute(k, v);
    }
    return h("div", { class: `bf-field bf-field--${name}` },
      h("label", { for: id(name) }, label),
      control,
      h("p", { id: `${id(name)}-error`, class: "field-error", "data-error-for": name, "data-testid": `bf-${name}-error-${key}`, hidden: true }),
      h("small", { id: `${id(name)}-hint`, class: "muted" }, fixed ? `${hint} Fixed once added: remove the backend and add it again to change it.` : hint));
  };
  return h("form", { class: "backend-form", "data-backend-form": key, "data-testid": `backend-form-${key}`, novalidate: true },
    h("div", { class: "backend-form__grid" }, FIELDS.map(field)),
    h("label", { class: "pull-check" },
      h("input", { type: "checkbox", name: "pinned", "data-testid": `bf-pinned-${key}` }), " Pinned: never unloaded when idle, never evicted"),
    h("div", { class: "btn-row" },
      h("button", { type: "submit", class: "btn btn--primary", "data-testid": `bf-submit-${key}` }, edit ? "Save changes" : "Add backend"),
      h("p", { class: "bf-status", role: "status", "data-testid": `bf-status-${key}` })));
}

export function fillBackendForm(form, entry = {}) {
  const el = form.elements;
  el.name.value = entry.name || "";
  el.path.value = entry.path || "";
  el.aliases.value = (entry.aliases || []).join(", ");
  el.group.value = entry.group || "";
  el.ttl.value = Number.isInteger(entry.ttl) ? String(entry.ttl) : "";
  el.spawn.value = formatSpawn(entry.spawn?.command);
  el.mmproj.value = entry.mmproj || "";
  el.pinned.checked = entry.pinned === true;
}

/** Arguments with spaces inside can only be told apart one per line. */
export function formatSpawn(command) {
  if (!Array.isArray(command) || !command.length) return "";
  return command.some((a) => /\s/.test(a)) ? command.join("\n") : command.join(" ");
}

export function parseSpawn(text) {
  const raw = String(text ?? "").trim();
  if (!raw) return null;
  const parts = raw.includes("\n") ? raw.split("\n").map((l) => l.trim()) : raw.split(/\s+/);
  return parts.filter(Boolean);
}

export function plainNameProblem(name) {
  if (!name.trim()) return "Required.";
  if (/[/\\]/.test(name) || name.includes("..")) return `'${name}' must be a plain name: no '/', '\\' or '..'.`;
  if (/\p{Cc}/u.test(name)) return `'${name}' must not contain control characters.`;
  if (name.length > 256) return "At most 256 characters.";
  return "";
}

export function readBackendForm(form, { taken = [] } = {}) {
  const el = form.elements;
  const text = (name) => el[name].value.trim();
  const aliases = text("aliases").split(",").map((a) => a.trim()).filter(Boolean);
  const values = {
    name: text("name"), path: text("path"), aliases, group: text("group") || null, ttl: null,
    command: parseSpawn(el.spawn.value), mmproj: text("mmproj") || null, pinned: el.pinned.checked,
  };
  const errors = {};
  const nameProblem = plainNameProblem(values.name);
  if (nameProblem) errors.name = nameProblem;
  else if (taken.includes(values.name)) errors.name = `'${values.name}' is already the name or an alias of another backend model.`;
  if (!values.path) errors.path = "Required: the GGUF file's path.";
  const seen = new Set([values.name]);
  for (const alias of aliases) {
    const problem = plainNameProblem(alias) || (seen.has(alias) || taken.includes(alias) ? `'${alias}' is used twice or by another backend model.` : "");
    if (problem) { errors.aliases = problem; break; }
    seen.add(alias);
  }
  const ttl = text("ttl");
  if (ttl !== "") {
    const n = Number(ttl);
    if (!Number.isInteger(n) || n < 0 || n > MAX_TTL_SEC) errors.ttl = `Whole seconds from 0 to ${MAX_TTL_SEC}, or empty for the default.`;
    else values.ttl = n;
  } else if (el.ttl.validity?.badInput) {
    errors.ttl = `Whole seconds from 0 to ${MAX_TTL_SEC}, or empty for the default.`;
  }
  const flag = values.command?.find((a) => RESERVED_FLAGS.includes(a));
  if (flag) errors.spawn = `Must not contain ${flag}: llama-dashboard sets it.`;
  return { values, errors };
}

export function showBackendErrors(form, errors, fields) {
  for (const p of form.querySelectorAll("[data-error-for]")) {
    const name = p.dataset.errorFor;
    const message = !fields || fields.has(name) ? errors[name] || "" : "";
    p.hidden = !message;
    p.textContent = message;
    const control = form.elements[name];
    if (message) control.setAttribute("aria-invalid", "true");
    else control.removeAttribute("aria-invalid");
  }
}

export function fieldOf(serverField) {
  const rest = String(serverField || "").replace(/^config\.backends\.models\[\d+\]\.?/, "").replace(/^changes\.?/, "");
  const key = rest.split(/[.[]/)[0];
  if (key === "command" || key === "proxyEndpoints") return "spawn";
  return FIELDS.some(([name]) => name === key) ? key : null;
}
