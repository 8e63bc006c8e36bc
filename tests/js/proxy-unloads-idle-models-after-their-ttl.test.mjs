// Idle unload of router-mode models (llama.cpp's router has none): with models.idleTimeoutSec 0 (never)
// globally, a model given its own ttl with models:update is unloaded once it was idle that long, never
// while a request runs; a model without a ttl stays loaded. Model objects say when (ttlSec, unloadAt).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { chat, readSse, tokensOf, startWithFake } from "./lib/fake-router.mjs";
import { ok, request, until, assertBadRequest } from "./lib/socket.mjs";

let ctx;
after(() => ctx?.stop());
before(async () => {
  ctx = await startWithFake({ config: { models: { idleTimeoutSec: 0 } }, env: { FAKE_TOKENS: "2", FAKE_TOKEN_MS: "5" } });
});

const model = async (id) => (await ok(ctx.socket, "models:list", {})).models.find((m) => m.id === id);
const unloadsSeen = async (id) => (await ctx.seen()).filter((r) => r.path === "/models/unload" && r.body?.model === id);
/** models:status broadcasts for `id` (with `status`) received after `since` (ms). */
const statusEvents = (id, status, since = 0) => ctx.client.received.filter((e) =>
  e.event === "models:status" && e.at > since && e.payload.data.id === id && (!status || e.payload.data.status === status));

test("loaded idle models carry ttlSec and unloadAt; the global 0 keeps a model loaded", async () => {
  const updated = await ok(ctx.socket, "models:update", { id: "fake-a", changes: { ttl: 60 } });
  assert.equal(updated.model.ttlSec, 60);
  assert.equal(updated.model.unloadAt, null, "not loaded: no unload time");

  for (const id of ["fake-a", "fake-b"]) assert.equal((await chat(ctx.v1, { model: id })).status, 200);
  await until(async () => (await model("fake-a")).status === "loaded" && (await model("fake-b")).status === "loaded", {
    what: "both models to be reported loaded (the router autoloaded them for the requests)",
  });
  const a = await model("fake-a");
  assert.equal(a.ttlSec, 60);
  assert.equal(typeof a.unloadAt, "number", JSON.stringify(a));
  const now = Date.now();
  assert.ok(a.unloadAt > now + 55_000 && a.unloadAt <= now + 61_000, `unloadAt ${a.unloadAt - now} ms from now, ttl 60 s`);
  const b = await model("fake-b");
  assert.equal(b.ttlSec, 0);
  assert.equal(b.unloadAt, null);
  const openai = await (await fetch(`${ctx.v1}/models/fake-a`)).json();
  assert.equal(openai.ttl_sec, 60);
  assert.equal(typeof openai.unload_at, "number");
  await until(() => statusEvents("fake-a", "loaded").some((e) => e.payload.data.ttlSec === 60 && typeof e.payload.data.unloadAt === "number"), {
    what: "a models:status broadcast for loaded fake-a with its ttlSec and unloadAt",
  });

  // A shorter ttl applies at once: fake-a has been idle long enough.
  const since = Date.now();
  await ok(ctx.socket, "models:update", { id: "fake-a", changes: { ttl: 1 } });
  await until(() => statusEvents("fake-a", "unloaded", since).length > 0, { timeoutMs: 8000, what: "models:status unloaded for fake-a" });
  assert.equal((await unloadsSeen("fake-a")).length, 1, "the fake got POST /models/unload for fake-a");
  const { events } = await ok(ctx.socket, "models:get", { id: "fake-a" });
  const requested = events.find((e) => e.event === "unload_requested");
  assert.equal(requested?.actor, "idle", JSON.stringify(events));
  assert.ok(events.some((e) => e.event === "unloaded"), JSON.stringify(events));
  assert.equal((await model("fake-a")).unloadAt, null, "unloaded: no unload time");

  const stillB = await model("fake-b");
  assert.equal(stillB.status, "loaded", "ttl 0 (models.idleTimeoutSec) never unloads");
  assert.equal((await unloadsSeen("fake-b")).length, 0);
});

test("after a request a model with ttl 1 is unloaded within seconds, but never while the request runs", async () => {
  const before = (await unloadsSeen("fake-a")).length;
  // A stream of 2.5 s, longer than the ttl: the model is busy, not idle.
  const response = await chat(ctx.v1, { stream: true, fake: { tokens: 25, tokenMs: 100 } });
  const { events } = await readSse(response);
  const endedAt = Date.now();
  assert.equal(tokensOf(events).length, 25);
  assert.equal(events.at(-1), "[DONE]", JSON.stringify(events.at(-1)));
  assert.equal((await unloadsSeen("fake-a")).length, before, "no unload while the request ran");

  await until(() => statusEvents("fake-a", "unloaded", endedAt).length > 0, { timeoutMs: 8000, what: "fake-a to be unloaded again" });
  const unloads = await unloadsSeen("fake-a");
  assert.equal(unloads.length, before + 1);
  const after = unloads.at(-1).at - endedAt;
  assert.ok(after >= 900 && after < 5000, `unloaded ${after} ms after the request ended (ttl 1 s)`);
  const { events: history } = await ok(ctx.socket, "models:get", { id: "fake-a" });
  assert.equal(history.filter((e) => e.event === "unload_requested" && e.actor === "idle").length, 2);
  assert.equal((await model("fake-b")).status, "loaded");
});

test("models:update refuses a bad ttl with BAD_REQUEST naming changes.ttl", async () => {
  for (const ttl of [-1, "x", 1.5, 31_536_001, true]) {
    assertBadRequest(await request(ctx.socket, "models:update", { id: "fake-a", changes: { ttl } }), "models:update", "changes.ttl");
  }
  assertBadRequest(await request(ctx.socket, "models:update", { id: "fake-a", changes: { color: "red" } }), "models:update", "changes.color");
  assertBadRequest(await request(ctx.socket, "models:update", { id: "fake-a", changes: {} }), "models:update", "changes");
  const unknown = await request(ctx.socket, "models:update", { id: "no-such-model", changes: { ttl: 5 } });
  assert.equal(unknown.error?.code, "MODEL_NOT_FOUND", JSON.stringify(unknown));
  // null goes back to models.idleTimeoutSec (0 here).
  const reset = await ok(ctx.socket, "models:update", { id: "fake-a", changes: { ttl: null } });
  assert.equal(reset.model.ttlSec, 0);
});
