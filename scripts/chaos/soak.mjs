#!/usr/bin/env node
// Soak (issue 13, part 3): many streaming clients through /v1 for a long time, then the figures that show
// nothing leaks or drifts. Two runs:
//   stub: 200 clients on an own backend served by scripts/chaos/stub-upstream.mjs (full 30 min, short 75 s);
//   real: 4 clients on the real SmolLM2 behind the llama-server router, performance.parallelSlots 2
//         (full 5 min, short 30 s), skipped with the reason when LLAMA_SERVER_BIN or the model is missing.
// Checks: no request failed; a stored row for every request sent; p99 of the last window within 3x + 50 ms
// of the first (windows: 5 min of the stub's full run, 1 min of the real one's, 20 % of a short run); RSS
// and open files flat (median of the last fifth of the samples vs the first fifth); the WAL bounded
// (checkpoints happen: at most 64 MiB, and at the end no more than twice its size early on).
// Figures: target/chaos/soak.json.
//
// Also exports what disk.mjs and churn.mjs share with it: the stub's init file, the traffic generator,
// percentiles and a free port.
import http from "node:http";
import net from "node:net";
import { execFileSync } from "node:child_process";
import { existsSync, linkSync, mkdirSync, readdirSync, statSync, copyFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as lib from "./lib.mjs";

const PART = "soak";
export const stubBin = path.join(path.dirname(fileURLToPath(import.meta.url)), "stub-upstream.mjs");

/** A free loopback port (bound, then released). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
  });
}

/** The init file for own backends served by the stub (router off); `extra` sections are merged in. */
export async function stubConfig(dir, { names = ["stub"], slots = 8, extra = {} } = {}) {
  mkdirSync(path.join(dir, "models"), { recursive: true });
  return {
    router: { enabled: false },
    startup: { autoStart: false },
    models: { directory: path.join(dir, "models"), idleTimeoutSec: 0 },
    performance: { parallelSlots: slots },
    proxy: { queueSize: 1000 },
    ...extra,
    backends: {
      basePort: await freePort(),
      idleTimeoutSec: 0,
      defaultSpawn: { command: ["node", stubBin] },
      models: names.map((name) => ({ name, path: path.join(dir, `${name}.gguf`) })),
      ...extra.backends,
    },
  };
}

const failureOf = (res, body) => {
  if (res.statusCode !== 200) return `http-${res.statusCode}`;
  if (/^data: \{"error"/m.test(body)) return "error-event";
  if (!body.includes("data: [DONE]")) return "no-done";
  return null;
};

/**
 * `clients` loops, each sending streaming chat completions for `model` to `url` from `localAddress`
 * (so their rows can be told apart), `gapMs` at most between two, until stop(). A request fails when its
 * status is not 200, an error event arrives, or the stream ends without [DONE]. Each result goes to
 * `onResult({at, ms, ttfb, failure})`. Returns {totals, stop()}: `stop()` resolves once every loop's last
 * request ended, with the totals {sent, ok, failures by kind, examples (3 per kind)}.
 */
export function traffic({ url, model, clients, localAddress = "127.0.0.1", maxTokens = 8, gapMs = 0, onResult = () => {} }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients, localAddress });
  const body = JSON.stringify({ model, stream: true, max_tokens: maxTokens, messages: [{ role: "user", content: "Count to ten." }] });
  const target = new URL("/v1/chat/completions", url);
  const totals = { sent: 0, ok: 0, failures: {}, examples: [] };
  let running = true;
  const once = () => new Promise((resolve) => {
    const at = Date.now();
    let ttfb = null;
    const finish = (failure, detail) => {
      const ms = Date.now() - at;
      if (failure) {
        totals.failures[failure] = (totals.failures[failure] || 0) + 1;
        if (totals.examples.filter((e) => e.failure === failure).length < 3) totals.examples.push({ at: new Date(at).toISOString(), failure, detail: String(detail).slice(0, 300) });
      } else totals.ok += 1;
      onResult({ at, ms, ttfb, failure });
      resolve();
    };
    totals.sent += 1;
    const req = http.request(target, { method: "POST", agent, timeout: 120000, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c) => { if (ttfb === null) ttfb = Date.now() - at; text += c; });
      res.on("end", () => { const f = failureOf(res, text); finish(f, f ? text.slice(-300) : ""); });
      res.on("aborted", () => finish("aborted", text.slice(-300)));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (e) => finish(`connection-${e.code || e.message}`, e.message));
    req.end(body);
  });
  const loop = async () => {
    while (running) {
      await once();
      if (gapMs) await lib.sleep(Math.floor(Math.random() * gapMs));
    }
  };
  const loops = Array.from({ length: clients }, loop);
  return {
    totals,
    async stop() { running = false; await Promise.all(loops); agent.destroy(); return totals; },
  };
}

/** Request rows in the database from `client` (an address), by outcome, read through Python's sqlite3. */
export function requestRows(dbFile, client) {
  const script = "import sqlite3,sys,json\nc=sqlite3.connect('file:'+sys.argv[1]+'?mode=ro',uri=True,timeout=10)\n"
    + "print(json.dumps(dict(c.execute('SELECT outcome,count(*) FROM requests WHERE client=? GROUP BY outcome',(sys.argv[2],)).fetchall())))";
  const byOutcome = JSON.parse(execFileSync("python3", ["-c", script, dbFile, client], { encoding: "utf8", timeout: 30000 }));
  return { total: Object.values(byOutcome).reduce((a, b) => a + b, 0), byOutcome };
}

/** Waits (bounded) until `client` has `expected` rows (the telemetry flushed); the last count. */
export async function settledRows(dbFile, client, expected, timeoutMs = 30000) {
  let last = requestRows(dbFile, client);
  await lib.waitFor(() => {
    last = requestRows(dbFile, client);
    return last.total >= expected;
  }, { timeoutMs, intervalMs: 250 });
  return last;
}

const fileSize = (file) => { try { return statSync(file).size; } catch { return 0; } };
const openFiles = (pid) => { try { return readdirSync(`/proc/${pid}/fd`).length; } catch { return null; } };

/** {p50, p99, max, count} of `values` (ms). */
export function percentiles(values) {
  const s = Float64Array.from(values).sort();
  const at = (q) => (s.length ? Math.round(s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]) : null);
  return { count: s.length, p50: at(0.5), p99: at(0.99), max: s.length ? Math.round(s[s.length - 1]) : null };
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.floor(s.length / 2)] : null; };
const mib = (b) => Math.round((b / 1048576) * 10) / 10;

/** p99 of the last window within 3x + 50 ms of the first; fewer than 20 requests in a window compare nothing. */
function stable(name, { first, last }) {
  const detail = `first ${first.p99} ms (${first.count}), last ${last.p99} ms (${last.count})`;
  if (first.count < 20 || last.count < 20) return { name: `${name}: p99 stable`, ok: true, detail: `too few requests to compare: ${detail}` };
  return { name: `${name}: p99 stable`, ok: last.p99 <= 3 * first.p99 + 50, detail };
}

/** One soak: traffic for `durationMs`, samples of the server every `sampleMs`, then the figures and checks. */
async function soak({ name, server, dataDir, model, clients, durationMs, windowMs, sampleMs, maxTokens, address }) {
  const dbFile = path.join(dataDir, "llama-dashboard.db");
  const samples = [];
  const sample = (start, gen) => samples.push({
    tSec: Math.round((Date.now() - start) / 1000), rssMiB: mib(lib.rssBytes(server.pid) ?? 0), fds: openFiles(server.pid),
    walMiB: mib(fileSize(`${dbFile}-wal`)), dbMiB: mib(fileSize(dbFile)), sent: gen?.totals.sent ?? 0,
  });
  const first = [];
  const last = [];
  const start = Date.now();
  const end = start + durationMs;
  sample(start, null);
  const gen = traffic({ url: server.url, model, clients, maxTokens, localAddress: address, onResult: ({ at, ms }) => {
    if (at < start + windowMs) first.push(ms);
    else if (at >= end - windowMs) last.push(ms);
  } });
  const timer = setInterval(() => sample(start, gen), sampleMs);
  let next = start + 10000;
  while (Date.now() < end) {
    await lib.sleep(Math.min(1000, end - Date.now()));
    if (Date.now() >= next) { next += 10000; lib.log(PART, `${name}: ${gen.totals.sent} sent, ${gen.totals.ok} ok, failures ${JSON.stringify(gen.totals.failures)}`); }
  }
  const totals = await gen.stop();
  clearInterval(timer);
  sample(start, gen);
  const rows = await settledRows(dbFile, address, totals.sent);
  const fifth = Math.max(1, Math.floor(samples.length / 5));
  const early = samples.slice(1, 1 + fifth);
  const late = samples.slice(-fifth);
  const flat = (key) => ({ first: median(early.map((s) => s[key])), last: median(late.map((s) => s[key])), max: Math.max(...samples.map((s) => s[key])) });
  const latency = { first: percentiles(first), last: percentiles(last) };
  const errors = totals.sent - totals.ok;
  const figures = {
    clients, durationSec: Math.round(durationMs / 1000), windowSec: Math.round(windowMs / 1000),
    sent: totals.sent, ok: totals.ok, errors, failures: totals.failures, examples: totals.examples,
    perSecond: Math.round(totals.sent / (durationMs / 1000)), rows, latencyMs: latency,
    rssMiB: flat("rssMiB"), fds: flat("fds"), walMiB: flat("walMiB"), dbMiB: { first: samples[0].dbMiB, last: samples.at(-1).dbMiB },
    samples,
  };
  const checks = [
    { name: `${name}: no request failed`, ok: errors === 0, detail: `${errors} of ${totals.sent}: ${JSON.stringify(totals.failures)}` },
    { name: `${name}: a row for every request`, ok: rows.total === totals.sent, detail: `${rows.total} rows for ${totals.sent} sent (${JSON.stringify(rows.byOutcome)})` },
    stable(name, latency),
    { name: `${name}: RSS flat`, ok: figures.rssMiB.last <= figures.rssMiB.first * 1.25 + 8, detail: `first ${figures.rssMiB.first} MiB, last ${figures.rssMiB.last} MiB, max ${figures.rssMiB.max} MiB` },
    { name: `${name}: open files flat`, ok: figures.fds.last <= figures.fds.first * 1.1 + 16, detail: `first ${figures.fds.first}, last ${figures.fds.last}, max ${figures.fds.max}` },
    { name: `${name}: WAL bounded`, ok: figures.walMiB.max <= 64 && figures.walMiB.last <= Math.max(8, 2 * figures.walMiB.first), detail: `first ${figures.walMiB.first} MiB, last ${figures.walMiB.last} MiB, max ${figures.walMiB.max} MiB; db ${figures.dbMiB.first} -> ${figures.dbMiB.last} MiB` },
  ];
  return { figures, checks };
}

async function stubSoak(opts) {
  const dir = lib.workDir("soak-stub");
  const dataDir = path.join(dir, "data");
  const clients = 200;
  const config = await stubConfig(dir, { slots: clients, extra: { metrics: { intervalMs: 2000 } } });
  const server = await lib.startDashboard({ dir, dataDir, config, env: { STUB_TOKENS: "8", STUB_TOKEN_MS: "20" } });
  try {
    const warm = await lib.httpRequest(`${server.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "stub", messages: [{ role: "user", content: "hi" }] }) });
    if (warm.status !== 200) throw new Error(`the stub backend did not answer: ${warm.status} ${warm.error ?? warm.body}`);
    const durationMs = opts.full ? 30 * 60000 : 90000;
    return await soak({ name: "stub", server, dataDir, model: "stub", clients, durationMs, windowMs: opts.full ? 5 * 60000 : durationMs / 5, sampleMs: opts.full ? 10000 : 1000, maxTokens: 8, address: "127.13.0.1" });
  } finally {
    await lib.stopProcess(server.proc);
  }
}

async function realSoak(opts) {
  const missing = [!lib.llamaServer || !existsSync(lib.llamaServer) ? "LLAMA_SERVER_BIN" : null, !lib.realModel || !existsSync(lib.realModel) ? "LLAMA_DASHBOARD_TEST_GGUF" : null].filter(Boolean);
  if (missing.length) return { skipped: `${missing.join(" and ")} not set` };
  const dir = lib.workDir("soak-real");
  const dataDir = path.join(dir, "data");
  const models = path.join(dir, "models");
  mkdirSync(models, { recursive: true });
  const file = path.join(models, "smol-soak.gguf");
  try { linkSync(lib.realModel, file); } catch { copyFileSync(lib.realModel, file); }
  const config = {
    router: { port: await freePort() },
    models: { directory: models, idleTimeoutSec: 0 },
    performance: { parallelSlots: 2, contextSize: 2048 },
    startup: { autoStart: true, timeout: 60000 },
  };
  const server = await lib.startDashboard({ dir, dataDir, config, env: { LLAMA_SERVER_BIN: lib.llamaServer } });
  try {
    const body = JSON.stringify({ model: "smol-soak", max_tokens: 4, messages: [{ role: "user", content: "hi" }] });
    const warm = await lib.waitFor(async () => {
      const r = await lib.httpRequest(`${server.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body, timeoutMs: 60000 });
      return r.status === 200 && r;
    }, { timeoutMs: 90000, intervalMs: 500 });
    if (!warm) throw new Error("the real model never answered");
    const durationMs = opts.full ? 5 * 60000 : 30000;
    return await soak({ name: "real", server, dataDir, model: "smol-soak", clients: 4, durationMs, windowMs: opts.full ? 60000 : durationMs / 5, sampleMs: opts.full ? 5000 : 1000, maxTokens: 16, address: "127.13.0.2" });
  } finally {
    await lib.stopProcess(server.proc);
  }
}

async function main() {
  const opts = lib.options();
  // The commit when the run began: a long run must not take the name of one committed meanwhile.
  const commit = lib.commit();
  lib.log(PART, `mode ${opts.mode}, commit ${commit}`);
  // `--phase stub|real` runs one of the two (by hand; chaos.sh runs both).
  const at = process.argv.indexOf("--phase");
  const phase = at >= 0 ? process.argv[at + 1] : "both";
  const stub = phase === "real" ? { checks: [], figures: { skipped: "--phase real" } } : await stubSoak(opts);
  const real = phase === "stub" ? { checks: [], skipped: "--phase stub" } : await realSoak(opts);
  const checks = [...stub.checks, ...(real.checks || [])];
  const figures = { part: PART, mode: opts.mode, commit, at: new Date().toISOString(), stub: stub.figures, real: real.figures ?? { skipped: real.skipped }, checks };
  const file = lib.writeFigures(PART, figures);
  for (const c of checks) lib.log(PART, `${c.ok ? "ok  " : "FAIL"} ${c.name}: ${c.detail}`);
  if (real.skipped) lib.log(PART, `real-model soak skipped: ${real.skipped}`);
  lib.log(PART, `figures: ${file}`);
  process.exitCode = checks.every((c) => c.ok) ? 0 : 1;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => { console.error(err); process.exitCode = 1; });
}
