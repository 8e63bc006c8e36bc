// The Configuration page's side cards: Save (the check's status, Save and Revert, what the last save or
// revert did) and the llama-server command-line preview.
//
// Contract:
// - saveCard() and previewCard() -> <section>; their elements carry data-ref names (check, save, revert,
//   result, restartNotice, saveError; argv, argvNote) that the page's refs() finds.
// - showStatus(check, c, problems), showPreview(refs, c) and showOutcome(refs, c.outcome) render a
//   ConfigurationController's state (`c`) into them; showOutcome on the controller's "outcome" event, not on
//   every refresh, since the result and the save error are live regions.
import { h, replaceChildren } from "../core/component.js";
import { argvGroups, shellQuote } from "./config-text.js";

export function saveCard() {
  return h("section", { class: "card cfg-actions", "aria-labelledby": "cfg-actions-title" },
    h("h2", { id: "cfg-actions-title" }, "Save"),
    h("p", { class: "cfg-status", role: "status", "data-ref": "check", "data-testid": "validation-status" }, "Loading…"),
    h("div", { class: "btn-row" },
      h("button", { type: "button", class: "btn btn--primary", "data-action": "save", "data-ref": "save", "data-testid": "config-save", disabled: true }, "Save and apply"),
      h("button", { type: "button", class: "btn", "data-action": "revert", "data-ref": "revert", "data-testid": "config-revert", disabled: true }, "Revert")),
    h("div", { class: "cfg-result", role: "status", "data-ref": "result", "data-testid": "save-result" }),
    h("p", { class: "notice notice--warn", hidden: true, "data-ref": "restartNotice", "data-testid": "restart-notice" }),
    h("p", { class: "notice notice--error", role: "alert", hidden: true, "data-ref": "saveError", "data-testid": "save-error" }));
}

export function previewCard() {
  return h("section", { class: "card cfg-preview", "aria-labelledby": "cfg-preview-title" },
    h("h2", { id: "cfg-preview-title" }, "llama-server command line"),
    h("pre", { class: "cfg-argv", "data-ref": "argv", "data-testid": "argv-preview", "aria-describedby": "cfg-argv-note" }),
    h("p", { id: "cfg-argv-note", class: "muted cfg-note", "data-ref": "argvNote" }));
}

/** The check's status line; data-tone is idle | busy | ok | error, data-dirty whether there are unsaved edits. */
export function showStatus(check, c, problems) {
  let text;
  let tone = "idle";
  if (!c.config) text = c.loading ? "Loading…" : "Not loaded.";
  else if (c.parseError) [text, tone] = ["The JSON does not parse.", "error"];
  else if (c.saving) [text, tone] = ["Saving…", "busy"];
  else if (problems.length && !c.checking) [text, tone] = [`${problems.length} ${problems.length === 1 ? "problem" : "problems"} to fix before saving.`, "error"];
  else if (c.checking) [text, tone] = ["Checking…", "busy"];
  else if (c.checkError) [text, tone] = [`Could not check: ${c.checkError}`, "error"];
  else if (c.valid) [text, tone] = ["Valid.", "ok"];
  else text = "";
  const dirty = c.isDirty();
  if (c.config && !c.saving) text += dirty ? " Unsaved changes." : " No changes.";
  check.textContent = text.trim();
  check.dataset.tone = tone;
  check.dataset.dirty = String(dirty);
}

export function showPreview({ argv, argvNote }, c) {
  if (!c.args) {
    argv.textContent = "";
    argv.hidden = true;
    argvNote.textContent = c.config ? "Shown once the configuration is valid." : "Loading…";
    return;
  }
  argv.hidden = false;
  // One unbreakable group per program / flag with its value; lines break between groups.
  const groups = argvGroups([c.args.program, ...c.args.argv].map(shellQuote));
  replaceChildren(argv, groups.map((g, i) => [i ? " " : null, h("span", { class: "cfg-arg" }, g)]));
  argv.classList.toggle("cfg-argv--stale", c.argsStale || c.valid !== true);
  const notes = [];
  if (c.argsStale || c.valid === false || c.parseError) notes.push("For the last valid configuration.");
  if (c.config?.router?.enabled === false) notes.push("router.enabled is off: llama-server is not driven in router mode.");
  notes.push("Applied when you save; the router restarts when it changes.");
  argvNote.textContent = notes.join(" ");
}

/** The result lines, the save error and the restart notice for an outcome (see ConfigurationController). */
export function showOutcome({ result, saveError, restartNotice }, { kind, message, saved, token, routerRunning }) {
  const lines = kind === "saving" ? ["Saving… a router restart waits for the requests in flight to finish."]
    : kind === "reverted" ? ["Reverted: showing the init file as it is saved."]
      : kind === "saved" ? savedLines(saved, token, routerRunning)
        : [];
  replaceChildren(result, lines.map((p) => h("p", {}, p)));
  const error = kind === "restartFailed" ? `Saved, but the router could not restart: ${message}`
    : kind === "failed" ? `Not saved: ${message}` : "";
  saveError.hidden = !error;
  saveError.textContent = error;
  const keys = kind === "saved" && Array.isArray(saved.requiresRestart) ? saved.requiresRestart : [];
  restartNotice.hidden = keys.length === 0;
  replaceChildren(restartNotice, keys.length
    ? ["Restart llama-dashboard for: ", keys.map((k, i) => [i ? ", " : null, h("code", {}, k)])]
    : null);
}

/** What a save did: where it wrote, the backup, the router, and the admin token. */
function savedLines(data, token = {}, routerRunning) {
  const router = data.routerRestarted
    ? "The router restarted with the new command line."
    : routerRunning
      ? "The router kept running: its command line did not change."
      : "The router is not running; the new settings apply when it starts.";
  return [
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
  ];
}
