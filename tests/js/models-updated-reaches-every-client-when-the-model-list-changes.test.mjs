// `models:updated` ({models:[Model]}) reaches every client, the sender and the others, when the list
// changes: a GGUF file added or removed and `models:scan`, a TTL changed with `models:update`, a model
// that finished loading or unloading. Real llama-server router, real SmolLM2 model.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { linkSync, copyFileSync, statSync, unlinkSync } from "node:fs";
import path from "node:path";
import { connect, ok, assertBroadcast, until } from "./lib/socket.mjs";
import { needReal, modelsDir, startWithRealRouter, realModel } from "./lib/real.mjs";

const skip = needReal();
let models, server, asker, other;

before(async () => {
  if (skip) return;
  models = modelsDir("smol");
  server = await startWithRealRouter({ models: { directory: models.dir, idleTimeoutSec: 0 }, performance: { contextSize: 512 } });
  asker = await connect(server.url);
  other = await connect(server.url);
});
after(async () => {
  asker?.close();
  other?.close();
  await server?.stop();
  models?.cleanup();
});

/** The first `models:updated` that `client` received at or after `since` whose list satisfies `pred`. */
function updated(client, since, pred, what) {
  return until(() => client.received.find((e) => e.event === "models:updated" && e.at >= since && pred(e.payload?.data?.models ?? []))?.payload,
    { timeoutMs: 30000, intervalMs: 50, what: `models:updated ${what}` });
}
const byId = (list, id) => list.find((m) => m.id === id);

test("a GGUF file added and models:scan: every client gets the list with the new model", { skip }, async () => {
  const file = path.join(models.dir, "added.gguf");
  try { linkSync(realModel, file); } catch { copyFileSync(realModel, file); }
  const since = Date.now();
  const reply = await ok(asker.socket, "models:scan", {});
  assert.equal(reply.added, 1);
  for (const client of [other, asker]) {
    const msg = await updated(client, since, (list) => byId(list, "added"), "with 'added'");
    assertBroadcast(msg, "models:updated", msg.timestamp);
    const m = byId(msg.data.models, "added");
    assert.equal(m.source, "router");
    assert.equal(m.path, file);
    assert.equal(m.sizeBytes, statSync(file).size);
    assert.equal(m.architecture, "llama", "GGUF metadata read before the broadcast");
    assert.equal(m.status, "unloaded");
    assert.deepEqual(msg.data.models.map((x) => x.id).sort(), ["added", "smol"]);
  }
});

test("a GGUF file removed and models:scan: the list without it", { skip }, async () => {
  unlinkSync(path.join(models.dir, "added.gguf"));
  const since = Date.now();
  assert.equal((await ok(asker.socket, "models:scan", {})).removed, 1);
  const msg = await updated(other, since, (list) => !byId(list, "added"), "without 'added'");
  assert.deepEqual(msg.data.models.map((x) => x.id), ["smol"]);
});

test("models:update of a TTL: the list carries the new ttlSec", { skip }, async () => {
  const since = Date.now();
  await ok(asker.socket, "models:update", { id: "smol", changes: { ttl: 90 } });
  const msg = await updated(other, since, (list) => byId(list, "smol")?.ttlSec === 90, "with smol's ttlSec 90");
  assert.equal(byId(msg.data.models, "smol").status, "unloaded");
});

test("a model that finished loading, then unloading: the list shows it loaded with its memory, then unloaded", { skip }, async () => {
  let since = Date.now();
  assert.deepEqual(await ok(asker.socket, "models:load", { id: "smol" }), { id: "smol", status: "loading" });
  const loaded = await updated(other, since, (list) => byId(list, "smol")?.status === "loaded", "with smol loaded");
  const m = byId(loaded.data.models, "smol");
  assert.equal(typeof m.rssBytes, "number");
  assert.ok(m.rssBytes > 1e6, `rssBytes of the process serving it: ${m.rssBytes}`);
  assert.equal(typeof m.lastUsed, "number");

  since = Date.now();
  assert.deepEqual(await ok(asker.socket, "models:unload", { id: "smol" }), { id: "smol", status: "unloading" });
  const unloaded = await updated(other, since, (list) => byId(list, "smol")?.status === "unloaded", "with smol unloaded");
  assert.equal(byId(unloaded.data.models, "smol").rssBytes ?? null, null, "no memory once unloaded");
});
