// router:init:save restarts the router only when its command line changed, and then only after the /v1
// requests in flight have finished: saving the configuration never cuts a user's running generation.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { chat, readSse, tokensOf, startWithFake } from "./lib/fake-router.mjs";
import { ok, request } from "./lib/socket.mjs";

let ctx;
after(() => ctx?.stop());
before(async () => {
  // 12 tokens of 150 ms: a stream of about 1.8 s.
  ctx = await startWithFake({ env: { FAKE_TOKEN_MS: "150", FAKE_TOKENS: "12" } });
});

test("a save that changes the argv waits for the running stream, which ends complete", async () => {
  const before = await ok(ctx.socket, "router:status", {});
  let firstToken;
  const seenFirst = new Promise((resolve) => { firstToken = resolve; });
  const response = await chat(ctx.v1, { stream: true });
  assert.equal(response.status, 200);
  let streamEnded;
  const reading = readSse(response, (event) => { if (tokensOf([event]).length) firstToken(); })
    .then((result) => { streamEnded = Date.now(); return result; });
  await seenFirst;

  const { config } = await ok(ctx.socket, "router:init:load", {});
  const next = { ...config, performance: { ...config.performance, contextSize: config.performance.contextSize * 2 } };
  const saved = await request(ctx.socket, "router:init:save", { config: next }, { timeoutMs: 30000 });
  const savedAt = Date.now();
  assert.equal(saved.success, true, JSON.stringify(saved));
  assert.equal(saved.data.routerRestarted, true);

  const { events } = await reading;
  assert.equal(events.at(-1), "[DONE]", `the stream was not cut: ${JSON.stringify(events.slice(-3))}`);
  assert.equal(tokensOf(events).length, 12);
  assert.ok(savedAt >= streamEnded, `the router restarted only after the stream ended (${savedAt - streamEnded} ms after)`);

  const after = await ok(ctx.socket, "router:status", {});
  assert.equal(after.running, true);
  assert.notEqual(after.pid, before.pid, "the router runs with the new argv");
  assert.match(saved.data.args.join(" "), new RegExp(`-c ${next.performance.contextSize} `));
});

test("a save that leaves the argv alone does not restart the router", async () => {
  const before = await ok(ctx.socket, "router:status", {});
  const { config } = await ok(ctx.socket, "router:init:load", {});
  const next = { ...config, proxy: { ...config.proxy, queueSize: config.proxy.queueSize + 1 } };
  const saved = await ok(ctx.socket, "router:init:save", { config: next });
  assert.equal(saved.routerRestarted, false);
  assert.equal((await ok(ctx.socket, "router:status", {})).pid, before.pid);
  assert.equal((await ok(ctx.socket, "router:init:load", {})).config.proxy.queueSize, next.proxy.queueSize);
});
