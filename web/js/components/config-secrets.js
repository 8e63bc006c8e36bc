// The secrets of an init file as the Configuration page handles them: each arrives as a placeholder
// ("***" and 12 hex digits, one per secret) and goes back as it is, so the server keeps that secret.
// tokenChange() tells what a save does to security.adminToken; withPlaceholders() puts the reply's
// placeholders in place of what was typed, so no secret is ever shown back.

/** A secret as the server shows it: "***" and 12 hex digits. */
const PLACEHOLDER = /^\*\*\*[0-9a-f]{12}$/;

/** A deep copy of a JSON value. */
export function clone(value) {
  return JSON.parse(JSON.stringify(value));
}

/**
 * How a save changes security.adminToken: {changed, typed}. `typed` is the new token when one was typed
 * (a string that is not a placeholder), "" when it is removed, undefined when it stays.
 */
export function tokenChange(loaded, submitted) {
  const token = (config) => (config?.security && typeof config.security === "object" ? config.security.adminToken ?? null : null);
  const before = token(loaded);
  const after = token(submitted);
  if (after === before) return { changed: false };
  if (typeof after === "string" && after !== "" && !PLACEHOLDER.test(after)) return { changed: true, typed: after };
  if (after === null || after === "") return { changed: before !== null, typed: before !== null ? "" : undefined };
  return { changed: false };
}

/** `submitted` with the secrets as the save's reply shows them (placeholders), so no typed secret is shown back. */
export function withPlaceholders(submitted, saved) {
  const out = clone(submitted);
  const from = saved?.security;
  const security = out.security;
  if (!from || !security || typeof security !== "object") return out;
  if ("adminToken" in security) security.adminToken = from.adminToken ?? null;
  if (Array.isArray(security.apiKeys) && Array.isArray(from.apiKeys)) security.apiKeys = from.apiKeys.slice();
  return out;
}
