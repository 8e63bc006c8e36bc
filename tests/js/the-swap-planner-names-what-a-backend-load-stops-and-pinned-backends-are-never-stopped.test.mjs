// models:plan for our own backends with the real llama-server: it names the backend a load would stop
// (a group swap) and how many requests it is serving, the load then stops exactly that one (after its
// stream finished), and a pinned backend is never stopped: not for a group swap, not for being idle;
// a load that could only start by stopping it is refused with CONFLICT naming it, over the socket and /v1.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { startBackends } from "./lib/backends.mjs";
import { ok, request, sleep, until } from "./lib/socket.mjs";
import { needReal } from "./lib/real.mjs";

const skip = needReal();
let ctx;

before(async () => {
  if (skip) return;
  ctx = await startBackends({
    models: [{ name: "alpha", group: "a" }, { name: "beta", group: "b" }, { name: "gamma", group: "a" }],
  });
});
after(async () => { await ctx?.stop(); });

const chat = (model, extra = {}) => fetch(`${ctx.v1}/chat/completions`, {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ model, messages: [{ role: "user", content: "Count from one to one hundred in words." }], max_tokens: 8, ...extra }),
});

async function loaded(id) {
  await ok(ctx.socket, "models:load", { id });
  await until(async () => (await ctx.model(id)).status === "loaded", { timeoutMs: 60000, what: `${id} loaded` });
}

test("the plan names the backend a group swap stops and its running request; the load stops exactly that one", { skip }, async () => {
  await loaded("alpha");
  const same = await ok(ctx.socket, "models:plan", { id: "gamma" });
  assert.deepEqual(same.evicts, [], "a model of the same group runs beside it");
  assert.match(same.summary, /^Loading gamma unloads nothing/);

  // A long streamed answer on alpha, read until its first token so that it is running now.
  const stream = await chat("alpha", { stream: true, max_tokens: 250, ignore_eos: true });
  const reader = stream.body.getReader();
  await reader.read();
  const plan = await ok(ctx.socket, "models:plan", { id: "beta" });
  assert.equal(plan.kind, "backend");
  assert.equal(plan.loaded, false);
  assert.deepEqual(plan.evicts, [{ id: "alpha", reason: "group swap", running: 1, queued: 0 }]);
  assert.equal(plan.fits, true);
  assert.ok(plan.needBytes > 90e6, `needBytes ${plan.needBytes}`);
  assert.match(plan.summary, /Loading beta will unload alpha \(group swap\), which is serving 1 request\./);
  assert.deepEqual(ctx.running(), ["alpha"], "planning changed nothing");

  await ok(ctx.socket, "models:load", { id: "beta" });
  let text = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  assert.match(text, /data: \[DONE\]/, "the running stream finished before alpha stopped");
  await until(async () => (await ctx.model("beta")).status === "loaded", { timeoutMs: 60000, what: "beta loaded" });
  assert.deepEqual(ctx.running(), ["beta"], "exactly the planned backend was stopped");
  assert.equal((await ctx.model("alpha")).reason, "group swap");
});

test("a pinned backend blocks a swap with CONFLICT naming it, on the socket and on /v1, and stays running", { skip }, async () => {
  const { model } = await ok(ctx.socket, "models:update", { id: "beta", changes: { pinned: true } });
  assert.equal(model.pinned, true);
  const saved = JSON.parse(readFileSync(`${ctx.server.work}/llama-router.init.json`, "utf8")).backends.models;
  assert.equal(saved.find((m) => m.name === "beta").pinned, true, "the pin is saved with the backend");

  const plan = await ok(ctx.socket, "models:plan", { id: "alpha" });
  assert.equal(plan.fits, false);
  assert.deepEqual(plan.blockedBy, ["beta"]);
  assert.match(plan.refused, /pinned model\(s\) beta/);
  assert.deepEqual(plan.evicts, []);

  const load = await request(ctx.socket, "models:load", { id: "alpha" });
  assert.equal(load.success, false);
  assert.equal(load.error.code, "CONFLICT");
  assert.match(load.error.message, /beta/);
  const res = await chat("alpha");
  assert.equal(res.status, 409);
  assert.match((await res.json()).error.message, /pinned model\(s\) beta/);
  assert.deepEqual(ctx.running(), ["beta"]);
  assert.equal((await ctx.model("alpha")).status, "unloaded", "a refusal for a pin is not an error of alpha's");
});

test("a pinned backend is not stopped for being idle; unpinned, the plan may stop it again", { skip }, async () => {
  await ok(ctx.socket, "models:update", { id: "beta", changes: { ttl: 1 } });
  const pinned = await ctx.model("beta");
  assert.equal(pinned.unloadAt, null, "no countdown while pinned");
  await sleep(3000);
  assert.deepEqual(ctx.running(), ["beta"], "still running two TTLs later");

  const rename = await request(ctx.socket, "models:update", { id: "beta", changes: { name: "beta-2" } });
  assert.equal(rename.error?.code, "CONFLICT", "a running backend keeps its name");
  assert.match(rename.error.message, /unload it before renaming/);

  const { model } = await ok(ctx.socket, "models:update", { id: "beta", changes: { pinned: false, ttl: 0 } });
  assert.equal(model.pinned, false);
  const plan = await ok(ctx.socket, "models:plan", { id: "alpha" });
  assert.deepEqual(plan.evicts.map((e) => [e.id, e.reason]), [["beta", "group swap"]]);
  assert.equal(plan.refused, null);
});
