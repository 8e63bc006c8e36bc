// Own backends, idle stop: a model with `ttl` 2 is stopped about 2 s after its last request ended
// (actor "idle"), and while it is loaded and idle it says when (unloadAt); a model with ttl 0 stays.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startBackends, chatOk, untilStatus, needReal } from "./lib/backends.mjs";

const skip = needReal();
let ctx;
before(async () => {
  if (skip) return;
  ctx = await startBackends({
    backends: { idleTimeoutSec: 0 },
    models: [{ name: "a", group: "g", ttl: 2 }, { name: "b", group: "g" }],
  });
});
after(() => ctx?.stop());

test("a model idle for its ttl is stopped (actor idle); unloadAt is set while loaded and idle", { skip }, async () => {
  await chatOk(ctx.v1, "b");
  await chatOk(ctx.v1, "a");
  const ended = Date.now();
  const a = await ctx.model("a");
  assert.equal(a.status, "loaded");
  assert.equal(a.ttlSec, 2);
  assert.equal(typeof a.unloadAt, "number", JSON.stringify(a));
  assert.ok(a.unloadAt > ended - 500 && a.unloadAt <= Date.now() + 2000 + 100, `unloadAt ${a.unloadAt - ended} ms after the request ended, ttl 2 s`);
  const loaded = ctx.statuses("a").find((s) => s.status === "loaded");
  assert.equal(loaded.ttlSec, 2);
  const b = await ctx.model("b");
  assert.equal(b.ttlSec, 0);
  assert.equal(b.unloadAt, null, "ttl 0: never stopped for idleness");

  const unloaded = await ctx.waitStatus("a", "unloaded", { since: ended, timeoutMs: 10000 });
  const after = unloaded.at - ended;
  assert.ok(after >= 1500 && after < 8000, `stopped ${after} ms after the request ended (ttl 2 s)`);
  assert.equal(unloaded.unloadAt, null);
  const gone = await untilStatus(ctx.socket, "a", "unloaded");
  assert.equal(gone.reason, "idle");
  assert.equal(gone.unloadAt, null);
  const history = await ctx.events("a");
  assert.deepEqual(history.filter((e) => e.actor === "idle").map((e) => e.event), ["unload_requested", "unloaded"], JSON.stringify(history));
  assert.deepEqual(ctx.running(), ["b"], "a's llama-server is gone, b's still runs");
  assert.equal((await ctx.model("b")).status, "loaded");
});

test("a stopped-for-idle model starts again on the next request", { skip }, async () => {
  assert.equal((await chatOk(ctx.v1, "a")).model, "a");
  assert.equal((await ctx.model("a")).status, "loaded");
  assert.equal((await ctx.model("a")).reason, "request");
});
