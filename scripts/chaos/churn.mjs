#!/usr/bin/env node
// Config churn (issue 13, part 5): router:init:save, models:update and presets:save calls (100 short,
// 1000 full) racing with each other and with /v1 streams to a router model (the fake llama-server as
// the router, so a restart takes milliseconds). Who writes what:
//   saves (35 %, one at a time): load the file, set models.idleTimeoutSec to a fresh marker, and every
//     fourth flip performance.contextSize (the router's argv: a restart after the requests in flight);
//     each save sends the revision it loaded, and one refused with CONFLICT (the file changed since:
//     a backend update landed) loads again and reapplies its change, as an editor would;
//   presets (15 %, one at a time): a new INI (a router restart each);
//   backend updates (40 %, 3 at once, never two on one model): a fresh ttl for one of 8 own backends
//     (written into the init file's backends.models);
//   router updates (10 %, one at a time): a fresh ttl for fake-a or fake-b (stored in SQLite).
// A worker thread reads the init file and the presets file in a tight loop: each must always parse.
// Checks: every call succeeded; the last save's keys, the last presets and each model's last ttl are what
// the files, router:init:load and models:list show (no backend ttl reverted by a save that loaded the
// file before the update landed: such a save gets CONFLICT); no torn read; after
// each save that changed the argv and each presets save, the router runs with them; no /v1 request
// failed. Figures: target/chaos/churn.json.
import { Worker } from "node:worker_threads";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import * as lib from "./lib.mjs";
import { freePort, percentiles, stubConfig, traffic } from "./soak.mjs";

const PART = "churn";
const TOKEN = "churn-admin-token-0123";
const BACKENDS = Array.from({ length: 8 }, (_, i) => `b${i}`);
const presetsText = (n) => `; churn ${n}\n[p${n}]\nn-predict = ${n}\n`;

const READER = `
const { workerData, parentPort } = require("node:worker_threads");
const fs = require("node:fs");
const stop = new Int32Array(workerData.stop);
const out = { reads: 0, initFailures: 0, presetFailures: 0, examples: [] };
const fail = (what, text) => { if (out.examples.length < 5) out.examples.push({ what, text: String(text).slice(0, 200) }); };
while (Atomics.load(stop, 0) === 0) {
  out.reads += 1;
  try {
    const c = JSON.parse(fs.readFileSync(workerData.init, "utf8"));
    if (c.backends.models.length !== ${BACKENDS.length}) throw new Error("backends.models has " + c.backends.models.length);
  } catch (e) { out.initFailures += 1; fail("init", e.message); }
  let p = "";
  try { p = fs.readFileSync(workerData.presets, "utf8"); } catch (e) { p = e.message; }
  if (!/^; churn (\\d+)\\n\\[p\\1\\]\\nn-predict = \\1\\n$/.test(p)) { out.presetFailures += 1; fail("presets", p); }
  Atomics.wait(stop, 0, 0, 1);
}
parentPort.postMessage(out);`;

function connectAdmin(url) {
  const socket = lib.io(url, { path: "/llamaproxws", transports: ["websocket"], forceNew: true, reconnection: false, auth: { token: TOKEN } });
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", (err) => { socket.close(); reject(err); });
  });
}

async function call(socket, ops, kind, event, payload) {
  const op = { kind, sentAt: Date.now() };
  const reply = await lib.ask(socket, event, payload, 150000);
  Object.assign(op, { ackAt: Date.now(), ok: reply?.success === true, error: reply?.timeout ? "TIMEOUT" : reply?.error?.code, message: reply?.error?.message, restarted: reply?.data?.routerRestarted === true });
  ops.push(op);
  return { op, data: reply?.data };
}

/** The running router's argv and when its process started (ms since the epoch, to 10 ms), once it runs. */
async function routerProcess(socket) {
  const status = await lib.waitFor(async () => { const s = (await lib.ask(socket, "router:status", {}))?.data; return s?.running && s; }, { timeoutMs: 15000, intervalMs: 20 });
  if (!status) return null;
  try {
    const stat = readFileSync(`/proc/${status.pid}/stat`, "utf8");
    const ticks = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
    const uptime = Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]);
    const startedAt = Date.now() - (uptime - ticks / 100) * 1000;
    return { pid: status.pid, argv: readFileSync(`/proc/${status.pid}/cmdline`, "utf8").split("\0"), startedAt };
  } catch {
    return null;
  }
}

/**
 * The four writers; resolves once each has made its share of `total` calls. After each save that changed
 * the argv and each presets save, the router (once running again) must run with them: `stale` collects
 * the ones it does not (a save that lands while the router is starting must not be skipped).
 */
async function churn(socket, total, rand, ops, log, { gapMs, presetsFile, stale }) {
  const share = (f) => Math.round(total * f);
  const pause = () => lib.sleep(rand.int(0, gapMs));
  let marker = 0;
  /** One save as an editor makes it: load, change, save with the revision loaded; on CONFLICT, again. */
  const save = async (change) => {
    for (let attempt = 1; ; attempt++) {
      const loadSentAt = Date.now();
      const loaded = await lib.ask(socket, "router:init:load", {}, 30000);
      const config = loaded?.data?.fileConfig;
      if (!config) { const op = { kind: "save", ok: false, error: "LOAD_FAILED", sentAt: loadSentAt, ackAt: Date.now() }; ops.push(op); return op; }
      change(config);
      const snapshot = Object.fromEntries(config.backends.models.map((m) => [m.name, m.ttl]));
      const { op } = await call(socket, ops, "save", "router:init:save", { config, revision: loaded.data.revision });
      Object.assign(op, { loadSentAt, snapshot, idle: config.models.idleTimeoutSec, ctx: config.performance.contextSize });
      if (op.error !== "CONFLICT" || attempt >= 50) return op;
      op.kind = "save-conflict";
    }
  };
  const saver = async () => {
    for (let i = 0; i < share(0.35); i++) {
      marker += 1;
      const idle = 10000 + marker;
      const op = await save((config) => {
        config.models.idleTimeoutSec = idle;
        if (i % 4 === 3) config.performance.contextSize = config.performance.contextSize === 4096 ? 2048 : 4096;
      });
      if (op.ok && i % 4 === 3) {
        const proc = await routerProcess(socket);
        const ctx = proc && Number(proc.argv[proc.argv.indexOf("-c") + 1]);
        if (ctx !== op.ctx) stale.push({ kind: "argv", saved: op.ctx, running: ctx, routerRestarted: op.restarted });
      }
      await pause();
    }
  };
  const presets = async () => {
    for (let i = 0; i < share(0.15); i++) {
      const { op } = await call(socket, ops, "presets", "presets:save", { content: presetsText(i + 1) });
      op.content = presetsText(i + 1);
      if (op.ok) {
        const written = statSync(presetsFile).mtimeMs;
        const proc = await routerProcess(socket);
        // /proc's start time has 10 ms ticks: only a start clearly before the write counts as stale.
        if (!proc || proc.startedAt < written - 20) stale.push({ kind: "presets", writtenAt: Math.round(written), routerStartedAt: proc && Math.round(proc.startedAt), routerRestarted: op.restarted });
      }
      await pause();
    }
  };
  const busy = new Set();
  let backendLeft = share(0.4);
  let ttl = 100000;
  const updater = async () => {
    while (backendLeft > 0) {
      backendLeft -= 1;
      const free = BACKENDS.filter((b) => !busy.has(b));
      const id = rand.pick(free);
      busy.add(id);
      ttl += 1;
      const value = ttl;
      const { op } = await call(socket, ops, "backend", "models:update", { id, changes: { ttl: value } });
      Object.assign(op, { id, value });
      busy.delete(id);
      await pause();
    }
  };
  const router = async () => {
    for (let i = 0; i < share(0.1); i++) {
      const id = i % 2 ? "fake-b" : "fake-a";
      const { op } = await call(socket, ops, "router-model", "models:update", { id, changes: { ttl: 200000 + i } });
      Object.assign(op, { id, value: 200000 + i });
      await pause();
    }
  };
  const progress = setInterval(() => log(`${ops.length} calls done`), 10000);
  await Promise.all([saver(), presets(), updater(), updater(), updater(), router()]);
  clearInterval(progress);
}

/** Per backend model: is its final ttl its last update's, or one a save that overlapped that update wrote back? */
function backendVerdicts(ops, fileModels) {
  const saves = ops.filter((o) => o.kind === "save" && o.ok);
  return BACKENDS.map((id) => {
    const last = ops.filter((o) => o.kind === "backend" && o.ok && o.id === id).sort((a, b) => a.ackAt - b.ackAt).at(-1);
    const final = fileModels.find((m) => m.name === id)?.ttl;
    if (!last) return { id, verdict: "not updated", final };
    if (final === last.value) return { id, verdict: "last update", final };
    const overlapping = saves.filter((s) => s.ackAt > last.sentAt && s.loadSentAt < last.ackAt);
    const stale = overlapping.some((s) => s.snapshot[id] === final);
    return { id, verdict: stale ? "reverted by a save loaded before the update landed" : "LOST", final, expected: last.value };
  });
}

async function main() {
  const opts = lib.options();
  const rand = lib.prng(opts.seed);
  const total = opts.full ? 1000 : 100;
  // The commit when the run began: a long run must not take the name of one committed meanwhile.
  const commit = lib.commit();
  lib.log(PART, `mode ${opts.mode}, seed ${opts.seed}, ${total} calls, commit ${commit}`);
  const dir = lib.workDir("churn");
  const presetsFile = path.join(dir, "presets.ini");
  writeFileSync(presetsFile, presetsText(0));
  const base = await stubConfig(dir, { names: BACKENDS });
  base.backends.models.forEach((m, i) => { m.ttl = 1000 + i; });
  const config = {
    ...base,
    router: { port: await freePort() },
    startup: { autoStart: true, timeout: 10000, retryAttempts: 3, retryDelay: 200 },
    models: { ...base.models, presetsFile },
    performance: { ...base.performance, contextSize: 4096 },
    security: { adminToken: TOKEN },
  };
  const server = await lib.startDashboard({ dir, dataDir: path.join(dir, "data"), config, env: { LLAMA_SERVER_BIN: lib.fakeBin, FAKE_LOAD_MS: "50", FAKE_TOKEN_MS: "5", FAKE_TOKENS: "5" } });
  const initFile = path.join(dir, "llama-router.init.json");
  const stop = new SharedArrayBuffer(4);
  const reader = new Worker(READER, { eval: true, workerData: { init: initFile, presets: presetsFile, stop } });
  const readerDone = new Promise((resolve, reject) => { reader.once("message", resolve); reader.once("error", reject); });
  const ops = [];
  const stale = [];
  const results = [];
  let gen = null;
  let final = null;
  try {
    const socket = await connectAdmin(server.url);
    const up = await lib.waitFor(async () => (await lib.ask(socket, "models:list", {}))?.data?.models?.some((m) => m.id === "fake-a"), { timeoutMs: 20000, intervalMs: 100 });
    if (!up) throw new Error("the fake router's models never appeared");
    gen = traffic({ url: server.url, model: "fake-a", clients: 3, maxTokens: 5, gapMs: 100, localAddress: "127.13.2.1", onResult: (r) => results.push(r) });
    const started = Date.now();
    await churn(socket, total, rand, ops, (t) => lib.log(PART, t), { gapMs: opts.full ? 200 : 100, presetsFile, stale });
    const churnMs = Date.now() - started;
    await gen.stop();
    Atomics.store(new Int32Array(stop), 0, 1);
    const reads = await readerDone;
    const loaded = (await lib.ask(socket, "router:init:load", {}))?.data;
    const listed = (await lib.ask(socket, "models:list", {}))?.data?.models ?? [];
    const presetsNow = (await lib.ask(socket, "presets:get", {}))?.data?.content;
    const routerNow = (await lib.ask(socket, "router:status", {}))?.data;
    socket.close();
    const routerArgv = routerNow?.pid ? readFileSync(`/proc/${routerNow.pid}/cmdline`, "utf8").split("\0") : [];
    final = {
      churnMs, reads, stale, loaded, listed, presetsNow, routerNow, routerArgv, examples: gen.totals.examples,
      file: JSON.parse(readFileSync(initFile, "utf8")), presetsFile: readFileSync(presetsFile, "utf8"),
    };
  } finally {
    Atomics.store(new Int32Array(stop), 0, 1);
    if (gen) await gen.stop();
    await lib.stopProcess(server.proc);
  }
  report({ ...opts, commit }, ops, results, final);
}

function report(opts, ops, results, final) {
  const byKind = {};
  for (const o of ops) {
    const k = (byKind[o.kind] ||= { calls: 0, failures: {}, restarts: 0, ms: [] });
    k.calls += 1;
    k.ms.push(o.ackAt - o.sentAt);
    if (o.restarted) k.restarts += 1;
    if (!o.ok) k.failures[o.error] = (k.failures[o.error] || 0) + 1;
  }
  for (const k of Object.values(byKind)) {
    k.ackMs = percentiles(k.ms);
    delete k.ms;
  }
  // A save refused with CONFLICT was loaded again and retried: the refusal is the check working.
  const failedCalls = ops.filter((o) => !o.ok && o.kind !== "save-conflict");
  const lastSave = ops.filter((o) => o.kind === "save" && o.ok).at(-1);
  const lastPresets = ops.filter((o) => o.kind === "presets" && o.ok).at(-1);
  const verdicts = backendVerdicts(ops, final.file.backends.models);
  const routerModels = ["fake-a", "fake-b"].map((id) => {
    const last = ops.filter((o) => o.kind === "router-model" && o.ok && o.id === id).at(-1);
    return { id, expected: last?.value, listed: final.listed.find((m) => m.id === id)?.ttlSec };
  });
  const restarts = ops.filter((o) => o.restarted).map((o) => [o.sentAt, o.ackAt]);
  const failed = results.filter((r) => r.failure);
  const duringRestart = failed.filter((r) => restarts.some(([a, b]) => r.at + r.ms >= a && r.at <= b));
  const fileCfg = final.file;
  const routerCtx = Number(final.routerArgv[final.routerArgv.indexOf("-c") + 1]);
  const loadedCfg = final.loaded?.fileConfig;
  const checks = [
    { name: "every call succeeded", ok: failedCalls.length === 0, detail: `${failedCalls.length} of ${ops.length} failed: ${JSON.stringify(failedCalls.slice(0, 3).map((o) => [o.kind, o.error, o.message]))}` },
    { name: "the last save is in the file and in router:init:load", ok: fileCfg.models.idleTimeoutSec === lastSave?.idle && fileCfg.performance.contextSize === lastSave?.ctx && loadedCfg?.models?.idleTimeoutSec === lastSave?.idle && final.loaded?.config?.performance?.contextSize === lastSave?.ctx, detail: `last save ${lastSave?.idle}/${lastSave?.ctx}; file ${fileCfg.models.idleTimeoutSec}/${fileCfg.performance.contextSize}; load ${loadedCfg?.models?.idleTimeoutSec}/${final.loaded?.config?.performance?.contextSize}` },
    { name: "the last presets are in the file and in presets:get", ok: final.presetsFile === lastPresets?.content && final.presetsNow === lastPresets?.content, detail: JSON.stringify({ expected: lastPresets?.content, file: final.presetsFile, get: final.presetsNow }) },
    { name: "no backend models:update lost or reverted", ok: verdicts.every((v) => v.verdict === "last update" || v.verdict === "not updated"), detail: JSON.stringify(verdicts.filter((v) => v.verdict !== "last update")) },
    { name: "each router model's last ttl in models:list", ok: routerModels.every((m) => m.expected === m.listed), detail: JSON.stringify(routerModels) },
    { name: "no torn file read", ok: final.reads.initFailures === 0 && final.reads.presetFailures === 0 && final.reads.reads > 0, detail: `${final.reads.reads} reads of each file, ${final.reads.initFailures} init and ${final.reads.presetFailures} presets failures ${JSON.stringify(final.reads.examples)}` },
    { name: "no /v1 request failed", ok: failed.length === 0 && results.length > 0, detail: `${failed.length} of ${results.length} failed, ${duringRestart.length} of them during a router restart` },
    { name: "after each argv or presets save the router runs with it", ok: final.stale.length === 0, detail: `${final.stale.length} stale: ${JSON.stringify(final.stale.slice(0, 5))}` },
    { name: "the router runs at the end with the saved argv", ok: final.routerNow?.running === true && routerCtx === final.loaded?.config?.performance?.contextSize, detail: `${final.routerNow?.state}, -c ${routerCtx} (saved: ${final.loaded?.config?.performance?.contextSize})` },
  ];
  const failures = {};
  for (const r of failed) failures[r.failure] = (failures[r.failure] || 0) + 1;
  const figures = {
    part: PART, mode: opts.mode, seed: opts.seed, commit: opts.commit, at: new Date().toISOString(), churnSec: Math.round(final.churnMs / 1000),
    calls: ops.length, byKind, routerRestarts: restarts.length, staleRouter: final.stale, fileReads: final.reads.reads, parseFailures: final.reads.initFailures + final.reads.presetFailures,
    backendVerdicts: verdicts, requests: { sent: results.length, failed: failed.length, duringRestart: duringRestart.length, failures, examples: final.examples, latencyMs: percentiles(results.map((r) => r.ms)) },
    checks,
  };
  const file = lib.writeFigures(PART, figures);
  for (const c of checks) lib.log(PART, `${c.ok ? "ok  " : "FAIL"} ${c.name}: ${c.detail}`);
  lib.log(PART, `figures: ${file}`);
  process.exitCode = checks.every((c) => c.ok) ? 0 : 1;
}

main().catch((err) => { console.error(err); process.exitCode = 1; });
