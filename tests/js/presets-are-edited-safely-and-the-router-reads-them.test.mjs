// The --models-preset INI edited over Socket.IO: read, refused when malformed (with the line), saved
// with a backup, and the router restarted so that the new preset is a model one can list and load.
// Each preset is a llama-server command line (it can name files to read and write), so editing them
// needs security.adminToken: without one they can be read, with the reason they are read-only, and a
// save is FORBIDDEN and writes nothing.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { connect, freePort, ok, request, tempDir, until } from "./lib/socket.mjs";
import { startServer } from "./lib/server.mjs";
import { needReal, modelsDir, llamaServer } from "./lib/real.mjs";

const skip = needReal();
const ADMIN_TOKEN = "presets-test-admin-token";
let server, client, models, presetsFile;

before(async () => {
  if (skip) return;
  models = modelsDir("smol");
  presetsFile = path.join(models.dir, "presets.ini");
  // As lib/real.mjs's startWithRealRouter, with the admin token that editing presets needs.
  server = await startServer({
    config: {
      router: { port: await freePort() },
      models: { directory: models.dir, presetsFile },
      performance: { contextSize: 1024 },
      startup: { autoStart: true, timeout: 20000 },
      security: { adminToken: ADMIN_TOKEN },
    },
    env: { LLAMA_SERVER_BIN: llamaServer },
  });
  client = await connect(server.url, { auth: { token: ADMIN_TOKEN } });
  await until(async () => (await ok(client.socket, "router:status", {})).running, { timeoutMs: 30000, what: "router running" });
});

after(async () => {
  client?.close();
  await server?.stop();
  models?.cleanup();
});

test("a missing presets file reads as empty", { skip }, async () => {
  const got = await ok(client.socket, "presets:get", {});
  assert.deepEqual(got, { path: presetsFile, content: "", presets: [], editable: true, reason: null });
});

test("without an admin token the presets are read-only: get says why, save is FORBIDDEN and writes nothing", async () => {
  const dir = tempDir("lldash-presets-");
  const file = path.join(dir.dir, "presets.ini");
  const content = "[smol]\nctx-size = 512\n";
  writeFileSync(file, content);
  const open = await startServer({ config: { models: { directory: dir.dir, presetsFile: file }, startup: { autoStart: false } } });
  const socket = await connect(open.url);
  try {
    const got = await ok(socket.socket, "presets:get", {});
    assert.equal(got.content, content, "still readable");
    assert.deepEqual(got.presets, ["smol"]);
    assert.equal(got.editable, false);
    assert.match(got.reason, /security\.adminToken/);
    const reply = await request(socket.socket, "presets:save", { content: `[smol]\nlog-file = ${path.join(dir.dir, "x")}\n` });
    assert.equal(reply.success, false, JSON.stringify(reply));
    assert.equal(reply.error.code, "FORBIDDEN");
    assert.equal(reply.error.field, "content");
    assert.equal(readFileSync(file, "utf8"), content, "the file is unchanged");
    assert.equal(existsSync(`${file}.bak`), false, "not even a backup was written");
  } finally {
    socket.close();
    await open.stop();
    dir.cleanup();
  }
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
  await until(async () => {
    const s = await ok(client.socket, "router:status", {});
    return s.running && s.pid !== before && s;
  }, { timeoutMs: 30000, what: "the router restarted" });
  // The router is reached through us (it only answers requests carrying the key we gave it).
  const listed = await until(async () => {
    const { models: list } = await ok(client.socket, "models:list", {});
    return list.some((m) => m.id === "smol-short") && list;
  }, { timeoutMs: 10000, what: "the preset listed by the router" });
  assert.equal(listed.find((m) => m.id === "smol-short").preset, true, "a model only the router knows, from the preset");
  assert.ok(listed.some((m) => m.id === "smol"));

  const again = await ok(client.socket, "presets:save", { content: content.replace("512", "768") });
  assert.ok(again.backup && readFileSync(again.backup, "utf8") === content, "the previous file is kept as .ini.bak");
});
