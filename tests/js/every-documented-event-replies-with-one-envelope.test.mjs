// Every request event in docs/socket-events.md answers through the ack with exactly one envelope,
// {type:"response", event, success, data, requestId (echoed), timestamp (ms)}, and with its documented
// answer: each event is sent in a state that gives it one outcome (lib/event-cases.mjs), against a real
// llama-server router and the real model.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { request, assertResponse, documentedRequestEvents } from "./lib/socket.mjs";
import { needReal } from "./lib/real.mjs";
import { cases, startEventServer } from "./lib/event-cases.mjs";

const skip = needReal();
const events = documentedRequestEvents();
let ctx;
before(async () => { if (!skip) ctx = await startEventServer(); });
after(async () => { await ctx?.stop(); });

test("every documented event has a case, and every case is documented", () => {
  assert.ok(events.length >= 26, `parsed events: ${events}`);
  assert.deepEqual([...events].sort(), Object.keys(cases).sort());
});

/** A later round trip on `socket`: whatever the server sent before its reply has arrived. */
const marker = (socket) => request(socket, "settings:get", {});

for (const event of events) {
  test(`${event}: one ack envelope with the documented answer`, { skip }, async () => {
    const c = cases[event];
    assert.ok(c, `no case for ${event}`);
    const requestId = `r-${event}`;
    const reply = await request(ctx.socket, event, { ...(await c.payload(ctx)), requestId }, { timeoutMs: 60000 });
    assertResponse(reply, event, { requestId, success: true });
    await c.check(reply.data, ctx);
    await marker(ctx.socket);
    const extra = ctx.client.received.filter((e) => e.event === `${event}:result`);
    assert.deepEqual(extra, [], "an acknowledged request is not answered a second time as ':result'");
  });
}

test("a numeric requestId is echoed as a number", { skip }, async () => {
  for (const event of ["models:list", "router:status", "requests:stats"]) {
    assertResponse(await request(ctx.socket, event, { requestId: 4242 }), event, { requestId: 4242, success: true });
  }
});

test("a null or omitted payload is read as {}", { skip }, async () => {
  for (const payload of [null, undefined]) {
    const list = await request(ctx.socket, "models:list", payload);
    assertResponse(list, "models:list", { success: true });
    assert.ok(list.data.models.some((m) => m.id === ctx.model));
    const settings = await request(ctx.socket, "settings:get", payload);
    assertResponse(settings, "settings:get", { success: true });
    assert.equal(settings.data.settings.theme, "light", "the theme set by settings:update");
    const router = await request(ctx.socket, "router:status", payload);
    assert.equal(router.data.running, true, JSON.stringify(router));
  }
});

test("a reply without requestId carries none", { skip }, async () => {
  const reply = await request(ctx.socket, "settings:get", {});
  assertResponse(reply, "settings:get", { success: true });
  assert.equal("requestId" in reply, false, JSON.stringify(reply));
});
