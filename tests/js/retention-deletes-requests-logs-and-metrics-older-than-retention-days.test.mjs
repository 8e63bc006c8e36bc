// `metrics.retentionDays` (README: "older metrics, logs and request rows are deleted"). A first run stores real
// request rows (/v1 requests for unknown models are recorded too); then, with the server stopped, rows of those
// requests, log lines and metric samples are dated back 3, 10 and 40 days in the SQLite file. Restarted with
// retentionDays 30, only the 40-day-old rows go (that they went shows the pass ran); restarted with 7, the
// 10-day-old ones go too; the 3-day-old ones and today's stay. Seen through requests:list, logs:get and
// metrics:history, and the pass is logged.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import path from "node:path";
import { startServer } from "./lib/server.mjs";
import { connect, ok, until, tempDir } from "./lib/socket.mjs";
import { waitRows } from "./lib/fake-router.mjs";

const DAY = 86_400_000;
const AGES = { "age-40d": 40, "age-10d": 10, "age-3d": 3, "age-now": 0 };
let data;

/** Runs SQL against the stopped server's database with Python's sqlite3 (the README's prerequisites include Python 3). */
function sql(script, ...args) {
  const py = "import sqlite3, sys\nc = sqlite3.connect(sys.argv[1])\nexec(sys.argv[2])\nc.commit()\nc.close()";
  execFileSync(process.env.PYTHON || "python3", ["-c", py, path.join(data.dir, "llama-dashboard.db"), script, ...args.map(String)]);
}

before(async () => {
  data = tempDir("lldash-retention-");
  const server = await startServer({ dataDir: data.dir, config: { startup: { autoStart: false } } });
  try {
    const client = await connect(server.url);
    for (const model of Object.keys(AGES)) {
      const res = await fetch(`${server.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
      });
      assert.equal(res.status, 404, await res.text());
    }
    await waitRows(client.socket, {}, Object.keys(AGES).length);
    client.close();
  } finally {
    await server.stop();
  }
  const now = Date.now();
  sql(`
now = int(sys.argv[3])
for name, days in [("age-40d", 40), ("age-10d", 10), ("age-3d", 3)]:
    ts = now - days * ${DAY}
    c.execute("UPDATE requests SET created_at = ? WHERE model_id = ?", (ts, name))
    c.execute("INSERT INTO logs (ts, level, source, model, message) VALUES (?, 3, 'test', NULL, ?)", (ts, "a line of " + name))
    c.execute("INSERT INTO metrics (ts, cpu_percent, mem_percent, rss_bytes, sample_json) VALUES (?, 1, 1, 1, ?)",
              (ts, '{"timestamp": %d, "marker": "%s"}' % (ts, name)))
`, now);
});

after(() => data?.cleanup());

/** Starts on the same data dir with `retentionDays`; resolves what is left once `gone` was deleted (the `pass`th pass). */
async function restartWith(t, retentionDays, gone, pass) {
  const server = await startServer({ dataDir: data.dir, config: { startup: { autoStart: false }, metrics: { retentionDays } } });
  t.after(() => server.stop());
  const client = await connect(server.url);
  t.after(() => client.close());
  const requests = async () => (await ok(client.socket, "requests:list", { limit: 1000 })).requests.map((r) => r.model).sort();
  const left = await until(async () => { const r = await requests(); return !r.includes(gone) && r; },
    { timeoutMs: 10000, what: `the ${gone} request row to be deleted` });
  const { logs } = await ok(client.socket, "logs:get", { source: "test", limit: 1000 });
  const { samples } = await ok(client.socket, "metrics:history", { since: 0, until: Date.now() - DAY / 2, limit: 10000 });
  const retention = await until(async () => {
    const found = (await ok(client.socket, "logs:get", { search: "retention removed old rows" })).logs;
    return found.length === pass && found[0];
  }, { timeoutMs: 10000, what: `retention pass ${pass} in the log` });
  return {
    requests: left,
    logs: logs.map((l) => l.message.replace("a line of ", "")).sort(),
    samples: samples.map((s) => s.marker).sort(),
    retention: retention.message,
  };
}

test("retentionDays 30: rows 40 days old are deleted, 10 and 3 days old kept", async (t) => {
  const left = await restartWith(t, 30, "age-40d", 1);
  assert.deepEqual(left.requests, ["age-10d", "age-3d", "age-now"]);
  assert.deepEqual(left.logs, ["age-10d", "age-3d"]);
  assert.deepEqual(left.samples, ["age-10d", "age-3d"]);
  assert.match(left.retention, /samples=1 logs=1 requests=1/);
});

test("retentionDays 7: rows 10 days old are deleted too; 3 days old and today's kept", async (t) => {
  const left = await restartWith(t, 7, "age-10d", 2);
  assert.deepEqual(left.requests, ["age-3d", "age-now"]);
  assert.deepEqual(left.logs, ["age-3d"]);
  assert.deepEqual(left.samples, ["age-3d"]);
  assert.match(left.retention, /samples=1 logs=1 requests=1/);
});
