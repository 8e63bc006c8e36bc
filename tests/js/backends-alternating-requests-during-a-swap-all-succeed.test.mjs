// Own backends, swaps under alternating demand: while A's stream runs, a request for B (another group)
// and then one more for A arrive. Each must be answered by its own model once its turn comes; none may
// fail because its backend was stopped between becoming ready and receiving the request.
//
// Regression: a request handed a just-ready backend's address must count as that backend's until it is
// admitted (a Claim); otherwise making room for the other waiting group stopped the backend in between
// and one of the two requests got 502 upstream_error.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startBackends, chat, chatOk, readSse, needReal } from "./lib/backends.mjs";

const skip = needReal();
let ctx;
before(async () => {
  if (skip) return;
  ctx = await startBackends({ models: [{ name: "a", group: "one" }, { name: "b", group: "two" }] });
});
after(() => ctx?.stop());

const answer = (p) => p.then(async (res) => ({ status: res.status, text: await res.text() }));

test("B, then A again, both asked for while A's stream runs: both are answered by their own model", {
  skip,
}, async () => {
  await chatOk(ctx.v1, "a");
  const streaming = await chat(ctx.v1, "a", { stream: true, max_tokens: 64, ignore_eos: true, content: "Count from one to one hundred" });
  let forB, forA;
  const { events } = await readSse(streaming, (_, i) => {
    if (i === 0) forB = answer(chat(ctx.v1, "b"));
    if (i === 5) forA = answer(chat(ctx.v1, "a"));
  });
  assert.equal(events.at(-1), "[DONE]");
  const [b, a] = await Promise.all([forB, forA]);
  assert.equal(b.status, 200, `B: ${b.text}`);
  assert.equal(JSON.parse(b.text).model, "b");
  assert.equal(a.status, 200, `A: ${a.text}`);
  assert.equal(JSON.parse(a.text).model, "a");
});
