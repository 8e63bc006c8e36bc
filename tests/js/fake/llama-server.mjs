#!/usr/bin/env node
// A fake llama-server in router mode for fault injection (never the only proof: the real one is tested too).
// Knobs (environment): FAKE_MODE = "ok" (default) | "exit-at-start" | "never-ready";
// FAKE_LOAD_MS (default 300): time a load takes. It has no /models/sse, like older llama.cpp builds,
// so the dashboard must fall back to polling /models.
import http from "node:http";

const args = process.argv.slice(2);
const arg = (flag) => args[args.indexOf(flag) + 1];
const port = Number(arg("--port"));
const mode = process.env.FAKE_MODE || "ok";
const loadMs = Number(process.env.FAKE_LOAD_MS || 300);
const models = new Map([["fake-a", "unloaded"], ["fake-b", "unloaded"]]);

console.log(`fake llama-server starting on port ${port} (${mode})`);
if (mode === "exit-at-start") {
  console.error("error: fake failure: cannot load the backend");
  process.exit(3);
}

const send = (res, code, body) => { res.writeHead(code, { "content-type": "application/json" }); res.end(JSON.stringify(body)); };
const readJson = (req) => new Promise((resolve) => {
  let body = "";
  req.on("data", (c) => { body += c; });
  req.on("end", () => { try { resolve(JSON.parse(body)); } catch { resolve({}); } });
});

const server = http.createServer(async (req, res) => {
  if (mode === "never-ready") return send(res, 503, { error: { message: "Loading", code: 503 } });
  if (req.url === "/health") return send(res, 200, { status: "ok" });
  if (req.url === "/props") return send(res, 200, { role: "router" });
  if (req.url === "/models") {
    return send(res, 200, { data: [...models].map(([id, value]) => ({ id, object: "model", status: { value } })) });
  }
  if (req.method === "POST" && (req.url === "/models/load" || req.url === "/models/unload")) {
    const { model } = await readJson(req);
    if (!models.has(model)) return send(res, 404, { error: { message: "File Not Found", type: "not_found_error", code: 404 } });
    const loading = req.url.endsWith("/load");
    models.set(model, loading ? "loading" : "unloaded");
    if (loading) setTimeout(() => models.set(model, "loaded"), loadMs);
    return send(res, 200, { success: true });
  }
  send(res, 404, { error: { message: "File Not Found", type: "not_found_error", code: 404 } });
});
server.listen(port, arg("--host") || "127.0.0.1", () => console.log(`listening on http://127.0.0.1:${port}`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
