// kill -9, N times each (short 3, full 50): the llama-server router under traffic, the router's model child
// (real SmolLM2), an own backend mid-stream (the fake llama-server) and llama-dashboard itself (restarted
// on the same data dir). After each kill: no orphaned llama-server, PRAGMA integrity_check ok, every
// request that got a complete answer before the kill has its row, and the next request is served.
// Figures: kill -> serving again (p50, max) per target, rows lost, orphans, integrity.
import { linkSync, mkdirSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import * as L from "./lib.mjs";
import { freePort } from "../../tests/js/lib/socket.mjs";

const PART = "kills";
const opts = L.options();
const rnd = L.prng(opts.seed);
const KILLS = opts.full ? 50 : 3;
/** A kill not followed by a served request within this long fails "the next request is served". */
const RECOVERY_MS = 90000;
/** How long a row may take to appear once its answer ended (the recorder's 20 ms batch, then SQLite). */
const ROW_WAIT_MS = 5000;
/**
 * A kill -9 of llama-dashboard may lose the rows still in the recorder's batch (20 ms) or being written:
 * a lost row whose answer ended earlier than this before the kill fails the check.
 */
const DURABLE_AFTER_MS = 120;
/**
 * In --full, router kills are this far apart: a run this long is stable (STABLE_RUN, 60 s, in
 * src/process/restart.rs), so each kill is a first crash again rather than one more of a crash loop.
 * --short kills it 3 times in a row, within startup.retryAttempts (3).
 */
const ROUTER_HEALTHY_MS = 65000;
const MODEL = "smol";
const FAKE = "fake-a";

/** Requests sent in a loop by `workers` clients until stopped; every result is kept. */
function traffic(target, { workers, body, gapMs = 10 }) {
  const results = [];
  let running = true;
  const loop = async () => {
    while (running) {
      const client = L.nextClientAddress();
      const sentAt = Date.now();
      const payload = body();
      const r = await L.httpRequest(`${target.url}/v1/chat/completions`, {
        method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(payload), localAddress: client, timeoutMs: 60000,
      });
      const result = { client, sentAt, doneAt: Date.now(), status: r.status ?? null, complete: complete(r, payload.stream), error: r.error };
      if (!result.complete) result.body = (r.body || "").slice(0, 300);
      results.push(result);
      await L.sleep(result.complete ? gapMs : 100);
    }
  };
  const loops = Array.from({ length: workers }, loop);
  return { results, stop: async () => { running = false; await Promise.all(loops); } };
}

/** A whole answer: 200 and every choice, or a stream that reached [DONE] without an error event. */
function complete(r, stream) {
  if (r.status !== 200 || r.error) return false;
  if (stream) return r.body.includes("data: [DONE]") && !r.body.includes('"error"');
  try { return Array.isArray(JSON.parse(r.body).choices); } catch { return false; }
}

/** Resolves the first complete answer to a request sent after `since`, or null by the deadline. */
function servedAfter(load, since, timeoutMs = RECOVERY_MS) {
  return L.waitFor(() => load.results.find((r) => r.sentAt > since && r.complete), { timeoutMs, intervalMs: 20 });
}

/** Complete answers not yet matched with their row: client address -> result. */
function ledger() {
  const pending = new Map();
  let lost = [];
  let checked = 0;
  return {
    add(results, until) { for (const r of results) if (r.complete && r.doneAt <= until && !r.seen) { r.seen = true; pending.set(r.client, r); } },
    /** Matches pending answers with stored rows (requests:list); the ones still missing after ROW_WAIT_MS are lost. */
    async settle(socket, killAt) {
      if (!pending.size) return [];
      const since = Math.min(...[...pending.values()].map((r) => r.sentAt)) - 2000;
      await L.waitFor(async () => {
        for (let offset = 0; offset < 100000; offset += 1000) {
          const reply = await L.ask(socket, "requests:list", { since, limit: 1000, offset, order: "asc" });
          const rows = reply?.data?.requests || [];
          for (const row of rows) if (pending.delete(row.client)) checked += 1;
          if (rows.length < 1000) break;
        }
        return pending.size === 0;
      }, { timeoutMs: ROW_WAIT_MS, intervalMs: 200 });
      const missing = [...pending.values()].map((r) => ({ client: r.client, endedMsBeforeKill: killAt - r.doneAt }));
      checked += missing.length;
      pending.clear();
      lost = lost.concat(missing);
      return missing;
    },
    totals: () => ({ checked, lost }),
  };
}

/** The figures one target collects over its kills. */
function tally(name) {
  return {
    target: name, kills: 0, recoveryMs: [], notServed: 0, manualRecoveries: 0, orphans: [], integrityBad: [],
    completeAnswers: 0, rowsChecked: 0, rowsLost: 0, lostRows: [], failedDuringRecovery: 0, failedBy: {}, failedExamples: {}, cutByKill: 0, notes: [],
  };
}

/** Counts the requests the kill cut and the ones refused before serving resumed. */
function countFailures(t, load, killAt, servedAt) {
  for (const r of load.results) {
    if (r.complete || r.counted) continue;
    if (r.sentAt < killAt && r.doneAt >= killAt) { t.cutByKill += 1; r.counted = true; }
    else if (r.sentAt >= killAt && r.sentAt <= servedAt) {
      t.failedDuringRecovery += 1;
      r.counted = true;
      const why = r.status ?? r.error?.split(" ")[0] ?? "incomplete";
      t.failedBy[why] = (t.failedBy[why] || 0) + 1;
      if (!t.failedExamples[why]) t.failedExamples[why] = r.body || r.error;
    }
  }
}

/** The checks after one kill: orphans, integrity, rows, the next request served. */
async function afterKill(t, { load, book, killAt, socket, dbFile, recover }) {
  t.kills += 1;
  t.orphans.push(...(await L.reapOrphans()).map((o) => ({ kill: t.kills, ...o })));
  let served = await servedAfter(load, killAt);
  if (!served) {
    t.notServed += 1;
    t.notes.push(`kill ${t.kills}: nothing served within ${RECOVERY_MS} ms; recovering by hand`);
    if (recover) { t.manualRecoveries += 1; await recover(); served = await servedAfter(load, Date.now(), 60000); }
    if (!served) throw new Error(`${t.target}: not serving after kill ${t.kills}, even after recovery by hand`);
  } else {
    t.recoveryMs.push(served.doneAt - killAt);
  }
  countFailures(t, load, killAt, served.doneAt);
  const lost = await book.settle(await socket(), killAt);
  t.lostRows.push(...lost.map((l) => ({ kill: t.kills, ...l })));
  const check = L.integrity(dbFile);
  if (check !== "ok") t.integrityBad.push({ kill: t.kills, check });
}

/** The answers since the last kill must have their rows too (no kill of llama-dashboard stands between). */
async function settleAll(t, load, book, io) {
  await load.stop();
  const now = Date.now();
  book.add(load.results, now);
  t.lostRows.push(...(await book.settle(await io.get(), now)).map((l) => ({ kill: "after the last", ...l })));
}

function finish(t, load, book) {
  t.completeAnswers = load.results.filter((r) => r.complete).length;
  const { checked, lost } = book.totals();
  t.rowsChecked = checked;
  t.rowsLost = lost.length;
  t.recoveryMs = L.summary(t.recoveryMs);
  return t;
}

/** A models dir holding the real model as smol.gguf. */
function realModels(dir) {
  const models = path.join(dir, "models");
  mkdirSync(models);
  linkSync(L.realModel, path.join(models, `${MODEL}.gguf`));
  return models;
}

const realConfig = async (models, routerPort) => ({
  router: { port: routerPort },
  models: { directory: models, maxLoaded: 1, idleTimeoutSec: 0 },
  performance: { contextSize: 2048, parallelSlots: 2 },
  startup: { autoStart: true },
});

const realBody = () => ({
  model: MODEL, messages: [{ role: "user", content: "Say hi" }], max_tokens: rnd.int(2, 8), stream: rnd.chance(0.5),
});

/** A socket to `url`, reconnected when the one held is gone. */
function sockets(getUrl) {
  let socket = null;
  let url = null;
  return {
    get: async () => {
      if (!socket?.connected || url !== getUrl()) {
        socket?.close();
        url = getUrl();
        socket = await L.connectSocket(url);
      }
      return socket;
    },
    close: () => socket?.close(),
  };
}

const pause = (minMs = 500) => L.sleep(minMs + rnd.int(0, opts.full ? 2500 : 1000));

/**
 * (a) and (b): llama-dashboard with the real router; `victim(socket)` picks the pid to kill, `recover`
 * is the user's action when it stays down, `between` runs after each kill (clearing a crash history).
 */
async function routerTarget(name, { victim, recover, between = async () => {}, gapMs = 500, trafficGapMs = 10 }) {
  const t = tally(name);
  const dir = L.workDir(name);
  const dataDir = path.join(dir, "data");
  const config = await realConfig(realModels(dir), await freePort());
  const server = await L.startDashboard({ dir, dataDir, config, env: { LLAMA_SERVER_BIN: L.llamaServer } });
  const io = sockets(() => server.url);
  const load = traffic(server, { workers: 2, body: realBody, gapMs: trafficGapMs });
  const book = ledger();
  try {
    if (!(await servedAfter(load, 0))) throw new Error(`${name}: the real model never answered`);
    for (let i = 0; i < KILLS; i++) {
      await pause(gapMs);
      const pid = await victim(await io.get());
      const killAt = Date.now();
      process.kill(pid, "SIGKILL");
      book.add(load.results, killAt);
      await afterKill(t, { load, book, killAt, socket: io.get, dbFile: path.join(dataDir, "llama-dashboard.db"), recover: () => recover(io) });
      await between(io);
      L.log(PART, `${name}: kill ${t.kills}/${KILLS}: serving again after ${t.recoveryMs.at(-1) ?? "-"} ms`);
    }
    await settleAll(t, load, book, io);
  } finally {
    await load.stop();
    io.close();
    await L.stopProcess(server.proc);
  }
  return finish(t, load, book);
}

async function routerPid(socket) {
  const status = await L.waitFor(async () => { const r = await L.ask(socket, "router:status", {}); return r?.data?.running && r.data; }, { timeoutMs: 60000 });
  if (!status?.pid) throw new Error("the router is not running before a kill");
  return status.pid;
}

/** The router's model instance (a llama-server child of the router serving --model). */
async function modelChildPid(socket) {
  const router = await routerPid(socket);
  const child = await L.waitFor(() => L.descendants(router).find((p) => p.argv.includes("--model")), { timeoutMs: 30000, intervalMs: 50 });
  if (!child) throw new Error("no model instance under the router before a kill");
  return child.pid;
}

/** (c): an own backend (the fake llama-server) killed while it streams to a client. */
async function backendTarget() {
  const t = tally("backend-mid-stream");
  t.streamsEndedWithError = 0;
  t.streamsNotEndedHonestly = [];
  const dir = L.workDir("backend");
  const dataDir = path.join(dir, "data");
  const modelPath = path.join(dir, `${FAKE}.gguf`);
  const config = {
    router: { enabled: false }, startup: { autoStart: false }, models: { directory: path.join(dir, "no-models") },
    backends: { basePort: await freePort(), idleTimeoutSec: 0, defaultSpawn: { command: ["node", L.fakeBin] }, models: [{ name: FAKE, path: modelPath }] },
  };
  const server = await L.startDashboard({ dir, dataDir, config });
  const io = sockets(() => server.url);
  const fastBody = () => ({ model: FAKE, messages: [{ role: "user", content: "hi" }], stream: rnd.chance(0.5), fake: { tokens: 3, tokenMs: 2 } });
  const load = traffic(server, { workers: 1, body: fastBody, gapMs: 50 });
  const book = ledger();
  try {
    if (!(await servedAfter(load, 0))) throw new Error("the fake backend never answered");
    for (let i = 0; i < KILLS; i++) {
      await pause();
      const { killAt, ending } = await killMidStream(server, modelPath);
      book.add(load.results, killAt);
      await afterKill(t, { load, book, killAt, socket: io.get, dbFile: path.join(dataDir, "llama-dashboard.db") });
      const end = await ending;
      if (end.honest) t.streamsEndedWithError += 1;
      else t.streamsNotEndedHonestly.push({ kill: t.kills, ...end });
      // Each kill is measured as a first crash: the crash backoff (and any crash-loop guard) is cleared.
      await L.ask(await io.get(), "models:reset", { id: FAKE });
      L.log(PART, `backend: kill ${t.kills}/${KILLS}: serving again after ${t.recoveryMs.at(-1) ?? "-"} ms`);
    }
    await settleAll(t, load, book, io);
  } finally {
    await load.stop();
    io.close();
    await L.stopProcess(server.proc);
  }
  return finish(t, load, book);
}

/**
 * Starts a slow stream from the backend serving `modelPath`, kills that backend after 3 tokens, and
 * resolves {killAt, ending}: `ending` resolves once the client's stream ended, `honest` when its last
 * event was an error (not a silent end, not a hang).
 */
function killMidStream(server, modelPath) {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ model: FAKE, messages: [{ role: "user", content: "long" }], stream: true, fake: { tokens: 200, tokenMs: 20 } });
    let text = "";
    let killed = false;
    let endResolve;
    const ending = new Promise((r) => { endResolve = r; });
    const timer = setTimeout(() => { req.destroy(); endResolve({ honest: false, why: "the stream did not end within 30 s" }); }, 30000);
    const end = (why) => {
      clearTimeout(timer);
      const events = text.split("\n\n").filter((b) => b.startsWith("data:"));
      const last = events.at(-1) || "";
      endResolve({ honest: killed && last.includes('"error"'), why, last: last.slice(0, 200) });
    };
    const req = http.request(`${server.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, agent: false }, (res) => {
      res.on("data", (chunk) => {
        text += chunk.toString();
        if (!killed && (text.match(/data: /g) || []).length >= 3) {
          const backend = L.ourLlamaServers().find((p) => p.argv.includes(modelPath));
          if (!backend) { reject(new Error("no backend process for the stream")); return; }
          killed = true;
          const killAt = Date.now();
          process.kill(backend.pid, "SIGKILL");
          resolve({ killAt, ending });
        }
      });
      res.on("end", () => end("ended"));
      res.on("error", (e) => end(e.message));
      res.on("aborted", () => end("aborted"));
    });
    req.on("error", (e) => { if (!killed) reject(e); else end(e.message); });
    req.end(body);
  });
}

/** (d): llama-dashboard itself, restarted on the same data dir and port after each kill. */
async function dashboardTarget() {
  const t = tally("llama-dashboard");
  const dir = L.workDir("dashboard");
  const dataDir = path.join(dir, "data");
  const config = await realConfig(realModels(dir), await freePort());
  const port = await freePort();
  const env = { LLAMA_SERVER_BIN: L.llamaServer };
  let server = await L.startDashboard({ dir, dataDir, port, config, env });
  const io = sockets(() => server.url);
  const load = traffic({ url: server.url }, { workers: 2, body: realBody });
  const book = ledger();
  try {
    if (!(await servedAfter(load, 0))) throw new Error("the real model never answered");
    for (let i = 0; i < KILLS; i++) {
      await pause();
      const killAt = Date.now();
      await L.killProcess(server.proc);
      book.add(load.results, killAt);
      // The dead server's files: orphans and integrity before anything opens them again.
      const orphans = await L.reapOrphans();
      const check = L.integrity(path.join(dataDir, "llama-dashboard.db"));
      server = await L.startDashboard({ dir, dataDir, port, config, env });
      await afterKill(t, { load, book, killAt, socket: io.get, dbFile: path.join(dataDir, "llama-dashboard.db") });
      t.orphans.push(...orphans.map((o) => ({ kill: t.kills, ...o })));
      if (check !== "ok") t.integrityBad.push({ kill: t.kills, check, when: "right after the kill" });
      L.log(PART, `llama-dashboard: kill ${t.kills}/${KILLS}: serving again after ${t.recoveryMs.at(-1) ?? "-"} ms`);
    }
    await settleAll(t, load, book, io);
  } finally {
    await load.stop();
    io.close();
    await L.stopProcess(server.proc);
  }
  const figures = finish(t, load, book);
  figures.rowsLostBeyondBatch = figures.lostRows.filter((l) => l.endedMsBeforeKill > DURABLE_AFTER_MS).length;
  figures.durableAfterMs = DURABLE_AFTER_MS;
  return figures;
}


/** What fails the part: a kill not followed by service, an orphan, a corrupt database, a lost row. */
function failures(t) {
  const out = [];
  if (t.notServed) out.push(`${t.notServed} kill(s) not followed by a served request within ${RECOVERY_MS} ms`);
  if (t.orphans.length) out.push(`${t.orphans.length} orphaned llama-server(s)`);
  if (t.integrityBad.length) out.push(`integrity_check failed ${t.integrityBad.length} time(s)`);
  const lostAllowed = t.target === "llama-dashboard" ? t.rowsLost - t.rowsLostBeyondBatch : 0;
  if (t.rowsLost > lostAllowed) out.push(`${t.rowsLost - lostAllowed} complete answer(s) without a row`);
  if (t.streamsNotEndedHonestly?.length) out.push(`${t.streamsNotEndedHonestly.length} cut stream(s) without a final error event`);
  return out;
}

async function main() {
  if (!L.llamaServer || !L.realModel) throw new Error("LLAMA_SERVER_BIN and LLAMA_DASHBOARD_TEST_GGUF must be set (scripts/chaos.sh sets them)");
  L.log(PART, `${opts.mode}: ${KILLS} kills per target, seed ${opts.seed}, binary ${L.releaseBin}`);
  const started = Date.now();
  const restartRouter = async (io) => { await L.ask(await io.get(), "router:start", {}, 60000); };
  const loadModel = async (io) => { await L.ask(await io.get(), "models:load", { id: MODEL }, 60000); };
  // Each kill of the model instance is measured as a first crash: its crash backoff is cleared.
  const resetModel = async (io) => { await L.ask(await io.get(), "models:reset", { id: MODEL }); };
  const all = {
    // Over the long healthy runs of --full, lighter traffic (the machine is shared).
    router: () => routerTarget("router", { victim: routerPid, recover: restartRouter, gapMs: opts.full ? ROUTER_HEALTHY_MS : 500, trafficGapMs: opts.full ? 250 : 10 }),
    "router-model-child": () => routerTarget("router-model-child", { victim: modelChildPid, recover: loadModel, between: resetModel }),
    "backend-mid-stream": backendTarget,
    "llama-dashboard": dashboardTarget,
  };
  // `--only a,b` runs some targets (by hand, while debugging one); the figures then hold only those.
  const at = process.argv.indexOf("--only");
  const names = at >= 0 ? process.argv[at + 1].split(",") : Object.keys(all);
  const targets = [];
  for (const name of names) {
    if (!all[name]) throw new Error(`no target '${name}' (targets: ${Object.keys(all).join(", ")})`);
    targets.push(await all[name]());
  }
  const failed = targets.flatMap((t) => failures(t).map((f) => `${t.target}: ${f}`));
  const figures = { part: PART, mode: opts.mode, seed: opts.seed, commit: L.commit(), date: new Date().toISOString(), durationSec: Math.round((Date.now() - started) / 1000), targets, failed };
  const file = L.writeFigures(PART, figures);
  console.log(`\n${PART} (${opts.mode}, seed ${opts.seed}, ${figures.durationSec} s) -> ${path.relative(L.repoRoot, file)}`);
  for (const t of targets) {
    const r = t.recoveryMs;
    console.log(`  ${t.target.padEnd(20)} kills ${t.kills}  serving again p50 ${r.p50} ms max ${r.max} ms  rows lost ${t.rowsLost}/${t.rowsChecked}`
      + `  orphans ${t.orphans.length}  integrity ${t.kills - t.integrityBad.length}/${t.kills} ok`);
    console.log(`  ${"".padEnd(20)} requests cut by the kill ${t.cutByKill}, refused before serving resumed ${t.failedDuringRecovery} ${JSON.stringify(t.failedBy)}`
      + (t.manualRecoveries ? `, recovered by hand ${t.manualRecoveries}` : ""));
    for (const [why, example] of Object.entries(t.failedExamples)) console.log(`  ${"".padEnd(20)}   ${why}: ${String(example).slice(0, 160)}`);
  }
  for (const f of failed) console.log(`  FAIL ${f}`);
  process.exitCode = failed.length ? 1 : 0;
}

// Exits explicitly: a failed run may leave a traffic loop or a socket open.
main().then(() => process.exit(), (err) => { console.error(`${PART}: ${err.stack || err}`); process.exit(2); });
