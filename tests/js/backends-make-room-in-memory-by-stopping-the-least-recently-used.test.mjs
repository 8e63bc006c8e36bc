// Own backends, memory fit: a model whose estimated need (from its GGUF and the `-c` of its command) is
// more than what is free, but would fit once other backends stop, is started after the least recently
// used running backend is stopped (reason "memory"), and only that one: the others keep running.
// The real GGUF gives the estimate; the fake llama-server serves (it allocates nothing, so the free
// memory the dashboard sees stays what the machine has). Each model's `-c` is set from the free memory
// the dashboard reports: a and b need 0.6 x free each, big 1.3 x free (fits only once one of them stops).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startBackends, fakeBin, chatOk, needReal } from "./lib/backends.mjs";
import { ok, until } from "./lib/socket.mjs";

const skip = needReal();
const TOKEN = "admin-token-memory-1";
const command = (c) => ["node", fakeBin, "--fake-serve-alias", "-c", String(c)];
let ctx;
before(async () => {
  if (skip) return;
  ctx = await startBackends({
    config: { security: { adminToken: TOKEN }, metrics: { intervalMs: 500 } },
    auth: { token: TOKEN },
    models: ["a", "b", "big"].map((name) => ({ name, group: "g", spawn: { command: command(1024) } })),
    env: { FAKE_TOKENS: "2", FAKE_TOKEN_MS: "1" },
  });
});
after(() => ctx?.stop());

/** Sets the model's -c so that its estimated need is about `share` x free; returns the model. */
async function needShare(id, share) {
  const { memory } = await until(async () => (await ctx.model(id)).memory?.freeBytes > 0 && ctx.model(id), { what: "free memory" });
  const perToken = memory.kvCacheBytes / memory.context;
  const others = memory.totalBytes - memory.kvCacheBytes;
  const c = Math.ceil((share * memory.freeBytes - others) / perToken);
  await ok(ctx.socket, "models:update", { id, changes: { spawn: { command: command(c) } } });
  const model = await ctx.model(id);
  assert.equal(model.memory.context, c);
  return model;
}

test("starting a model that does not fit stops the least recently used backend first, then starts", { skip, timeout: 30000 }, async () => {
  await needShare("a", 0.6);
  await needShare("b", 0.6);
  const big = await needShare("big", 1.3);
  assert.ok(big.memory.totalBytes > big.memory.freeBytes, `big does not fit as is: ${JSON.stringify(big.memory)}`);

  await chatOk(ctx.v1, "a");
  await chatOk(ctx.v1, "b");
  await chatOk(ctx.v1, "a"); // b, started last, is now the least recently used
  assert.deepEqual(ctx.running(), ["a", "b"]);

  const since = Date.now();
  assert.equal((await chatOk(ctx.v1, "big")).model, "big");
  const bUnloaded = await ctx.waitStatus("b", "unloaded", { since });
  const bigLoading = await ctx.waitStatus("big", "loading", { since });
  assert.ok(bigLoading.at >= bUnloaded.at, "big started only once b had stopped");
  const b = await ctx.model("b");
  assert.equal(b.status, "unloaded");
  assert.equal(b.reason, "memory");
  const history = await ctx.events("b");
  assert.deepEqual(history.filter((e) => e.actor === "memory").map((e) => e.event), ["unload_requested", "unloaded"], JSON.stringify(history));
  assert.equal((await ctx.model("a")).status, "loaded");
  assert.ok(!(await ctx.events("a")).some((e) => e.event.startsWith("unload")), "a, used more recently, was never stopped");
  assert.deepEqual(ctx.running(), ["a", "big"]);
});
