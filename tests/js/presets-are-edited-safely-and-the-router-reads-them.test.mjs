// The --models-preset INI edited over Socket.IO: read, refused when malformed (with the line), saved
// with a backup, and the router restarted so that the new preset is a model one can list and load.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { connect, ok, request, until } from "./lib/socket.mjs";
import { needReal, modelsDir, startWithRealRouter } from "./lib/real.mjs";

const skip = needReal();
let server, client, models, presetsFile;

before(async () => {
  if (skip) return;
  models = modelsDir("smol");
  presetsFile = path.join(models.dir, "presets.ini");
  server = await startWithRealRouter({
    models: { directory: models.dir, presetsFile },
    performance: { contextSize: 1024 },
    startup: { autoStart: true, timeout: 20000 },
  });
  client = await connect(server.url);
});

after(async () => {
  client?.close();
  await server?.stop();
  models?.cleanup();
});

test("a missing presets file reads as empty", { skip }, async () => {
  const got = await ok(client.socket, "presets:get", {});
  assert.deepEqual(got, { path: presetsFile, content: "", presets: [] });
});

test("a malformed INI is refused with its line, and nothing is written", { skip }, async () => {
  const reply = await request(client.socket, "presets:save", { content: "[smol-short]\nmodel /nowhere\n" });
  assert.equal(reply.success, false);
  assert.equal(reply.error.field, "content");
  assert.match(reply.error.message, /^content: line 2: expected 'key = value'/);
  assert.equal(existsSync(presetsFile), false);
});

test("a saved preset reaches the router, which lists it as a model", { skip }, async () => {
  const before = (await ok(client.socket, "router:status", {})).pid;
  const content = `; written by the test\n[smol-short]\nmodel = ${path.join(models.dir, "smol.gguf")}\nctx-size = 512\n`;
  const saved = await ok(client.socket, "presets:save", { content });
  assert.deepEqual(saved.presets, ["smol-short"]);
  assert.equal(saved.routerRestarted, true);
  assert.equal(readFileSync(presetsFile, "utf8"), content);
  const status = await until(async () => {
    const s = await ok(client.socket, "router:status", {});
    return s.running && s.pid !== before && s;
  }, { timeoutMs: 30000, what: "the router restarted" });
  const listed = await until(async () => {
    const { data } = await (await fetch(`${status.url}/models`)).json();
    return data.some((m) => m.id === "smol-short") && data;
  }, { timeoutMs: 10000, what: "the preset listed by the router" });
  assert.ok(listed.some((m) => m.id === "smol"));

  const again = await ok(client.socket, "presets:save", { content: content.replace("512", "768") });
  assert.ok(again.backup && readFileSync(again.backup, "utf8") === content, "the previous file is kept as .ini.bak");
});
