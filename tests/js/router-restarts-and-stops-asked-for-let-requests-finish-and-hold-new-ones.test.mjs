// A router restart or stop someone asked for (router:restart, router:stop; config saves and SIGHUP use the
// same restart) first lets the /v1 requests in flight finish, and holds the requests that arrive meanwhile
// until the new process runs: no request fails because of it, even with restarts back to back.
import { test, afterEach } from "node:test";
import assert from "node:assert/strict";
import { startWithFake, chat, readSse, tokensOf, assertOpenAiError } from "./lib/fake-router.mjs";
import { ok, request } from "./lib/socket.mjs";

let ctx;
afterEach(async () => { await ctx?.stop(); ctx = undefined; });

/** Starts a stream; resolves once its first token arrived, with `{ reading }`, the promise of the whole
 * read (wrapped: an async function returning a bare promise would wait for it). */
async function streamStarted() {
  const response = await chat(ctx.v1, { stream: true });
  assert.equal(response.status, 200);
  let first;
  const seenFirst = new Promise((resolve) => { first = resolve; });
  const reading = readSse(response, (event) => { if (tokensOf([event]).length) first(); })
    .then((result) => ({ ...result, endedAt: Date.now() }));
  await seenFirst;
  return { reading };
}

test("eight restarts back to back under streamed and non-streamed traffic from 8 clients: every request answered in full", { timeout: 120000 }, async () => {
  ctx = await startWithFake({ env: { FAKE_TOKEN_MS: "5", FAKE_TOKENS: "3" } });
  let restarting = true;
  const outcomes = [];
  const client = async (n) => {
    while (restarting) {
      const stream = n % 2 === 0;
      const res = await chat(ctx.v1, { stream });
      if (res.status !== 200) { outcomes.push({ stream, status: res.status, body: await res.text() }); continue; }
      if (!stream) { await res.json(); outcomes.push({ stream, status: 200 }); continue; }
      const { events } = await readSse(res);
      outcomes.push({ stream, status: 200, complete: events.at(-1) === "[DONE]" && tokensOf(events).length === 3 });
    }
  };
  const clients = Array.from({ length: 8 }, (_, n) => client(n));
  const pids = new Set();
  for (let i = 0; i < 8; i++) {
    const reply = await request(ctx.socket, "router:restart", {}, { timeoutMs: 30000 });
    assert.equal(reply.success, true, JSON.stringify(reply));
    pids.add(reply.data.pid);
  }
  restarting = false;
  await Promise.all(clients);
  assert.equal(pids.size, 8, "each restart ran a new process");
  const failed = outcomes.filter((o) => o.status !== 200 || o.complete === false);
  assert.ok(outcomes.filter((o) => o.stream).length >= 8 && outcomes.filter((o) => !o.stream).length >= 8, `traffic ran across the restarts: ${outcomes.length}`);
  assert.deepEqual(failed, [], `${failed.length} of ${outcomes.length} requests failed`);
});

test("a restart waits for the stream in flight; a request sent during the wait goes to the new router", { timeout: 60000 }, async () => {
  // 12 tokens of 150 ms: a stream of about 1.8 s.
  ctx = await startWithFake({ env: { FAKE_TOKEN_MS: "150", FAKE_TOKENS: "12" } });
  const before = await ok(ctx.socket, "router:status", {});
  const { reading } = await streamStarted();
  const restart = request(ctx.socket, "router:restart", {}, { timeoutMs: 30000 }).then((reply) => ({ reply, at: Date.now() }));
  await new Promise((resolve) => setTimeout(resolve, 300));
  const held = chat(ctx.v1, { stream: false }).then(async (res) => ({ status: res.status, body: await res.json(), at: Date.now() }));

  const stream = await reading;
  assert.equal(stream.events.at(-1), "[DONE]", `the stream was not cut: ${JSON.stringify(stream.events.slice(-3))}`);
  assert.equal(tokensOf(stream.events).length, 12);
  const { reply, at: restartedAt } = await restart;
  assert.equal(reply.success, true, JSON.stringify(reply));
  assert.ok(restartedAt >= stream.endedAt, `the router restarted after the stream ended (${restartedAt - stream.endedAt} ms)`);
  assert.notEqual(reply.data.pid, before.pid);
  const answer = await held;
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  assert.ok(answer.at >= stream.endedAt, "the request that arrived during the drain was held, not sent to the old router");
});

test("a stop waits for the stream in flight; requests after it get 503 at once", { timeout: 60000 }, async () => {
  ctx = await startWithFake({ env: { FAKE_TOKEN_MS: "150", FAKE_TOKENS: "12" } });
  const { reading } = await streamStarted();
  const stop = request(ctx.socket, "router:stop", {}, { timeoutMs: 30000 }).then((reply) => ({ reply, at: Date.now() }));
  const stream = await reading;
  assert.equal(stream.events.at(-1), "[DONE]", `the stream was not cut: ${JSON.stringify(stream.events.slice(-3))}`);
  const { reply, at: stoppedAt } = await stop;
  assert.equal(reply.success, true, JSON.stringify(reply));
  assert.ok(stoppedAt >= stream.endedAt, "stopped after the stream ended");
  assert.equal((await ok(ctx.socket, "router:status", {})).running, false);
  const t0 = Date.now();
  await assertOpenAiError(await chat(ctx.v1, { stream: false }), 503);
  assert.ok(Date.now() - t0 < 2000, "a router stopped on purpose is not waited for");
});
