// Fault injection with a fake llama-server: a router that dies at start, one that never answers, and an
// older build without /models/sse (status must then come from polling /models).
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startServer } from "./lib/server.mjs";
import { connect, ok, request, freePort, tempDir, until, waitFor } from "./lib/socket.mjs";

const fake = path.join(path.dirname(fileURLToPath(import.meta.url)), "fake/llama-server.mjs");

async function withRouter(t, { mode = "ok", timeout = 5000, retryAttempts = 0 } = {}) {
  const models = tempDir("lldash-fake-");
  const server = await startServer({
    config: { router: { port: await freePort() }, models: { directory: models.dir }, startup: { autoStart: false, timeout, retryAttempts, retryDelay: 0 } },
    env: { LLAMA_SERVER_BIN: fake, FAKE_MODE: mode },
  });
  const client = await connect(server.url);
  t.after(async () => { client.close(); await server.stop(); models.cleanup(); });
  return { server, client };
}

test("a router that exits at start fails with its exit code and last lines; retries are bounded", async (t) => {
  const { client } = await withRouter(t, { mode: "exit-at-start", retryAttempts: 1 });
  const reply = await request(client.socket, "router:start", {}, { timeoutMs: 15000 });
  assert.equal(reply.success, false);
  assert.equal(reply.error.code, "ROUTER_ERROR");
  assert.match(reply.error.message, /exited during startup \(exit code 3\)/);
  const status = await ok(client.socket, "router:status", {});
  assert.equal(status.state, "failed");
  assert.equal(status.exitCode, 3);
  assert.ok(status.lastLines.some((l) => l.includes("cannot load the backend")), JSON.stringify(status.lastLines));
  const { logs } = await ok(client.socket, "logs:get", { search: "router start failed; retrying" });
  assert.equal(logs.length, 1, "exactly one retry (startup.retryAttempts = 1)");
});

test("a router that never answers /health fails at startup.timeout, and is not left running", async (t) => {
  const { client } = await withRouter(t, { mode: "never-ready", timeout: 1500 });
  const started = Date.now();
  const reply = await request(client.socket, "router:start", {}, { timeoutMs: 15000 });
  assert.equal(reply.success, false);
  assert.match(reply.error.message, /did not answer .* within 1500 ms \(startup.timeout\)/);
  assert.ok(Date.now() - started < 8000);
  const status = await ok(client.socket, "router:status", {});
  assert.equal(status.pid, null);
});

test("without /models/sse, model status is followed by polling /models", async (t) => {
  const { client } = await withRouter(t);
  const started = await request(client.socket, "router:start", {}, { timeoutMs: 15000 });
  assert.equal(started.data.running, true, JSON.stringify(started));
  await until(async () => (await ok(client.socket, "models:list", {})).models.some((m) => m.id === "fake-a"), {
    what: "the router's models to be listed",
  });
  const loaded = waitFor(client.socket, "models:status", { timeoutMs: 10000, filter: (m) => m.data.id === "fake-a" && m.data.status === "loaded" });
  await ok(client.socket, "models:load", { id: "fake-a" });
  await loaded;
  const { model, events } = await ok(client.socket, "models:get", { id: "fake-a" });
  assert.equal(model.status, "loaded");
  assert.ok(events.some((e) => e.event === "loaded"));
  const { logs } = await ok(client.socket, "logs:get", { search: "polling /models" });
  assert.ok(logs.length >= 1);
});
