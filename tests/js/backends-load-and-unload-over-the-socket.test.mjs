// Own backends driven from the dashboard: models:load starts a backend model's llama-server (reply
// "loading", then models:status loading and loaded), /v1 is then served without a cold start, and
// models:unload stops it (unloading, then unloaded); each step is in models:get with actor "socket".
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startBackends, chatOk, untilStatus, needReal } from "./lib/backends.mjs";
import { ok, request } from "./lib/socket.mjs";

const skip = needReal();
let ctx;
let loadWallMs; // from models:load to the loaded broadcast, as the client saw it
before(async () => {
  if (skip) return;
  ctx = await startBackends({ models: [{ name: "a", group: "g" }, { name: "b", group: "g" }] });
});
after(() => ctx?.stop());

test("models:list shows backend models as unloaded with source backend", { skip }, async () => {
  const a = await ctx.model("a");
  assert.equal(a.source, "backend");
  assert.equal(a.status, "unloaded");
  assert.equal(a.group, "g");
  assert.equal(a.path, ctx.file("a"));
  assert.equal(a.port, null);
  assert.equal(a.reason, null);
});

test("models:load starts the backend: loading, then loaded, and it serves", { skip }, async () => {
  const since = Date.now();
  const reply = await ok(ctx.socket, "models:load", { id: "a" });
  assert.deepEqual(reply, { id: "a", status: "loading" });
  const loading = await ctx.waitStatus("a", "loading", { since });
  const loaded = await ctx.waitStatus("a", "loaded", { since });
  assert.ok(loaded.at >= loading.at);
  loadWallMs = loaded.at - since;
  assert.equal(loaded.source, "backend");
  const a = await ctx.model("a");
  assert.equal(a.status, "loaded");
  assert.equal(a.reason, "socket");
  assert.equal(typeof a.port, "number");
  assert.deepEqual(ctx.running(), ["a"]);
  const pid = ctx.pids()[0].pid;
  assert.equal((await chatOk(ctx.v1, "a")).model, "a");
  assert.equal(ctx.pids()[0].pid, pid, "the request used the running backend");
  assert.ok(!(await ctx.events("a")).some((e) => e.actor === "request"), "no start was needed for the request");
});

test("models:load of a loaded model changes nothing", { skip }, async () => {
  const pid = ctx.pids()[0].pid;
  assert.deepEqual(await ok(ctx.socket, "models:load", { id: "a" }), { id: "a", status: "loaded" }, "says it is loaded already");
  await untilStatus(ctx.socket, "a", "loaded");
  assert.deepEqual(ctx.pids().map((p) => p.pid), [pid]);
});

test("models:unload stops it: unloading, then unloaded, and the process is gone", { skip }, async () => {
  const since = Date.now();
  const reply = await ok(ctx.socket, "models:unload", { id: "a" });
  assert.deepEqual(reply, { id: "a", status: "unloading" });
  await ctx.waitStatus("a", "unloading", { since });
  await ctx.waitStatus("a", "unloaded", { since });
  const a = await ctx.model("a");
  assert.equal(a.status, "unloaded");
  assert.equal(a.reason, "socket");
  assert.equal(a.port, null);
  assert.deepEqual(ctx.running(), []);
  const history = await ctx.events("a");
  assert.deepEqual(history.map((e) => [e.event, e.actor]), [
    ["loading", "socket"], ["loaded", "socket"], ["unload_requested", "socket"], ["unloaded", "socket"],
  ]);
  const { durationMs } = history.find((e) => e.event === "loaded");
  assert.ok(Number.isInteger(durationMs) && durationMs > 0, `the load is timed in ms: ${JSON.stringify(history)}`);
  assert.ok(durationMs <= loadWallMs + 50, `the load took ${durationMs} ms by the history, ${loadWallMs} ms as the client saw it`);
});

test("models:unload of a stopped model is harmless; unknown ids are refused", { skip }, async () => {
  assert.deepEqual(await ok(ctx.socket, "models:unload", { id: "b" }), { id: "b", status: "unloading" });
  assert.equal((await ctx.model("b")).status, "unloaded");
  const reply = await request(ctx.socket, "models:load", { id: "nope" });
  assert.equal(reply.success, false);
  assert.equal(reply.error.code, "MODEL_NOT_FOUND");
});
