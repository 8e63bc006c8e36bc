// A model's idle unload: its TTL (`ttlSec`, 0 = never), a live countdown to `unloadAt` while it
// is loaded, and the form that changes the TTL with `models:update {id, changes:{ttl}}`.
//
// Contract:
// - idleCell(id, label) -> <td> with refs "unloadIn" (testid "unload-in-<id>") and "ttl"
//   (testid "ttl-<id>"); patchIdle(refs, model, nowMs) rewrites both (call it every second). A pinned
//   model is never unloaded when idle: no countdown, and "pinned: no idle unload" instead of its TTL.
// - ttlForm(id) -> <form data-ttl-form="<id>"> with input name "ttl" (testid "ttl-input-<id>"),
//   Save ("ttl-save-<id>") and a status line ("ttl-status-<id>"); parseTtl(text) -> {ttl} or {error}.
import { h } from "../core/component.js";
import { DASH, formatDuration } from "../core/format.js";

export const MAX_TTL_SEC = 31536000;

export function idleCell(id, label) {
  return h("td", { class: "model__idle", "data-label": label },
    h("span", { class: "model__unload-in", "data-ref": "unloadIn", "data-testid": `unload-in-${id}`, hidden: true }),
    h("span", { class: "model__ttl muted", "data-ref": "ttl", "data-testid": `ttl-${id}` }, DASH));
}

/** "TTL 5m 00s", "TTL off" (0: never unloaded), or a dash when the server did not say. */
export function describeTtl(ttlSec) {
  if (!Number.isFinite(ttlSec)) return DASH;
  return ttlSec === 0 ? "TTL off" : `TTL ${formatDuration(ttlSec)}`;
}

/** For a loaded model: "never", "in use" (busy: no deadline) or "unloads in 4m 12s"; else null (also when pinned). */
export function describeCountdown(model, nowMs) {
  if (model?.status !== "loaded" || model.pinned) return null;
  if (model.ttlSec === 0) return "never";
  if (!Number.isFinite(model.unloadAt)) return "in use";
  const left = Math.max(0, (model.unloadAt - nowMs) / 1000);
  return left < 1 ? "unloading now" : `unloads in ${formatDuration(left)}`;
}

export function patchIdle(refs, model, nowMs) {
  const countdown = describeCountdown(model, nowMs);
  refs.unloadIn.hidden = countdown === null;
  setText(refs.unloadIn, countdown || "");
  setText(refs.ttl, model?.pinned ? "pinned: no idle unload" : describeTtl(model?.ttlSec));
  const input = refs.ttlInput;
  if (input) {
    const placeholder = Number.isFinite(model?.ttlSec) ? `now ${model.ttlSec}` : "default";
    if (input.placeholder !== placeholder) input.placeholder = placeholder;
  }
}

export function ttlForm(id) {
  const inputId = `ttl-input-${id}`.replace(/[^A-Za-z0-9_-]/g, "_");
  return h("form", { class: "ttl-form", "data-ttl-form": id, novalidate: true },
    h("label", { for: inputId }, "Unload after idle (seconds)"),
    h("div", { class: "inline-form" },
      h("input", { id: inputId, name: "ttl", type: "number", inputmode: "numeric", min: 0, max: MAX_TTL_SEC, step: 1,
        "data-ref": "ttlInput", "data-testid": `ttl-input-${id}`, "aria-describedby": `${inputId}-hint` }),
      h("button", { type: "submit", class: "btn", "data-testid": `ttl-save-${id}` }, "Save TTL"),
      h("span", { class: "ttl-form__status muted", role: "status", "data-testid": `ttl-status-${id}` })),
    h("small", { id: `${inputId}-hint`, class: "muted" },
      "0 = never unload; empty = the server default (models.idleTimeoutSec)."));
}

export function parseTtl(text) {
  const raw = String(text ?? "").trim();
  if (raw === "") return { ttl: null };
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > MAX_TTL_SEC) return { error: `Enter whole seconds from 0 to ${MAX_TTL_SEC}, or leave it empty.` };
  return { ttl: n };
}

function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}
