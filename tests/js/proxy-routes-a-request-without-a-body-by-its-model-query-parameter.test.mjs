// README (/v1 routes): a request is "forwarded to the model named by the body's `model` (or `?model=` for
// requests without a JSON body)". Two own backends of the real llama-server and model, in groups of their own,
// so the process that runs shows which model a request reached: GET /v1/health?model=X starts X only; the
// body's `model` wins over the query; an unknown or missing name is refused before anything starts.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startBackends, needReal } from "./lib/backends.mjs";
import { assertOpenAiError, waitRows } from "./lib/fake-router.mjs";

const skip = needReal();
let ctx;

before(async () => {
  if (skip) return;
  ctx = await startBackends({ models: [{ name: "smol-a" }, { name: "smol-b" }] });
});
after(async () => { await ctx?.stop(); });

test("GET /v1/health?model=smol-b reaches smol-b: its llama-server starts and answers, smol-a's does not", { skip }, async () => {
  const res = await fetch(`${ctx.v1}/health?model=smol-b`);
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal((await res.json()).status, "ok", "llama-server's own health answer");
  assert.deepEqual(ctx.running(), ["smol-b"]);
  assert.equal((await ctx.model("smol-b")).status, "loaded");
  assert.equal((await ctx.model("smol-a")).status, "unloaded");
  const [row] = await waitRows(ctx.socket, { model: "smol-b" });
  assert.equal(row.endpoint, "/v1/health");
  assert.equal(row.statusCode, 200);
  assert.equal(row.outcome, "ok");
});

test("?model=smol-a then moves the request to smol-a (its group swaps smol-b out)", { skip }, async () => {
  const res = await fetch(`${ctx.v1}/health?model=smol-a`);
  assert.equal(res.status, 200, await res.clone().text());
  assert.deepEqual(ctx.running(), ["smol-a"]);
  assert.equal((await waitRows(ctx.socket, { model: "smol-a" }))[0].endpoint, "/v1/health");
});

test("a JSON body's model wins over ?model=", { skip }, async () => {
  const res = await fetch(`${ctx.v1}/chat/completions?model=smol-b`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "smol-a", max_tokens: 2, messages: [{ role: "user", content: "Hi" }] }),
  });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  assert.ok(JSON.parse(text).choices?.length, text);
  assert.deepEqual(ctx.running(), ["smol-a"], "smol-b was not started");
  const [row] = await waitRows(ctx.socket, { model: "smol-a" }, 2); // newest first: after the health check
  assert.equal(row.endpoint, "/v1/chat/completions");
});

test("an unknown ?model= is 404 model_not_found and none at all 400, and nothing starts", { skip }, async () => {
  await assertOpenAiError(await fetch(`${ctx.v1}/health?model=no-such-model`), 404, "model_not_found");
  const missing = await assertOpenAiError(await fetch(`${ctx.v1}/health`), 400);
  assert.match(missing.message, /model/);
  assert.deepEqual(ctx.running(), ["smol-a"]);
});
