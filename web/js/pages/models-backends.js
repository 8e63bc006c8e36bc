// Own backends (`backends.models` of the init file), edited from the Models page without JSON:
// - adding and removing rewrite the list: `router:init:load`, then `router:init:save {config, revision}` with the
//   file as loaded and only that list changed. A CONFLICT (the file changed in between: another editor, a
//   models:update) loads it again and reapplies the change once; a second one is the user's to retry.
// - editing one sends `models:update {id, changes}` with only the keys that changed (name, group, aliases,
//   ttl, spawn, mmproj, pinned); the path cannot change that way (a new file is a new backend).
// Errors are RequestErrors as the server sent them (`field` names the key: see backend-form.js fieldOf).
const SAVE_TIMEOUT_MS = 150000; // a save that restarts the router waits for its requests in flight

/** The init file as loaded: {fileConfig, revision, entries: backends.models}. */
export async function loadBackends(state) {
  const data = await state.request("router:init:load", {});
  const fileConfig = data.fileConfig || data.config || {};
  return { fileConfig, revision: data.revision, entries: fileConfig.backends?.models || [] };
}

/** The init-file entry of a new manual backend from the form's values (keys left out take their defaults). */
export function entryFrom(values, fileConfig) {
  const entry = { name: values.name, path: values.path, state: "manual" };
  if (values.group) entry.group = values.group;
  if (values.aliases.length) entry.aliases = values.aliases;
  if (values.ttl !== null) entry.ttl = values.ttl;
  if (values.command) entry.spawn = spawnOf(values.command, null, fileConfig);
  if (values.mmproj) entry.mmproj = values.mmproj;
  if (values.pinned) entry.pinned = true;
  return entry;
}

/** A per-model spawn keeps the forwarded endpoints it had, or the default spawn's. */
function spawnOf(command, original, fileConfig) {
  const proxyEndpoints = original?.proxyEndpoints || fileConfig?.backends?.defaultSpawn?.proxyEndpoints;
  return proxyEndpoints ? { command, proxyEndpoints } : { command };
}

/** `models:update`'s changes from the entry as loaded to the form's values; {} when nothing changed. */
export function changesFrom(original, values, fileConfig) {
  const changes = {};
  const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
  if (original.name !== values.name) changes.name = values.name;
  if ((original.mmproj || null) !== values.mmproj) changes.mmproj = values.mmproj;
  if ((original.group || null) !== values.group) changes.group = values.group;
  if (!same(original.aliases || [], values.aliases)) changes.aliases = values.aliases;
  if ((Number.isInteger(original.ttl) ? original.ttl : null) !== values.ttl) changes.ttl = values.ttl;
  if (!same(original.spawn?.command || null, values.command)) {
    changes.spawn = values.command ? spawnOf(values.command, original.spawn, fileConfig) : null;
  }
  if ((original.pinned === true) !== values.pinned) changes.pinned = values.pinned;
  return changes;
}

export async function addBackend(state, values) {
  return saveList(state, (entries, fileConfig) => [...entries, entryFrom(values, fileConfig)]);
}

export async function removeBackend(state, name) {
  return saveList(state, (entries) => entries.filter((m) => m.name !== name));
}

export function updateBackend(state, id, changes) {
  return state.request("models:update", { id, changes });
}

async function saveList(state, edit) {
  for (let attempt = 0; ; attempt += 1) {
    const { fileConfig, revision, entries } = await loadBackends(state);
    const config = structuredClone(fileConfig);
    config.backends = { ...config.backends, models: edit(entries, fileConfig) };
    try {
      const saved = await state.request("router:init:save", { config, revision }, { timeoutMs: SAVE_TIMEOUT_MS });
      await refreshModels(state);
      return saved;
    } catch (err) {
      if (err.code !== "CONFLICT" || attempt > 0) throw err;
    }
  }
}

/** The list as the server has it now (a save of the init file announces no `models:updated`). */
async function refreshModels(state) {
  try {
    const { models } = await state.request("models:list", {});
    if (Array.isArray(models)) state.set("models", models);
  } catch {
    // The next snapshot or models:updated brings it.
  }
}
