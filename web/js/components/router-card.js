// Dashboard card for the llama-server router: state, url, pid, uptime, restarts, and the
// error with llama-server's last lines when it failed or crashed; Start / Stop / Restart.
//
// Contract: props {state}. Renders once and patches on every `router` change (RouterStatus
// from the snapshot, `router:status` broadcasts and the action replies). Uptime ticks locally
// from the last uptimeMs. Buttons: Start when stopped/failed/crashed, Stop when running/
// starting/crashed, Restart when running/failed/crashed; all disabled while an action is in
// flight or the socket is not connected. A failed reply is shown (role=alert) until the next action.
import { Component, h } from "../core/component.js";
import { DASH, formatDuration } from "../core/format.js";
import { statusBadge, patchBadge } from "./status-badge.js";

/** router:start waits for llama-server's /health, with retries: allow far more than a plain request. */
const ACTION_TIMEOUT_MS = 300000;
const ENABLED_IN = {
  start: ["stopped", "failed", "crashed"],
  stop: ["running", "starting", "crashed"],
  restart: ["running", "failed", "crashed"],
};

export class RouterCard extends Component {
  getEventMap() {
    return { "click button[data-router-action]": "handleAction" };
  }

  render() {
    return h(
      "section",
      { class: "card router-card", "aria-labelledby": "router-title", "data-testid": "router-card" },
      h("div", { class: "router-card__head" },
        h("h2", { id: "router-title" }, "llama-server router"),
        statusBadge("router-state"),
        h("div", { class: "btn-row router-card__actions" },
          actionButton("start", "Start", "btn--primary"), actionButton("stop", "Stop"), actionButton("restart", "Restart"))),
      h("dl", { class: "facts" },
        fact("URL", "url", "router-url", "wide"), fact("PID", "pid", "router-pid"), fact("Uptime", "uptime", "router-uptime"),
        fact("Restarts", "restarts", "router-restarts"), fact("Exit code", "exitCode", "router-exit-code")),
      h("p", { class: "notice notice--error", role: "alert", "data-ref": "actionError", "data-testid": "router-action-error", hidden: true }),
      h("div", { class: "router-failure", "data-ref": "failure", hidden: true },
        h("p", { class: "notice notice--error", "data-ref": "error", "data-testid": "router-error" }),
        h("div", { "data-ref": "linesBox", hidden: true },
          h("h3", { id: "router-lines-title" }, "Last output lines"),
          h("pre", { class: "log-tail", tabindex: "0", "aria-labelledby": "router-lines-title", "data-ref": "lines", "data-testid": "router-lines" }))),
    );
  }

  onMount() {
    this.refsCache = this.refs();
    this.refsCache.badge = this.el.querySelector(".status");
    this.busy = false;
    const { state } = this.props;
    this.own(state.subscribe("router", (router) => this._show(router)));
    this.own(state.subscribe("connection", () => this._patchButtons()));
    const timer = setInterval(() => this._tickUptime(), 1000);
    this.own(() => clearInterval(timer));
  }

  async handleAction(event, button) {
    const action = button.dataset.routerAction;
    this._setBusy(true, null);
    try {
      const status = await this.props.state.request(`router:${action}`, {}, { timeoutMs: ACTION_TIMEOUT_MS });
      if (status?.state) this.props.state.set("router", status);
      this._setBusy(false, null);
    } catch (err) {
      this._setBusy(false, err);
    }
    this._keepFocus();
  }

  /** The clicked button may now be disabled (focus fell to <body>): move focus to the next useful action. */
  _keepFocus() {
    const active = document.activeElement;
    if (!this.el || (active && active !== document.body && !active.disabled)) return;
    this.el.querySelector("button[data-router-action]:not(:disabled)")?.focus();
  }

  _setBusy(busy, error) {
    if (!this.el) return;
    this.busy = busy;
    const { actionError } = this.refsCache;
    actionError.hidden = !error;
    actionError.textContent = error ? error.message : "";
    this._patchButtons();
  }

  _show(router) {
    if (!router) return;
    this.router = router;
    const r = this.refsCache;
    patchBadge(r.badge, router.state);
    setText(r.url, router.url || DASH);
    setText(r.pid, router.pid ?? DASH);
    setText(r.restarts, router.restarts ?? DASH);
    setText(r.exitCode, router.exitCode ?? DASH);
    this.uptime = router.state === "running" && Number.isFinite(router.uptimeMs)
      ? { ms: router.uptimeMs, at: performance.now() } : null;
    this._tickUptime();
    const failed = ["failed", "crashed"].includes(router.state) && Boolean(router.error || router.lastLines?.length);
    r.failure.hidden = !failed;
    setText(r.error, router.error || `The router ${router.state}.`);
    const lines = (router.lastLines || []).join("\n");
    r.linesBox.hidden = !lines;
    if (r.lines.textContent !== lines) {
      r.lines.textContent = lines;
      r.lines.scrollTop = r.lines.scrollHeight; // the newest line is the interesting one
    }
    this._patchButtons();
  }

  _tickUptime() {
    const { uptime } = this.refsCache;
    setText(uptime, this.uptime ? formatDuration((this.uptime.ms + performance.now() - this.uptime.at) / 1000) : DASH);
  }

  _patchButtons() {
    const connected = this.props.state.get("connection") === "connected";
    const routerState = this.router?.state;
    for (const button of this.el.querySelectorAll("button[data-router-action]")) {
      const allowed = ENABLED_IN[button.dataset.routerAction].includes(routerState);
      button.disabled = this.busy || !connected || !allowed;
    }
  }
}

function actionButton(action, label, extra = "") {
  return h("button", { type: "button", class: `btn ${extra}`.trim(), "data-router-action": action,
    "data-testid": `router-${action}`, disabled: true }, label);
}

function fact(label, ref, testid, modifier) {
  return h("div", { class: modifier ? `facts__item facts__item--${modifier}` : "facts__item" },
    h("dt", {}, label), h("dd", { "data-ref": ref, "data-testid": testid }, DASH));
}

function setText(el, text) {
  const value = String(text);
  if (el.textContent !== value) el.textContent = value;
}
