// A router-mode model whose own llama-server process dies (kill -9, as an out-of-memory kill would) is
// recorded as crashed with its (non-zero) exit code and last output, refuses requests until its backoff (1 s after a
// first crash) has passed, and is then started again by the next request, which the real model answers.
// models:reset lets the next request start it at once.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { startServer } from "./lib/server.mjs";
import { connect, ok, freePort, until } from "./lib/socket.mjs";
import { needReal, llamaServer, modelsDir } from "./lib/real.mjs";

const skip = needReal();
const ID = "smol";
let server, client, models, routerPid;

before(async () => {
  if (skip) return;
  models = modelsDir(ID);
  server = await startServer({
    config: {
      router: { port: await freePort() },
      models: { directory: models.dir },
      performance: { contextSize: 1024, parallelSlots: 1 },
      startup: { autoStart: true, timeout: 20000 },
    },
    env: { LLAMA_SERVER_BIN: llamaServer },
  });
  client = await connect(server.url);
  routerPid = (await until(async () => { const s = await ok(client.socket, "router:status", {}); return s.running && s; }, { timeoutMs: 30000, what: "router running" })).pid;
});
after(async () => {
  client?.close();
  await server?.stop();
  models?.cleanup();
});

const chat = () => fetch(`${server.url}/v1/chat/completions`, {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ model: ID, max_tokens: 3, messages: [{ role: "user", content: "Say hi" }] }),
});

/** The pid of the router's child serving `id` (its argv names the model with --alias). */
function childOf(id) {
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      if (ppid === routerPid && argv[argv.indexOf("--alias") + 1] === id) return Number(pid);
    } catch { /* gone meanwhile */ }
  }
  return null;
}

const status = async () => (await ok(client.socket, "models:get", { id: ID })).model.status;

async function crash() {
  assert.equal((await chat()).status, 200, "the model answers before the crash");
  const pid = await until(() => childOf(ID), { timeoutMs: 10000, what: "the model's process" });
  process.kill(pid, "SIGKILL");
  await until(async () => (await status()) === "error", { timeoutMs: 15000, what: "the model to show its crash" });
}

test("a crash is recorded with its exit code and last output, and the next request waits for the backoff", { skip, timeout: 90000 }, async () => {
  await crash();
  const { events } = await ok(client.socket, "models:get", { id: ID });
  const crashed = events.find((e) => e.event === "crashed");
  assert.ok(crashed, `a crashed event: ${JSON.stringify(events.slice(0, 5))}`);
  assert.match(crashed.detail, /model process exited with code [1-9]\d*/, crashed.detail);
  assert.match(crashed.detail, /last output: ./, "the process's last lines are in the history");

  const refused = await chat();
  assert.equal(refused.status, 503);
  const body = await refused.json();
  assert.match(body.error.message, /crashed 1 time\(s\) in a row; it is started again by a request after 1 s \(backoff\)/);

  const served = await until(async () => { const r = await chat(); return r.status === 200 && r; }, { timeoutMs: 30000, intervalMs: 300, what: "a request after the backoff" });
  const answer = await served.json();
  assert.ok(answer.choices[0].message.content.length > 0, JSON.stringify(answer));
  assert.equal(await status(), "loaded");
});

test("models:reset clears the backoff: the next request starts the model at once", { skip, timeout: 90000 }, async () => {
  await crash();
  await ok(client.socket, "models:reset", { id: ID });
  const res = await chat();
  assert.equal(res.status, 200, await res.clone().text());
});
