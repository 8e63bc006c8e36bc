// Stopping and starting again with the same --data-dir keeps the settings, the stored metrics history and the
// stored logs (the second start also runs the migrations against an existing database).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { startServer } from "./lib/server.mjs";
import { connect, ok, until, tempDir } from "./lib/socket.mjs";

const data = tempDir("lldash-restart-");
const running = [];
after(async () => {
  for (const s of running) await s.stop();
  data.cleanup();
});

async function start() {
  const server = await startServer({ dataDir: data.dir, config: { metrics: { intervalMs: 250 } } });
  running.push(server);
  const client = await connect(server.url);
  return { server, client };
}

let before = {};
test("first run: change settings, collect samples and logs", async () => {
  const { server, client } = await start();
  try {
    const { settings } = await ok(client.socket, "settings:get", {});
    const theme = settings.theme === "light" ? "dark" : "light";
    before.settings = (await ok(client.socket, "settings:update", { settings: { theme, retentionDays: 42, logsMaxRows: 2000 } })).settings;
    before.samples = await until(async () => {
      const { samples } = await ok(client.socket, "metrics:history", {});
      return samples.length >= 4 && samples;
    }, { timeoutMs: 10000, what: "4 stored samples" });
    before.logs = (await ok(client.socket, "logs:get", { limit: 50 })).logs;
    assert.ok(before.logs.length > 0, "the first run stored log lines");
  } finally {
    client.close();
    await server.stop({ keepData: true });
  }
  const db = path.join(data.dir, "llama-dashboard.db");
  assert.ok(existsSync(db), "the database lives in the data dir as llama-dashboard.db");
  const header = readFileSync(db).subarray(0, 20);
  assert.equal(header.subarray(0, 15).toString(), "SQLite format 3", "an SQLite database");
  assert.deepEqual([header[18], header[19]], [2, 2], "the database is in WAL mode (header bytes 18/19 = 2)");
});

test("second run on the same data dir: everything is still there", async () => {
  assert.ok(before.settings, "first run completed");
  const { server, client } = await start();
  try {
    assert.deepEqual((await ok(client.socket, "settings:get", {})).settings, before.settings);
    assert.deepEqual((await client.snapshot).data.settings, before.settings);
    const { samples } = await ok(client.socket, "metrics:history", { until: before.samples.at(-1).timestamp });
    const kept = new Set(samples.map((s) => s.timestamp));
    for (const s of before.samples) assert.ok(kept.has(s.timestamp), `sample ${s.timestamp} from the first run is gone`);
    const { logs } = await ok(client.socket, "logs:get", { limit: 1000, before: before.logs[0].id + 1 });
    const ids = new Map(logs.map((e) => [e.id, e.message]));
    for (const e of before.logs) assert.equal(ids.get(e.id), e.message, `log line ${e.id} from the first run is gone`);
    // the new run keeps logging after the old lines
    const newest = (await ok(client.socket, "logs:get", { limit: 1 })).logs[0];
    assert.ok(newest.id > before.logs[0].id, "new lines get new ids");
  } finally {
    client.close();
    await server.stop({ keepData: true });
  }
});

test("third run: the database opens again (migrations are idempotent)", async () => {
  const { server, client } = await start();
  try {
    assert.deepEqual((await ok(client.socket, "settings:get", {})).settings, before.settings);
  } finally {
    client.close();
    await server.stop({ keepData: true });
  }
});
