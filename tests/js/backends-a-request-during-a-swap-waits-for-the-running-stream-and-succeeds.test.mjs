// Own backends, drain before stop: while a stream on A runs, a request for B (another group) asks for A
// to be stopped. A is stopped only once its stream has ended whole (with [DONE], not cut), and B's
// request waits through the swap and then succeeds.
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

test("a request for B during A's stream waits until A's stream completed, then B serves", { skip }, async () => {
  await chatOk(ctx.v1, "a");
  const streaming = await chat(ctx.v1, "a", { stream: true, max_tokens: 64, ignore_eos: true, content: "Count from one to one hundred" });
  assert.equal(streaming.status, 200);
  let sentB, forB;
  const { events } = await readSse(streaming, () => {
    if (sentB) return;
    sentB = Date.now();
    forB = chat(ctx.v1, "b").then(async (res) => ({ res, text: await res.text(), at: Date.now() }));
  });
  const endA = Date.now();
  assert.ok(sentB && sentB < endA, "B's request was sent while A's stream was running");

  assert.equal(events.at(-1), "[DONE]", `A's stream ends with [DONE]: ${JSON.stringify(events.slice(-3))}`);
  assert.ok(!events.some((e) => e?.error), `no error event in A's stream: ${JSON.stringify(events.filter((e) => e?.error))}`);
  // Generated tokens as llama-server counts them: some tokens stream as empty text, so deltas undercount.
  const tokens = events.findLast((e) => e?.timings)?.timings?.predicted_n;
  assert.ok(tokens >= 60, `A's stream was not cut: ${tokens} tokens of 64`);
  assert.equal(events.findLast((e) => e?.choices?.[0]?.finish_reason)?.choices[0].finish_reason, "length");

  const b = await forB;
  assert.equal(b.res.status, 200, b.text);
  assert.equal(JSON.parse(b.text).model, "b");
  assert.ok(b.at > endA, "B answered after A's stream ended");

  const aUnloading = await ctx.waitStatus("a", "unloading", { since: sentB });
  const aUnloaded = await ctx.waitStatus("a", "unloaded", { since: sentB });
  const bLoading = await ctx.waitStatus("b", "loading", { since: sentB });
  assert.ok(aUnloading.at < endA + 1000, "A was marked for stopping as soon as B was asked for");
  assert.ok(aUnloaded.at >= endA, `A stopped only after its stream ended (${aUnloaded.at - endA} ms)`);
  assert.ok(bLoading.at >= aUnloaded.at, "B started only once A had stopped");
  const a = await ctx.model("a");
  assert.equal(a.status, "unloaded");
  assert.equal(a.reason, "group swap");
  const unloaded = (await ctx.events("a")).find((e) => e.event === "unloaded");
  assert.equal(unloaded.actor, "group swap");
  assert.deepEqual(ctx.running(), ["b"]);
});
