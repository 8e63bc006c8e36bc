// Fault injection: the model's upstream (the fake llama-server) crashes in the middle of an answer.
// A streaming client must get what was generated so far and then a final SSE error event (not a silent
// cut), the request is stored as an error, and the proxy keeps serving.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { chat, readSse, tokensOf, waitRows, waitSeen, startWithFake, assertOpenAiError } from "./lib/fake-router.mjs";

let ctx;
after(() => ctx?.stop());
before(async () => {
  // Every answer dies after 3 tokens unless a request or /fake/knobs says otherwise.
  ctx = await startWithFake({ env: { FAKE_DIE_AFTER: "3", FAKE_TOKENS: "8", FAKE_TOKEN_MS: "20" } });
});

test("a stream whose upstream dies gets the tokens so far, then an upstream_error event; the row is an error", async () => {
  const response = await chat(ctx.v1, { stream: true });
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type"), /^text\/event-stream/);
  const { events } = await readSse(response);
  assert.deepEqual(tokensOf(events), ["t0 ", "t1 ", "t2 "], JSON.stringify(events));
  const last = events.at(-1);
  assert.equal(last.error?.code, "upstream_error", JSON.stringify(events));
  assert.equal(last.error.type, "server_error");
  assert.match(last.error.message, /upstream failed mid-response/);
  assert.ok(!events.includes("[DONE]"), "no [DONE] after a broken stream");

  const [row] = await waitRows(ctx.socket, { model: "fake-a", outcome: "error" });
  assert.equal(row.stream, true);
  assert.equal(row.statusCode, 200, "the status was sent before the upstream died");
  assert.equal(row.endpoint, "/v1/chat/completions");
  assert.match(row.error, /upstream failed mid-response/);
  assert.equal(typeof row.ttftMs, "number");
  const seen = await waitSeen(ctx, (r) => r.path === "/v1/chat/completions" && r.died);
  assert.equal(seen.tokensSent, 3);
});

test("the next streamed request after a crash succeeds", async () => {
  const response = await chat(ctx.v1, { stream: true, fake: { dieAfter: null }, stream_options: { include_usage: true } });
  const { events } = await readSse(response);
  assert.equal(tokensOf(events).length, 8, JSON.stringify(events));
  assert.equal(events.at(-1), "[DONE]");
  assert.ok(!events.some((e) => e?.error), JSON.stringify(events));
  const [row] = await waitRows(ctx.socket, { model: "fake-a", outcome: "ok" });
  assert.equal(row.stream, true);
  assert.equal(row.completionTokens, 8);
  assert.equal(row.error, null);
});

test("a JSON request whose upstream dies before answering gets a 502 upstream_error; the row is an error", async () => {
  const response = await chat(ctx.v1, { stream: false, fake: { dieAfter: 1 } });
  const error = await assertOpenAiError(response, 502, "upstream_error");
  assert.match(error.message, /fake-a/);
  const errors = await waitRows(ctx.socket, { model: "fake-a", outcome: "error" }, 2);
  const row = errors.find((r) => !r.stream);
  assert.ok(row, JSON.stringify(errors));
  assert.equal(row.statusCode, 502);
  // And the proxy still serves a whole JSON answer afterwards.
  const fine = await chat(ctx.v1, { fake: { dieAfter: null, tokens: 2 } });
  assert.equal(fine.status, 200);
  const body = await fine.json();
  assert.equal(body.choices[0].message.content, "t0 t1 ");
  assert.equal(body.usage.completion_tokens, 2);
});
