// models.autoDiscovery: with it (the default) the catalog follows models.directory by itself: a GGUF file dropped
// into or deleted from it shows within a second as a models:updated broadcast and in models:list, which answers
// from memory (no disk scan per call); so does a models.directory created after the start. Without it the list
// stays as read at start until models:scan (or POST /admin/rescan).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync, rmSync, mkdirSync } from "node:fs";
import path from "node:path";
import { startServer } from "./lib/server.mjs";
import { connect, ok, tempDir, waitFor, sleep } from "./lib/socket.mjs";
import { clearEnv } from "./lib/config.mjs";

const started = [];
after(async () => {
  for (const stop of started.reverse()) await stop();
});

const ids = (models) => models.map((m) => m.id).sort();
/** The next models:updated whose list is exactly `want`. */
const listed = (socket, want) =>
  waitFor(socket, "models:updated", { timeoutMs: 5000, filter: (msg) => JSON.stringify(ids(msg.data.models)) === JSON.stringify(want) });

async function serverOn(dir, autoDiscovery) {
  const server = await startServer({ config: { models: { directory: dir, autoDiscovery } }, env: clearEnv() });
  const client = await connect(server.url);
  started.push(() => server.stop(), async () => client.close());
  const list = async () => ids((await ok(client.socket, "models:list", {})).models);
  return { client, list };
}

async function serverWithOneModel(autoDiscovery) {
  const models = tempDir("lldash-discovery-");
  started.push(models.cleanup);
  writeFileSync(path.join(models.dir, "first.gguf"), "GGUF");
  const server = await serverOn(models.dir, autoDiscovery);
  assert.deepEqual(await server.list(), ["first"], "read at start");
  return { ...server, dir: models.dir };
}

test("by default a file added and a file removed show by themselves, broadcast and in models:list", async () => {
  const { client, list, dir } = await serverWithOneModel(undefined);
  const updated = listed(client.socket, ["second"]);
  writeFileSync(path.join(dir, "second.gguf"), "GGUF");
  rmSync(path.join(dir, "first.gguf"));
  await updated;
  assert.deepEqual(await list(), ["second"]);
  const nested = listed(client.socket, ["deep", "second"]);
  mkdirSync(path.join(dir, "author/model"), { recursive: true });
  writeFileSync(path.join(dir, "author/model/deep.gguf"), "GGUF");
  await nested;
  assert.deepEqual(await list(), ["deep", "second"], "files in new subdirectories too");
});

test("a models.directory that does not exist at the start is followed once it is created", async () => {
  const parent = tempDir("lldash-discovery-");
  started.push(parent.cleanup);
  const dir = path.join(parent.dir, "later");
  const { client, list } = await serverOn(dir, undefined);
  assert.deepEqual(await list(), []);
  const updated = listed(client.socket, ["arrived"]);
  mkdirSync(dir);
  writeFileSync(path.join(dir, "arrived.gguf"), "GGUF");
  await updated;
  assert.deepEqual(await list(), ["arrived"]);
});

test("with autoDiscovery false the list keeps what was read until models:scan", async () => {
  const { client, list, dir } = await serverWithOneModel(false);
  writeFileSync(path.join(dir, "second.gguf"), "GGUF");
  rmSync(path.join(dir, "first.gguf"));
  await sleep(1500);
  assert.deepEqual(await list(), ["first"], "no rescan by itself or on list");
  const scan = await ok(client.socket, "models:scan", {});
  assert.deepEqual({ added: scan.added, removed: scan.removed, total: scan.total }, { added: 1, removed: 1, total: 1 });
  assert.deepEqual(await list(), ["second"]);
});
