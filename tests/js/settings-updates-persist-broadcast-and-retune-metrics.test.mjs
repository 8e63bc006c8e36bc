// settings:update validates, persists (a new connection sees it), broadcasts settings:updated to every client;
// a rejected update changes nothing; metricsIntervalMs retunes the metrics:update rate live.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "./lib/server.mjs";
import { connect, request, ok, waitFor, assertBroadcast, assertBadRequest } from "./lib/socket.mjs";

let server, a, b, initial, updated;
before(async () => {
  server = await startServer({ config: { metrics: { intervalMs: 2000 } } });
  a = await connect(server.url);
  b = await connect(server.url);
});
after(async () => {
  a?.close();
  b?.close();
  await server?.stop();
});

test("settings:get returns the documented settings", async () => {
  ({ settings: initial } = await ok(a.socket, "settings:get", {}));
  assert.ok(["dark", "light", "system"].includes(initial.theme), JSON.stringify(initial));
  assert.ok(Number.isInteger(initial.metricsIntervalMs) && initial.metricsIntervalMs >= 250 && initial.metricsIntervalMs <= 60000, JSON.stringify(initial));
  assert.ok(Number.isInteger(initial.retentionDays) && initial.retentionDays >= 1 && initial.retentionDays <= 365, JSON.stringify(initial));
  assert.ok(Number.isInteger(initial.logsMaxRows) && initial.logsMaxRows >= 1000 && initial.logsMaxRows <= 5000000, JSON.stringify(initial));
});

test("an update is applied, returned whole, and broadcast to every client (sender included)", async () => {
  const theme = initial.theme === "light" ? "dark" : "light";
  const retentionDays = initial.retentionDays === 30 ? 31 : 30;
  const toB = waitFor(b.socket, "settings:updated");
  const toA = waitFor(a.socket, "settings:updated");
  updated = (await ok(a.socket, "settings:update", { settings: { theme, retentionDays } })).settings;
  assert.deepEqual(updated, { ...initial, theme, retentionDays }, "reply carries all settings after the update");
  for (const msg of [await toB, await toA]) {
    assertBroadcast(msg, "settings:updated", Date.now());
    assert.deepEqual(msg.data.settings, updated);
  }
});

test("a new connection sees the new settings (get and snapshot)", async () => {
  const c = await connect(server.url);
  try {
    assert.deepEqual((await c.snapshot).data.settings, updated);
    assert.deepEqual((await ok(c.socket, "settings:get", {})).settings, updated);
  } finally {
    c.close();
  }
});

const invalid = [
  [{ theme: "neon" }, "settings.theme"],
  [{ metricsIntervalMs: 249 }, "settings.metricsIntervalMs"],
  [{ metricsIntervalMs: 60001 }, "settings.metricsIntervalMs"],
  [{ metricsIntervalMs: "fast" }, "settings.metricsIntervalMs"],
  [{ retentionDays: 0 }, "settings.retentionDays"],
  [{ retentionDays: 366 }, "settings.retentionDays"],
  [{ logsMaxRows: 999 }, "settings.logsMaxRows"],
  [{ logsMaxRows: 5000001 }, "settings.logsMaxRows"],
  // one good value next to a bad one: nothing at all may change
  [{ theme: "system", retentionDays: 0 }, "settings.retentionDays"],
  [{ metricsIntervalMs: 1000, logsMaxRows: 10 }, "settings.logsMaxRows"],
];
let markers = 0;
for (const [settings, field] of invalid) {
  test(`rejected: ${JSON.stringify(settings)} -> BAD_REQUEST ${field}, nothing changed, nothing broadcast`, async () => {
    const mark = b.received.length;
    assertBadRequest(await request(a.socket, "settings:update", { settings }), "settings:update", field);
    assert.deepEqual((await ok(b.socket, "settings:get", {})).settings, updated);
    // A valid update after it (a new logsMaxRows, the marker): a broadcast of the rejected one would come before.
    const logsMaxRows = 100000 + ++markers;
    const marker = waitFor(b.socket, "settings:updated", { filter: (m) => m.data.settings.logsMaxRows === logsMaxRows });
    updated = (await ok(a.socket, "settings:update", { settings: { logsMaxRows } })).settings;
    await marker;
    const heard = b.received.slice(mark).filter((e) => e.event === "settings:updated").map((e) => e.payload.data.settings);
    assert.deepEqual(heard, [updated], "a rejected update must not be broadcast");
  });
}

/** The sample timestamps of the next `n` metrics:update broadcasts on `socket`. */
async function nextSamples(socket, n, timeoutMs) {
  const times = [];
  const deadline = Date.now() + timeoutMs;
  while (times.length < n) {
    const msg = await waitFor(socket, "metrics:update", { timeoutMs: Math.max(1, deadline - Date.now()) });
    times.push(msg.data.metrics.timestamp);
  }
  return times;
}

const gapsOf = (t) => t.slice(1).map((v, i) => v - t[i]);

test("metricsIntervalMs changes the metrics:update rate live", async () => {
  // Gaps between the samples' own timestamps, so the client's event loop does not blur them.
  const slow = gapsOf(await nextSamples(a.socket, 2, 6000));
  assert.ok(slow[0] >= 1700 && slow[0] <= 2600, `at 2000 ms, a gap of ${slow[0]} ms`);
  await ok(a.socket, "settings:update", { settings: { metricsIntervalMs: 300 } });
  // The first sample after the change may still follow the old schedule; the next ones follow the new one.
  const fast = gapsOf(await nextSamples(a.socket, 7, 5000)).slice(1);
  const mean = fast.reduce((x, y) => x + y, 0) / fast.length;
  assert.ok(mean >= 200 && mean <= 500, `mean gap ${mean} ms after setting 300 ms: ${fast}`);
  assert.ok(Math.max(...fast) < 1000, `after setting 300 ms, a gap of ${Math.max(...fast)} ms: ${fast}`);
  await ok(a.socket, "settings:update", { settings: { metricsIntervalMs: 2500 } });
  const slowAgain = gapsOf(await nextSamples(a.socket, 3, 9000)).slice(1);
  assert.ok(slowAgain[0] >= 2200 && slowAgain[0] <= 3200, `after setting 2500 ms, a gap of ${slowAgain[0]} ms`);
});
