// settings:update validates, persists (a new connection sees it), broadcasts settings:updated to every client;
// a rejected update changes nothing; metricsIntervalMs retunes the metrics:update rate live.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "./lib/server.mjs";
import { connect, request, ok, waitFor, collect, assertBroadcast, assertBadRequest } from "./lib/socket.mjs";

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
for (const [settings, field] of invalid) {
  test(`rejected: ${JSON.stringify(settings)} -> BAD_REQUEST ${field}, nothing changed, nothing broadcast`, async () => {
    const heard = collect(b.socket, "settings:updated", 600);
    assertBadRequest(await request(a.socket, "settings:update", { settings }), "settings:update", field);
    assert.deepEqual((await ok(b.socket, "settings:get", {})).settings, updated);
    assert.equal((await heard).length, 0, "a rejected update must not be broadcast");
  });
}

test("metricsIntervalMs changes the metrics:update rate live", async () => {
  const slow = await collect(a.socket, "metrics:update", 1700);
  assert.ok(slow.length <= 1, `at 2000 ms, got ${slow.length} updates in 1.7 s`);
  await ok(a.socket, "settings:update", { settings: { metricsIntervalMs: 300 } });
  const fast = await collect(a.socket, "metrics:update", 2200);
  assert.ok(fast.length >= 4, `after setting 300 ms, got only ${fast.length} updates in 2.2 s`);
  const t = fast.map((x) => x.payload.data.metrics.timestamp);
  const gaps = t.slice(1).map((v, i) => v - t[i]);
  const mean = gaps.reduce((x, y) => x + y, 0) / gaps.length;
  assert.ok(mean >= 150 && mean <= 650, `mean gap ${mean} ms after setting 300 ms: ${gaps}`);
  await ok(a.socket, "settings:update", { settings: { metricsIntervalMs: 5000 } });
  await collect(a.socket, "metrics:update", 400); // let a tick scheduled before the change pass
  const slowAgain = await collect(a.socket, "metrics:update", 2500);
  assert.ok(slowAgain.length <= 1, `after setting 5000 ms, got ${slowAgain.length} updates in 2.5 s`);
});
