// The native llama-server router as a user drives it: started at boot, stopped and started over
// Socket.IO, restarted after a crash, never left behind, and clear errors when it cannot start.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import net from "node:net";
import { startServer } from "./lib/server.mjs";
import { connect, ok, request, freePort, tempDir, until, waitFor } from "./lib/socket.mjs";
import { keyHeaders } from "./lib/real.mjs";

const bin = process.env.LLAMA_SERVER_BIN;
const skip = !bin || !existsSync(bin) ? "LLAMA_SERVER_BIN is not set (scripts/test.sh sets it)" : false;
if (skip && process.env.CI) throw new Error("CI must provide a real llama-server through LLAMA_SERVER_BIN");

const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };
const models = tempDir("lldash-router-");
let server, client, routerPort, startedAt;

async function status() {
  return ok(client.socket, "router:status", {});
}

before(async () => {
  if (skip) return;
  routerPort = await freePort();
  startedAt = Date.now();
  server = await startServer({
    config: { router: { port: routerPort }, models: { directory: models.dir }, startup: { autoStart: true, timeout: 20000, retryAttempts: 2, retryDelay: 500 } },
    env: { LLAMA_SERVER_BIN: bin },
  });
  client = await connect(server.url);
});
after(async () => {
  client?.close();
  await server?.stop();
  models.cleanup();
});

test("autoStart brings up a real router that answers on router.port", { skip }, async () => {
  const s = await until(async () => { const st = await status(); return st.running && st; }, { timeoutMs: 30000, what: "router running" });
  assert.equal(s.url, `http://127.0.0.1:${routerPort}`);
  assert.ok(alive(s.pid), "the pid it reports is a live process");
  const props = await (await fetch(`${s.url}/props`, { headers: keyHeaders(s.pid) })).json();
  assert.equal(props.role, "router");
  assert.equal((await fetch(`${s.url}/props`)).status, 401, "and answers no one else");
  assert.ok(Number.isInteger(s.uptimeMs) && s.uptimeMs >= 0, `uptimeMs: ${JSON.stringify(s)}`);
  assert.ok(s.uptimeMs <= Date.now() - startedAt, `the router is no older than llama-dashboard: ${s.uptimeMs} ms`);
  await until(async () => (await status()).uptimeMs > s.uptimeMs, { timeoutMs: 3000, intervalMs: 50, what: "the router's uptime to grow" });
});

test("a router killed with SIGKILL is reported as crashed and restarted", { skip }, async () => {
  const before = await status();
  const crashed = waitFor(client.socket, "router:status", { timeoutMs: 10000, filter: (m) => m.data.state === "crashed" });
  const killedAt = Date.now();
  process.kill(before.pid, "SIGKILL");
  const msg = await crashed;
  assert.match(msg.data.error, /exited unexpectedly/);
  const after = await until(async () => { const st = await status(); return st.running && st.pid !== before.pid && st; }, { timeoutMs: 20000, what: "router restarted" });
  assert.equal(after.restarts, 1);
  assert.ok(Number.isInteger(after.uptimeMs) && after.uptimeMs <= Date.now() - killedAt, `the uptime counts from the restart: ${after.uptimeMs} ms`);
  assert.equal((await fetch(`${after.url}/health`)).status, 200);
});

test("router:stop ends the process; router:start brings it back", { skip }, async () => {
  const running = await status();
  const stopped = await ok(client.socket, "router:stop", {});
  assert.equal(stopped.running, false);
  assert.equal(stopped.state, "stopped");
  assert.equal(stopped.uptimeMs, null, "a stopped router has no uptime");
  await until(() => !alive(running.pid), { timeoutMs: 5000, what: "old router process gone" });
  const started = await ok(client.socket, "router:start", {});
  assert.equal(started.running, true);
  assert.ok(alive(started.pid));
});

test("a taken router port gives a clear error and the dashboard keeps serving", { skip }, async () => {
  await ok(client.socket, "router:stop", {});
  const blocker = net.createServer().listen(routerPort, "127.0.0.1");
  await new Promise((r) => blocker.once("listening", r));
  try {
    const reply = await request(client.socket, "router:start", {}, { timeoutMs: 15000 });
    assert.equal(reply.success, false);
    assert.equal(reply.error.code, "ROUTER_ERROR");
    assert.match(reply.error.message, new RegExp(`router.port ${routerPort} is already in use`));
    assert.equal((await status()).state, "failed");
    assert.equal((await fetch(`${server.url}/health`)).status, 200);
  } finally {
    await new Promise((r) => blocker.close(r));
  }
  assert.equal((await ok(client.socket, "router:start", {})).running, true);
});

test("killing llama-dashboard with SIGKILL leaves no llama-server behind", { skip }, async () => {
  const { pid } = await status();
  assert.ok(alive(pid));
  server.proc.kill("SIGKILL");
  await until(() => !alive(pid), { timeoutMs: 5000, what: `llama-server ${pid} to exit after its parent was killed` });
});

test("without any llama-server, router:start names where it looked", async () => {
  const lone = await startServer({ config: { router: { port: await freePort() }, startup: { autoStart: false } } });
  const c = await connect(lone.url);
  try {
    const reply = await request(c.socket, "router:start", {});
    assert.equal(reply.success, false);
    assert.equal(reply.error.code, "ROUTER_ERROR");
    assert.match(reply.error.message, /router\.serverPath/);
    assert.equal((await ok(c.socket, "router:status", {})).state, "failed");
  } finally {
    c.close();
    await lone.stop();
  }
});
