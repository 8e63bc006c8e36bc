// Every request event in docs/socket-events.md answers through the ack with the one envelope:
// {type:"response", event, success, data, requestId (echoed), timestamp (ms)}, and each reply carries the documented data.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "./lib/server.mjs";
import { connect, request, assertResponse, assertSample, documentedRequestEvents } from "./lib/socket.mjs";

// A valid payload for each documented event, and what its reply data must look like.
const cases = {
  "models:list": { payload: {}, check: (d) => assert.ok(Array.isArray(d.models), "data.models must be an array") },
  "router:init:load": {
    payload: {},
    check: (d) => {
      assert.ok(d.config && typeof d.config === "object", "data.config");
      assert.ok("configPath" in d, "data.configPath");
      assert.ok(["file", "defaults"].includes(d.source), `data.source: ${d.source}`);
    },
  },
  "router:init:validate": {
    payload: { config: {} },
    check: (d) => {
      assert.equal(d.valid, true, "an empty (all defaults) config is valid");
      assert.deepEqual(d.errors, []);
      assert.ok(Array.isArray(d.args) && d.args.length > 0 && d.args.every((a) => typeof a === "string"), `data.args: ${JSON.stringify(d.args)}`);
    },
  },
  "router:init:status": {
    payload: {},
    check: (d) => {
      for (const k of ["port", "host", "modelsDir", "maxLoaded", "contextSize", "autoStart", "running", "pid", "url", "uptimeMs", "configPath"]) {
        assert.ok(k in d, `data.${k} missing: ${JSON.stringify(d)}`);
      }
    },
  },
  "metrics:get": {
    payload: {},
    check: (d) => {
      assert.ok("metrics" in d, "data.metrics");
      if (d.metrics !== null) assertSample(d.metrics, "data.metrics");
    },
  },
  "metrics:history": { payload: {}, check: (d) => assert.ok(Array.isArray(d.samples), "data.samples") },
  "logs:get": {
    payload: {},
    check: (d) => {
      assert.ok(Array.isArray(d.logs), "data.logs");
      assert.equal(typeof d.hasMore, "boolean", "data.hasMore");
    },
  },
  "settings:get": {
    payload: {},
    check: (d) => {
      for (const k of ["theme", "metricsIntervalMs", "retentionDays", "logsMaxRows"]) assert.ok(k in d.settings, `settings.${k}`);
    },
  },
  "settings:update": {
    payload: { settings: { theme: "light" } },
    check: (d) => assert.equal(d.settings?.theme, "light", "the reply carries the settings after the update"),
  },
};

const events = documentedRequestEvents();
let server, client;
before(async () => {
  server = await startServer();
  client = await connect(server.url);
});
after(async () => {
  client?.close();
  await server?.stop();
});

test("the events table of docs/socket-events.md is found", () => {
  assert.ok(events.length >= 9, `parsed events: ${events}`);
  for (const e of Object.keys(cases)) assert.ok(events.includes(e), `${e} is no longer documented`);
});

for (const event of events) {
  test(`${event}: ack reply uses the envelope, echoes requestId, carries the documented data`, async () => {
    const c = cases[event];
    const payload = c ? c.payload : {};
    const reply = await request(client.socket, event, { ...payload, requestId: `r-${event}` });
    assertResponse(reply, event, { requestId: `r-${event}`, success: c ? true : undefined });
    if (c) c.check(reply.data);

    const numeric = await request(client.socket, event, { ...payload, requestId: 4242 });
    assertResponse(numeric, event, { requestId: 4242, success: c ? true : undefined });
  });
}

for (const event of Object.keys(cases).filter((e) => Object.keys(cases[e].payload).length === 0)) {
  test(`${event}: a null or omitted payload is read as {}`, async () => {
    assertResponse(await request(client.socket, event, null), event, { success: true });
    assertResponse(await request(client.socket, event, undefined), event, { success: true });
  });
}
