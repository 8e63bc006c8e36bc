// Own backends, start failures: a backend whose spawn command does not exist ends in status error with
// a message that says why (models:status), a /v1 request for it gets 503 backend_error naming the
// program, and the other models of its group keep serving.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startBackends, chat, chatOk, untilStatus, needReal } from "./lib/backends.mjs";
import { ok } from "./lib/socket.mjs";

const skip = needReal();
const missing = "/nonexistent/llama-server";
let ctx;
before(async () => {
  if (skip) return;
  ctx = await startBackends({
    models: [{ name: "a", group: "g" }, { name: "bad", group: "g", spawn: { command: [missing] } }],
  });
});
after(() => ctx?.stop());

test("models:load of a backend whose command does not exist ends in status error, saying why", { skip }, async () => {
  await chatOk(ctx.v1, "a");
  const since = Date.now();
  assert.deepEqual(await ok(ctx.socket, "models:load", { id: "bad" }), { id: "bad", status: "loading" });
  const failed = await ctx.waitStatus("bad", "error", { since, timeoutMs: 10000 });
  assert.equal(failed.source, "backend");
  // Spawned directly: "cannot start PROGRAM: ..."; through setpriv (pdeathsig): setpriv's exit 127.
  assert.match(failed.error, /cannot start|exited during startup with code 127/, JSON.stringify(failed));
  const bad = await untilStatus(ctx.socket, "bad", "error");
  assert.ok([bad.error, ...bad.lastLines].join("\n").includes(missing), `the program is named: ${JSON.stringify(bad)}`);
  assert.equal(bad.port, null);
  const history = await ctx.events("bad");
  const failedEvent = history.find((e) => e.event === "load_failed");
  assert.ok(failedEvent, JSON.stringify(history));
  assert.equal(failedEvent.actor, "socket");
  assert.ok(failedEvent.detail.includes(missing), failedEvent.detail);
});

test("a /v1 request for it gets 503 backend_error at once, naming the program", { skip }, async () => {
  const t = Date.now();
  const res = await chat(ctx.v1, "bad");
  assert.equal(res.status, 503);
  const { error } = await res.json();
  assert.equal(error.code, "backend_error");
  assert.equal(error.type, "server_error");
  assert.match(error.message, /backend 'bad' failed to start/);
  assert.ok(error.message.includes(missing), error.message);
  assert.ok(Date.now() - t < 5000, "no hang");
  assert.equal((await ctx.model("bad")).status, "error");
});

test("the other model of its group kept running and serving throughout", { skip }, async () => {
  const a = await ctx.model("a");
  assert.equal(a.status, "loaded");
  assert.equal((await chatOk(ctx.v1, "a")).model, "a");
  assert.deepEqual(ctx.running(), ["a"]);
  assert.ok(!(await ctx.events("a")).some((e) => e.event.startsWith("unload")), "a was never stopped");
});
