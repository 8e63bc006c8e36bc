// A request sent without an ack callback is answered once, with the same envelope and the same documented
// answer, emitted to the sender only as `<event>:result` (cases from lib/event-cases.mjs, against a real
// llama-server router and the real model); an unknown event is answered UNKNOWN_EVENT, never silence.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { request, waitFor, assertResponse, documentedRequestEvents } from "./lib/socket.mjs";
import { needReal } from "./lib/real.mjs";
import { cases, startEventServer } from "./lib/event-cases.mjs";

const skip = needReal();
let ctx;
before(async () => { if (!skip) ctx = await startEventServer(); });
after(async () => { await ctx?.stop(); });

/** A later round trip on `socket`: whatever the server sent before its reply has arrived. */
const marker = (socket) => request(socket, "settings:get", {});
const resultsFor = (client, event, requestId) =>
  client.received.filter((e) => e.event === `${event}:result` && e.payload?.requestId === requestId);

for (const event of documentedRequestEvents()) {
  test(`${event} without ack -> one '${event}:result' with the documented answer, to the sender only`, { skip }, async () => {
    const c = cases[event];
    assert.ok(c, `no case for ${event}`);
    const requestId = `noack-${event}`;
    const payload = await c.payload(ctx);
    const result = waitFor(ctx.socket, `${event}:result`, { timeoutMs: 60000, filter: (r) => r?.requestId === requestId });
    ctx.socket.emit(event, { ...payload, requestId });
    const reply = await result;
    assertResponse(reply, event, { requestId, success: true });
    await c.check(reply.data, ctx);
    await Promise.all([marker(ctx.socket), marker(ctx.other.socket)]);
    assert.equal(resultsFor(ctx.client, event, requestId).length, 1, "answered exactly once");
    assert.deepEqual(ctx.other.received.filter((e) => e.event === `${event}:result`), [],
      "another client does not receive someone else's reply");
  });
}

test("an unknown event gets UNKNOWN_EVENT through the ack", { skip }, async () => {
  const reply = await request(ctx.socket, "nope:does-not-exist", { requestId: "u-1" });
  assertResponse(reply, "nope:does-not-exist", { success: false, requestId: "u-1" });
  assert.equal(reply.error.code, "UNKNOWN_EVENT", JSON.stringify(reply));
  assert.match(reply.error.message, /nope:does-not-exist/);
});

test("an unknown event without ack gets UNKNOWN_EVENT as ':result', once", { skip }, async () => {
  const result = waitFor(ctx.socket, "nope:does-not-exist:result", { filter: (r) => r?.requestId === "u-2" });
  ctx.socket.emit("nope:does-not-exist", { requestId: "u-2" });
  const reply = await result;
  assertResponse(reply, "nope:does-not-exist", { success: false, requestId: "u-2" });
  assert.equal(reply.error.code, "UNKNOWN_EVENT");
  await marker(ctx.socket);
  assert.equal(resultsFor(ctx.client, "nope:does-not-exist", "u-2").length, 1);
});

test("a failure without ack arrives as ':result' too, with its code and field", { skip }, async () => {
  const result = waitFor(ctx.socket, "settings:update:result", { filter: (r) => r?.requestId === "bad-1" });
  ctx.socket.emit("settings:update", { settings: { theme: "purple" }, requestId: "bad-1" });
  const reply = await result;
  assertResponse(reply, "settings:update", { success: false, requestId: "bad-1" });
  assert.equal(reply.error.code, "BAD_REQUEST");
  assert.equal(reply.error.field, "settings.theme");
  assert.match(reply.error.message, /dark, light, system/);
});

test("after unknown events the connection still answers", { skip }, async () => {
  const reply = await request(ctx.socket, "router:status", {});
  assertResponse(reply, "router:status", { success: true });
  assert.equal(reply.data.running, true);
  assert.equal(ctx.server.proc.exitCode, null, "server must still run");
});
