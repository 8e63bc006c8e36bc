// What the Models page's row buttons do (the page delegates the clicks here with the row they belong to).
// - Load asks `models:plan {id}` first (it changes nothing): a plan the server would refuse shows its
//   `refused` reason and loads nothing; one that would unload other models, or whose estimate does not fit,
//   asks first, in a dialog naming each model it unloads with the requests it is serving; otherwise it
//   loads at once. A plan that cannot be had (an older
//   server) does not stand in the way: the server still refuses what it must.
// - Pin flips `pinned` with `models:update`; Delete file and Remove from own backends ask first, in a
//   dialog naming the file and its size. Their refusals (CONFLICT, BAD_REQUEST) show in the details.
import { h } from "../core/component.js";
import { formatBytes } from "../core/format.js";
import { confirmDialog } from "../components/confirm-dialog.js";
import { removeBackend } from "./models-backends.js";

const REASONS = {
  "group swap": "it is of another group", "models-max": "the router holds its most models loaded at once",
  memory: "to free memory", evicted: "backends.maxRunning backends run already",
};
const plural = (n, one) => `${n} ${one}${n === 1 ? "" : "s"}`;

export async function plannedLoad(state, row) {
  const id = row.id;
  row.setBusy("load");
  let plan = null;
  try {
    plan = await state.request("models:plan", { id });
  } catch {
    plan = null;
  }
  if (plan?.refused) {
    row.setBusy(null, new Error(plan.refused));
    return;
  }
  // A router-mode model whose estimate does not fit is not refused (the router tries anyway): ask first.
  if (plan?.evicts?.length || plan?.fits === false) {
    const ok = await confirmDialog({
      title: `Load ${id}?`, body: planBody(id, plan), confirmLabel: `Unload and load ${id}`, testid: "plan-dialog",
    });
    if (!ok) {
      row.focusAfter = null; // nothing happened: focus goes back to Load, not to Unload later
      return row.setBusy(null);
    }
  }
  try {
    await state.request("models:load", { id });
    row.setBusy(null);
  } catch (err) {
    row.setBusy(null, err);
  }
}

/** "Loading b will unload a, which is serving 2 requests (1 queued)." for each model the load would unload. */
export function evictLine(id, e) {
  return `Loading ${id} will unload ${e.id}, which is serving ${plural(e.running ?? 0, "request")} (${e.queued ?? 0} queued).`;
}

function planBody(id, plan) {
  return [
    plan.summary ? h("p", { "data-testid": "plan-summary" }, plan.summary) : null,
    h("ul", { class: "plan-evicts", "data-testid": "plan-evicts" },
      plan.evicts.map((e) => h("li", { "data-model": e.id }, evictLine(id, e),
        e.reason ? h("span", { class: "muted" }, ` Why: ${REASONS[e.reason] || e.reason}.`) : null))),
    h("p", { class: "muted" }, "Requests in flight finish first; queued ones wait for the model they asked for."),
  ];
}

export async function togglePin(state, row) {
  const button = row.refs.pin;
  row.setBusy("pin");
  try {
    await state.request("models:update", { id: row.id, changes: { pinned: !row.model?.pinned } });
    row.setBusy(null);
  } catch (err) {
    row.setBusy(null, err);
  }
  // It was disabled while saving, which took the focus away: give it back for the next press.
  if (button.isConnected && (!document.activeElement || document.activeElement === document.body)) button.focus();
}

export async function deleteFile(state, row, notify) {
  const m = row.model;
  const manual = m.source === "backend" && m.state === "manual";
  const ok = await confirmDialog({
    title: `Delete the file of ${m.id}?`,
    body: [
      h("p", {}, "This deletes ", h("code", { "data-testid": "delete-path" }, m.path), " (",
        h("span", { "data-testid": "delete-size" }, formatBytes(m.sizeBytes)), ") from disk. It cannot be undone."),
      manual ? h("p", {}, `${m.id} is also removed from the own backends.`) : null,
    ],
    confirmLabel: "Delete file", danger: true, testid: "delete-dialog",
  });
  if (!ok) return;
  row.manage.showError(null);
  try {
    const done = await state.request("models:delete", { id: m.id }, { timeoutMs: 30000 });
    notify(`Deleted ${done.path || m.path} (${formatBytes(done.bytes ?? m.sizeBytes)}).`);
  } catch (err) {
    row.manage.showError(`Not deleted: ${err.message}`);
  }
}

export async function removeFromBackends(state, row, notify) {
  const m = row.model;
  const ok = await confirmDialog({
    title: `Remove ${m.id} from the own backends?`,
    body: h("p", {}, `${m.id} is taken out of backends.models in the init file. Its file `, h("code", {}, m.path), " stays."),
    confirmLabel: "Remove", danger: true, testid: "remove-dialog",
  });
  if (!ok) return;
  row.manage.showError(null);
  try {
    await removeBackend(state, m.id);
    notify(`Removed ${m.id} from the own backends.`);
  } catch (err) {
    row.manage.showError(`Not removed: ${err.message}`);
  }
}
