// Fault injection: the upstream closes a chat or text completion stream cleanly but early, without the
// final chunk and `data: [DONE]`. A client could not tell that from a short answer, so the proxy appends
// an SSE error event and stores the request as an error.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { chat, post, readSse, tokensOf, waitRows, waitSeen, startWithFake } from "./lib/fake-router.mjs";

let ctx;
after(() => ctx?.stop());
before(async () => {
  ctx = await startWithFake({ env: { FAKE_END_EARLY: "2", FAKE_TOKENS: "6", FAKE_TOKEN_MS: "10" } });
});

test("a chat stream that ends without [DONE] gets an upstream_error event after its tokens", async () => {
  const { events } = await readSse(await chat(ctx.v1, { stream: true }));
  assert.deepEqual(tokensOf(events), ["t0 ", "t1 "], JSON.stringify(events));
  assert.equal(events.length, 3, JSON.stringify(events));
  assert.equal(events[2].error?.code, "upstream_error", JSON.stringify(events));
  assert.match(events[2].error.message, /ended the stream before it was complete/);
  const seen = await waitSeen(ctx, (r) => r.path === "/v1/chat/completions" && r.ended);
  assert.equal(seen.closedEarly, false, "the fake ended it cleanly");
  const [row] = await waitRows(ctx.socket, { model: "fake-a", outcome: "error" });
  assert.equal(row.endpoint, "/v1/chat/completions");
  assert.match(row.error, /ended the stream before it was complete/);
});

test("a text completion stream that ends without [DONE] gets the error event too", async () => {
  const response = await post(ctx.v1, "/completions", { model: "fake-b", prompt: "once upon", stream: true });
  const { events } = await readSse(response);
  assert.deepEqual(tokensOf(events), ["t0 ", "t1 "], JSON.stringify(events));
  assert.equal(events.at(-1).error?.code, "upstream_error", JSON.stringify(events));
  const [row] = await waitRows(ctx.socket, { model: "fake-b", outcome: "error" });
  assert.equal(row.endpoint, "/v1/completions");
});

test("a complete stream is not flagged", async () => {
  const { events } = await readSse(await chat(ctx.v1, { stream: true, fake: { endEarly: null } }));
  assert.equal(tokensOf(events).length, 6);
  assert.equal(events.at(-1), "[DONE]");
  assert.ok(!events.some((e) => e?.error), JSON.stringify(events));
  const [row] = await waitRows(ctx.socket, { model: "fake-a", outcome: "ok" });
  assert.equal(row.completionTokens, 6, "tokens from the final chunk's timings");
});
