// The Models page's forms: a router-mode model's TTL (`models:update {id, changes:{ttl}}`), the import of a
// directory (`models:import {dir}`), and the own backend form (add: the init file's backends.models through
// models-backends.js; edit: `models:update` with what changed), checked as typed: a field shows its
// problem once it was typed in, every field on submit; a server error is shown at the field it names.
import { parseTtl } from "../components/model-ttl.js";
import { fieldOf, fillBackendForm, readBackendForm, showBackendErrors } from "../components/backend-form.js";
import { addBackend, changesFrom, updateBackend } from "./models-backends.js";

/** Names and aliases of the backend models other than `except`. */
function takenNames(state, except) {
  return (state.get("models") || [])
    .filter((m) => m.source === "backend" && m.id !== except)
    .flatMap((m) => [m.id, ...(m.aliases || [])]);
}

export function validateBackendForm(state, form, control) {
  form.touched ||= new Set();
  if (control?.name) form.touched.add(control.name);
  const key = form.dataset.backendForm;
  const { errors } = readBackendForm(form, { taken: takenNames(state, key === "add" ? null : key) });
  showBackendErrors(form, errors, form.touched);
}

/** Add (key "add") or edit (key = the model id); `manage`: the edited row's ModelManage. */
export async function submitBackendForm(state, form, manage) {
  const key = form.dataset.backendForm;
  const adding = key === "add";
  const status = form.querySelector("[role=status]");
  const { values, errors } = readBackendForm(form, { taken: takenNames(state, adding ? null : key) });
  form.touched = new Set(["name", "path", "aliases", "group", "ttl", "spawn", "mmproj"]); // from now on, as typed
  showBackendErrors(form, errors);
  if (Object.keys(errors).length) {
    status.textContent = "Not saved: fix the fields marked above.";
    form.querySelector("[aria-invalid=true]")?.focus();
    return;
  }
  let changes = null;
  if (!adding) {
    if (!manage?.original) return void (status.textContent = "The settings are still loading.");
    changes = changesFrom(manage.original, values, manage.fileConfig);
    if (!Object.keys(changes).length) return void (status.textContent = "Nothing changed.");
  }
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  status.textContent = "Saving…";
  try {
    if (adding) {
      await addBackend(state, values);
      status.textContent = `Added ${values.name}.`;
      fillBackendForm(form, {});
      form.touched = new Set();
    } else {
      await updateBackend(state, key, changes);
      const keys = Object.keys(changes);
      const later = keys.some((k) => ["group", "aliases", "spawn", "mmproj"].includes(k)) ? " Applies from its next start." : "";
      // A renamed backend gets the row of its new name from the next models:updated; this one goes.
      if (!("name" in changes)) await manage.load();
      status.textContent = `Saved: ${keys.join(", ")}.${later}`;
    }
  } catch (err) {
    const field = fieldOf(err.field);
    if (field) {
      showBackendErrors(form, { [field]: err.message }, new Set([field]));
      form.elements[field]?.focus();
    }
    status.textContent = err.code === "CONFLICT"
      ? `Not saved: ${err.message}. Try again: it loads the file as it is now.`
      : `Not saved: ${err.message}`;
  } finally {
    if (form.isConnected) button.disabled = false;
  }
}

/** Save TTL: `models:update {id, changes:{ttl}}`; the models:updated broadcast brings the new value. */
export async function submitTtl(state, form) {
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
    await state.request("models:update", { id, changes: { ttl } });
    status.textContent = ttl === null ? "Saved: back to the default" : "Saved";
    input.value = "";
  } catch (err) {
    status.textContent = `Not saved: ${err.message}`;
    input.setAttribute("aria-invalid", "true");
  } finally {
    button.disabled = false;
  }
}

/** `models:import {dir}`: the server checks the directory against its roots and saves the init file. */
export async function submitImport(state, form, importStatus) {
  const input = form.elements.dir;
  const button = form.querySelector("button");
  button.disabled = true;
  importStatus.textContent = "Importing…";
  input.removeAttribute("aria-invalid");
  try {
    const { added } = await state.request("models:import", { dir: input.value.trim() });
    importStatus.textContent = added.length ? `Added ${added.length}: ${added.join(", ")}` : "Nothing new in that directory.";
  } catch (err) {
    importStatus.textContent = `Not imported: ${err.message}`;
    input.setAttribute("aria-invalid", "true");
  } finally {
    if (form.isConnected) button.disabled = false;
  }
}
