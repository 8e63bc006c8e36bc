#!/usr/bin/env node
// Disk full and a locked database (issue 13, part 4). The data dir is a 16 MiB tmpfs (mounted here,
// unmounted on every way out; needs root: without it the disk case is skipped with the reason); /v1
// traffic to an own backend served by the stub flows throughout. Two faults, one after the other:
//   full:   a filler file takes every free byte of the tmpfs, then is deleted;
//   locked: another process holds the write lock (python3 sqlite3, BEGIN IMMEDIATE), then releases it.
// Checks for each: every /v1 request still answered; /health 503 with database "unavailable" and a
// reason; dropped request rows counted in /metrics (llama_dashboard_telemetry_dropped_total); once the
// fault is gone, /health 200 and new request rows stored, without a restart. Then PRAGMA integrity_check.
// Figures: target/chaos/disk.json.
import { spawn, execFileSync } from "node:child_process";
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from "node:fs";
import path from "node:path";
import * as lib from "./lib.mjs";
import { percentiles, stubConfig, traffic } from "./soak.mjs";

const PART = "disk";
const CLIENT = "127.13.1.1";

async function health(url) {
  const r = await lib.httpRequest(`${url}/health`, { timeoutMs: 10000 });
  let body = null;
  try { body = JSON.parse(r.body); } catch {}
  return { status: r.status ?? null, body };
}

/** The telemetry_dropped_total counters of /metrics by kind, plus the metric's name as exposed. */
async function dropped(url) {
  const text = (await lib.httpRequest(`${url}/metrics`, { timeoutMs: 10000 })).body || "";
  const counts = {};
  let name = null;
  for (const m of text.matchAll(/^(\w*telemetry_dropped_total)\{kind="(\w+)"\} (\d+)/gm)) {
    name = m[1];
    counts[m[2]] = Number(m[3]);
  }
  return { name, counts };
}

/** Rows stored for our client with created_at >= `since` (ms). */
function rowsSince(dbFile, since) {
  const script = "import sqlite3,sys\nc=sqlite3.connect('file:'+sys.argv[1]+'?mode=ro',uri=True,timeout=10)\n"
    + "print(c.execute('SELECT count(*) FROM requests WHERE client=? AND created_at>=?',(sys.argv[2],int(sys.argv[3]))).fetchone()[0])";
  try {
    return Number(execFileSync("python3", ["-c", script, dbFile, CLIENT, String(since)], { encoding: "utf8", timeout: 20000 }));
  } catch {
    return null;
  }
}

/** Writes `file` until the filesystem refuses (ENOSPC); returns the bytes written. */
function fill(file) {
  const fd = openSync(file, "w");
  let written = 0;
  try {
    for (const size of [1 << 20, 1 << 12, 1]) {
      const chunk = Buffer.alloc(size, 0x5a);
      for (;;) {
        try { written += writeSync(fd, chunk); } catch (err) { if (err.code === "ENOSPC") break; throw err; }
      }
    }
  } finally {
    closeSync(fd);
  }
  return written;
}

/** Another process takes the database's write lock and holds it until release(). */
async function holdWriteLock(dbFile) {
  const code = "import sqlite3,sys\nc=sqlite3.connect(sys.argv[1],isolation_level=None)\nc.execute('BEGIN IMMEDIATE')\nprint('locked',flush=True)\nsys.stdin.read()\n";
  const child = spawn("python3", ["-c", code, dbFile], { stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (c) => { out += c; });
  child.stderr.on("data", (c) => { out += c; });
  const exited = new Promise((r) => child.once("exit", r));
  await lib.waitFor(() => out.includes("locked") || child.exitCode !== null, { timeoutMs: 15000, intervalMs: 20 });
  if (!out.includes("locked")) throw new Error(`the write lock could not be taken: ${out}`);
  return { release: async () => { child.stdin.end(); await exited; } };
}

/**
 * One fault: `inject()` starts it, `clear()` ends it. Traffic keeps flowing; returns the figures and checks.
 * `results` is the traffic's result list (filled as requests end).
 */
async function fault(name, { url, dbFile, results, inject, clear, holdMs }) {
  const before = await dropped(url);
  const injectedAt = Date.now();
  const injected = await inject();
  const degraded = await lib.waitFor(async () => { const h = await health(url); return h.status === 503 && h; }, { timeoutMs: 60000, intervalMs: 200 });
  const degradedAfterMs = degraded ? Date.now() - injectedAt : null;
  const counted = await lib.waitFor(async () => {
    const d = await dropped(url);
    return (d.counts.requests ?? 0) > (before.counts.requests ?? 0) && d;
  }, { timeoutMs: 60000, intervalMs: 250 });
  await lib.sleep(holdMs);
  const during = await dropped(url);
  const clearedAt = Date.now();
  await clear();
  const healthy = await lib.waitFor(async () => (await health(url)).status === 200, { timeoutMs: 60000, intervalMs: 200 });
  const healthyAfterMs = healthy ? Date.now() - clearedAt : null;
  const stored = await lib.waitFor(() => (rowsSince(dbFile, clearedAt) ?? 0) > 0, { timeoutMs: 60000, intervalMs: 250 });
  const rowsAfterMs = stored ? Date.now() - clearedAt : null;
  const window = results.filter((r) => r.at >= injectedAt && r.at < clearedAt);
  const failed = window.filter((r) => r.failure);
  const droppedRows = (during.counts.requests ?? 0) - (before.counts.requests ?? 0);
  const figures = {
    injected, faultSec: Math.round((clearedAt - injectedAt) / 1000), requestsDuringFault: window.length, failedDuringFault: failed.length,
    latencyBeforeFaultMs: percentiles(results.filter((r) => r.at >= injectedAt - 10000 && r.at < injectedAt).map((r) => r.ms)),
    latencyDuringFaultMs: percentiles(window.map((r) => r.ms)), health: degraded ? { status: degraded.status, body: degraded.body } : null,
    degradedAfterMs, droppedMetric: during.name, droppedDuringFault: Object.fromEntries(Object.entries(during.counts).map(([k, v]) => [k, v - (before.counts[k] ?? 0)])),
    healthyAfterMs, newRowsAfterMs: rowsAfterMs,
  };
  const checks = [
    { name: `${name}: every /v1 request answered during the fault`, ok: failed.length === 0 && window.length > 0, detail: `${failed.length} of ${window.length} failed` },
    { name: `${name}: /health 503 database unavailable with a reason`, ok: Boolean(degraded && degraded.body?.database === "unavailable" && degraded.body?.reason), detail: degraded ? `after ${degradedAfterMs} ms: ${JSON.stringify(degraded.body)}` : "never degraded in 60 s" },
    { name: `${name}: dropped request rows counted in /metrics`, ok: Boolean(counted) && droppedRows > 0, detail: `${during.name ?? "no telemetry_dropped_total"}: +${droppedRows} requests` },
    { name: `${name}: writes resume without a restart`, ok: healthyAfterMs !== null && rowsAfterMs !== null, detail: `/health 200 after ${healthyAfterMs} ms, new rows after ${rowsAfterMs} ms` },
  ];
  lib.log(PART, `${name}: ${JSON.stringify({ ...figures, health: figures.health?.body })}`);
  return { figures, checks };
}

function mountTmpfs(dir) {
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=16m", "tmpfs", dir], { stdio: "pipe" });
  } catch (err) {
    return String(err.stderr || err.message).trim();
  }
  process.on("exit", () => { try { execFileSync("umount", ["-l", dir], { stdio: "ignore" }); } catch {} });
  return null;
}

async function main() {
  const opts = lib.options();
  // The commit when the run began: a long run must not take the name of one committed meanwhile.
  const commit = lib.commit();
  lib.log(PART, `mode ${opts.mode}, commit ${commit}`);
  const dir = lib.workDir("disk");
  const dataDir = path.join(dir, "data");
  const mountError = mountTmpfs(dataDir);
  if (mountError) {
    const file = lib.writeFigures(PART, { part: PART, mode: opts.mode, commit, skipped: `cannot mount a tmpfs: ${mountError}`, checks: [] });
    lib.log(PART, `SKIPPED: cannot mount a 16 MiB tmpfs at ${dataDir} (${mountError}); figures: ${file}`);
    return;
  }
  const dbFile = path.join(dataDir, "llama-dashboard.db");
  const config = await stubConfig(dir, { slots: 8, extra: { metrics: { intervalMs: 500 } } });
  const server = await lib.startDashboard({ dir, dataDir, config, env: { STUB_TOKENS: "4", STUB_TOKEN_MS: "5" } });
  const results = [];
  const gen = traffic({ url: server.url, model: "stub", clients: 4, maxTokens: 4, localAddress: CLIENT, onResult: (r) => results.push(r) });
  const holdMs = opts.full ? 30000 : 3000;
  const parts = [];
  let integrity = null;
  let totals = null;
  let accounted = null;
  try {
    await lib.waitFor(() => (rowsSince(dbFile, 0) ?? 0) > 0, { timeoutMs: 30000, intervalMs: 250 });
    await lib.sleep(holdMs);
    const filler = path.join(dataDir, "filler");
    parts.push(["full", await fault("full", {
      url: server.url, dbFile, results, holdMs,
      inject: () => ({ fillerBytes: fill(filler) }),
      clear: () => rmSync(filler, { force: true }),
    })]);
    let lock;
    parts.push(["locked", await fault("locked", {
      url: server.url, dbFile, results, holdMs,
      inject: async () => { lock = await holdWriteLock(dbFile); return { lockedBy: "python3 sqlite3 BEGIN IMMEDIATE" }; },
      clear: () => lock.release(),
    })]);
  } finally {
    totals = await gen.stop();
    // Every request sent is either stored or counted as dropped, once the queue has drained.
    await lib.waitFor(async () => {
      accounted = { rows: rowsSince(dbFile, 0), dropped: (await dropped(server.url)).counts.requests ?? 0 };
      return accounted.rows + accounted.dropped >= totals.sent;
    }, { timeoutMs: 30000, intervalMs: 250 });
    await lib.stopProcess(server.proc);
    integrity = lib.integrity(dbFile);
  }
  const checks = [
    ...parts.flatMap(([, p]) => p.checks),
    { name: "no /v1 request failed in the whole run", ok: totals.sent === totals.ok, detail: `${totals.sent - totals.ok} of ${totals.sent}: ${JSON.stringify(totals.failures)}` },
    { name: "every request stored or counted as dropped", ok: accounted?.rows + accounted?.dropped === totals.sent, detail: `${accounted?.rows} rows + ${accounted?.dropped} dropped for ${totals.sent} sent` },
    { name: "integrity_check ok after the run", ok: integrity === "ok", detail: integrity },
  ];
  const figures = {
    part: PART, mode: opts.mode, commit, at: new Date().toISOString(), dataDir: "tmpfs, 16 MiB",
    requests: { sent: totals.sent, ok: totals.ok, failures: totals.failures, examples: totals.examples, ...accounted },
    ...Object.fromEntries(parts.map(([k, p]) => [k, p.figures])), integrity, checks,
  };
  const file = lib.writeFigures(PART, figures);
  for (const c of checks) lib.log(PART, `${c.ok ? "ok  " : "FAIL"} ${c.name}: ${c.detail}`);
  lib.log(PART, `figures: ${file}`);
  process.exitCode = checks.every((c) => c.ok) ? 0 : 1;
}

main().catch((err) => { console.error(err); process.exitCode = 1; });
