// A client may hang up the moment it has read `data: [DONE]`, before the upstream closes its side (the
// Python SDK does). The request was served completely, so it is stored as ok with its tokens, not as
// cancelled. The fake keeps its response open after [DONE] to make that order certain.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { chat, readSse, startWithFake, waitRows } from "./lib/fake-router.mjs";

let ctx;
after(() => ctx?.stop());
before(async () => {
  ctx = await startWithFake({ env: { FAKE_TOKENS: "4", FAKE_TOKEN_MS: "5" } });
});

test("leaving right after [DONE] stores the request as ok, with its tokens", async () => {
  const controller = new AbortController();
  const body = { stream: true, stream_options: { include_usage: true }, fake: { holdAfterDone: 3000 } };
  const response = await chat(ctx.v1, body, { signal: controller.signal });
  assert.equal(response.status, 200);
  const reading = readSse(response, (event) => { if (event === "[DONE]") controller.abort(); });
  await assert.rejects(reading, { name: "AbortError" });
  const [row] = await waitRows(ctx.socket, { model: "fake-a" });
  assert.equal(row.outcome, "ok", JSON.stringify(row));
  assert.equal(row.completionTokens, 4);
  assert.equal(row.error, null);
});

test("leaving before [DONE] is still cancelled", async () => {
  const controller = new AbortController();
  const response = await chat(ctx.v1, { stream: true, fake: { tokens: 50, tokenMs: 50 } }, { signal: controller.signal });
  const reading = readSse(response, (_, i) => { if (i === 1) controller.abort(); });
  await assert.rejects(reading, { name: "AbortError" });
  const rows = await waitRows(ctx.socket, { model: "fake-a", outcome: "cancelled" });
  assert.equal(rows.length, 1);
});
