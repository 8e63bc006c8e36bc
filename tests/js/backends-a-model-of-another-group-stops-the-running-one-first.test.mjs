// Own backends, groups: a /v1 request for a model starts its own llama-server (loading, then loaded);
// a request for a model of another group stops the running one first ("group swap" in its history),
// then the new one serves, and only one of our llama-server processes is left.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startBackends, chatOk, needReal } from "./lib/backends.mjs";

const skip = needReal();
let ctx;
before(async () => {
  if (skip) return;
  ctx = await startBackends({ models: [{ name: "a", group: "one" }, { name: "b", group: "two" }] });
});
after(() => ctx?.stop());

test("a request for a stopped model starts it: loading, then loaded, and it answers", { skip }, async () => {
  assert.equal((await ctx.model("a")).status, "unloaded");
  assert.deepEqual(ctx.running(), []);
  const body = await chatOk(ctx.v1, "a");
  assert.equal(body.model, "a", "the backend answers under the model's name (--alias)");
  await ctx.waitStatus("a", "loaded");
  const seen = ctx.statuses("a").map((s) => s.status);
  assert.deepEqual(seen.slice(0, 2), ["loading", "loaded"], JSON.stringify(seen));
  assert.ok(ctx.statuses("a").every((s) => s.source === "backend"));
  const a = await ctx.model("a");
  assert.equal(a.status, "loaded");
  assert.equal(a.source, "backend");
  assert.equal(a.group, "one");
  assert.equal(a.reason, "request");
  assert.equal(typeof a.port, "number");
  assert.equal((await fetch(`http://127.0.0.1:${a.port}/health`)).status, 200, "the backend listens on the port it reports");
  assert.deepEqual(ctx.running(), ["a"]);
  const argv = ctx.pids()[0].argv;
  for (const [flag, value] of [["--alias", "a"], ["--model", ctx.file("a")], ["--port", String(a.port)], ["--host", "127.0.0.1"], ["-c", "1024"]]) {
    assert.equal(argv[argv.indexOf(flag) + 1], value, `${flag} ${value} in ${argv.join(" ")}`);
  }
});

test("a request for a model of another group stops the running one first, then the new one serves", { skip }, async () => {
  const since = Date.now();
  const body = await chatOk(ctx.v1, "b");
  assert.equal(body.model, "b");
  const aUnloaded = await ctx.waitStatus("a", "unloaded", { since });
  const bLoading = await ctx.waitStatus("b", "loading", { since });
  assert.ok(bLoading.at >= aUnloaded.at, "b started only after a had stopped");
  const a = await ctx.model("a");
  assert.equal(a.status, "unloaded");
  assert.equal(a.reason, "group swap");
  assert.equal(a.port, null);
  assert.equal((await ctx.model("b")).status, "loaded");
  const history = await ctx.events("a");
  const swap = history.filter((e) => e.actor === "group swap").map((e) => e.event);
  assert.deepEqual(swap, ["unload_requested", "unloaded"], JSON.stringify(history));
  assert.deepEqual(history.map((e) => e.event), ["loading", "loaded", "unload_requested", "unloaded"]);
  assert.equal(history[0].actor, "request");
  assert.deepEqual(ctx.running(), ["b"], "only b's llama-server is left");
});

test("and back: a request for the first model again swaps the other way", { skip }, async () => {
  await chatOk(ctx.v1, "a");
  assert.equal((await ctx.model("b")).reason, "group swap");
  assert.equal((await ctx.model("b")).status, "unloaded");
  assert.deepEqual(ctx.running(), ["a"]);
});
