// Own backends, `spawn.proxyEndpoints` (and `backends.defaultSpawn.proxyEndpoints`): the path prefixes
// forwarded to a backend. Another /v1 path gets 404 with an OpenAI-shaped error, reaches no backend and
// starts none; the default list forwards every /v1 path.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startBackends, fakeBin } from "./lib/backends.mjs";
import { post, assertOpenAiError, waitRows } from "./lib/fake-router.mjs";

let ctx;
before(async () => {
  ctx = await startBackends({
    link: false,
    backends: { defaultSpawn: { command: ["node", fakeBin] } },
    models: [
      { name: "fake-a", group: "g", spawn: { command: ["node", fakeBin], proxyEndpoints: ["/v1/chat/"] } },
      { name: "fake-b", group: "g" },
    ],
    env: { FAKE_TOKENS: "2", FAKE_TOKEN_MS: "1" },
  });
});
after(() => ctx?.stop());

const completion = (model) => post(ctx.v1, "/completions", { model, prompt: "Once upon a time", max_tokens: 2 });

test("a /v1 path outside the model's proxyEndpoints gets 404 and starts nothing", { timeout: 20000 }, async () => {
  const error = await assertOpenAiError(await completion("fake-a"), 404, "not_found");
  assert.equal(error.type, "not_found_error");
  assert.match(error.message, /'\/v1\/completions' is not forwarded to backend 'fake-a' \(proxyEndpoints\)/);
  assert.equal((await ctx.model("fake-a")).status, "unloaded", "no backend was started for it");
  assert.deepEqual(ctx.running(), []);
  const [row] = await waitRows(ctx.socket, { model: "fake-a", outcome: "rejected" });
  assert.equal(row.statusCode, 404);
  assert.equal(row.endpoint, "/v1/completions");
});

test("a path inside the list is forwarded to the backend", { timeout: 20000 }, async () => {
  const res = await post(ctx.v1, "/chat/completions", { model: "fake-a", messages: [{ role: "user", content: "hi" }] });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  assert.equal(JSON.parse(text).choices[0].message.content, "t0 t1 ");
  // Now running, the backend still gets no /v1/completions: the list is checked on every request.
  await assertOpenAiError(await completion("fake-a"), 404, "not_found");
  const { port } = await ctx.model("fake-a");
  const seen = (await (await fetch(`http://127.0.0.1:${port}/fake/requests`)).json()).requests;
  assert.deepEqual(seen.map((r) => r.path), ["/v1/chat/completions"], "only the chat request reached the backend");
});

test("the default list (/v1/ ...) forwards /v1/completions", { timeout: 20000 }, async () => {
  const res = await completion("fake-b");
  const text = await res.text();
  assert.equal(res.status, 200, text);
  assert.equal(JSON.parse(text).choices[0].text, "t0 t1 ");
});
