#!/usr/bin/env node
// Socket.IO benchmark for llama-dashboard (release build, loopback only).
//
//   cargo build --release && node bench/socket-bench.mjs
// (uses the end-to-end suite's socket.io-client: run `npm ci` in tests/js once)
//
// Measures:
//   1. idle RSS of the server 3 s after it reports "listening";
//   2. round trip of `models:list` and `metrics:get` with ack over one websocket client
//      (200 warm-up + 2000 sequential requests each, process.hrtime.bigint());
//   3. fan-out: 500 websocket clients receiving `metrics:update` (intervalMs 1000) for 15 s:
//      delivery lag (Date.now() at receive - envelope `timestamp`), deliveries received vs expected,
//      server CPU% over the window (/proc/<pid>/stat utime+stime) and server RSS with 500 clients.
// Prints a markdown table on stdout; progress goes to stderr. Exits 0 on success, 1 on error.
// The server is always killed at the end (also on error or on the 110 s watchdog).
//
// Env: LLAMA_DASHBOARD_BIN (default target/release/llama-dashboard), BENCH_CLIENTS (500),
//      BENCH_WINDOW_MS (15000), BENCH_RTT_N (2000), BENCH_WARMUP (200), BENCH_MODEL_FILES (8),
//      BENCH_MODEL_LINK (a GGUF every model file links to; default: 4 KiB files of filler),
//      BENCH_FORMAT (`short`: a compact table of the headline figures, as scripts/bench.sh prints it).
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "..");
process.env.LLAMA_DASHBOARD_BIN ||= path.join(repoRoot, "target/release/llama-dashboard");
// The LLAMA_* overrides would change the config under test; keep the developer's environment out.
for (const k of Object.keys(process.env)) if (k.startsWith("LLAMA_") && k !== "LLAMA_DASHBOARD_BIN") delete process.env[k];

const { startServer } = await import("../tests/js/lib/server.mjs");
const { io } = await import("../tests/js/node_modules/socket.io-client/build/esm/index.js").catch((err) => {
  console.error(`socket.io-client not found (${err.message}); install it once with: (cd tests/js && npm ci)`);
  process.exit(1);
});

const SOCKET_PATH = "/llamaproxws";
const CLIENTS = Number(process.env.BENCH_CLIENTS || 500);
const BATCH = 50;
const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS || 15000);
const GRACE_MS = 2000; // after the window, late deliveries of in-window ticks are still counted
const RTT_N = Number(process.env.BENCH_RTT_N || 2000);
const WARMUP = Number(process.env.BENCH_WARMUP || 200);
const INTERVAL_MS = 1000;
const MODEL_FILES = Number(process.env.BENCH_MODEL_FILES || 8);
/** A real GGUF to link every model file to (its metadata in every list entry), instead of 4 KiB of filler. */
const MODEL_LINK = process.env.BENCH_MODEL_LINK || "";
const SHORT = process.env.BENCH_FORMAT === "short";
// Connecting and settling grow with the number of clients: 110 s at 500, more for more.
const WATCHDOG_MS = 110_000 + Math.max(0, CLIENTS - 500) * 40 + Math.max(0, WINDOW_MS - 15000);

const log = (...a) => console.error("[bench]", ...a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;

if (!existsSync(process.env.LLAMA_DASHBOARD_BIN)) {
  console.error(`binary not found: ${process.env.LLAMA_DASHBOARD_BIN}\nbuild it first: cargo build --release`);
  process.exit(1);
}

// ---------- /proc helpers ----------
function rssKiB(pid) {
  const m = readFileSync(`/proc/${pid}/status`, "utf8").match(/^VmRSS:\s+(\d+)\s+kB/m);
  return m ? Number(m[1]) : NaN;
}
function cpuTicks(pid) {
  const s = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = s.slice(s.lastIndexOf(")") + 2).split(" "); // f[0] is field 3 (state)
  return Number(f[11]) + Number(f[12]); // fields 14 (utime) + 15 (stime)
}
function threads(pid) {
  const m = readFileSync(`/proc/${pid}/status`, "utf8").match(/^Threads:\s+(\d+)/m);
  return m ? Number(m[1]) : NaN;
}

// ---------- stats ----------
function pct(sorted, p) {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}
function summary(values) {
  const s = Float64Array.from(values).sort();
  const mean = s.reduce((a, b) => a + b, 0) / (s.length || 1);
  return { n: s.length, p50: pct(s, 50), p90: pct(s, 90), p99: pct(s, 99), max: s[s.length - 1], mean };
}
const f3 = (x) => (Number.isFinite(x) ? x.toFixed(3) : "n/a");
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : "n/a");
const mib = (kib) => (kib / 1024).toFixed(1);

// ---------- socket helpers ----------
function connectClient(url, { timeoutMs = 10000 } = {}) {
  const socket = io(url, {
    path: SOCKET_PATH,
    transports: ["websocket"],
    forceNew: true, // one engine.io connection per client (io() would otherwise multiplex them)
    reconnection: false,
    timeout: timeoutMs,
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { socket.close(); reject(new Error(`connect timeout after ${timeoutMs}ms`)); }, timeoutMs);
    socket.once("connect", () => { clearTimeout(timer); resolve(socket); });
    socket.once("connect_error", (e) => { clearTimeout(timer); socket.close(); reject(e); });
  });
}

async function roundTrip(socket, event, n, warmup) {
  let failures = 0;
  const once = async () => {
    const reply = await socket.timeout(5000).emitWithAck(event, {});
    if (!reply || reply.success !== true) failures++;
    return reply;
  };
  for (let i = 0; i < warmup; i++) await once();
  failures = 0;
  const ms = new Array(n);
  let last;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const a = process.hrtime.bigint();
    last = await once();
    ms[i] = Number(process.hrtime.bigint() - a) / 1e6;
  }
  const totalMs = Number(process.hrtime.bigint() - t0) / 1e6;
  return { ...summary(ms), failures, totalMs, replyBytes: Buffer.byteLength(JSON.stringify(last)), last };
}

// ---------- main ----------
let server;
const sockets = [];
let modelsDir;
async function cleanup() {
  for (const s of sockets) { try { s.close(); } catch {} }
  if (server) { try { await server.stop(); } catch {} server = null; }
  if (modelsDir) rmSync(modelsDir, { recursive: true, force: true });
}
const watchdog = setTimeout(async () => {
  console.error(`[bench] watchdog: run exceeded ${WATCHDOG_MS / 1000}s, aborting`);
  if (server?.proc?.exitCode === null) server.proc.kill("SIGKILL");
  await cleanup();
  process.exit(1);
}, WATCHDOG_MS);
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, async () => { await cleanup(); process.exit(130); });

async function main() {
  const started = Date.now();
  // A models directory with a few (fake) GGUF files, so models:list returns a non-empty list.
  modelsDir = mkdtempSync(path.join(tmpdir(), "lldash-bench-models-"));
  for (let i = 0; i < MODEL_FILES; i++) {
    const file = path.join(modelsDir, `bench-model-${i}.Q4_K_M.gguf`);
    if (MODEL_LINK) symlinkSync(MODEL_LINK, file);
    else writeFileSync(file, Buffer.alloc(4096, i));
  }

  log(`binary ${process.env.LLAMA_DASHBOARD_BIN}`);
  server = await startServer({
    config: { metrics: { intervalMs: INTERVAL_MS }, models: { directory: modelsDir } },
    env: { RUST_LOG: process.env.RUST_LOG || "info" },
  });
  const pid = server.proc.pid;
  log(`server pid ${pid} at ${server.url}; idling 3 s`);
  await sleep(3000);
  const idleRss = rssKiB(pid);
  const idleThreads = threads(pid);
  log(`idle RSS ${mib(idleRss)} MiB, ${idleThreads} threads`);

  // ---- 2. round trips ----
  const client = await connectClient(server.url);
  sockets.push(client);
  const cpuRtt0 = cpuTicks(pid);
  const rttModels = await roundTrip(client, "models:list", RTT_N, WARMUP);
  log(`models:list p50 ${f3(rttModels.p50)} ms (${rttModels.last?.data?.models?.length} models, ${rttModels.replyBytes} B reply)`);
  const cpuRtt1 = cpuTicks(pid);
  const rttMetrics = await roundTrip(client, "metrics:get", RTT_N, WARMUP);
  log(`metrics:get p50 ${f3(rttMetrics.p50)} ms (${rttMetrics.replyBytes} B reply)`);
  const cpuRtt2 = cpuTicks(pid);
  rttModels.cpuMs = ((cpuRtt1 - cpuRtt0) / CLK_TCK) * 1000;
  rttMetrics.cpuMs = ((cpuRtt2 - cpuRtt1) / CLK_TCK) * 1000;
  client.close();
  sockets.length = 0;
  await sleep(500);

  // ---- 3. fan-out ----
  const lags = []; // envelope timestamp -> receive
  const sampleLags = []; // metrics.timestamp (sampling time) -> receive
  const perTick = new Map(); // metrics.timestamp -> {emitted: envelope ts of first seen, count}
  const perClient = new Array(CLIENTS).fill(0);
  let recording = false;
  let windowStart = 0, windowEnd = 0;
  let disconnects = 0;
  let badEnvelopes = 0;
  const tConnect0 = Date.now();
  for (let b = 0; b < CLIENTS; b += BATCH) {
    const batch = [];
    for (let i = b; i < Math.min(CLIENTS, b + BATCH); i++) {
      batch.push(connectClient(server.url).then((s) => {
        sockets[i] = s;
        s.on("disconnect", (reason) => { if (recording) { disconnects++; log(`client ${i} disconnected: ${reason}`); } });
        s.on("metrics:update", (env) => {
          const now = Date.now();
          if (!recording) return;
          const ts = env?.timestamp, sts = env?.data?.metrics?.timestamp;
          if (env?.type !== "broadcast" || typeof ts !== "number" || typeof sts !== "number") { badEnvelopes++; return; }
          let t = perTick.get(sts);
          if (!t) perTick.set(sts, (t = { emitted: ts, count: 0, first: now, last: now }));
          t.count++;
          t.last = now;
          perClient[i]++;
          if (ts >= windowStart && ts <= windowEnd) { lags.push(now - ts); sampleLags.push(now - sts); }
        });
      }));
    }
    await Promise.all(batch);
  }
  const connectMs = Date.now() - tConnect0;
  log(`${CLIENTS} clients connected in ${connectMs} ms; settling 1 s`);
  await sleep(1000);

  const rssBefore = rssKiB(pid);
  recording = true;
  windowStart = Date.now();
  windowEnd = windowStart + WINDOW_MS;
  const cpu0 = cpuTicks(pid);
  const clientCpu0 = process.cpuUsage();
  const h0 = process.hrtime.bigint();
  let rssPeak = rssBefore;
  while (Date.now() < windowEnd) {
    await sleep(Math.min(500, Math.max(1, windowEnd - Date.now())));
    rssPeak = Math.max(rssPeak, rssKiB(pid));
  }
  const cpu1 = cpuTicks(pid);
  const elapsedS = Number(process.hrtime.bigint() - h0) / 1e9;
  const clientCpu = process.cpuUsage(clientCpu0);
  const rss500 = rssKiB(pid);
  await sleep(GRACE_MS); // let in-window ticks finish delivering
  recording = false;

  const inWindow = [...perTick.values()].filter((t) => t.emitted >= windowStart && t.emitted <= windowEnd);
  const ticks = inWindow.length;
  const delivered = inWindow.reduce((a, t) => a + t.count, 0);
  const expected = ticks * CLIENTS;
  const connectedAtEnd = sockets.filter((s) => s?.connected).length;
  const lag = summary(lags);
  const sLag = summary(sampleLags);
  const serverCpuPct = ((cpu1 - cpu0) / CLK_TCK / elapsedS) * 100;
  const clientCpuPct = ((clientCpu.user + clientCpu.system) / 1e6 / elapsedS) * 100;
  const firstLag = summary(inWindow.map((t) => t.first - t.emitted));
  const spread = summary(inWindow.map((t) => t.last - t.first));

  for (const s of sockets) s?.close();
  sockets.length = 0;
  const totalS = (Date.now() - started) / 1000;

  // ---- report ----
  if (SHORT) {
    const pctOf = (a, b) => (b ? `${f1((a / b) * 100)} %` : "n/a");
    const out = [];
    out.push(`| socket API, release build, loopback | value |`);
    out.push("|---|---|");
    out.push(`| idle RSS (3 s after listening) | ${mib(idleRss)} MiB |`);
    for (const [name, r] of [["models:list", rttModels], ["metrics:get", rttMetrics]]) {
      out.push(`| \`${name}\` round trip, ${r.n} sequential acks: p50 / p99 | ${f3(r.p50)} / ${f3(r.p99)} ms (${r.failures} failed) |`);
    }
    out.push(`| fan-out: ${CLIENTS} websocket clients, \`metrics:update\` every ${INTERVAL_MS} ms for ${WINDOW_MS / 1000} s: deliveries | ${delivered} / ${expected} (${pctOf(delivered, expected)}), ${disconnects} disconnects |`);
    out.push(`| fan-out: delivery lag p50 / p99 / max | ${lag.p50} / ${lag.p99} / ${lag.max} ms |`);
    out.push(`| fan-out: server CPU | ${f1(serverCpuPct)} % of one core |`);
    out.push(`| server RSS: idle / with ${CLIENTS} clients | ${mib(idleRss)} / ${mib(rss500)} MiB (${(rss500 / idleRss).toFixed(1)}x; peak sampled ${mib(rssPeak)}) |`);
    console.log(out.join("\n"));
  } else {
    const cpuModel = (cpus()[0]?.model || "unknown").trim();
    const out = [];
    out.push(`## llama-dashboard socket benchmark — ${new Date().toISOString()}`);
    out.push("");
    out.push(`machine: ${cpus().length} logical CPUs (${cpuModel}), node ${process.version}, CLK_TCK ${CLK_TCK}; client and server share the machine`);
    out.push("");
    out.push("| measurement | value |");
    out.push("|---|---|");
    out.push(`| idle RSS (3 s after listening) | ${mib(idleRss)} MiB (${idleRss} kB), ${idleThreads} threads |`);
    for (const [name, r] of [["models:list", rttModels], ["metrics:get", rttMetrics]]) {
      out.push(`| \`${name}\` round trip, ${r.n} sequential acks (ms) | p50 ${f3(r.p50)} · p90 ${f3(r.p90)} · p99 ${f3(r.p99)} · max ${f3(r.max)} · mean ${f3(r.mean)} |`);
      out.push(`| \`${name}\` throughput / failures | ${f1(r.n / (r.totalMs / 1000))} req/s sequential · ${r.failures} failed replies · reply ${r.replyBytes} B${name === "models:list" ? ` (${r.last?.data?.models?.length ?? "?"} models)` : ""} |`);
      out.push(`| \`${name}\` server CPU per request | ${f3(r.cpuMs / (RTT_N + WARMUP))} ms (${f1(r.cpuMs)} ms over ${RTT_N + WARMUP} requests, 10 ms tick resolution) |`);
    }
    out.push(`| fan-out: clients connected (websocket) | ${CLIENTS} in ${connectMs} ms (batches of ${BATCH}); ${connectedAtEnd} still connected at end, ${disconnects} disconnects during window |`);
    out.push(`| fan-out: \`metrics:update\` ticks in ${WINDOW_MS / 1000} s window | ${ticks} (interval ${INTERVAL_MS} ms) |`);
    out.push(`| fan-out: deliveries received / expected | ${delivered} / ${expected} (${expected ? f3((delivered / expected) * 100).replace(/0+$/, "").replace(/\.$/, "") : "n/a"} %)${badEnvelopes ? ` · ${badEnvelopes} malformed` : ""} |`);
    out.push(`| fan-out: delivery lag, envelope \`timestamp\` → receive (ms) | p50 ${lag.p50} · p99 ${lag.p99} · max ${lag.max} · mean ${f1(lag.mean)} (n=${lag.n}, 1 ms resolution) |`);
    out.push(`| fan-out: per tick, first client's lag / first→last client spread (ms) | first p50 ${firstLag.p50} · max ${firstLag.max} / spread p50 ${spread.p50} · max ${spread.max} |`);
    out.push(`| fan-out: sample \`metrics.timestamp\` → receive (ms) | p50 ${sLag.p50} · p99 ${sLag.p99} · max ${sLag.max} |`);
    out.push(`| fan-out: server CPU over window | ${f1(serverCpuPct)} % of one core (${cpu1 - cpu0} ticks in ${f1(elapsedS)} s) |`);
    out.push(`| fan-out: bench client CPU over window | ${f1(clientCpuPct)} % of one core |`);
    out.push(`| fan-out: server RSS with ${CLIENTS} clients | ${mib(rss500)} MiB at end of window (peak sampled ${mib(rssPeak)} MiB) |`);
    out.push(`| whole run | ${f1(totalS)} s |`);
    console.log(out.join("\n"));
  }

  const perClientMin = Math.min(...perClient), perClientMax = Math.max(...perClient);
  log(`per-client deliveries (incl. grace period): min ${perClientMin}, max ${perClientMax}`);
  const problems = [];
  if (rttModels.failures || rttMetrics.failures) problems.push("failed round-trip replies");
  if (delivered < expected) problems.push(`${expected - delivered} deliveries missing`);
  if (disconnects) problems.push(`${disconnects} disconnects`);
  if (problems.length) log(`WARNING: ${problems.join("; ")}`);
}

let code = 0;
try {
  await main();
} catch (err) {
  console.error("[bench] failed:", err?.stack || err);
  if (server) console.error("[bench] server output tail:\n" + server.output().slice(-4000));
  code = 1;
} finally {
  await cleanup();
  clearTimeout(watchdog);
}
process.exit(code);
