// Where own-backend models come from besides the init file: the Hugging Face cache (auto models that come
// and go with their files, mmproj paired) and imports (manual models, from the CLI or models:import, only
// from configured roots), each written into the init file with a backup. No llama-server is needed:
// the files are only listed.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync, symlinkSync, readFileSync, existsSync, rmSync } from "node:fs";
import path from "node:path";
import { startServer, runToExit } from "./lib/server.mjs";
import { connect, ok, request, tempDir } from "./lib/socket.mjs";

let hub, outside, root, server, client;
const initFile = () => path.join(server.work, "llama-router.init.json");
const backendModels = async () => (await ok(client.socket, "models:list", {})).models.filter((m) => m.source === "backend");

/** A directory laid out like the hub cache: models--org--repo/snapshots/REV/NAME -> ../../blobs/BLOB. */
function hubModel(dir, repo, files) {
  const base = path.join(dir, `models--org--${repo}`);
  mkdirSync(path.join(base, "blobs"), { recursive: true });
  const snapshot = path.join(base, "snapshots", "0123abcd");
  mkdirSync(snapshot, { recursive: true });
  files.forEach((name, i) => {
    const blob = path.join(base, "blobs", `9f86d081884c7d65${i}`); // blobs are named by hash, without .gguf
    writeFileSync(blob, "GGUF");
    symlinkSync(blob, path.join(snapshot, name));
  });
  return snapshot;
}

before(async () => {
  hub = tempDir("lldash-hub-");
  outside = tempDir("lldash-outside-");
  root = tempDir("lldash-root-");
  hubModel(hub.dir, "vision", ["vision-Q4_K_M.gguf", "mmproj-vision-f16.gguf"]);
  mkdirSync(path.join(root.dir, "nested/deeper"), { recursive: true });
  writeFileSync(path.join(root.dir, "nested/one.gguf"), "GGUF");
  writeFileSync(path.join(root.dir, "nested/deeper/two.gguf"), "GGUF");
  writeFileSync(path.join(outside.dir, "secret.gguf"), "GGUF");
  server = await startServer({
    config: { startup: { autoStart: false }, backends: { importRoots: [root.dir] } },
    env: { HF_HUB_CACHE: hub.dir },
  });
  client = await connect(server.url);
});

after(async () => {
  client?.close();
  await server?.stop();
  for (const d of [hub, outside, root]) d?.cleanup();
});

test("a model in the Hugging Face cache is listed as an auto backend with its projector, and saved", async () => {
  const [vision] = await backendModels();
  assert.equal(vision?.id, "vision-Q4_K_M", JSON.stringify(await backendModels()));
  assert.equal(vision.state, "auto");
  assert.match(vision.mmproj, /mmproj-vision-f16\.gguf$/);
  assert.match(vision.path, /snapshots\/0123abcd\/vision-Q4_K_M\.gguf$/);
  const saved = JSON.parse(readFileSync(initFile(), "utf8"));
  assert.deepEqual(saved.backends.models.map((m) => [m.name, m.state]), [["vision-Q4_K_M", "auto"]]);
  assert.equal(saved.startup.autoStart, false, "the rest of the init file is kept");
  assert.ok(existsSync(`${initFile()}.bak`), "the previous file is kept as .json.bak");
});

test("models:import refuses a directory outside the configured roots, and a missing one", async () => {
  for (const dir of [outside.dir, path.join(root.dir, "no-such-dir"), `${root.dir}/../${path.basename(outside.dir)}`]) {
    const reply = await request(client.socket, "models:import", { dir });
    assert.equal(reply.success, false, dir);
    assert.equal(reply.error.code, "BAD_REQUEST");
    assert.equal(reply.error.field, "dir");
  }
  assert.ok(!(await backendModels()).some((m) => m.id === "secret"));
});

test("models:import adds every model under a root as manual, once", async () => {
  const first = await ok(client.socket, "models:import", { dir: path.join(root.dir, "nested") });
  assert.deepEqual(first.added.sort(), ["one", "two"]);
  const again = await ok(client.socket, "models:import", { dir: root.dir });
  assert.deepEqual(again.added, [], "known files are not added twice");
  const states = Object.fromEntries((await backendModels()).map((m) => [m.id, m.state]));
  assert.deepEqual(states, { "vision-Q4_K_M": "auto", one: "manual", two: "manual" });
  const saved = JSON.parse(readFileSync(initFile(), "utf8"));
  assert.deepEqual(saved.backends.models.map((m) => m.name).sort(), ["one", "two", "vision-Q4_K_M"]);
});

test("a rescan drops an auto model whose file went, and keeps manual ones whose file went", async () => {
  rmSync(path.join(hub.dir, "models--org--vision"), { recursive: true, force: true });
  rmSync(path.join(root.dir, "nested/one.gguf"));
  await ok(client.socket, "models:scan", {});
  const ids = (await backendModels()).map((m) => m.id).sort();
  assert.deepEqual(ids, ["one", "two"]);
  const saved = JSON.parse(readFileSync(initFile(), "utf8"));
  assert.deepEqual(saved.backends.models.map((m) => m.name).sort(), ["one", "two"]);
});

test("--import-dir adds a directory's models to the init file and exits", async () => {
  const dir = tempDir("lldash-cli-import-");
  const work = tempDir("lldash-cli-work-");
  try {
    writeFileSync(path.join(dir.dir, "llava-q4.gguf"), "GGUF");
    writeFileSync(path.join(dir.dir, "mmproj-llava-f16.gguf"), "GGUF");
    const file = path.join(work.dir, "init.json");
    writeFileSync(file, JSON.stringify({ server: { port: 3999 } }));
    const res = await runToExit(["--config", file, "--import-dir", dir.dir]);
    assert.equal(res.code, 0, res.output);
    assert.match(res.output, /imported 1 model\(s\)/);
    assert.match(res.output, /\+ llava-q4/);
    const saved = JSON.parse(readFileSync(file, "utf8"));
    assert.equal(saved.server.port, 3999);
    assert.deepEqual(saved.backends.models.map((m) => [m.name, m.state]), [["llava-q4", "manual"]]);
    assert.match(saved.backends.models[0].mmproj, /mmproj-llava-f16\.gguf$/);
    const missing = await runToExit(["--config", file, "--import-dir", path.join(dir.dir, "nope")]);
    assert.equal(missing.code, 2);
    assert.match(missing.output, /not a directory/);
  } finally {
    dir.cleanup();
    work.cleanup();
  }
});
