// What the chaos parts share: the run's mode and seed, llama-dashboard started and killed on purpose,
// the process table (whose child is what, which llama-server is ours and orphaned), SQLite's own
// integrity check, RSS, percentiles, and the figures file each part writes to target/chaos/<part>.json.
//
// Contract with scripts/chaos.sh: it sets CHAOS_ROOT (a temp dir it removes; every file and process of
// the run has that path in its argv or lives under it), CHAOS_BIN (the release binary), and for the real
// model LLAMA_SERVER_BIN and LLAMA_DASHBOARD_TEST_GGUF. Client libraries resolve from tests/js.
import { spawn, execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync, createWriteStream } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, "../..");
export const requireTests = createRequire(path.join(repoRoot, "tests/js/package.json"));
export const fakeBin = path.join(repoRoot, "tests/js/fake/llama-server.mjs");
export const root = process.env.CHAOS_ROOT || mkdtempSync("/tmp/chaos-");
export const releaseBin = process.env.CHAOS_BIN || path.join(repoRoot, "target/release/llama-dashboard");
export const llamaServer = process.env.LLAMA_SERVER_BIN;
export const realModel = process.env.LLAMA_DASHBOARD_TEST_GGUF;

/** `--short` (default) or `--full`, and the seed (`--seed N`, else from the clock; always printed). */
export function options(argv = process.argv.slice(2)) {
  const full = argv.includes("--full");
  const at = argv.indexOf("--seed");
  const seed = at >= 0 ? Number(argv[at + 1]) >>> 0 : (Date.now() % 2 ** 31) >>> 0;
  return { full, mode: full ? "full" : "short", seed };
}

/** mulberry32: a small seeded PRNG, so a run is reproduced by its printed seed. */
export function prng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo, hi) => lo + Math.floor(next() * (hi - lo + 1));
  return { next, int, pick: (list) => list[int(0, list.length - 1)], chance: (p) => next() < p };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const stamp = () => new Date().toISOString().slice(11, 19);
export const log = (part, text) => console.log(`[${stamp()} ${part}] ${text}`);

/** Polls `fn` until truthy (bounded); resolves its value, or null at the deadline. */
export async function waitFor(fn, { timeoutMs = 10000, intervalMs = 100 } = {}) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await fn();
    if (value) return value;
    await sleep(intervalMs);
  }
  return null;
}

/** A fresh dir under the run's root. */
export function workDir(prefix) {
  mkdirSync(root, { recursive: true });
  return mkdtempSync(path.join(root, `${prefix}-`));
}

const live = new Set();
/** Kills what is still running of ours when the part ends or is interrupted (chaos.sh sweeps too). */
function cleanupAll() {
  for (const proc of live) { try { proc.kill("SIGKILL"); } catch {} }
}
process.on("exit", cleanupAll);
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => { cleanupAll(); process.exit(130); });

/**
 * Starts llama-dashboard with `config` (written to <dir>/llama-router.init.json), its data in `dataDir`,
 * on `port` (0 = any), its output appended to <dir>/server.log. Resolves {proc, url, port, pid, logFile}
 * once it prints that it listens. The caller kills or stops it.
 */
export async function startDashboard({ binary = releaseBin, dir, dataDir, port = 0, config, env = {} }) {
  const cfg = path.join(dir, "llama-router.init.json");
  writeFileSync(cfg, JSON.stringify(config, null, 2));
  const logFile = path.join(dir, "server.log");
  const out = createWriteStream(logFile, { flags: "a" });
  const args = ["--host", "127.0.0.1", "--port", String(port), "--data-dir", dataDir, "--config", cfg];
  // No llama-server unless the caller names one, nor models from this machine's caches.
  const noStrays = { LLAMA_SERVER_BIN: "", LLAMA_DASHBOARD_CACHE: path.join(dir, "no-cache"), HF_HUB_CACHE: path.join(dir, "no-hf-cache") };
  const proc = spawn(binary, args, { cwd: dir, env: { ...process.env, RUST_LOG: "warn", ...noStrays, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  live.add(proc);
  proc.once("exit", () => live.delete(proc));
  let head = "";
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => { proc.kill("SIGKILL"); reject(new Error(`llama-dashboard did not listen in 30 s: ${head}`)); }, 30000);
    const onData = (chunk) => {
      head += chunk.toString();
      const m = head.match(/llama-dashboard listening on (http:\/\/\S+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    };
    proc.stdout.on("data", onData);
    proc.once("exit", (code, signal) => { clearTimeout(timer); reject(new Error(`llama-dashboard exited (${code ?? signal}): ${head}`)); });
  });
  proc.stdout.pipe(out);
  proc.stderr.pipe(out);
  return { proc, url, port: Number(new URL(url).port), pid: proc.pid, logFile };
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once it exited. */
export async function stopProcess(proc, graceMs = 15000) {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once("exit", r));
  proc.kill("SIGTERM");
  const timer = setTimeout(() => proc.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

/** SIGKILL and wait for the exit (the kernel closes its files and sockets by then). */
export async function killProcess(proc) {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once("exit", r));
  proc.kill("SIGKILL");
  await exited;
}

/** pid -> {ppid, state, argv} for every process now. */
export function processTable() {
  const table = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").filter(Boolean);
      table.set(Number(entry), { ppid: Number(ppid), state, argv });
    } catch { /* gone meanwhile */ }
  }
  return table;
}

/** Running processes below `pid` (a zombie does not run). */
export function descendants(pid, table = processTable()) {
  const found = [];
  const queue = [pid];
  while (queue.length) {
    const parent = queue.shift();
    for (const [child, p] of table) {
      if (p.ppid !== parent || p.state === "Z") continue;
      found.push({ pid: child, ...p });
      queue.push(child);
    }
  }
  return found;
}

const isLlamaServer = (argv) => argv.some((a, i) => i < 2 && /llama-server(\.mjs)?$/.test(a));
const ofThisRun = (argv) => argv.some((a) => a.includes(root));

/** Our llama-server processes (real or fake) whose argv names a path of this run. */
export function ourLlamaServers(table = processTable()) {
  return [...table].filter(([, p]) => p.state !== "Z" && isLlamaServer(p.argv) && ofThisRun(p.argv)).map(([pid, p]) => ({ pid, ...p }));
}

/**
 * Our llama-servers whose parent is gone: re-parented to pid 1 (or a subreaper), i.e. no longer the child
 * of a llama-dashboard or of one of our routers.
 */
export function orphans(table = processTable()) {
  return ourLlamaServers(table).filter((p) => {
    const parent = table.get(p.ppid);
    if (!parent || p.ppid === 1) return true;
    return !(parent.argv.some((a) => a.endsWith("llama-dashboard")) || (isLlamaServer(parent.argv) && ofThisRun(parent.argv)));
  });
}

/** Waits (bounded) for no orphan; returns the ones still there, each SIGKILLed so the run goes on. */
export async function reapOrphans(timeoutMs = 5000) {
  const clean = await waitFor(() => orphans().length === 0, { timeoutMs, intervalMs: 50 });
  if (clean) return [];
  const left = orphans();
  for (const p of left) { try { process.kill(p.pid, "SIGKILL"); } catch {} }
  return left.map((p) => ({ pid: p.pid, argv: p.argv.slice(0, 4).join(" ") }));
}

/** `PRAGMA integrity_check` through Python's sqlite3, read-only: "ok" or what SQLite reported. */
export function integrity(dbFile) {
  const script = "import sqlite3,sys\nc=sqlite3.connect('file:'+sys.argv[1]+'?mode=ro',uri=True,timeout=10)\n"
    + "print('\\n'.join(r[0] for r in c.execute('PRAGMA integrity_check')))";
  try {
    return execFileSync("python3", ["-c", script, dbFile], { encoding: "utf8", timeout: 30000 }).trim();
  } catch (err) {
    return `integrity_check failed to run: ${String(err.stderr || err.message).trim()}`;
  }
}

/** VmRSS of `pid` in bytes, or null once it is gone. */
export function rssBytes(pid) {
  try {
    const m = readFileSync(`/proc/${pid}/status`, "utf8").match(/^VmRSS:\s+(\d+) kB/m);
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** {count, p50, p90, max} of a list of numbers (milliseconds), rounded; nulls when empty. */
export function summary(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q) => (sorted.length ? Math.round(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]) : null);
  return { count: sorted.length, p50: at(0.5), p90: at(0.9), max: sorted.length ? Math.round(sorted.at(-1)) : null };
}

/**
 * Writes target/chaos/<part>.json with the machine it ran on (cores, load average at the end: the parts
 * share the machine with whatever else runs, and timings say so) and returns its path.
 */
export function writeFigures(part, figures) {
  const dir = path.join(repoRoot, "target/chaos");
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${part}.json`);
  const machine = { cores: os.cpus().length, loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100) };
  writeFileSync(file, `${JSON.stringify({ ...figures, machine }, null, 2)}\n`);
  return file;
}

/** The commit under test, with "-dirty" when the working tree has uncommitted changes. */
export function commit() {
  try {
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: repoRoot, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd: repoRoot, encoding: "utf8" }).trim();
    return dirty ? `${head}-dirty` : head;
  } catch {
    return "unknown";
  }
}

let nextClient = 0;
/**
 * A unique loopback source address per call (127.1.0.1, 127.1.0.2, ...): the proxy stores the client's
 * address in the request row, so a row is matched to exactly the request that made it.
 */
export function nextClientAddress() {
  nextClient += 1;
  const n = nextClient;
  return `127.${1 + ((n >> 14) & 0x7f)}.${(n >> 7) & 0x7f}.${1 + (n & 0x7f)}`;
}

/**
 * One HTTP request on its own connection from `localAddress`. Resolves {status, headers, body, ms} once
 * the response ended, or {error, status?, body} when the connection failed or broke off; never rejects.
 */
export function httpRequest(url, { method = "GET", headers = {}, body, localAddress, timeoutMs = 30000 } = {}) {
  const started = Date.now();
  return new Promise((resolve) => {
    let settled = false;
    const done = (value) => { if (!settled) { settled = true; resolve({ ms: Date.now() - started, ...value }); } };
    const req = http.request(url, { method, headers, localAddress, agent: false, timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => done({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", (e) => done({ error: e.message, status: res.statusCode, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("aborted", () => done({ error: "aborted", status: res.statusCode, body: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("timeout", () => { req.destroy(new Error("timeout")); });
    req.on("error", (e) => done({ error: e.message }));
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** The socket.io-client `io` from tests/js. */
export const { io } = requireTests("socket.io-client");

/** Connects a Socket.IO client (websocket only); resolves the socket or throws after `timeoutMs`. */
export function connectSocket(url, { timeoutMs = 5000 } = {}) {
  const socket = io(url, { path: "/llamaproxws", transports: ["websocket"], forceNew: true, reconnection: false, timeout: timeoutMs });
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", (err) => { socket.close(); reject(err); });
  });
}

/** Emits with an ack; resolves the reply, or {timeout: true} after `timeoutMs`. */
export function ask(socket, event, payload, timeoutMs = 10000) {
  return new Promise((resolve) => {
    socket.timeout(timeoutMs).emit(event, payload, (err, reply) => resolve(err ? { timeout: true } : reply));
  });
}
