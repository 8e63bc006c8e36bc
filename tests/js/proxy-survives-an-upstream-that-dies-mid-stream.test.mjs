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
  const { events, text } = await readSse(response);
  // What the client got, compared with what the upstream had sent when it died: nothing lost, nothing added.
  const upstream = await waitSeen(ctx, (r) => r.path === "/v1/chat/completions" && r.died);
  const tokens = tokensOf(events);
  assert.ok(tokens.length > 0, `tokens came before the crash: ${text}`);
  assert.equal(tokens.length, upstream.tokensSent, `every token sent before the crash reached the client: ${text}`);
  assert.equal(events.length, tokens.length + 1, `the tokens, then one error event: ${text}`);
  const last = events.at(-1);
  assert.equal(last.error?.code, "upstream_error", text);
  assert.equal(last.error.type, "server_error");
  assert.match(last.error.message, /upstream failed mid-response/);
  assert.ok(text.endsWith(`data: ${JSON.stringify(last)}\n\n`), `the error is the last bytes, a whole SSE event: ${JSON.stringify(text.slice(-200))}`);
  assert.ok(!text.includes("[DONE]"), "no [DONE] after a broken stream");
  assert.ok(!events.some((e) => e?.choices?.some((c) => c.finish_reason)), "no finish_reason was invented");

  const [row] = await waitRows(ctx.socket, { model: "fake-a", outcome: "error" });
  assert.equal(row.stream, true);
  assert.equal(row.statusCode, 200, "the status was sent before the upstream died");
  assert.equal(row.endpoint, "/v1/chat/completions");
  assert.match(row.error, /upstream failed mid-response/);
  assert.ok(typeof row.ttftMs === "number" && typeof row.totalMs === "number" && row.ttftMs > 0 && row.ttftMs <= row.totalMs, JSON.stringify(row));
});

test("the next streamed request after a crash succeeds", async () => {
  const response = await chat(ctx.v1, { stream: true, fake: { dieAfter: null }, stream_options: { include_usage: true } });
  assert.equal(response.status, 200);
  const { events, text } = await readSse(response);
  const tokens = tokensOf(events);
  assert.ok(tokens.length > 0, text);
  assert.equal(events.at(-1), "[DONE]");
  assert.ok(!events.some((e) => e?.error), text);
  const usage = events.find((e) => e?.usage)?.usage;
  assert.equal(usage?.completion_tokens, tokens.length, `the client's final usage chunk: ${text}`);
  const [row] = await waitRows(ctx.socket, { model: "fake-a", outcome: "ok" });
  assert.equal(row.stream, true);
  assert.equal(row.statusCode, 200);
  assert.equal(row.completionTokens, usage.completion_tokens, "the stored tokens are the ones the client was told");
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
  const fine = await chat(ctx.v1, { fake: { dieAfter: null } });
  assert.equal(fine.status, 200);
  const body = await fine.json();
  assert.equal(body.object, "chat.completion");
  assert.ok(body.choices[0].message.content.length > 0, JSON.stringify(body));
  assert.ok(body.usage.completion_tokens > 0, JSON.stringify(body));
  const okRows = await waitRows(ctx.socket, { model: "fake-a", outcome: "ok" }, 2);
  assert.ok(okRows.some((r) => !r.stream && r.statusCode === 200 && r.completionTokens === body.usage.completion_tokens), JSON.stringify(okRows));
});
