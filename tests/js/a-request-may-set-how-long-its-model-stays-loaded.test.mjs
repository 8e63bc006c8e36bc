// Per-request TTL, for an own backend (real llama-server): a /v1 request's `ttl` (as LM Studio takes it) and
// Ollama's `keep_alive` set the model's idle TTL until it unloads: shown at once in models:status (ttlSec,
// unloadAt) and in /api/ps (expires_at); 0 unloads it as soon as it is done, a negative one keeps it; after an
// unload, the model's own TTL is back. (The router-mode kind: tests/py/ollama_check.py, keep_alive "1h".)
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startBackends, chatOk, needReal } from "./lib/backends.mjs";
import { until } from "./lib/socket.mjs";

const skip = needReal();
const MODEL = "own";
const OWN_TTL = 600;
let ctx, base;

before(async () => {
  if (skip) return;
  ctx = await startBackends({ models: [{ name: MODEL, ttl: OWN_TTL }] });
  base = ctx.v1.replace(/\/v1$/, "");
});
after(() => ctx?.stop());

const ollamaChat = (keepAlive) => fetch(`${base}/api/chat`, {
  method: "POST",
  body: JSON.stringify({ model: MODEL, stream: false, keep_alive: keepAlive, messages: [{ role: "user", content: "hi" }], options: { num_predict: 2 } }),
});
const expiresAt = async () => {
  const { models } = await (await fetch(`${base}/api/ps`)).json();
  const found = models.find((m) => m.model === MODEL);
  return found && new Date(found.expires_at).getTime();
};

test("a /v1 request's ttl sets the deadline, shown at once, and the model unloads on it", { skip }, async () => {
  await chatOk(ctx.v1, MODEL, { ttl: 3 });
  const ended = Date.now();
  const own = await ctx.model(MODEL);
  assert.equal(own.ttlSec, 3);
  assert.ok(Math.abs(own.unloadAt - (ended + 3000)) < 1500, `unloadAt ${own.unloadAt - ended} ms after the request`);
  assert.ok(ctx.statuses(MODEL).some((s) => s.ttlSec === 3), "announced in models:status");
  const gone = await ctx.waitStatus(MODEL, "unloaded", { since: ended, timeoutMs: 15000 });
  assert.ok(gone.at - ended >= 2000, `unloaded ${gone.at - ended} ms after the request, ttl 3 s`);
  assert.equal((await ctx.model(MODEL)).ttlSec, OWN_TTL, "its own TTL is back once it unloaded");
});

test("Ollama's keep_alive: a duration, forever, and 0 (unloaded as soon as it is done)", { skip }, async () => {
  assert.equal((await ollamaChat("1h")).status, 200);
  let expires = await expiresAt();
  assert.ok(Math.abs(expires - (Date.now() + 3_600_000)) < 5000, `expires_at ${new Date(expires).toISOString()}`);
  assert.equal((await ctx.model(MODEL)).ttlSec, 3600);

  assert.equal((await ollamaChat(-1)).status, 200);
  expires = await expiresAt();
  assert.equal(new Date(expires).getUTCFullYear(), 2318, "never unloaded for idleness");
  assert.equal((await ctx.model(MODEL)).ttlSec, 0);
  assert.equal((await ctx.model(MODEL)).unloadAt, null);

  const sent = Date.now();
  assert.equal((await ollamaChat(0)).status, 200);
  const gone = await ctx.waitStatus(MODEL, "unloaded", { since: sent, timeoutMs: 10000 });
  assert.ok(gone.at - sent < 5000, `unloaded ${gone.at - sent} ms after a keep_alive 0 request`);
  assert.equal(await expiresAt(), undefined, "gone from /api/ps");
  assert.equal((await ctx.model(MODEL)).ttlSec, OWN_TTL);
});

test("a ttl that is not a number is refused by name; a request without one keeps the model's own TTL", { skip }, async () => {
  const bad = await fetch(`${ctx.v1}/chat/completions`, {
    method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: MODEL, ttl: "5m", messages: [{ role: "user", content: "hi" }] }),
  });
  assert.equal(bad.status, 400);
  assert.equal((await bad.json()).error.param, "ttl");
  await chatOk(ctx.v1, MODEL);
  await until(async () => (await ctx.model(MODEL)).status === "loaded", { what: "loaded" });
  assert.equal((await ctx.model(MODEL)).ttlSec, OWN_TTL);
});
