// The same port serves GET /health (JSON: status, version, uptime, and whether the database can really be
// used: 503 while another process holds its lock or its file is gone), GET /metrics (Prometheus text), the dashboard at /, the SPA
// fallback for page paths, and a real 404 for missing asset files.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, renameSync } from "node:fs";
import path from "node:path";
import { startServer, repoRoot } from "./lib/server.mjs";
import { until } from "./lib/socket.mjs";

let server;
before(async () => { server = await startServer({ config: { metrics: { intervalMs: 500 } } }); });
after(async () => { await server?.stop(); });

const health = async () => {
  const res = await fetch(`${server.url}/health`);
  assert.match(res.headers.get("content-type") || "", /application\/json/);
  return { status: res.status, body: await res.json() };
};

test("GET /health -> 200 with status, our version, a growing uptime and the database", async () => {
  const version = readFileSync(path.join(repoRoot, "Cargo.toml"), "utf8").match(/^version = "([^"]+)"/m)[1];
  const first = await health();
  assert.equal(first.status, 200, JSON.stringify(first.body));
  assert.deepEqual(Object.keys(first.body).sort(), ["database", "status", "uptimeMs", "version"]);
  assert.equal(first.body.status, "ok");
  assert.equal(first.body.database, "ok");
  assert.equal(first.body.version, version);
  const up = first.body.uptimeMs;
  assert.ok(Number.isInteger(up) && up > 0 && up < 120e3, `uptimeMs is ms since this server started: ${up}`);
  const later = await until(async () => { const h = await health(); return h.body.uptimeMs > up && h; }, { timeoutMs: 3000, intervalMs: 50, what: "uptimeMs to grow" });
  assert.ok(later.body.uptimeMs - up < 3000, `${up} -> ${later.body.uptimeMs}`);
});

/**
 * Another process holds the database's write lock (BEGIN IMMEDIATE, as any SQLite client can) until `release()`.
 * Resolves once the lock is taken.
 */
async function holdWriteLock(dbFile) {
  const python = process.env.LLAMA_DASHBOARD_PYTHON || "python3";
  const code = "import sqlite3,sys\nc=sqlite3.connect(sys.argv[1],isolation_level=None)\nc.execute('BEGIN IMMEDIATE')\nprint('locked',flush=True)\nsys.stdin.read()\n";
  const child = spawn(python, ["-c", code, dbFile], { stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (c) => { out += c; });
  child.stderr.on("data", (c) => { out += c; });
  const exited = new Promise((r) => child.once("exit", r));
  await until(() => out.includes("locked") || child.exitCode !== null, { timeoutMs: 10000, intervalMs: 20, what: "the lock" });
  assert.match(out, /locked/, `the lock could not be taken: ${out}`);
  return { release: async () => { child.stdin.end(); await exited; } };
}

test("GET /health -> 503 database unavailable, quickly, while another process holds the database's lock", async (t) => {
  const lock = await holdWriteLock(path.join(server.dataDir, "llama-dashboard.db"));
  t.after(() => lock.release());
  const t0 = Date.now();
  const { status, body } = await health();
  const took = Date.now() - t0;
  assert.equal(status, 503, JSON.stringify(body));
  assert.equal(body.database, "unavailable");
  assert.equal(body.status, "degraded");
  assert.equal(typeof body.uptimeMs, "number");
  assert.ok(took < 3000, `answered in ${took} ms, not after the connection's 5 s busy timeout`);
  await lock.release();
  await until(async () => (await health()).status === 200, { timeoutMs: 10000, what: "/health 200 once the lock is released" });
});

test("GET /health -> 503 while the database file is gone, 200 once it is back", async (t) => {
  const file = path.join(server.dataDir, "llama-dashboard.db");
  const away = `${file}.away`;
  renameSync(file, away);
  t.after(() => { if (existsSync(away)) renameSync(away, file); });
  const { status, body } = await health();
  assert.equal(status, 503, JSON.stringify(body));
  assert.equal(body.database, "unavailable");
  renameSync(away, file);
  const back = await health();
  assert.equal(back.status, 200, JSON.stringify(back.body));
  assert.equal(back.body.database, "ok");
});

const REQUIRED = ["llama_dashboard_cpu_usage_percent", "llama_dashboard_memory_used_bytes",
  "llama_dashboard_process_resident_memory_bytes", "llama_dashboard_uptime_seconds"];

function parseProm(text) {
  const types = new Map();
  const values = new Map();
  for (const line of text.split("\n")) {
    let m = line.match(/^# TYPE (\S+) (\S+)$/);
    if (m) { types.set(m[1], m[2]); continue; }
    if (!line || line.startsWith("#")) continue;
    m = line.match(/^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)( \d+)?$/);
    assert.ok(m, `not a Prometheus sample line: '${line}'`);
    const v = Number(m[3]);
    assert.ok(!Number.isNaN(v) || /^(NaN|[+-]Inf)$/.test(m[3]), `bad value in '${line}'`);
    if (!values.has(m[1])) values.set(m[1], v);
  }
  return { types, values };
}

test("GET /metrics -> 200 Prometheus text with the dashboard gauges", async () => {
  const { res, text } = await until(async () => {
    const r = await fetch(`${server.url}/metrics`);
    const t = await r.text();
    return REQUIRED.every((n) => t.includes(`\n${n}`) || t.startsWith(n)) && { res: r, text: t };
  }, { timeoutMs: 5000, what: "all required metrics in /metrics" }).catch(async (e) => {
    const r = await fetch(`${server.url}/metrics`);
    assert.fail(`${e.message}\nstatus ${r.status}:\n${await r.text()}`);
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") || "", /^text\/plain/);
  const { types, values } = parseProm(text);
  for (const name of REQUIRED) {
    assert.equal(types.get(name), "gauge", `# TYPE ${name} gauge`);
    assert.ok(values.has(name), `sample for ${name}`);
  }
  assert.ok(values.get("llama_dashboard_memory_used_bytes") > 0);
  assert.ok(values.get("llama_dashboard_process_resident_memory_bytes") > 1e6, "RSS of a running binary is more than 1 MB");
  const cpu = values.get("llama_dashboard_cpu_usage_percent");
  assert.ok(cpu >= 0 && cpu <= 100 * 1024, `cpu ${cpu}`);
  const uptime = values.get("llama_dashboard_uptime_seconds");
  assert.ok(Number.isFinite(uptime) && uptime >= 0 && uptime < 120, `uptime ${uptime}`);
});

test("/metrics uptime grows", async () => {
  const read = async () => parseProm(await (await fetch(`${server.url}/metrics`)).text()).values.get("llama_dashboard_uptime_seconds");
  const first = await read();
  assert.equal(typeof first, "number");
  const t0 = Date.now();
  const second = await until(async () => { const v = await read(); return v >= first + 1 && v; }, { timeoutMs: 3000, intervalMs: 100, what: `uptime to grow by 1 s from ${first}` });
  assert.ok(second - first <= (Date.now() - t0) / 1000 + 0.5, `uptime ${first} -> ${second} in ${Date.now() - t0} ms`);
});

let index;
test("GET / -> the dashboard's index.html", async () => {
  const res = await fetch(`${server.url}/`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") || "", /text\/html/);
  index = await res.text();
  assert.match(index, /<html/i);
});

// As a browser asks for a page: /models is also llama.cpp's model list, for clients that do not ask for HTML.
for (const page of ["/models", "/settings", "/logs/live"]) {
  test(`GET ${page} (a page path, no dot) -> index.html`, async () => {
    const res = await fetch(`${server.url}${page}`, { headers: { accept: "text/html,application/xhtml+xml,*/*;q=0.8" } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") || "", /text\/html/);
    assert.equal(await res.text(), index);
  });
}

test("GET /js/does-not-exist.js -> 404, not the index", async () => {
  const res = await fetch(`${server.url}/js/does-not-exist.js`);
  assert.equal(res.status, 404);
  assert.notEqual(await res.text(), index);
});

test("embedded assets are served with their type", async () => {
  const res = await fetch(`${server.url}/favicon.svg`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") || "", /image\/svg\+xml/);
});
