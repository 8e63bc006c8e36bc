// Own backends, editing the spawn command (models:update {spawn}, or the init file saved from the
// dashboard): a running backend keeps serving with the argv it was started with; the new command is
// used from its next start (unload, then load). Argv is read from the processes themselves.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startBackends, fakeBin, chat } from "./lib/backends.mjs";
import { ok } from "./lib/socket.mjs";

const TOKEN = "admin-token-spawn-1";
let ctx;
before(async () => {
  ctx = await startBackends({
    link: false,
    config: { security: { adminToken: TOKEN } },
    auth: { token: TOKEN },
    backends: { defaultSpawn: { command: ["node", fakeBin, "-c", "1111"] } },
    models: [
      { name: "fake-a", group: "g", spawn: { command: ["node", fakeBin, "-c", "1111"] } },
      { name: "fake-b", group: "g" },
    ],
    env: { FAKE_TOKENS: "2", FAKE_TOKEN_MS: "1" },
  });
});
after(() => ctx?.stop());

/** The pid and `-c` value of the model's one running process. */
function proc(id) {
  const found = ctx.pids().filter((p) => p.model === ctx.file(id));
  assert.equal(found.length, 1, `one process for ${id}: ${JSON.stringify(found)}`);
  return { pid: found[0].pid, ctx: found[0].argv[found[0].argv.indexOf("-c") + 1] };
}

async function served(id) {
  const res = await chat(ctx.v1, id);
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal((await res.json()).choices[0].message.content, "t0 t1 ");
}

async function restart(id) {
  let since = Date.now();
  await ok(ctx.socket, "models:unload", { id });
  await ctx.waitStatus(id, "unloaded", { since });
  since = Date.now();
  await ok(ctx.socket, "models:load", { id });
  await ctx.waitStatus(id, "loaded", { since });
}

async function checkTakesEffectAtNextStart(id, change, wanted) {
  await served(id);
  const before = proc(id);
  assert.equal(before.ctx, "1111");
  await change();
  await served(id);
  assert.deepEqual(proc(id), before, "the running backend keeps its process and argv");
  assert.equal((await ctx.model(id)).status, "loaded");
  await restart(id);
  const after = proc(id);
  assert.notEqual(after.pid, before.pid);
  assert.equal(after.ctx, wanted, "the next start uses the new command");
  await served(id);
}

test("models:update of a model's spawn takes effect at its next start", { timeout: 30000 }, async () => {
  await checkTakesEffectAtNextStart("fake-a", async () => {
    const { model } = await ok(ctx.socket, "models:update", { id: "fake-a", changes: { spawn: { command: ["node", fakeBin, "-c", "2222"] } } });
    assert.equal(model.id, "fake-a");
  }, "2222");
});

test("a saved defaultSpawn.command takes effect at the next start of a model that uses it", { timeout: 30000 }, async () => {
  await checkTakesEffectAtNextStart("fake-b", async () => {
    const { fileConfig } = await ok(ctx.socket, "router:init:load", {});
    fileConfig.backends.defaultSpawn.command = ["node", fakeBin, "-c", "3333"];
    await ok(ctx.socket, "router:init:save", { config: fileConfig });
  }, "3333");
  assert.equal(proc("fake-a").ctx, "2222", "a model with its own spawn is not affected by the default");
});
