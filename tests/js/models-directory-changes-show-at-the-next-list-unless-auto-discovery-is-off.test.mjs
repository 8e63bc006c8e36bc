// models.autoDiscovery: with it (the default) a GGUF file dropped into or deleted from models.directory shows in the
// very next models:list; without it the list stays as read at start until models:scan (or POST /admin/rescan).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync, rmSync } from "node:fs";
import path from "node:path";
import { startServer } from "./lib/server.mjs";
import { connect, ok, tempDir } from "./lib/socket.mjs";
import { clearEnv } from "./lib/config.mjs";

const started = [];
after(async () => {
  for (const stop of started.reverse()) await stop();
});

async function serverWithOneModel(autoDiscovery) {
  const models = tempDir("lldash-discovery-");
  writeFileSync(path.join(models.dir, "first.gguf"), "GGUF");
  const server = await startServer({ config: { models: { directory: models.dir, autoDiscovery } }, env: clearEnv() });
  const client = await connect(server.url);
  started.push(models.cleanup, () => server.stop(), async () => client.close());
  const list = async () => (await ok(client.socket, "models:list", {})).models.map((m) => m.id).sort();
  assert.deepEqual(await list(), ["first"], "read at start");
  writeFileSync(path.join(models.dir, "second.gguf"), "GGUF");
  rmSync(path.join(models.dir, "first.gguf"));
  return { client, list };
}

test("by default a file added and a file removed show in the next models:list", async () => {
  const { list } = await serverWithOneModel(undefined);
  assert.deepEqual(await list(), ["second"]);
});

test("with autoDiscovery false the list keeps what was read until models:scan", async () => {
  const { client, list } = await serverWithOneModel(false);
  assert.deepEqual(await list(), ["first"], "no rescan on list");
  const scan = await ok(client.socket, "models:scan", {});
  assert.deepEqual({ added: scan.added, removed: scan.removed, total: scan.total }, { added: 1, removed: 1, total: 1 });
  assert.deepEqual(await list(), ["second"]);
});
