// The /v1 proxy against the fake llama-server (tests/js/fake/llama-server.mjs) as its router: start both,
// talk OpenAI over HTTP, read the fake's record of what reached it, and read the stored request rows.
import assert from "node:assert/strict";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startServer } from "./server.mjs";
import { connect, ok, request, freePort, tempDir, until } from "./socket.mjs";

export const fakeBin = path.join(path.dirname(fileURLToPath(import.meta.url)), "../fake/llama-server.mjs");

const isObject = (v) => v && typeof v === "object" && !Array.isArray(v);
function merge(a, b) {
  const out = { ...a };
  for (const [k, v] of Object.entries(b || {})) out[k] = isObject(v) && isObject(a[k]) ? merge(a[k], v) : v;
  return out;
}

/**
 * Starts llama-dashboard with the fake as its router (running, its models listed) and a socket client.
 * `config` is merged over the defaults; `env` goes to both (FAKE_* knobs reach the fake).
 * The caller must `await ctx.stop()` (e.g. `after(() => ctx?.stop())` at file level, or `t.after`).
 */
export async function startWithFake({ config = {}, env = {} } = {}) {
  const models = tempDir("lldash-fake-");
  const routerPort = await freePort();
  const base = {
    router: { port: routerPort },
    models: { directory: models.dir, idleTimeoutSec: 0 },
    startup: { autoStart: false, timeout: 10000, retryAttempts: 0, retryDelay: 0 },
  };
  let server;
  let client;
  const stop = async () => { client?.close(); await server?.stop(); models.cleanup(); };
  try {
    server = await startServer({ config: merge(base, config), env: { LLAMA_SERVER_BIN: fakeBin, FAKE_LOAD_MS: "50", ...env } });
    client = await connect(server.url);
    const started = await request(client.socket, "router:start", {}, { timeoutMs: 15000 });
    assert.equal(started.data?.running, true, JSON.stringify(started));
    await until(async () => {
      const ids = (await ok(client.socket, "models:list", {})).models.map((m) => m.id);
      return ids.includes("fake-a") && ids.includes("fake-b");
    }, { what: "the fake router's models to be listed" });
  } catch (err) {
    await stop();
    throw err;
  }
  const fakeUrl = `http://127.0.0.1:${routerPort}`;
  return {
    server, client, socket: client.socket, fakeUrl, v1: `${server.url}/v1`, stop,
    /** Every /v1 request and load/unload the fake saw. */
    seen: async () => (await (await fetch(`${fakeUrl}/fake/requests`)).json()).requests,
    /** Changes the fake's generation knobs ({tokenMs, tokens, dieAfter, endEarly}). */
    knobs: async (changes) => (await fetch(`${fakeUrl}/fake/knobs`, { method: "POST", body: JSON.stringify(changes) })).json(),
  };
}

/**
 * An init file with the router off and one own backend, `fake-a`, served by the fake llama-server:
 * `extra` sections (security, server...) are added to it.
 */
export async function fakeBackendConfig(modelsDir, extra = {}) {
  return {
    router: { enabled: false },
    startup: { autoStart: false },
    models: { directory: modelsDir },
    ...extra,
    backends: {
      basePort: await freePort(),
      idleTimeoutSec: 0,
      defaultSpawn: { command: ["node", fakeBin] },
      models: [{ name: "fake-a", path: "/models/fake-a.gguf" }],
    },
  };
}

/** POSTs JSON to `${v1}${endpoint}`. */
export function post(v1, endpoint, body, { headers = {}, signal, redirect } = {}) {
  return fetch(`${v1}${endpoint}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
    signal,
    redirect,
  });
}

export const chat = (v1, body, opts) =>
  post(v1, "/chat/completions", { model: "fake-a", messages: [{ role: "user", content: "say something" }], ...body }, opts);

/**
 * Reads an SSE response to its end: `events` holds each `data:` payload (parsed JSON, or the string
 * "[DONE]"); `onEvent(event, index)` is called as each arrives. Resolves {events, text}.
 */
export async function readSse(response, onEvent = () => {}) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const events = [];
  let buffer = "";
  let text = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const chunk = decoder.decode(value, { stream: true });
    text += chunk;
    buffer += chunk;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = block.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trim()).join("\n");
      if (!data) continue;
      let event;
      try { event = data === "[DONE]" ? data : JSON.parse(data); } catch { event = { unparsable: data }; }
      events.push(event);
      await onEvent(event, events.length - 1);
    }
  }
  return { events, text };
}

/** The streamed tokens of chat or text completion chunks, in order. */
export const tokensOf = (events) =>
  events.filter((e) => e?.choices).map((e) => e.choices[0]?.delta?.content ?? e.choices[0]?.text ?? "").filter(Boolean);

/** Stored request rows (requests:list). */
export async function rows(socket, query = {}) {
  return ok(socket, "requests:list", query);
}

/** Waits until requests:list with `query` has at least `count` rows; returns them (newest first). */
export async function waitRows(socket, query = {}, count = 1, what = `${count} stored request row(s)`) {
  const got = await until(async () => {
    const r = await rows(socket, query);
    return r.requests.length >= count ? r : null;
  }, { timeoutMs: 10000, intervalMs: 100, what: `${what} for ${JSON.stringify(query)}` });
  return got.requests;
}

/** Waits until the fake's record of one request satisfies `predicate`; returns that record. */
export async function waitSeen(ctx, predicate, what = "the fake to see a request", timeoutMs = 5000) {
  return until(async () => (await ctx.seen()).find(predicate), { timeoutMs, intervalMs: 50, what });
}

/** The queue of `model` in requests:stats (live). */
export async function queueOf(socket, model) {
  const stats = await ok(socket, "requests:stats", {});
  return stats.queues.find((q) => q.model === model) || { model, active: 0, queued: 0 };
}

/**
 * Sends raw HTTP/1.1 bytes (for headers fetch will not send) and resolves {status, headers, body} once the
 * server closes the connection ("Connection: close" is not added: pass what you want to send).
 */
export function rawHttp(url, text, { timeoutMs = 5000 } = {}) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => socket.write(text));
    const chunks = [];
    const timer = setTimeout(() => { socket.destroy(); reject(new Error("raw HTTP request got no full answer")); }, timeoutMs);
    socket.on("data", (c) => chunks.push(c));
    socket.on("error", (e) => { clearTimeout(timer); reject(e); });
    socket.on("close", () => {
      clearTimeout(timer);
      const all = Buffer.concat(chunks).toString("utf8");
      const [head, ...rest] = all.split("\r\n\r\n");
      const [statusLine, ...lines] = head.split("\r\n");
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]));
      resolve({ status: Number(statusLine.split(" ")[1]), headers, body: rest.join("\r\n\r\n") });
    });
  });
}

/** Asserts an OpenAI-shaped error body {error:{message, type, code}} and returns it. */
export async function assertOpenAiError(response, status, code) {
  const text = await response.text();
  assert.equal(response.status, status, `expected ${status}, got ${response.status}: ${text}`);
  let body;
  try { body = JSON.parse(text); } catch { assert.fail(`not JSON: ${text}`); }
  assert.equal(typeof body.error?.message, "string", text);
  assert.equal(typeof body.error?.type, "string", text);
  if (code !== undefined) assert.equal(body.error.code, code, text);
  return body.error;
}
