// models:plan for router-mode models with the real llama-server router at models.maxLoaded 2: it names the
// least recently used idle model a load unloads, the load then unloads exactly that one, and pinned models
// are never unloaded: a load that could only happen by unloading one is refused with CONFLICT naming them,
// over the socket and /v1. models:delete removes an unloaded model's file and refuses a loaded one's.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, linkSync, copyFileSync, statSync } from "node:fs";
import path from "node:path";
import { startServer } from "./lib/server.mjs";
import { connect, ok, request, freePort, tempDir, until } from "./lib/socket.mjs";
import { needReal, llamaServer, realModel } from "./lib/real.mjs";

const skip = needReal();
let server, client, models;

before(async () => {
  if (skip) return;
  models = tempDir("lldash-plan-router-");
  for (const id of ["ma", "mb", "mc"]) {
    try { linkSync(realModel, path.join(models.dir, `${id}.gguf`)); } catch { copyFileSync(realModel, path.join(models.dir, `${id}.gguf`)); }
  }
  server = await startServer({
    config: {
      router: { port: await freePort() },
      models: { directory: models.dir, maxLoaded: 2, idleTimeoutSec: 0 },
      performance: { contextSize: 512, parallelSlots: 1 },
      startup: { autoStart: true, timeout: 30000 },
    },
    env: { LLAMA_SERVER_BIN: llamaServer },
  });
  client = await connect(server.url);
  await until(async () => (await ok(client.socket, "router:status", {})).running, { timeoutMs: 30000, what: "router running" });
});
after(async () => {
  client?.close();
  await server?.stop();
  models?.cleanup();
});

const status = async (id) => (await ok(client.socket, "models:get", { id })).model.status;
const statuses = async () => Object.fromEntries(await Promise.all(["ma", "mb", "mc"].map(async (id) => [id, await status(id)])));
const chat = (model) => fetch(`${server.url}/v1/chat/completions`, {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }], max_tokens: 2 }),
});

async function load(id) {
  await ok(client.socket, "models:load", { id });
  await until(async () => (await status(id)) === "loaded", { timeoutMs: 60000, what: `${id} loaded` });
}

test("the plan names the least recently used model; loading then unloads exactly that one", { skip }, async () => {
  await load("ma");
  await load("mb");
  assert.equal((await chat("ma")).status, 200, "ma used last: mb is now the least recently used");
  const plan = await ok(client.socket, "models:plan", { id: "mc" });
  assert.equal(plan.kind, "router");
  assert.deepEqual(plan.evicts, [{ id: "mb", reason: "models-max", running: 0, queued: 0 }]);
  assert.match(plan.summary, /^Loading mc will unload mb \(models-max\), which is idle\./);
  assert.ok(plan.needBytes > 90e6 && plan.freeBytes > 0, JSON.stringify(plan));
  assert.deepEqual(await statuses(), { ma: "loaded", mb: "loaded", mc: "unloaded" }, "planning changed nothing");

  await load("mc");
  await until(async () => (await status("mb")) === "unloaded", { timeoutMs: 30000, what: "mb unloaded" });
  assert.deepEqual(await statuses(), { ma: "loaded", mb: "unloaded", mc: "loaded" });
  const plannedAgain = await ok(client.socket, "models:plan", { id: "mc" });
  assert.equal(plannedAgain.loaded, true);
  assert.equal(plannedAgain.summary, "mc is already loaded.");
});

test("pinned models are never unloaded to make room: the load is refused with CONFLICT naming them", { skip }, async () => {
  for (const id of ["ma", "mc"]) {
    const { model } = await ok(client.socket, "models:update", { id, changes: { pinned: true } });
    assert.equal(model.pinned, true);
  }
  const listed = (await ok(client.socket, "models:list", {})).models.filter((m) => m.pinned).map((m) => m.id).sort();
  assert.deepEqual(listed, ["ma", "mc"]);
  const plan = await ok(client.socket, "models:plan", { id: "mb" });
  assert.equal(plan.fits, false);
  assert.deepEqual([...plan.blockedBy].sort(), ["ma", "mc"]);
  assert.match(plan.refused, /pinned model\(s\)/);

  const load = await request(client.socket, "models:load", { id: "mb" });
  assert.equal(load.error?.code, "CONFLICT", JSON.stringify(load));
  assert.match(load.error.message, /ma/);
  const res = await chat("mb");
  assert.equal(res.status, 409);
  assert.match((await res.json()).error.message, /pinned/);
  assert.deepEqual(await statuses(), { ma: "loaded", mb: "unloaded", mc: "loaded" });

  await ok(client.socket, "models:update", { id: "mc", changes: { pinned: false } });
  const unpinned = await ok(client.socket, "models:plan", { id: "mb" });
  assert.deepEqual(unpinned.evicts.map((e) => e.id), ["mc"], "the one unpinned model is the one to go");
});

test("models:delete refuses a loaded model and deletes an unloaded one's file, which leaves the list", { skip }, async () => {
  const busy = await request(client.socket, "models:delete", { id: "ma" });
  assert.equal(busy.error?.code, "CONFLICT");
  assert.match(busy.error.message, /unload it/);
  assert.ok(existsSync(path.join(models.dir, "ma.gguf")));

  const file = path.join(models.dir, "mb.gguf");
  const size = statSync(file).size;
  const deleted = await ok(client.socket, "models:delete", { id: "mb" });
  assert.deepEqual({ id: deleted.id, path: deleted.path, bytes: deleted.bytes, deleted: deleted.deleted }, { id: "mb", path: file, bytes: size, deleted: true });
  assert.ok(!existsSync(file));
  const ids = (await ok(client.socket, "models:list", {})).models.map((m) => m.id).sort();
  assert.deepEqual(ids, ["ma", "mc"]);
  const again = await request(client.socket, "models:delete", { id: "mb" });
  assert.equal(again.error?.code, "MODEL_NOT_FOUND");
});

test("a file added to the models directory loads through the running router, unloading what the plan said", { skip }, async () => {
  try { linkSync(realModel, path.join(models.dir, "md.gguf")); } catch { copyFileSync(realModel, path.join(models.dir, "md.gguf")); }
  await until(async () => (await ok(client.socket, "models:list", {})).models.some((m) => m.id === "md"), { what: "md listed" });
  const plan = await ok(client.socket, "models:plan", { id: "md" });
  assert.deepEqual(plan.evicts.map((e) => e.id), ["mc"], "ma is pinned");
  await load("md");
  assert.equal(await status("mc"), "unloaded");
  assert.equal(await status("ma"), "loaded");
});

test("two first requests for unloaded models at once take the free slots in turn and never the pinned model's", { skip }, async () => {
  try { linkSync(realModel, path.join(models.dir, "me.gguf")); } catch { copyFileSync(realModel, path.join(models.dir, "me.gguf")); }
  await until(async () => (await ok(client.socket, "models:list", {})).models.some((m) => m.id === "me"), { what: "me listed" });
  assert.equal(await status("md"), "loaded");
  const [first, second] = await Promise.all([chat("mc"), chat("me")]);
  assert.deepEqual([first.status, second.status], [200, 200], `${await first.text()} ${await second.text()}`);
  assert.equal(await status("ma"), "loaded", "the pinned model kept its slot");
  const loaded = (await ok(client.socket, "models:list", {})).models.filter((m) => m.status === "loaded").map((m) => m.id);
  assert.equal(loaded.length, 2, JSON.stringify(loaded));
  const events = (await ok(client.socket, "models:get", { id: "ma" })).events.map((e) => e.event);
  assert.ok(!events.includes("unloaded"), `ma was never unloaded: ${events}`);
});
