// A malformed payload is answered with success:false / BAD_REQUEST naming the field: never a crash, never
// silence; afterwards the same socket and a new client are served normally.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "./lib/server.mjs";
import { connect, request, assertResponse, assertBadRequest, documentedRequestEvents } from "./lib/socket.mjs";

let server, client;
before(async () => {
  server = await startServer();
  client = await connect(server.url);
});
after(async () => {
  client?.close();
  await server?.stop();
});

for (const event of documentedRequestEvents()) {
  for (const [label, payload] of [["a string", "hello"], ["a number", 42], ["an array", [1, 2]], ["a boolean", true]]) {
    test(`${event}: ${label} as payload -> BAD_REQUEST`, async () => {
      assertBadRequest(await request(client.socket, event, payload), event);
    });
  }
}

const fieldCases = [
  ["metrics:history", { limit: "x" }, "limit"],
  ["metrics:history", { since: "yesterday" }, "since"],
  ["metrics:history", { until: { a: 1 } }, "until"],
  ["logs:get", { level: "loud" }, "level"],
  ["logs:get", { limit: "x" }, "limit"],
  ["logs:get", { before: "abc" }, "before"],
  ["settings:update", {}, "settings"],
  ["settings:update", { settings: "dark" }, "settings"],
  ["settings:update", { settings: { theme: "neon" } }, "settings.theme"],
  ["settings:update", { settings: { metricsIntervalMs: "fast" } }, "settings.metricsIntervalMs"],
  ["router:init:validate", {}, "config"],
  ["router:init:validate", { config: 5 }, "config"],
  ["router:init:validate", { config: "{}" }, "config"],
];

for (const [event, payload, field] of fieldCases) {
  test(`${event} ${JSON.stringify(payload)} -> BAD_REQUEST with error.field '${field}'`, async () => {
    const reply = await request(client.socket, event, { ...payload, requestId: "bad-1" });
    assertBadRequest(reply, event, field);
    assert.equal(reply.requestId, "bad-1", "requestId is echoed on errors too");
    assert.ok(reply.error.message.includes(field.split(".").pop()), `message should name the field: ${reply.error.message}`);
  });
}

test("the rejected settings:update changed nothing", async () => {
  const reply = await request(client.socket, "settings:get", {});
  assertResponse(reply, "settings:get", { success: true });
  assert.notEqual(reply.data.settings.theme, "neon");
  assert.notEqual(reply.data.settings.metricsIntervalMs, "fast");
});

test("after all that, the same socket is still served normally", async () => {
  assert.equal(client.socket.connected, true, "the socket must not have been disconnected");
  const models = await request(client.socket, "models:list", { requestId: "after-1" });
  assertResponse(models, "models:list", { success: true, requestId: "after-1" });
  const history = await request(client.socket, "metrics:history", { limit: 5 });
  assertResponse(history, "metrics:history", { success: true });
  const validate = await request(client.socket, "router:init:validate", { config: {} });
  assertResponse(validate, "router:init:validate", { success: true });
});

test("and a second client connects and is served normally", async () => {
  assert.equal(server.proc.exitCode, null, "server process must still run");
  const second = await connect(server.url);
  try {
    const snap = await second.snapshot;
    assert.equal(snap.event, "snapshot");
    assertResponse(await request(second.socket, "settings:get", {}), "settings:get", { success: true });
    assertResponse(await request(second.socket, "logs:get", { limit: 3 }), "logs:get", { success: true });
  } finally {
    second.close();
  }
});
