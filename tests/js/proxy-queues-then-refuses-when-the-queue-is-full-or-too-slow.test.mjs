// Per-model admission under load, against a slow fake upstream: one slot (performance.parallelSlots 1),
// one queue place (proxy.queueSize 1). A request that finds the queue full gets 429 queue_full at once;
// one that waits longer than proxy.queueTimeoutMs gets 503 queue_timeout; both carry Retry-After and are
// stored as "rejected". requests:stats shows the live queue.
import { test } from "node:test";
import assert from "node:assert/strict";
import { chat, readSse, rows, tokensOf, waitRows, waitSeen, startWithFake, queueOf, assertOpenAiError } from "./lib/fake-router.mjs";
import { until, waitFor } from "./lib/socket.mjs";

const slow = { FAKE_TOKEN_MS: "100", FAKE_TOKENS: "100" }; // 10 s unless cut short

/** Starts a slow stream and resolves once its first token arrived: {controller, done} (done = rest read). */
async function running(ctx, label) {
  const controller = new AbortController();
  const response = await chat(ctx.v1, { stream: true, messages: [{ role: "user", content: label }] }, { signal: controller.signal });
  assert.equal(response.status, 200);
  let firstToken;
  const first = new Promise((r) => { firstToken = r; });
  const done = readSse(response, (e) => { if (tokensOf([e]).length) firstToken(); }).catch((err) => err);
  await first;
  return { controller, done };
}

test("a full queue refuses with 429 queue_full and Retry-After; requests:stats shows 1 active and 1 queued", async (t) => {
  const ctx = await startWithFake({ config: { performance: { parallelSlots: 1 }, proxy: { queueSize: 1, queueTimeoutMs: 20000 } }, env: slow });
  t.after(() => ctx.stop());
  const first = await running(ctx, "first");
  const statsBroadcast = waitFor(ctx.socket, "requests:stats", {
    timeoutMs: 5000,
    filter: (m) => m.data.queues.some((q) => q.model === "fake-a" && q.active === 1 && q.queued === 1),
  });
  const queuedController = new AbortController();
  const queued = chat(ctx.v1, { stream: true, messages: [{ role: "user", content: "second" }] }, { signal: queuedController.signal });
  queued.catch(() => {});
  await until(async () => {
    const q = await queueOf(ctx.socket, "fake-a");
    return q.active === 1 && q.queued === 1 ? q : null;
  }, { intervalMs: 50, what: "1 active and 1 queued request for fake-a" });

  const started = Date.now();
  const third = await chat(ctx.v1, { messages: [{ role: "user", content: "third" }] });
  assert.ok(Date.now() - started < 1000, "refused at once, not after waiting");
  const retryAfter = third.headers.get("retry-after");
  const error = await assertOpenAiError(third, 429, "queue_full");
  assert.equal(error.type, "rate_limit_error");
  assert.match(retryAfter ?? "", /^[1-9]\d*$/, `Retry-After: ${retryAfter}`);
  assert.match(error.message, /proxy\.queueSize/);

  const stats = (await statsBroadcast).data;
  assert.equal(stats.active, 1);
  assert.equal(stats.queued, 1);
  const q = stats.queues.find((x) => x.model === "fake-a");
  assert.equal(q.limit, 1);

  const [row] = await waitRows(ctx.socket, { model: "fake-a", outcome: "rejected" });
  assert.equal(row.statusCode, 429);
  assert.match(row.error, /busy/);
  const reachedFake = (await ctx.seen()).filter((r) => r.path === "/v1/chat/completions").map((r) => r.body.messages[0].content);
  assert.deepEqual(reachedFake, ["first"], "neither the queued nor the refused request reached the upstream");

  // The running request ends (its client leaves): the queued one gets the slot and is served.
  first.controller.abort();
  await first.done;
  const response = await queued;
  assert.equal(response.status, 200);
  await waitSeen(ctx, (r) => r.body?.messages?.[0]?.content === "second", "the queued request to reach the fake");
  queuedController.abort();
  await readSse(response).catch(() => {});
  await until(async () => {
    const q2 = await queueOf(ctx.socket, "fake-a");
    return q2.active === 0 && q2.queued === 0;
  }, { intervalMs: 50, what: "an idle queue" });
  const cancelled = await waitRows(ctx.socket, { model: "fake-a", outcome: "cancelled" }, 2);
  const second = cancelled.find((r) => r.queueMs > 0);
  assert.ok(second, `the queued request's row records its wait: ${JSON.stringify(cancelled)}`);
});

test("a queued request whose client leaves gives its queue place back", async (t) => {
  const ctx = await startWithFake({ config: { performance: { parallelSlots: 1 }, proxy: { queueSize: 1, queueTimeoutMs: 20000 } }, env: slow });
  t.after(() => ctx.stop());
  const first = await running(ctx, "first");
  const controller = new AbortController();
  const leaving = chat(ctx.v1, { messages: [{ role: "user", content: "leaving" }] }, { signal: controller.signal });
  leaving.catch(() => {});
  await until(async () => (await queueOf(ctx.socket, "fake-a")).queued === 1, { intervalMs: 50, what: "a queued request" });
  controller.abort();
  await until(async () => (await queueOf(ctx.socket, "fake-a")).queued === 0, { intervalMs: 50, what: "the queue place to be given back" });
  // The place is free again: the next request waits in the queue instead of a 429.
  const next = new AbortController();
  const waiting = chat(ctx.v1, { messages: [{ role: "user", content: "next" }] }, { signal: next.signal });
  waiting.catch(() => {});
  await until(async () => (await queueOf(ctx.socket, "fake-a")).queued === 1, { intervalMs: 50, what: "the next request to be queued" });
  next.abort();
  first.controller.abort();
  await first.done;
  // All three left (rows "cancelled"); none was refused.
  const cancelled = await waitRows(ctx.socket, { outcome: "cancelled" }, 3);
  assert.equal(cancelled.length, 3, JSON.stringify(cancelled));
  const leftWhileQueued = cancelled.filter((r) => r.statusCode === 499);
  assert.equal(leftWhileQueued.length, 2, `clients that left before any status are stored as 499: ${JSON.stringify(cancelled)}`);
  assert.ok(leftWhileQueued.every((r) => r.queueMs > 0), "their time in the queue is kept");
  assert.equal((await rows(ctx.socket, { outcome: "rejected" })).total, 0);
  assert.ok(!(await ctx.seen()).some((r) => r.body?.messages?.[0]?.content === "leaving"), "the request that left never reached the upstream");
});

test("a request queued longer than proxy.queueTimeoutMs gets 503 queue_timeout with Retry-After", async (t) => {
  const ctx = await startWithFake({ config: { performance: { parallelSlots: 1 }, proxy: { queueSize: 1, queueTimeoutMs: 300 } }, env: slow });
  t.after(() => ctx.stop());
  const first = await running(ctx, "first");
  const started = Date.now();
  const timedOut = await chat(ctx.v1, { messages: [{ role: "user", content: "too late" }] });
  const waited = Date.now() - started;
  const retryAfter = timedOut.headers.get("retry-after");
  const error = await assertOpenAiError(timedOut, 503, "queue_timeout");
  assert.equal(error.type, "server_error");
  assert.match(error.message, /proxy\.queueTimeoutMs/);
  assert.match(retryAfter ?? "", /^[1-9]\d*$/, `Retry-After: ${retryAfter}`);
  assert.ok(waited >= 290 && waited < 3000, `answered after ${waited} ms (queueTimeoutMs 300)`);

  const [row] = await waitRows(ctx.socket, { model: "fake-a", outcome: "rejected" });
  assert.equal(row.statusCode, 503);
  assert.match(row.error, /stayed busy/);
  assert.ok(row.queueMs >= 290, `the row keeps the time spent queued: ${row.queueMs}`);
  const q = await queueOf(ctx.socket, "fake-a");
  assert.deepEqual([q.active, q.queued], [1, 0], JSON.stringify(q));
  assert.ok(!(await ctx.seen()).some((r) => r.body?.messages?.[0]?.content === "too late"));
  first.controller.abort();
  await first.done;
});
