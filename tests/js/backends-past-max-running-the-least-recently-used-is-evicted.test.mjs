// Own backends, backends.maxRunning: within one group, starting one more model than allowed stops the
// least recently used running one first (actor "evicted"), never more than maxRunning at once.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startBackends, chatOk, needReal } from "./lib/backends.mjs";

const skip = needReal();

test("maxRunning 1: a request for B evicts A, then B serves", { skip }, async () => {
  const ctx = await startBackends({ backends: { maxRunning: 1 }, models: [{ name: "a", group: "g" }, { name: "b", group: "g" }] });
  try {
    await chatOk(ctx.v1, "a");
    assert.deepEqual(ctx.running(), ["a"]);
    const since = Date.now();
    assert.equal((await chatOk(ctx.v1, "b")).model, "b");
    const aUnloaded = await ctx.waitStatus("a", "unloaded", { since });
    const bLoading = await ctx.waitStatus("b", "loading", { since });
    assert.ok(bLoading.at >= aUnloaded.at, "b started only after a had stopped");
    const a = await ctx.model("a");
    assert.equal(a.status, "unloaded");
    assert.equal(a.reason, "evicted");
    const history = await ctx.events("a");
    assert.deepEqual(history.filter((e) => e.actor === "evicted").map((e) => e.event), ["unload_requested", "unloaded"], JSON.stringify(history));
    assert.deepEqual(ctx.running(), ["b"]);
  } finally {
    await ctx.stop();
  }
});

test("maxRunning 2 with three models: the least recently used one is evicted, not the oldest", { skip }, async () => {
  const ctx = await startBackends({
    backends: { maxRunning: 2 },
    models: [{ name: "a", group: "g" }, { name: "b", group: "g" }, { name: "c", group: "g" }],
  });
  try {
    await chatOk(ctx.v1, "a");
    await chatOk(ctx.v1, "b");
    assert.deepEqual(ctx.running(), ["a", "b"]);
    await chatOk(ctx.v1, "a"); // a, started first, is now the most recently used
    assert.equal((await chatOk(ctx.v1, "c")).model, "c");
    const b = await ctx.model("b");
    assert.equal(b.status, "unloaded");
    assert.equal(b.reason, "evicted");
    assert.equal((await ctx.model("a")).status, "loaded");
    assert.equal((await ctx.model("c")).status, "loaded");
    assert.deepEqual(ctx.running(), ["a", "c"]);
    assert.ok(!(await ctx.events("a")).some((e) => e.event.startsWith("unload")), "a was never stopped");
    assert.ok((await ctx.events("b")).some((e) => e.event === "unloaded" && e.actor === "evicted"));
  } finally {
    await ctx.stop();
  }
});
