// metrics:history returns the stored samples oldest first, honouring since/until (ms) and limit
// (the newest `limit` in range, 1..10000).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "./lib/server.mjs";
import { connect, request, ok, until, assertBadRequest, assertSample } from "./lib/socket.mjs";

let server, client, full;
const ts = (samples) => samples.map((s) => s.timestamp);
const mid = (i) => Math.floor((full[i].timestamp + full[i + 1].timestamp) / 2);

before(async () => {
  server = await startServer({ config: { metrics: { intervalMs: 250 } } });
  client = await connect(server.url);
  full = await until(async () => {
    const { samples } = await ok(client.socket, "metrics:history", {});
    return samples.length >= 6 && samples;
  }, { timeoutMs: 10000, what: "6 stored samples at intervalMs 250" });
});
after(async () => {
  client?.close();
  await server?.stop();
});

test("samples are stored, well-formed and oldest first", () => {
  for (const s of full) assertSample(s, "history sample");
  const t = ts(full);
  for (let i = 1; i < t.length; i++) assert.ok(t[i] > t[i - 1], `timestamps not strictly ascending: ${t}`);
  assert.ok(Date.now() - t[t.length - 1] < 5000, "the newest stored sample is recent");
});

test("since/until select the samples in between", async () => {
  const { samples } = await ok(client.socket, "metrics:history", { since: mid(0), until: mid(3) });
  assert.deepEqual(ts(samples), ts(full.slice(1, 4)));
});

test("limit keeps the newest samples in range, still oldest first", async () => {
  const { samples } = await ok(client.socket, "metrics:history", { until: mid(3), limit: 2 });
  assert.deepEqual(ts(samples), ts(full.slice(2, 4)));
  const r = await ok(client.socket, "metrics:history", { since: mid(0), until: mid(4), limit: 3 });
  assert.deepEqual(ts(r.samples), ts(full.slice(2, 5)));
});

test("limit 1 without a range returns the newest sample", async () => {
  const { samples } = await ok(client.socket, "metrics:history", { limit: 1 });
  assert.equal(samples.length, 1);
  assert.ok(samples[0].timestamp >= full[full.length - 1].timestamp);
});

test("a range in the future is empty; a range in the past before start is empty", async () => {
  assert.deepEqual((await ok(client.socket, "metrics:history", { since: Date.now() + 3600e3 })).samples, []);
  assert.deepEqual((await ok(client.socket, "metrics:history", { until: full[0].timestamp - 1 })).samples, []);
});

test("until is in milliseconds (a seconds value selects nothing)", async () => {
  const secs = Math.floor(Date.now() / 1000);
  assert.deepEqual((await ok(client.socket, "metrics:history", { until: secs })).samples, []);
});

for (const limit of [0, -1, 10001, 2.5]) {
  test(`limit ${limit} is rejected with BAD_REQUEST naming limit`, async () => {
    assertBadRequest(await request(client.socket, "metrics:history", { limit }), "metrics:history", "limit");
  });
}

test("limit 10000 is accepted", async () => {
  const { samples } = await ok(client.socket, "metrics:history", { limit: 10000 });
  assert.ok(samples.length >= full.length);
});
