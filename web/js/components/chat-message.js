// One message of the Playground transcript. Model output is only ever inserted as text.
//
// Contract: new ChatMessage(message) builds `el` (data-testid "pg-msg-<role>") from
// {role:"user"|"assistant", content, reasoning?, model?, stats?, error?, stopped?}; for an
// assistant message, append(piece) adds streamed {content?, reasoning?} text in place and
// showStats(text), showError(text) (role=alert) or markStopped() finish it. `message` is the same object,
// kept up to date, so a page can keep the transcript across visits.
import { h } from "../core/component.js";
import { formatCount, formatMs, formatRate } from "../core/format.js";

export class ChatMessage {
  constructor(message) {
    this.message = message;
    const assistant = message.role === "assistant";
    this.text = document.createTextNode(message.content || "");
    this.reasoningText = document.createTextNode(message.reasoning || "");
    const ended = Boolean(message.content || message.stats || message.error || message.stopped);
    this.el = h("article", { class: `msg msg--${message.role}`, "data-testid": `pg-msg-${message.role}` },
      h("h3", { class: "msg__who" }, assistant ? message.model || "Assistant" : "You"),
      assistant ? h("details", { class: "msg__reasoning", hidden: !message.reasoning },
        h("summary", {}, "Reasoning"), h("p", {}, this.reasoningText)) : null,
      h("p", { class: "msg__text", "data-testid": "pg-msg-text" }, this.text),
      assistant ? [
        h("p", { class: "msg__wait muted", hidden: ended }, "Waiting for the first token (a model that is not loaded yet loads first)…"),
        h("p", { class: "msg__stopped muted", hidden: !message.stopped, "data-testid": "pg-stopped" }, "Stopped."),
        h("p", { class: "msg__error", role: "alert", hidden: !message.error, "data-testid": "pg-error" }, message.error || ""),
        h("p", { class: "msg__stats muted", hidden: !message.stats, "data-testid": "pg-stats" }, message.stats || ""),
      ] : null);
  }

  append({ content, reasoning }) {
    if (content) {
      this.text.appendData(content);
      this.message.content = (this.message.content || "") + content;
    }
    if (reasoning) {
      this.reasoningText.appendData(reasoning);
      this.message.reasoning = (this.message.reasoning || "") + reasoning;
      this._part(".msg__reasoning").hidden = false;
    }
    this._part(".msg__wait").hidden = true;
  }

  showStats(text) {
    this.message.stats = text;
    const el = this._part(".msg__stats");
    el.textContent = text;
    el.hidden = false;
    this._part(".msg__wait").hidden = true;
  }

  showError(text) {
    this.message.error = text;
    const el = this._part(".msg__error");
    el.textContent = text;
    el.hidden = false;
    this._part(".msg__wait").hidden = true;
  }

  markStopped() {
    this.message.stopped = true;
    this._part(".msg__stopped").hidden = false;
    this._part(".msg__wait").hidden = true;
  }

  _part(selector) {
    return this.el.querySelector(selector);
  }
}

/**
 * "16 tokens · 85.3 tok/s · first token 230 ms · prompt 21 tokens · 0.4 s": speed from
 * llama-server's timings when present, else generated pieces over the time after the first one.
 */
export function describeResult(result) {
  const usage = result.usage || {};
  const timings = result.timings || {};
  const generated = usage.completion_tokens ?? timings.predicted_n ?? result.pieces;
  let speed = timings.predicted_per_second;
  if (!Number.isFinite(speed) && Number.isFinite(result.firstTokenMs) && generated > 1) {
    const seconds = (result.totalMs - result.firstTokenMs) / 1000;
    speed = seconds > 0 ? (generated - 1) / seconds : null;
  }
  const parts = [`${formatCount(generated)} ${generated === 1 ? "token" : "tokens"}`, formatRate(speed)];
  parts.push(`first token ${formatMs(result.firstTokenMs)}`);
  const prompt = usage.prompt_tokens ?? timings.prompt_n;
  if (Number.isFinite(prompt)) parts.push(`prompt ${formatCount(prompt)} tokens`);
  parts.push(`total ${formatMs(result.totalMs)}`);
  if (result.finishReason === "length") parts.push("stopped at max tokens");
  return parts.join(" · ");
}
