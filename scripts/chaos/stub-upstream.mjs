#!/usr/bin/env node
// A fast OpenAI-compatible upstream for throughput runs, started by llama-dashboard as an own backend
// (`backends.defaultSpawn.command: ["node", "<this file>"]`; we are given `--alias NAME --model PATH
// --port P --host H` and LLAMA_API_KEY). Unlike tests/js/fake/llama-server.mjs it keeps no record of
// what it served (a fake that remembers every request grows for as long as a soak runs) and injects no
// faults: it only answers, as cheaply as it can.
//
// POST /v1/chat/completions and /v1/completions: `"stream": true` gives STUB_TOKENS chunks, STUB_TOKEN_MS
// apart, a final chunk with `timings` and `usage`, then `data: [DONE]`; otherwise one JSON body with
// the same `usage` and `timings`. GET /health answers 200 at once; every other path needs the key.
import http from "node:http";

const args = process.argv.slice(2);
const arg = (flag) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
const port = Number(arg("--port"));
const host = arg("--host") || "127.0.0.1";
const alias = arg("--alias") || "stub";
const tokens = Number(process.env.STUB_TOKENS || 8);
const tokenMs = Number(process.env.STUB_TOKEN_MS || 20);
const auth = process.env.LLAMA_API_KEY ? `Bearer ${process.env.LLAMA_API_KEY}` : null;

const json = (res, code, body) => {
  const text = JSON.stringify(body);
  res.writeHead(code, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
};
const error = (res, code, message) => json(res, code, { error: { code, message, type: "invalid_request_error" } });

function readBody(req) {
  return new Promise((resolve) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", () => resolve(""));
  });
}

function usage(started, promptTokens) {
  const ms = Math.max(1, Date.now() - started);
  return {
    usage: { prompt_tokens: promptTokens, completion_tokens: tokens, total_tokens: promptTokens + tokens },
    timings: { prompt_n: promptTokens, prompt_ms: 1, predicted_n: tokens, predicted_ms: ms, predicted_per_second: (tokens * 1000) / ms },
  };
}

async function generate(req, res, chat) {
  let body;
  try { body = JSON.parse(await readBody(req)); } catch { return error(res, 400, "invalid JSON body"); }
  const started = Date.now();
  const id = `stub-${started}`;
  const common = { id, created: Math.floor(started / 1000), model: body.model || alias };
  const promptTokens = 4;
  if (!body.stream) {
    const text = "t ".repeat(tokens);
    const choice = chat ? { index: 0, finish_reason: "stop", message: { role: "assistant", content: text } } : { index: 0, finish_reason: "stop", text };
    return json(res, 200, { ...common, object: chat ? "chat.completion" : "text_completion", choices: [choice], ...usage(started, promptTokens) });
  }
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  const object = chat ? "chat.completion.chunk" : "text_completion";
  let i = 0;
  let timer = null;
  res.on("close", () => clearTimeout(timer));
  const next = () => {
    if (res.destroyed) return;
    if (i < tokens) {
      const choice = chat ? { index: 0, finish_reason: null, delta: { content: `t${i} ` } } : { index: 0, finish_reason: null, text: `t${i} ` };
      res.write(`data: ${JSON.stringify({ ...common, object, choices: [choice] })}\n\n`);
      i += 1;
      timer = setTimeout(next, tokenMs);
      return;
    }
    const last = chat ? { index: 0, finish_reason: "stop", delta: {} } : { index: 0, finish_reason: "stop", text: "" };
    res.end(`data: ${JSON.stringify({ ...common, object, choices: [last], ...usage(started, promptTokens) })}\n\ndata: [DONE]\n\n`);
  };
  timer = setTimeout(next, tokenMs);
}

const server = http.createServer((req, res) => {
  const path = req.url.split("?")[0];
  if (path === "/health") return json(res, 200, { status: "ok" });
  if (auth && req.headers.authorization !== auth) return error(res, 401, "Invalid API Key");
  if (req.method === "POST" && path === "/v1/chat/completions") return generate(req, res, true);
  if (req.method === "POST" && path === "/v1/completions") return generate(req, res, false);
  if (path === "/v1/models") return json(res, 200, { object: "list", data: [{ id: alias, object: "model" }] });
  error(res, 404, "File Not Found");
});
server.keepAliveTimeout = 60000;
server.listen({ port, host, backlog: 1024 }, () => console.log(`stub upstream ${alias} listening on http://${host}:${port}`));
process.on("SIGTERM", () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
