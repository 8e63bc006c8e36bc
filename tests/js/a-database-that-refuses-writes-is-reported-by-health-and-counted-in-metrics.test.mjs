// While another process holds the database's write lock, nothing is dropped silently: /health answers 503
// with the reason, the samples that could not be stored are counted in /metrics, and once the lock is
// released writes resume without a restart (new samples are stored, /health is 200 again).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import path from "node:path";
import { startServer } from "./lib/server.mjs";
import { connect, ok, until } from "./lib/socket.mjs";

let server;
before(async () => { server = await startServer({ config: { metrics: { intervalMs: 300 }, startup: { autoStart: false } } }); });
after(async () => { await server?.stop(); });

const health = async () => {
  const res = await fetch(`${server.url}/health`);
  return { status: res.status, body: await res.json() };
};

async function droppedSamples() {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith('llama_dashboard_telemetry_dropped_total{kind="samples"}'));
  assert.ok(line, `the dropped-telemetry counter is exposed:\n${text.slice(0, 2000)}`);
  return Number(line.split(" ").at(-1));
}

/** Another process takes the write lock (BEGIN IMMEDIATE) and holds it until `release()`. */
async function holdWriteLock(dbFile) {
  const python = process.env.LLAMA_DASHBOARD_PYTHON || "python3";
  const code = "import sqlite3,sys\nc=sqlite3.connect(sys.argv[1],isolation_level=None)\nc.execute('BEGIN IMMEDIATE')\nprint('locked',flush=True)\nsys.stdin.read()\n";
  const child = spawn(python, ["-c", code, dbFile], { stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (c) => { out += c; });
  child.stderr.on("data", (c) => { out += c; });
  const exited = new Promise((r) => child.once("exit", r));
  await until(() => out.includes("locked") || child.exitCode !== null, { timeoutMs: 10000, intervalMs: 20, what: "the lock" });
  assert.match(out, /locked/, `the lock could not be taken: ${out}`);
  return { release: async () => { child.stdin.end(); await exited; } };
}

test("a held write lock: /health says why, dropped samples are counted, and writes resume once it is released", { timeout: 60000 }, async (t) => {
  assert.equal(await droppedSamples(), 0, "nothing dropped while the database is healthy");
  const lock = await holdWriteLock(path.join(server.dataDir, "llama-dashboard.db"));
  t.after(() => lock.release());

  const degraded = await health();
  assert.equal(degraded.status, 503, JSON.stringify(degraded.body));
  assert.equal(degraded.body.status, "degraded");
  assert.equal(degraded.body.database, "unavailable");
  assert.match(degraded.body.reason, /write lock cannot be taken: database is locked/);

  // A sample write waits for the connection's busy timeout (5 s), then is refused and counted.
  await until(async () => (await droppedSamples()) >= 1, { timeoutMs: 20000, intervalMs: 250, what: "a dropped sample counted in /metrics" });
  const dropped = await droppedSamples();

  const released = Date.now();
  await lock.release();
  await until(async () => (await health()).status === 200, { timeoutMs: 15000, intervalMs: 200, what: "/health 200 once writes succeed again" });
  const client = await connect(server.url);
  t.after(() => client.close());
  await until(async () => {
    const { samples } = await ok(client.socket, "metrics:history", { since: released });
    return samples.length > 0;
  }, { timeoutMs: 15000, intervalMs: 250, what: "a sample stored after the release" });
  assert.ok((await droppedSamples()) >= dropped, "the counter never goes back");
});
