// A request sent without an ack callback is answered with the same envelope, emitted to the sender as
// `<event>:result`; an unknown event is answered with UNKNOWN_EVENT (ack or `:result`), never silence.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "./lib/server.mjs";
import { connect, request, waitFor, collect, assertResponse, documentedRequestEvents } from "./lib/socket.mjs";

const payloads = { "router:init:validate": { config: {} }, "settings:update": { settings: { theme: "dark" } } };
const known = ["models:list", "router:init:load", "router:init:validate", "router:init:status", "metrics:get", "metrics:history",
  "logs:get", "settings:get", "settings:update"];

let server, client, other;
before(async () => {
  server = await startServer();
  client = await connect(server.url);
  other = await connect(server.url);
});
after(async () => {
  client?.close();
  other?.close();
  await server?.stop();
});

for (const event of documentedRequestEvents()) {
  test(`${event} without ack -> '${event}:result' to the sender only`, async () => {
    const requestId = `noack-${event}`;
    const otherGot = collect(other.socket, `${event}:result`, 1000);
    const result = waitFor(client.socket, `${event}:result`, { filter: (r) => r?.requestId === requestId });
    client.socket.emit(event, { ...(payloads[event] || {}), requestId });
    const reply = await result;
    assertResponse(reply, event, { requestId, success: known.includes(event) ? true : undefined });
    assert.equal((await otherGot).length, 0, "another client must not receive someone else's reply");
  });
}

test("a request WITH an ack is not answered a second time as ':result'", async () => {
  const extra = collect(client.socket, "models:list:result", 700);
  const reply = await request(client.socket, "models:list", { requestId: "with-ack" });
  assertResponse(reply, "models:list", { success: true, requestId: "with-ack" });
  assert.deepEqual((await extra).map((e) => e.payload), []);
});

test("an unknown event gets UNKNOWN_EVENT through the ack", async () => {
  const reply = await request(client.socket, "nope:does-not-exist", { requestId: "u-1" });
  assertResponse(reply, "nope:does-not-exist", { success: false, requestId: "u-1" });
  assert.equal(reply.error.code, "UNKNOWN_EVENT", JSON.stringify(reply));
});

test("an unknown event without ack gets UNKNOWN_EVENT as ':result'", async () => {
  const result = waitFor(client.socket, "nope:does-not-exist:result", { filter: (r) => r?.requestId === "u-2" });
  client.socket.emit("nope:does-not-exist", { requestId: "u-2" });
  const reply = await result;
  assertResponse(reply, "nope:does-not-exist", { success: false, requestId: "u-2" });
  assert.equal(reply.error.code, "UNKNOWN_EVENT");
});

test("after unknown events the connection still answers", async () => {
  assertResponse(await request(client.socket, "settings:get", {}), "settings:get", { success: true });
  assert.equal(server.proc.exitCode, null, "server must still run");
});
