// Own backends, crash-loop guard: a backend whose process dies at every start is tried on each request
// until it has crashed 5 times (within 5 minutes); then it is marked failed (status error, reason
// "crash loop", the count and window in its error) and requests get 503 backend_error at once, naming
// models:reset, without a new process. models:reset clears the guard, and so does a changed spawn command.
// The failing backend is the fake llama-server in exit-at-start mode behind a shell line that counts its
// starts in a file; the other model of its group keeps serving throughout.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { startBackends, fakeBin, chat, chatOk } from "./lib/backends.mjs";
import { ok, tempDir } from "./lib/socket.mjs";

const TOKEN = "admin-token-crash-loop-1";
const counts = tempDir("lldash-crash-loop-");
const counter = path.join(counts.dir, "starts");
const starts = () => (existsSync(counter) ? readFileSync(counter, "utf8").split("\n").filter(Boolean).length : 0);
const crashing = ["sh", "-c", `echo start >> '${counter}'; FAKE_MODE=exit-at-start exec '${process.execPath}' '${fakeBin}' "$@"`, "fake"];

/** The fake serving requests for the model it was started as (its --alias). */
const serving = ["node", fakeBin, "--fake-serve-alias"];

let ctx;
before(async () => {
  ctx = await startBackends({
    link: false,
    config: { security: { adminToken: TOKEN } },
    auth: { token: TOKEN },
    backends: { defaultSpawn: { command: serving } },
    models: [{ name: "loop", group: "g", spawn: { command: crashing } }, { name: "steady", group: "g" }],
    env: { FAKE_TOKENS: "2", FAKE_TOKEN_MS: "1" },
  });
});
after(async () => {
  await ctx?.stop();
  counts.cleanup();
});

/** A chat for `loop`: its 503 backend_error message. */
async function refused(what) {
  const res = await chat(ctx.v1, "loop");
  const text = await res.text();
  assert.equal(res.status, 503, `${what}: ${text}`);
  const { error } = JSON.parse(text);
  assert.equal(error.code, "backend_error", text);
  return error.message;
}

const FAILED = /backend 'loop' failed to start: exited during startup with code 3/;
const CRASH_LOOP = /backend 'loop' crashed 5 times within 5 min and is not started again \(crash loop\) until models:reset/;

test("a backend that dies at every start is started 5 times, then refused at once as a crash loop", async () => {
  await chatOk(ctx.v1, "steady");
  for (let n = 1; n <= 4; n++) {
    assert.match(await refused(`try ${n}`), FAILED);
    assert.equal(starts(), n, `request ${n} started it once`);
  }
  const fifth = await refused("try 5");
  assert.match(fifth, CRASH_LOOP);
  assert.match(fifth, /last: exited during startup with code 3/);
  assert.equal(starts(), 5);

  const loop = await ctx.model("loop");
  assert.equal(loop.status, "error");
  assert.equal(loop.reason, "crash loop");
  assert.match(loop.error, CRASH_LOOP);
  assert.equal(loop.exitCode, 3);
  assert.ok(loop.lastLines.some((l) => l.includes("cannot load the backend")), JSON.stringify(loop.lastLines));
  const tripped = (await ctx.events("loop")).find((e) => e.event === "crash_loop");
  assert.ok(tripped, "the history says it was stopped as a crash loop");
  assert.match(tripped.detail, CRASH_LOOP);

  for (let n = 6; n <= 7; n++) {
    const t = Date.now();
    assert.match(await refused(`request ${n}`), CRASH_LOOP);
    assert.ok(Date.now() - t < 2000, `refused at once (${Date.now() - t} ms)`);
  }
  const plan = await ok(ctx.socket, "models:plan", { id: "loop" });
  assert.equal(plan.fits, false);
  assert.match(plan.refused, CRASH_LOOP, "the planner says what a load would be refused with");
  assert.equal(starts(), 5, "no process was started for the refused requests");
  assert.equal((await chatOk(ctx.v1, "steady")).model, "steady", "the other model of its group kept serving");
});

test("models:reset clears the guard: the next request starts it again", async () => {
  assert.deepEqual(await ok(ctx.socket, "models:reset", { id: "loop" }), { id: "loop", status: "unloaded" });
  assert.match(await refused("after reset"), FAILED);
  assert.equal(starts(), 6, "started once more");
  assert.equal((await ctx.model("loop")).reason, "request", "a plain start failure, not the guard");
});

test("a changed spawn command lifts the guard: the backend starts with it and serves", async () => {
  for (let n = 2; n <= 4; n++) assert.match(await refused(`try ${n} since the reset`), FAILED);
  assert.match(await refused("try 5 since the reset"), CRASH_LOOP, "the count started afresh at the reset");
  assert.equal(starts(), 10);
  assert.match(await refused("before the change"), CRASH_LOOP);

  await ok(ctx.socket, "models:update", { id: "loop", changes: { spawn: { command: serving } } });
  const body = await chatOk(ctx.v1, "loop");
  assert.equal(body.choices[0].message.content, "t0 t1 ");
  assert.equal((await ctx.model("loop")).status, "loaded");
  assert.equal(starts(), 10, "the new command ran, not the crashing one");
});
