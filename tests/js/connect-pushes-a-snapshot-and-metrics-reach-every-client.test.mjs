// On connect each socket gets a full snapshot (models, router, metrics, settings, serverTime) without asking;
// metrics:update is broadcast to every client at metrics.intervalMs (500 ms here).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "./lib/server.mjs";
import { connect, collect, assertBroadcast, assertSample, assertMsTimestamp } from "./lib/socket.mjs";

const INTERVAL = 500;
let server, a, b;
before(async () => {
  server = await startServer({ config: { metrics: { intervalMs: INTERVAL } } });
  a = await connect(server.url);
  b = await connect(server.url);
});
after(async () => {
  a?.close();
  b?.close();
  await server?.stop();
});

test("each socket receives a snapshot on connect without asking", async () => {
  for (const c of [a, b]) {
    const snap = await c.snapshot;
    assertBroadcast(snap, "snapshot", Date.now());
    const d = snap.data;
    assert.ok(Array.isArray(d.models), `snapshot.models: ${JSON.stringify(d.models)}`);
    assert.ok(d.router && typeof d.router === "object", "snapshot.router");
    assert.ok("metrics" in d, "snapshot.metrics must be present (null before the first sample)");
    if (d.metrics !== null) assertSample(d.metrics, "snapshot.metrics");
    assert.ok(d.settings && typeof d.settings.theme === "string", `snapshot.settings: ${JSON.stringify(d.settings)}`);
    assertMsTimestamp(d.serverTime, "snapshot.serverTime");
  }
});

let streams;
test(`metrics:update arrives at ~${INTERVAL} ms on every client`, async () => {
  streams = await Promise.all([collect(a.socket, "metrics:update", 2600), collect(b.socket, "metrics:update", 2600)]);
  for (const [i, items] of streams.entries()) {
    const who = i === 0 ? "client A" : "client B";
    assert.ok(items.length >= 3, `${who} got ${items.length} metrics:update in 2.6 s at intervalMs ${INTERVAL}`);
    assert.ok(items.length <= 8, `${who} got ${items.length} metrics:update in 2.6 s: far faster than ${INTERVAL} ms`);
    for (const { payload, at } of items) {
      assertBroadcast(payload, "metrics:update", at);
      assertSample(payload.data.metrics, "metrics:update data.metrics");
    }
    const ts = items.map((x) => x.payload.data.metrics.timestamp);
    const gaps = ts.slice(1).map((t, j) => t - ts[j]);
    for (const g of gaps) assert.ok(g >= 200 && g <= 1500, `${who}: gap between samples ${g} ms (expected ~${INTERVAL}): ${gaps}`);
    const mean = gaps.reduce((x, y) => x + y, 0) / gaps.length;
    assert.ok(mean >= 350 && mean <= 800, `${who}: mean gap ${mean} ms, expected ~${INTERVAL}`);
    const arrivals = items.map((x) => x.at);
    const arrivalGaps = arrivals.slice(1).map((t, j) => t - arrivals[j]);
    for (const g of arrivalGaps) assert.ok(g <= 1500, `${who}: arrival gaps ${arrivalGaps}`);
  }
});

test("both clients receive the same samples (a broadcast, not per-socket timers)", () => {
  assert.ok(streams, "previous test collected the streams");
  const [ta, tb] = streams.map((items) => new Set(items.map((x) => x.payload.data.metrics.timestamp)));
  const common = [...ta].filter((t) => tb.has(t));
  assert.ok(common.length >= 2, `common sample timestamps: ${common} (A ${[...ta]}, B ${[...tb]})`);
});

test("a client connecting later gets the latest sample in its snapshot", async () => {
  const c = await connect(server.url);
  try {
    const snap = await c.snapshot;
    assert.ok(snap.data.metrics, "snapshot.metrics must not be null once samples exist");
    assertSample(snap.data.metrics, "snapshot.metrics");
    assert.ok(Date.now() - snap.data.metrics.timestamp < 3 * INTERVAL + 1000, `snapshot sample is stale: ${snap.data.metrics.timestamp}`);
  } finally {
    c.close();
  }
});
