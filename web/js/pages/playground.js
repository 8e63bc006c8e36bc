// Playground page: chat with a model through this server's own /v1 proxy (fetch, not the socket).
//
// POSTs /v1/chat/completions {model, messages, stream:true, stream_options:{include_usage:true},
// max_tokens, temperature} and appends the streamed text live (core/chat-stream.js). Stop aborts
// the fetch (AbortController); leaving the page aborts too. When the reply ends it shows the
// token counts and speed; HTTP errors and `data: {"error"}` events are shown in the transcript.
// The transcript and settings live in this module, so they survive a visit to another page;
// the API key (for servers with security.apiKeys) is kept in localStorage and sent as a Bearer token.
import { Component, h, replaceChildren } from "../core/component.js";
import { streamChat } from "../core/chat-stream.js";
import { ChatMessage, describeResult } from "../components/chat-message.js";

export const API_KEY_KEY = "llamaDashboard.apiKey";
const session = { model: "", system: "", maxTokens: 256, temperature: 0.7, messages: [] };

export class PlaygroundPage extends Component {
  getEventMap() {
    return {
      "submit form[data-ref=composer]": "handleSend",
      "keydown textarea[data-ref=input]": "handleKey",
      "click button[data-ref=stop]": "handleStop",
      "click button[data-ref=clear]": "handleClear",
      "change form[data-ref=settings]": "handleSettings",
      "submit form[data-ref=settings]": "handleSettingsSubmit",
    };
  }

  render() {
    const field = (id, label, control, hint) => h("div", { class: "form__field" },
      h("label", { for: id }, label), control,
      hint ? h("small", { id: `${id}-hint`, class: "muted" }, hint) : null);
    return h(
      "section",
      { class: "page playground", "aria-labelledby": "page-title" },
      h("header", { class: "page-head" },
        h("div", {},
          h("h1", { id: "page-title" }, "Playground"),
          h("p", { class: "muted page-sub" }, "Chat with a model through this server's ", h("code", {}, "/v1/chat/completions"), ", streamed."))),
      h("div", { class: "pg-layout" },
        h("form", { class: "card form pg-settings", "data-ref": "settings", "aria-label": "Chat settings", novalidate: true },
          field("pg-model", "Model", h("select", { id: "pg-model", name: "model", "data-testid": "pg-model", "aria-describedby": "pg-model-hint" }),
            "Models that are not loaded are loaded on the first request."),
          field("pg-system", "System prompt", h("textarea", { id: "pg-system", name: "system", rows: 3, "data-testid": "pg-system",
            placeholder: "Optional, e.g. You are a concise assistant." })),
          h("div", { class: "pg-pair" },
            field("pg-max-tokens", "Max tokens", h("input", { id: "pg-max-tokens", name: "maxTokens", type: "number", inputmode: "numeric",
              min: 1, max: 32768, step: 1, "data-testid": "pg-max-tokens" })),
            field("pg-temperature", "Temperature", h("input", { id: "pg-temperature", name: "temperature", type: "number", inputmode: "decimal",
              min: 0, max: 2, step: 0.1, "data-testid": "pg-temperature" }))),
          field("pg-api-key", "API key", h("input", { id: "pg-api-key", name: "apiKey", type: "password", autocomplete: "off",
            spellcheck: "false", "data-testid": "pg-api-key", "aria-describedby": "pg-api-key-hint" }),
            "Only for servers with security.apiKeys; kept in this browser."),
          h("button", { type: "button", class: "btn", "data-ref": "clear", "data-testid": "pg-clear" }, "Clear conversation")),
        h("section", { class: "card pg-chat", "aria-label": "Conversation" },
          h("p", { class: "notice notice--warn", "data-ref": "noModels", "data-testid": "pg-no-models", hidden: true },
            "No models to chat with. Put a GGUF file in the models directory (see ",
            h("a", { href: "/models", "data-link": true }, "Models"), ")."),
          h("div", { class: "pg-transcript", role: "log", tabindex: "0", "aria-label": "Transcript", "data-ref": "transcript", "data-testid": "pg-transcript" }),
          h("p", { class: "muted pg-status", role: "status", "data-ref": "status", "data-testid": "pg-status" }),
          h("form", { class: "pg-composer", "data-ref": "composer" },
            h("label", { for: "pg-input", class: "visually-hidden" }, "Message"),
            h("textarea", { id: "pg-input", name: "prompt", rows: 3, "data-ref": "input", "data-testid": "pg-input", required: true,
              placeholder: "Message the model… (Enter sends, Shift+Enter adds a line)" }),
            h("div", { class: "btn-row pg-actions" },
              h("button", { type: "submit", class: "btn btn--primary", "data-ref": "send", "data-testid": "pg-send" }, "Send"),
              h("button", { type: "button", class: "btn", "data-ref": "stop", "data-testid": "pg-stop", disabled: true }, "Stop"))))),
    );
  }

  onMount() {
    this.r = this.refs();
    this.controller = null;
    const form = this.r.settings.elements;
    form.system.value = session.system;
    form.maxTokens.value = session.maxTokens;
    form.temperature.value = session.temperature;
    form.apiKey.value = readKey();
    replaceChildren(this.r.transcript, session.messages.map((m) => new ChatMessage(m).el));
    this._emptyHint();
    this.own(this.props.state.subscribe("models", (models) => this._modelOptions(models)));
    this.own(() => this.controller?.abort());
  }

  handleSettingsSubmit(event) {
    event.preventDefault();
  }

  handleSettings(event) {
    const form = this.r.settings.elements;
    session.model = form.model.value;
    session.system = form.system.value;
    if (event.target === form.apiKey) writeKey(form.apiKey.value.trim());
    const max = Number(form.maxTokens.value);
    if (Number.isInteger(max) && max >= 1) session.maxTokens = max;
    const temperature = Number(form.temperature.value);
    if (form.temperature.value !== "" && temperature >= 0 && temperature <= 2) session.temperature = temperature;
  }

  handleKey(event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      this.r.composer.requestSubmit();
    } else if (event.key === "Escape" && this.controller) {
      this.handleStop();
    }
  }

  handleStop() {
    this.controller?.abort();
  }

  handleClear() {
    this.controller?.abort();
    session.messages = [];
    replaceChildren(this.r.transcript);
    this._emptyHint();
    this.r.status.textContent = "Conversation cleared.";
    this.r.input.focus();
  }

  async handleSend(event) {
    event.preventDefault();
    if (this.controller) return;
    const form = this.r.settings.elements;
    const prompt = this.r.input.value.trim();
    const model = form.model.value;
    if (!prompt || !model) {
      this.r.status.textContent = !model ? "Choose a model first." : "Type a message first.";
      return;
    }
    this.handleSettings({ target: null });
    const history = session.messages.filter((m) => !m.error && m.content).map(({ role, content }) => ({ role, content }));
    const user = { role: "user", content: prompt };
    const reply = new ChatMessage({ role: "assistant", content: "", model });
    this._add(new ChatMessage(user));
    this._add(reply);
    this.r.input.value = "";
    const messages = [...(session.system.trim() ? [{ role: "system", content: session.system.trim() }] : []), ...history, user];
    const body = {
      model, messages, stream: true, stream_options: { include_usage: true },
      max_tokens: session.maxTokens, temperature: session.temperature,
    };
    await this._stream(body, reply, form.apiKey.value.trim());
  }

  async _stream(body, reply, apiKey) {
    const controller = new AbortController();
    this.controller = controller;
    this._busy(true);
    this.r.status.textContent = `Asking ${body.model}…`;
    try {
      const result = await streamChat({
        body, apiKey, signal: controller.signal,
        onDelta: (piece) => { reply.append(piece); this._follow(); },
      });
      reply.showStats(describeResult(result));
      this._say(`Reply finished: ${reply.message.stats}`);
    } catch (err) {
      if (err?.name === "AbortError") {
        reply.markStopped();
        this._say("Stopped.");
      } else {
        reply.showError(err?.message || String(err));
        this._say("The request failed.");
      }
    } finally {
      this.controller = null;
      this._busy(false);
      this._follow(true);
    }
  }

  _add(message) {
    session.messages.push(message.message);
    this.r.transcript.append(message.el);
    this._emptyHint();
    this._follow(true);
  }

  _busy(busy) {
    if (!this.el) return;
    const { send, stop, input, transcript } = this.r;
    const hadStopFocus = document.activeElement === stop;
    send.disabled = busy;
    stop.disabled = !busy;
    transcript.setAttribute("aria-busy", String(busy));
    if (!busy && hadStopFocus) input.focus();
  }

  /** Keeps the newest text in view unless the reader scrolled up. */
  _follow(force = false) {
    const t = this.r.transcript;
    if (force || t.scrollHeight - t.scrollTop - t.clientHeight < 80) t.scrollTop = t.scrollHeight;
  }

  _say(text) {
    if (this.el) this.r.status.textContent = text;
  }

  _emptyHint() {
    this.r.transcript.dataset.empty = String(session.messages.length === 0);
  }

  _modelOptions(models) {
    const list = Array.isArray(models) ? models : [];
    const select = this.r.settings.elements.model;
    const key = list.map((m) => `${m.id}:${m.status}`).join("\n");
    this.r.noModels.hidden = list.length > 0;
    if (key === this.modelsKey) return;
    this.modelsKey = key;
    const chosen = select.value || session.model;
    replaceChildren(select, list.map((m) => h("option", { value: m.id }, m.status === "loaded" ? `${m.id} (loaded)` : m.id)));
    const fallback = list.find((m) => m.status === "loaded") || list[0];
    select.value = list.some((m) => m.id === chosen) ? chosen : fallback?.id || "";
    session.model = select.value;
  }
}

function readKey() {
  try {
    return localStorage.getItem(API_KEY_KEY) || "";
  } catch {
    return "";
  }
}

function writeKey(key) {
  try {
    if (key) localStorage.setItem(API_KEY_KEY, key);
    else localStorage.removeItem(API_KEY_KEY);
  } catch {
    // Storage may be unavailable (private mode): the key still applies to requests from this page.
  }
}
