// Fault injection: the upstream closes a chat or text completion stream cleanly but early, without the
// final chunk and `data: [DONE]`. A client could not tell that from a short answer, so the proxy passes on
// every token it got, then appends one SSE error event and ends the stream; the request is stored as an
// error, and the model keeps serving.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { chat, post, readSse, rows, tokensOf, waitRows, waitSeen, startWithFake } from "./lib/fake-router.mjs";

let ctx;
after(() => ctx?.stop());
before(async () => {
  ctx = await startWithFake({ env: { FAKE_END_EARLY: "2", FAKE_TOKENS: "6", FAKE_TOKEN_MS: "10" } });
});

const ERROR_EVENT = {
  error: {
    code: "upstream_error",
    message: "the model's upstream ended the stream before it was complete",
    param: null,
    type: "server_error",
  },
};

let seenBefore = 0;

/** What the client received: every token the upstream sent, then exactly one error event, then the end. */
async function assertFlaggedStream(response, path) {
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type"), /^text\/event-stream/);
  const { events, text } = await readSse(response);
  const upstream = await waitSeen(ctx, (r) => r.path === path && r.ended && r.id > seenBefore);
  seenBefore = upstream.id;
  const tokens = tokensOf(events);
  assert.ok(tokens.length > 0, `some tokens came before the end: ${text}`);
  assert.equal(tokens.length, upstream.tokensSent, `the client got every token the upstream sent: ${text}`);
  assert.deepEqual(events.at(-1), ERROR_EVENT, text);
  assert.equal(events.filter((e) => e?.error).length, 1, `one error event: ${text}`);
  assert.ok(!text.includes("[DONE]"), `no [DONE] after an incomplete stream: ${text}`);
  assert.ok(!events.some((e) => e?.choices?.some((c) => c.finish_reason)), `no finish_reason was invented: ${text}`);
  assert.ok(text.endsWith(`data: ${JSON.stringify(ERROR_EVENT)}\n\n`), `the error is the last bytes, a whole SSE event: ${JSON.stringify(text.slice(-300))}`);
  return tokens;
}

test("a chat stream that ends without [DONE] gets its tokens, then one upstream_error event; the row is an error", async () => {
  const t0 = Date.now();
  await assertFlaggedStream(await chat(ctx.v1, { stream: true }), "/v1/chat/completions");
  const [row] = await waitRows(ctx.socket, { model: "fake-a", outcome: "error" });
  assert.equal(row.endpoint, "/v1/chat/completions");
  assert.equal(row.statusCode, 200, "the status went out before the stream broke");
  assert.equal(row.stream, true);
  assert.equal(row.error, ERROR_EVENT.error.message);
  assert.ok(row.timestamp >= t0 - 1000 && row.timestamp <= Date.now(), JSON.stringify(row));
  assert.ok(typeof row.ttftMs === "number" && typeof row.totalMs === "number" && row.ttftMs > 0 && row.ttftMs <= row.totalMs, JSON.stringify(row));
  assert.equal(row.completionTokens, null, "no usage arrived: no token count is made up");
  assert.equal((await rows(ctx.socket, { model: "fake-a" })).total, 1, "one row for one request");
});

test("a text completion stream that ends without [DONE] gets the error event too", async () => {
  const response = await post(ctx.v1, "/completions", { model: "fake-b", prompt: "once upon", stream: true });
  await assertFlaggedStream(response, "/v1/completions");
  const [row] = await waitRows(ctx.socket, { model: "fake-b", outcome: "error" });
  assert.equal(row.endpoint, "/v1/completions");
  assert.equal(row.error, ERROR_EVENT.error.message);
});

test("after an early end, a complete stream from the same model is served whole and not flagged", async () => {
  const { events, text } = await readSse(await chat(ctx.v1, { stream: true, fake: { endEarly: null } }));
  assert.ok(tokensOf(events).length > 0, text);
  assert.ok(events.some((e) => e?.choices?.[0]?.finish_reason === "stop"), text);
  assert.equal(events.at(-1), "[DONE]");
  assert.ok(!events.some((e) => e?.error), text);
  const [row] = await waitRows(ctx.socket, { model: "fake-a", outcome: "ok" });
  assert.equal(row.error, null);
  assert.equal(row.completionTokens, tokensOf(events).length, "the token count the upstream reported in its final chunk");
});
