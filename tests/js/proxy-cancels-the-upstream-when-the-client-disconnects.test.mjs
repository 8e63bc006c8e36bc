// Fault injection: a slow generation whose client goes away. The proxy must drop its upstream connection
// (which is how llama-server learns to stop generating), store the request as cancelled, and free the
// model's only slot (performance.parallelSlots 1) at once for the next request.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { chat, readSse, tokensOf, waitRows, waitSeen, startWithFake, queueOf } from "./lib/fake-router.mjs";
import { until } from "./lib/socket.mjs";

let ctx;
after(() => ctx?.stop());
before(async () => {
  // 40 tokens of 150 ms: 6 s, far longer than any of the waits below.
  ctx = await startWithFake({ config: { performance: { parallelSlots: 1 } }, env: { FAKE_TOKEN_MS: "150", FAKE_TOKENS: "40" } });
});

/** A quick request that must be admitted at once: its row's queueMs says whether it waited. */
async function quickRequestIsServedAtOnce(what) {
  const started = Date.now();
  const response = await chat(ctx.v1, { stream: true, fake: { tokens: 2, tokenMs: 5 }, messages: [{ role: "user", content: what }] });
  const { events } = await readSse(response);
  const elapsed = Date.now() - started;
  assert.equal(events.at(-1), "[DONE]", JSON.stringify(events));
  assert.ok(elapsed < 3000, `${what}: took ${elapsed} ms: the slot was still held`);
  const okRows = await waitRows(ctx.socket, { model: "fake-a", outcome: "ok" });
  const { queueMs } = okRows[0];
  assert.ok(typeof queueMs === "number" && queueMs >= 0 && queueMs < 100, `${what}: waited ${queueMs} ms in the queue`);
}

test("aborting a stream after its first token cancels the upstream, stores 'cancelled' and frees the slot", async () => {
  const controller = new AbortController();
  const response = await chat(ctx.v1, { stream: true }, { signal: controller.signal });
  assert.equal(response.status, 200);
  let abortedAt;
  const reading = readSse(response, (event) => {
    if (tokensOf([event]).length && !abortedAt) {
      abortedAt = Date.now();
      controller.abort();
    }
  });
  await assert.rejects(reading, { name: "AbortError" });
  assert.ok(abortedAt, "a first token arrived");

  const seen = await waitSeen(ctx, (r) => r.path === "/v1/chat/completions" && r.closedAt !== null, "the upstream connection to close", 5000);
  assert.equal(seen.closedEarly, true, `the fake's response was cut by us: ${JSON.stringify(seen)}`);
  assert.ok(seen.closedAt - abortedAt < 2000, `upstream closed ${seen.closedAt - abortedAt} ms after the client left`);
  assert.ok(seen.tokensSent < 40, "the generation did not run to its end");

  const [row] = await waitRows(ctx.socket, { model: "fake-a", outcome: "cancelled" });
  assert.equal(row.stream, true);
  assert.equal(row.statusCode, 200);
  assert.match(row.error, /client disconnected/);
  const queue = await queueOf(ctx.socket, "fake-a");
  assert.equal(queue.active, 0, JSON.stringify(queue));
  await quickRequestIsServedAtOnce("after an aborted stream");
});

test("aborting a JSON request while it is generated cancels the upstream too", async () => {
  const controller = new AbortController();
  const pending = chat(ctx.v1, { stream: false, messages: [{ role: "user", content: "json please" }] }, { signal: controller.signal });
  const seenStart = await waitSeen(ctx, (r) => r.body?.messages?.[0]?.content === "json please", "the JSON request to reach the fake");
  await until(async () => (await ctx.seen()).find((r) => r.id === seenStart.id).tokensSent >= 1, { intervalMs: 50, what: "a first token" });
  const abortedAt = Date.now();
  controller.abort();
  await assert.rejects(pending, { name: "AbortError" });

  const seen = await waitSeen(ctx, (r) => r.id === seenStart.id && r.closedAt !== null, "the upstream connection to close", 5000);
  assert.equal(seen.closedEarly, true, JSON.stringify(seen));
  assert.ok(seen.closedAt - abortedAt < 2000, `upstream closed ${seen.closedAt - abortedAt} ms after the client left`);
  const cancelled = await waitRows(ctx.socket, { model: "fake-a", outcome: "cancelled" }, 2);
  assert.ok(cancelled.some((r) => r.stream === false), JSON.stringify(cancelled));
  await quickRequestIsServedAtOnce("after an aborted JSON request");
});
