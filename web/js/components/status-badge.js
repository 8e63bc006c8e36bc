// Status badges for model and router states. The state is always written as text next to a
// glyph, so it never depends on color alone; the tone (a CSS modifier) only adds the color.
//
// Contract: statusBadge(testid) -> <span>; patchBadge(el, state) sets its text, tone and
// data-state (a no-op when unchanged). Unknown states read as their own name, tone "idle".
import { h } from "../core/component.js";

const TONES = {
  loaded: "ok",
  running: "ok",
  loading: "busy",
  unloading: "busy",
  starting: "busy",
  stopping: "busy",
  unloaded: "idle",
  stopped: "idle",
  error: "error",
  crashed: "error",
  failed: "error",
};

const GLYPHS = { ok: "●", busy: "◐", idle: "○", error: "✕" };

export function statusBadge(testid) {
  return h(
    "span",
    { class: "status status--idle", "data-testid": testid },
    h("span", { class: "status__glyph", "aria-hidden": "true" }, GLYPHS.idle),
    h("span", { class: "status__text" }, "—"),
  );
}

export function patchBadge(el, state) {
  const text = state || "unknown";
  if (el.dataset.state === text) return;
  const tone = TONES[text] || "idle";
  el.dataset.state = text;
  el.className = `status status--${tone}`;
  el.querySelector(".status__glyph").textContent = GLYPHS[tone];
  el.querySelector(".status__text").textContent = text;
}
