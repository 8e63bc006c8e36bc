// `router:restart` over the socket, with the real llama-server as the router: the old process is gone by
// the reply, a new one (new pid, new per-process key) answers on router.port, every client sees the states in
// the documented order (stopping -> stopped -> starting -> running) as `router:status` broadcasts, and the
// reply is the new status.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "./lib/server.mjs";
import { connect, ok, request, assertResponse, assertBroadcast, freePort, tempDir, until } from "./lib/socket.mjs";
import { llamaServer, needReal, keyHeaders } from "./lib/real.mjs";

const skip = needReal({ model: false });
const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };
const models = tempDir("lldash-restart-");
let server, client, watcher, routerPort;

before(async () => {
  if (skip) return;
  routerPort = await freePort();
  server = await startServer({
    config: { router: { port: routerPort }, models: { directory: models.dir }, startup: { autoStart: true, timeout: 30000, retryAttempts: 0 } },
    env: { LLAMA_SERVER_BIN: llamaServer },
  });
  client = await connect(server.url);
  watcher = await connect(server.url);
  await until(async () => (await ok(client.socket, "router:status", {})).running, { timeoutMs: 30000, what: "router running" });
});
after(async () => {
  client?.close();
  watcher?.close();
  await server?.stop();
  models.cleanup();
});

test("router:restart replaces the process and every client sees each state", { skip }, async () => {
  const old = await ok(client.socket, "router:status", {});
  assert.equal(old.state, "running");
  const oldKey = keyHeaders(old.pid);
  const since = Date.now();

  const reply = await request(client.socket, "router:restart", { requestId: "restart-1" }, { timeoutMs: 40000 });
  assertResponse(reply, "router:restart", { success: true, requestId: "restart-1" });
  const now = reply.data;
  assert.equal(now.running, true, JSON.stringify(now));
  assert.equal(now.state, "running");
  assert.equal(typeof now.pid, "number");
  assert.notEqual(now.pid, old.pid, "a new llama-server process");
  assert.ok(alive(now.pid), "the new pid is a live process");
  assert.equal(alive(old.pid), false, "the old process is gone by the time of the reply");
  assert.equal(now.url, `http://127.0.0.1:${routerPort}`);
  assert.equal(now.restarts, old.restarts, "a requested restart is not counted as a crash restart");
  assert.equal(now.error, null);
  assert.equal(typeof now.uptimeMs, "number");
  assert.ok(now.uptimeMs <= Date.now() - since, `uptime counts from the new start: ${now.uptimeMs}`);

  // The new process answers on router.port with its own key; the old key opens nothing any more.
  assert.equal((await fetch(`${now.url}/props`, { headers: keyHeaders(now.pid) })).status, 200);
  assert.equal((await fetch(`${now.url}/props`, { headers: oldKey })).status, 401);

  // Another client saw the whole sequence, ending with the new process running.
  const seen = () => watcher.received.filter((e) => e.event === "router:status" && e.at >= since).map((e) => e.payload);
  await until(() => seen().some((m) => m.data.state === "running" && m.data.pid === now.pid), { timeoutMs: 10000, what: "router:status running with the new pid" });
  // Each broadcast is stamped when it was sent, so it is checked against the time it arrived.
  for (const e of watcher.received.filter((x) => x.event === "router:status" && x.at >= since)) {
    assertBroadcast(e.payload, "router:status", e.at);
  }
  // Each state once, in the documented order: none is merged away however short it lasted.
  assert.deepEqual(seen().map((m) => m.data.state), ["stopping", "stopped", "starting", "running"]);
  for (const m of seen().filter((x) => x.data.state === "stopped")) assert.equal(m.data.pid, null);
  for (const m of seen().filter((x) => x.data.state === "starting")) assert.equal(m.data.pid, now.pid, "'starting' names the new process");
  assert.equal((await ok(client.socket, "router:status", {})).pid, now.pid);
});
