// Own backends, crashes: a backend killed with SIGKILL in the middle of a stream gives the client a final
// SSE error event (not a silent cut), the model shows status error with exit code 137 (128 + 9) and its
// last output, and the next request starts it again, after a backoff that grows with each crash.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startBackends, chat, chatOk, readSse, untilStatus, needReal } from "./lib/backends.mjs";

const skip = needReal();
let ctx;
before(async () => {
  if (skip) return;
  ctx = await startBackends({ models: [{ name: "a" }, { name: "b" }] });
});
after(() => ctx?.stop());

test("SIGKILL mid-stream: an SSE error event, then status error with exit code 137", { skip }, async () => {
  await chatOk(ctx.v1, "a");
  const [{ pid }] = ctx.pids();
  const streaming = await chat(ctx.v1, "a", { stream: true, max_tokens: 64, ignore_eos: true, content: "Count from one to one hundred" });
  assert.equal(streaming.status, 200);
  let killedAt;
  const { events } = await readSse(streaming, () => {
    if (!killedAt) { killedAt = Date.now(); process.kill(pid, "SIGKILL"); }
  });
  const tokens = events.filter((e) => e?.choices?.[0]?.delta?.content).length;
  assert.ok(tokens < 64, `the stream was cut by the kill (${tokens} tokens)`);
  assert.ok(!events.includes("[DONE]"), "no [DONE] after a killed backend");
  const last = events.at(-1);
  assert.equal(typeof last?.error, "object", `a final error event: ${JSON.stringify(events.slice(-3))}`);
  assert.equal(last.error.code, "upstream_error");
  assert.equal(typeof last.error.message, "string");

  const crashed = await ctx.waitStatus("a", "error", { since: killedAt, timeoutMs: 10000 });
  assert.match(crashed.error, /exited unexpectedly with code 137/);
  assert.equal(crashed.source, "backend");
  const a = await untilStatus(ctx.socket, "a", "error");
  assert.equal(a.exitCode, 137);
  assert.equal(a.reason, "crash");
  assert.equal(a.port, null);
  assert.ok(Array.isArray(a.lastLines) && a.lastLines.length > 0, `its last output: ${JSON.stringify(a.lastLines)}`);
  const event = (await ctx.events("a")).find((e) => e.event === "crashed");
  assert.ok(event, "a crashed event in the history");
  assert.equal(event.actor, "crash");
  assert.equal(event.exitCode, 137);
  assert.equal(event.status, "error");
  assert.deepEqual(ctx.running(), []);
});

test("the next request starts it again after a 1 s backoff and succeeds", { skip }, async () => {
  const crashedAt = ctx.statuses("a").findLast((s) => s.status === "error").at;
  const body = await chatOk(ctx.v1, "a");
  assert.equal(body.model, "a");
  const loading = await ctx.waitStatus("a", "loading", { since: crashedAt });
  assert.ok(loading.at - crashedAt >= 800, `respawned ${loading.at - crashedAt} ms after the crash (backoff 1 s)`);
  const a = await ctx.model("a");
  assert.equal(a.status, "loaded");
  assert.equal(a.error, null);
  assert.equal(a.exitCode, null);
  assert.deepEqual(ctx.running(), ["a"]);
});

test("a second crash doubles the backoff to 2 s", { skip }, async () => {
  const [{ pid }] = ctx.pids();
  const killedAt = Date.now();
  process.kill(pid, "SIGKILL");
  const crashed = await ctx.waitStatus("a", "error", { since: killedAt, timeoutMs: 10000 });
  await chatOk(ctx.v1, "a");
  const loading = await ctx.waitStatus("a", "loading", { since: crashed.at });
  const waited = loading.at - crashed.at;
  assert.ok(waited >= 1800 && waited < 8000, `respawned ${waited} ms after the second crash (backoff 2 s)`);
});

test("a crashed backend does not hold up starting another model", { skip }, async () => {
  assert.equal((await chatOk(ctx.v1, "b")).model, "b");
  const [{ pid }] = ctx.pids();
  process.kill(pid, "SIGKILL");
  await untilStatus(ctx.socket, "b", "error");
  assert.equal((await chatOk(ctx.v1, "a")).model, "a", "a (another group) starts and serves");
});
