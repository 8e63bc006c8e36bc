// Own backends, swaps under alternating demand: while A's stream runs, a request for B (another group)
// and then one more for A arrive. Each must be answered by its own model once its turn comes; none may
// fail because its backend was stopped between becoming ready and receiving the request.
//
// KNOWN BUG (todo until fixed): the manager hands the waiter its URL when the backend becomes ready, but
// the request counts as busy (Gates) only once admitted; in between, start_pending -> make_room for the
// other waiting group stops the just-ready backend (drain sees nothing in flight), so one of the two
// requests gets 502 upstream_error ("connection refused" / "connection closed before message completed").
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
  todo: skip ? false : "bug: a backend handed to a waiter can be stopped before the request reaches it (502)",
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
