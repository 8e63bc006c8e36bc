#!/usr/bin/env node
// A fake llama-server in router mode for fault injection (never the only proof: the real one is tested too).
//
// Authentication: LLAMA_API_KEY, as llama-server reads it (see below).
// Router knobs (environment): FAKE_MODE = "ok" (default) | "exit-at-start" | "never-ready";
// FAKE_LOAD_MS (default 300): time a load takes. It has no /models/sse, like older llama.cpp builds,
// so the dashboard must fall back to polling /models.
//
// Generation: POST /v1/chat/completions and /v1/completions answer like llama-server: a JSON body with
// `usage` and `timings`, or with `"stream": true` SSE (`data: {chunk}` per token, a final chunk with
// `timings` (and `usage` when `stream_options.include_usage`), then `data: [DONE]`). A request for an
// unloaded model loads it first (the router autoloads). Generation knobs (environment, each can be
// changed at run time with `POST /fake/knobs {tokenMs, tokens, dieAfter, endEarly}` or per request
// with a `"fake": {...}` object in the request body):
//   FAKE_TOKEN_MS (default 10): delay before each token;  FAKE_TOKENS (default 5): tokens per answer;
//   FAKE_DIE_AFTER: destroy the socket after N streamed tokens (a crash mid-stream; a JSON answer dies
//     before its headers);
//   FAKE_END_EARLY: end the stream cleanly after N tokens, without the final chunk and [DONE].
//   holdAfterDone (per request, in "fake"): ms to keep the response open after [DONE].
//   redirect (per request, in "fake"): answer 307 with this Location instead.
//   tokenBytes (per request, in "fake"): pad each token's text to this many bytes (a fast, heavy stream).
//   stallAfter, stallMs: after N streamed tokens, send nothing for stallMs, then go on (a backend that
//     stops sending mid-answer).
//
// As an own backend (started with `--alias NAME --model PATH --port P`), argv knobs (all optional):
//   --fake-serve-alias: NAME is one more model it serves (as a backend llama-server answers to its alias);
//   --fake-health PATH: only GET PATH answers 200; /health answers 503 "Loading model" forever;
//   --fake-backlog N: the listen backlog (with /fake/freeze, a full accept queue: connects time out).
// `POST /fake/freeze {ms}` answers, then blocks the whole process for ms: nothing is accepted or read.
//
// Model processes (FAKE_CHILD=1): the same handler also listens on a second port, the loaded models'
// "own process"; `/models` reports it in `status.args` ("--port", N) for loaded models, as the real router
// does. `POST /fake/child {up:false}` closes that port (and its connections), `{up:true}` opens it again.
//
// What it saw: `GET /fake/requests` -> {requests:[...]} for every /v1 request and every POST
// /models/load|unload: {id, method, path, headers, rawHeaderNames, body, at, tokensSent, ended,
// died, closedEarly, closedAt}. `closedEarly` is true when the connection closed before our response
// ended (the client, i.e. the dashboard, cancelled us). `POST /fake/reset` forgets them.
import http from "node:http";

const args = process.argv.slice(2);
const arg = (flag) => args[args.indexOf(flag) + 1];
const port = Number(arg("--port"));
const mode = process.env.FAKE_MODE || "ok";
const loadMs = Number(process.env.FAKE_LOAD_MS || 300);
const models = new Map([["fake-a", "unloaded"], ["fake-b", "unloaded"]]);
if (args.includes("--fake-serve-alias") && args.includes("--alias")) models.set(arg("--alias"), "unloaded");
const healthPath = args.includes("--fake-health") ? arg("--fake-health") : "/health";
const backlog = args.includes("--fake-backlog") ? Number(arg("--fake-backlog")) : undefined;

const envInt = (name) => (process.env[name] === undefined || process.env[name] === "" ? null : Number(process.env[name]));
const knobs = {
  tokenMs: envInt("FAKE_TOKEN_MS") ?? 10,
  tokens: envInt("FAKE_TOKENS") ?? 5,
  dieAfter: envInt("FAKE_DIE_AFTER"),
  endEarly: envInt("FAKE_END_EARLY"),
  stallAfter: null,
  stallMs: 0,
};
const seen = [];
let nextId = 1;

console.log(`fake llama-server starting on port ${port} (${mode})`);
if (mode === "exit-at-start") {
  console.error("error: fake failure: cannot load the backend");
  process.exit(3);
}

const send = (res, code, body) => { res.writeHead(code, { "content-type": "application/json" }); res.end(JSON.stringify(body)); };
const readBody = (req) => new Promise((resolve) => {
  let body = "";
  req.setEncoding("utf8");
  req.on("data", (c) => { body += c; });
  req.on("end", () => resolve(body));
  req.on("error", () => resolve(body));
});
const parse = (text) => { try { return JSON.parse(text); } catch { return null; } };
const readJson = async (req) => parse(await readBody(req)) || {};
const has = (v) => v !== null && v !== undefined;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const notFound = (res) => send(res, 404, { error: { message: "File Not Found", type: "not_found_error", code: 404 } });

/** Starts a record for a request; `closedEarly` is filled in when the connection closes. */
function record(req, res, body) {
  const entry = {
    id: nextId++, method: req.method, path: req.url, headers: req.headers, port: req.socket.localPort,
    rawHeaderNames: req.rawHeaders.filter((_, i) => i % 2 === 0), body: parse(body), at: Date.now(),
    tokensSent: 0, ended: false, died: false, closedEarly: null, closedAt: null,
  };
  seen.push(entry);
  res.on("close", () => {
    entry.closedAt = Date.now();
    entry.closedEarly = !res.writableFinished && !entry.died;
  });
  return entry;
}

/** Waits `ms`, or resolves false at once if the connection closes first. */
const wait = (res, ms) => new Promise((resolve) => {
  if (res.destroyed || res.writableEnded) return resolve(false);
  const onClose = () => { clearTimeout(timer); resolve(false); };
  const timer = setTimeout(() => { res.off("close", onClose); resolve(true); }, ms);
  res.once("close", onClose);
});

function die(res, entry) {
  entry.died = true;
  res.socket?.destroy();
}

async function generate(req, res, endpoint) {
  const text = await readBody(req);
  const entry = record(req, res, text);
  const body = entry.body;
  if (!body || typeof body !== "object") {
    return send(res, 400, { error: { code: 400, message: "invalid JSON body", type: "invalid_request_error" } });
  }
  if (!models.has(body.model)) {
    return send(res, 400, { error: { code: 400, message: "model not found", type: "invalid_request_error" } });
  }
  const k = { ...knobs, ...(body.fake && typeof body.fake === "object" ? body.fake : {}) };
  if (k.redirect) {
    res.writeHead(307, { location: k.redirect, "content-type": "application/json" });
    return res.end(JSON.stringify({ redirected: k.redirect }));
  }
  // The router loads a model on demand before it answers.
  if (models.get(body.model) !== "loaded") {
    models.set(body.model, "loading");
    await sleep(loadMs);
    models.set(body.model, "loaded");
  }
  const chat = endpoint === "chat";
  const created = Math.floor(Date.now() / 1000);
  const id = `${chat ? "chatcmpl" : "cmpl"}-fake${entry.id}`;
  const promptText = chat ? (body.messages || []).map((m) => String(m?.content ?? "")).join(" ") : String(body.prompt ?? "");
  const promptTokens = Math.max(1, promptText.split(/\s+/).filter(Boolean).length);
  const started = Date.now();
  const timings = (n) => {
    const predictedMs = Math.max(1, Date.now() - started);
    return {
      prompt_n: promptTokens, prompt_ms: 1.5, prompt_per_token_ms: 1.5 / promptTokens, prompt_per_second: promptTokens / 0.0015,
      predicted_n: n, predicted_ms: predictedMs, predicted_per_token_ms: predictedMs / Math.max(1, n), predicted_per_second: (n * 1000) / predictedMs,
    };
  };
  const usage = (n) => ({ completion_tokens: n, prompt_tokens: promptTokens, total_tokens: n + promptTokens });
  const token = (i) => (k.tokenBytes ? `t${i} `.padEnd(k.tokenBytes, "x") : `t${i} `);
  const common = { created, id, model: body.model, system_fingerprint: "fake-llama-server", object: chat ? "chat.completion.chunk" : "text_completion" };

  if (!body.stream) {
    let content = "";
    for (let i = 0; i <= k.tokens; i++) {
      if (has(k.dieAfter) && i >= k.dieAfter) return die(res, entry);
      if (i === k.tokens) break;
      if (!(await wait(res, k.tokenMs))) return;
      content += token(i);
      entry.tokensSent = i + 1;
    }
    const choice = chat
      ? { finish_reason: "stop", index: 0, message: { role: "assistant", content } }
      : { text: content, index: 0, logprobs: null, finish_reason: "stop" };
    entry.ended = true;
    return send(res, 200, { choices: [choice], ...common, object: chat ? "chat.completion" : "text_completion", usage: usage(k.tokens), timings: timings(k.tokens) });
  }

  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", "x-fake-upstream": "1" });
  res.flushHeaders();
  // Resolves once the bytes reached the socket, so a crash right after cannot swallow them.
  const event = (data) => new Promise((resolve) => res.write(`data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`, resolve));
  for (let i = 0; i <= k.tokens; i++) {
    if (has(k.dieAfter) && i >= k.dieAfter) return die(res, entry);
    if (has(k.endEarly) && i >= k.endEarly) { entry.ended = true; return res.end(); }
    if (i === k.tokens) break;
    if (has(k.stallAfter) && i === k.stallAfter && !(await wait(res, k.stallMs))) return;
    if (!(await wait(res, k.tokenMs))) return;
    const choice = chat
      ? { finish_reason: null, index: 0, delta: i === 0 ? { role: "assistant", content: token(i) } : { content: token(i) } }
      : { text: token(i), index: 0, logprobs: null, finish_reason: null };
    await event({ choices: [choice], ...common });
    entry.tokensSent = i + 1;
  }
  const last = chat ? { finish_reason: "stop", index: 0, delta: {} } : { text: "", index: 0, logprobs: null, finish_reason: "stop" };
  const final = { choices: [last], ...common, timings: timings(k.tokens) };
  if (body.stream_options?.include_usage) final.usage = usage(k.tokens);
  await event(final);
  await event("[DONE]");
  // holdAfterDone: keep the response open a while after [DONE], as a slow upstream close would.
  if (k.holdAfterDone) await sleep(k.holdAfterDone);
  entry.ended = true;
  res.end();
}

// Like llama-server with LLAMA_API_KEY set: every endpoint but /health needs `Authorization: Bearer KEY`
// (the /fake/* test hooks stay open).
const apiKey = process.env.LLAMA_API_KEY || "";
const authorized = (req) => !apiKey || req.headers.authorization === `Bearer ${apiKey}`;

const handler = async (req, res) => {
  if (mode === "never-ready") return send(res, 503, { error: { message: "Loading", code: 503 } });
  const path = req.url.split("?")[0];
  if (path === healthPath) return send(res, 200, { status: "ok" });
  if (path === "/health") return send(res, 503, { error: { message: "Loading model", type: "unavailable_error", code: 503 } });
  if (!path.startsWith("/fake/") && !authorized(req)) {
    return send(res, 401, { error: { message: "Invalid API Key", type: "authentication_error", code: 401 } });
  }
  if (path === "/props") return send(res, 200, { role: "router" });
  if (path === "/models" || path === "/v1/models") {
    const status = (id, value) => (child.port && value === "loaded"
      ? { value, args: ["llama-server", "--host", "127.0.0.1", "--port", String(child.port), "--alias", id] }
      : { value });
    return send(res, 200, { data: [...models].map(([id, value]) => ({ id, object: "model", status: status(id, value) })) });
  }
  if (req.method === "POST" && (path === "/models/load" || path === "/models/unload")) {
    const text = await readBody(req);
    record(req, res, text);
    const model = parse(text)?.model;
    if (!models.has(model)) return notFound(res);
    const loading = path.endsWith("/load");
    models.set(model, loading ? "loading" : "unloaded");
    if (loading) setTimeout(() => models.set(model, "loaded"), loadMs);
    return send(res, 200, { success: true });
  }
  if (req.method === "POST" && path === "/v1/chat/completions") return generate(req, res, "chat");
  if (req.method === "POST" && path === "/v1/completions") return generate(req, res, "completion");
  if (path.startsWith("/v1/")) {
    record(req, res, await readBody(req));
    return notFound(res);
  }
  if (req.method === "GET" && path === "/fake/requests") return send(res, 200, { requests: seen, knobs, models: Object.fromEntries(models) });
  if (req.method === "POST" && path === "/fake/reset") { seen.length = 0; return send(res, 200, { ok: true }); }
  if (req.method === "POST" && path === "/fake/freeze") {
    const ms = Number((await readJson(req)).ms) || 0;
    send(res, 200, { frozenMs: ms });
    // Blocks the event loop once the answer is out: no accept, no read, no write for ms.
    res.on("finish", () => setImmediate(() => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)));
    return;
  }
  if (req.method === "POST" && path === "/fake/child") {
    const up = (await readJson(req)).up !== false;
    await (up ? child.open() : child.close());
    return send(res, 200, { childPort: child.port, up });
  }
  if (req.method === "POST" && path === "/fake/knobs") {
    const changes = await readJson(req);
    for (const key of Object.keys(knobs)) if (key in changes) knobs[key] = changes[key];
    return send(res, 200, { knobs });
  }
  notFound(res);
};
const server = http.createServer(handler);

/** The loaded models' "own process": the same handler on its own port (FAKE_CHILD=1). */
const child = {
  port: 0,
  server: null,
  open() {
    if (this.server) return Promise.resolve();
    this.server = http.createServer(handler);
    return new Promise((resolve) => this.server.listen({ port: this.port, host: "127.0.0.1" }, () => {
      this.port = this.server.address().port;
      resolve();
    }));
  },
  close() {
    const closing = this.server;
    this.server = null;
    if (!closing) return Promise.resolve();
    const done = new Promise((resolve) => closing.close(resolve));
    closing.closeAllConnections();
    return done;
  },
};
if (process.env.FAKE_CHILD === "1") await child.open();
server.listen({ port, host: arg("--host") || "127.0.0.1", backlog }, () => console.log(`listening on http://127.0.0.1:${port}`));
process.on("SIGTERM", () => {
  server.close(() => process.exit(0));
  server.closeAllConnections(); // open streams would otherwise hold the close until SIGKILL
});
