// models:list (and the snapshot) list the *.gguf files of models.directory as router models, leaving out
// mmproj projector files and non-GGUF files.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync, statSync } from "node:fs";
import path from "node:path";
import { startServer } from "./lib/server.mjs";
import { connect, ok, tempDir } from "./lib/socket.mjs";
import { clearEnv } from "./lib/config.mjs";

const models = tempDir("lldash-models-");
const files = { "a.gguf": 1234, "sub-b.gguf": 77, "mmproj-x.gguf": 500, "notes.txt": 10 };
for (const [name, size] of Object.entries(files)) writeFileSync(path.join(models.dir, name), Buffer.alloc(size, 7));

let server, client;
before(async () => {
  server = await startServer({ config: { models: { directory: models.dir } }, env: clearEnv() });
  client = await connect(server.url);
});
after(async () => {
  client?.close();
  await server?.stop();
  models.cleanup();
});

function assertModels(list) {
  assert.deepEqual(list.map((m) => m.id).sort(), ["a", "sub-b"]);
  for (const m of list) {
    const file = path.join(models.dir, `${m.id}.gguf`);
    assert.equal(m.source, "router");
    assert.equal(m.status, "unloaded");
    assert.equal(m.state, "auto");
    assert.equal(m.sizeBytes, statSync(file).size, `${m.id}.sizeBytes`);
    assert.equal(path.resolve(models.dir, m.path), file, `${m.id}.path`);
    for (const k of ["architecture", "parameters", "quantization", "contextLength", "group", "lastUsed", "modifiedAt"]) {
      assert.ok(k in m, `${m.id}.${k} missing`);
    }
  }
}

test("models:list lists a and sub-b, not mmproj-x or notes.txt", async () => {
  assertModels((await ok(client.socket, "models:list", {})).models);
});

test("the snapshot carries the same list", async () => {
  assertModels((await client.snapshot).data.models);
});

test("LLAMA_MODELS_DIR points the list at another directory", async (t) => {
  const other = tempDir("lldash-models2-");
  t.after(other.cleanup);
  writeFileSync(path.join(other.dir, "only-here.gguf"), "GGUF");
  const s = await startServer({ config: { models: { directory: models.dir } }, env: { ...clearEnv(), LLAMA_MODELS_DIR: other.dir } });
  t.after(() => s.stop());
  const c = await connect(s.url);
  t.after(() => c.close());
  assert.deepEqual((await ok(c.socket, "models:list", {})).models.map((m) => m.id), ["only-here"]);
});

test("an empty or missing models directory gives an empty list, not an error", async (t) => {
  const s = await startServer({ config: { models: { directory: path.join(models.dir, "missing") } }, env: clearEnv() });
  t.after(() => s.stop());
  const c = await connect(s.url);
  t.after(() => c.close());
  assert.deepEqual((await ok(c.socket, "models:list", {})).models, []);
});
