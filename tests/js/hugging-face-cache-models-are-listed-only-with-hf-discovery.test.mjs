// `backends.hfDiscovery` (default true): GGUF files in the Hugging Face cache ($HF_HUB_CACHE, else $HF_HOME/hub,
// else ~/.cache/huggingface/hub) become `auto` backend models; with false they are not listed, not even after
// a rescan, and nothing is written into the init file. Only listing: no llama-server is needed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync, symlinkSync, readFileSync } from "node:fs";
import path from "node:path";
import { startServer } from "./lib/server.mjs";
import { connect, ok, tempDir } from "./lib/socket.mjs";

/** A hub cache entry: <hub>/models--org--REPO/snapshots/REV/FILE -> ../../blobs/HASH. */
function hubModel(hub, repo, file) {
  const base = path.join(hub, `models--org--${repo}`);
  const snapshot = path.join(base, "snapshots", "4e5d6c7b");
  mkdirSync(path.join(base, "blobs"), { recursive: true });
  mkdirSync(snapshot, { recursive: true });
  const blob = path.join(base, "blobs", `b1a2c3d4${repo.length}`);
  writeFileSync(blob, "GGUF");
  symlinkSync(blob, path.join(snapshot, file));
}

async function boot(t, { hfDiscovery, env }) {
  const server = await startServer({ config: { startup: { autoStart: false }, backends: { hfDiscovery } }, env });
  t.after(() => server.stop());
  const client = await connect(server.url);
  t.after(() => client.close());
  const backendIds = async () => (await ok(client.socket, "models:list", {})).models.filter((m) => m.source === "backend").map((m) => m.id);
  const saved = () => JSON.parse(readFileSync(path.join(server.work, "llama-router.init.json"), "utf8"));
  return { server, client, backendIds, saved };
}

test("hfDiscovery false: a GGUF in the cache is not listed, not after a rescan either, and not saved", async (t) => {
  const hub = tempDir("lldash-hub-");
  t.after(hub.cleanup);
  hubModel(hub.dir, "first", "first-Q4_K_M.gguf");
  const { client, backendIds, saved } = await boot(t, { hfDiscovery: false, env: { HF_HUB_CACHE: hub.dir } });
  assert.deepEqual(await backendIds(), []);
  hubModel(hub.dir, "second", "second-Q8_0.gguf");
  const scan = await ok(client.socket, "models:scan", {});
  assert.equal(scan.added, 0, JSON.stringify(scan));
  assert.deepEqual(await backendIds(), []);
  assert.equal(saved().backends.models, undefined, "backends.models was not written");
});

// Where the cache is looked for: each case sets one place (HOME is this test's own temp dir).
const places = [
  ["HF_HUB_CACHE", (dir) => ({ hub: path.join(dir, "hub-cache"), env: { HF_HUB_CACHE: path.join(dir, "hub-cache") } })],
  ["HF_HOME/hub", (dir) => ({ hub: path.join(dir, "hf-home", "hub"), env: { HF_HUB_CACHE: undefined, HF_HOME: path.join(dir, "hf-home") } })],
  ["~/.cache/huggingface/hub", (dir) => ({ hub: path.join(dir, ".cache", "huggingface", "hub"), env: { HF_HUB_CACHE: undefined, HF_HOME: undefined, HOME: dir } })],
];
for (const [where, place] of places) {
  test(`hfDiscovery true: a GGUF in ${where} is listed as an auto backend, and one added later after models:scan`, async (t) => {
    const home = tempDir("lldash-home-");
    t.after(home.cleanup);
    const { hub, env } = place(home.dir);
    hubModel(hub, "first", "first-Q4_K_M.gguf");
    const { client, backendIds, saved } = await boot(t, { hfDiscovery: true, env });
    assert.deepEqual(await backendIds(), ["first-Q4_K_M"]);
    assert.deepEqual(saved().backends.models.map((m) => [m.name, m.state]), [["first-Q4_K_M", "auto"]]);
    hubModel(hub, "second", "second-Q8_0.gguf");
    const scan = await ok(client.socket, "models:scan", {});
    assert.equal(scan.added, 1, JSON.stringify(scan));
    assert.deepEqual((await backendIds()).sort(), ["first-Q4_K_M", "second-Q8_0"]);
  });
}
