#!/usr/bin/env node
// Own-backend cold start and swap, against llama-server started by hand and the native router (release build,
// loopback, real llama-server and model). For each of N rounds, each measured from sending a streamed chat
// request (max_tokens 1) to its first byte:
//   - direct: llama-server spawned by this script, /health polled every 5 ms, then the request: what
//     llama-server itself needs to load and answer;
//   - own backend, cold: through llama-dashboard's /v1 with the backend stopped (spawn, health, proxy);
//   - swap: backend B of another group requested while A runs (A drained and stopped, B started);
//   - native router, cold: the router's own /v1 with the model unloaded (its autoload), and the same through
//     our /v1 (our hop on top of the router's autoload).
// Prints a markdown table on stdout.
//
//   cargo build --release && LLAMA_SERVER_BIN=... LLAMA_DASHBOARD_TEST_GGUF=... node bench/backend-cold-start.mjs
import { spawn } from "node:child_process";
import { existsSync, linkSync, copyFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
process.env.LLAMA_DASHBOARD_BIN ||= path.join(here, "../target/release/llama-dashboard");
const ROUNDS = Number(process.env.BENCH_ROUNDS || 5);
const { startServer } = await import("../tests/js/lib/server.mjs");
const { connect, ok, freePort, until, tempDir } = await import("../tests/js/lib/socket.mjs");
const { llamaServer, realModel, keyHeaders } = await import("../tests/js/lib/real.mjs");
for (const [name, value] of [["LLAMA_DASHBOARD_BIN", process.env.LLAMA_DASHBOARD_BIN], ["LLAMA_SERVER_BIN", llamaServer], ["LLAMA_DASHBOARD_TEST_GGUF", realModel]]) {
  if (!value || !existsSync(value)) { console.error(`${name} missing (${value})`); process.exit(1); }
}

const files = tempDir("lldash-bench-backends-");
const routerDir = tempDir("lldash-bench-router-");
const place = (dir, name) => { const p = path.join(dir, name); try { linkSync(realModel, p); } catch { copyFileSync(realModel, p); } return p; };
const [a, b] = [place(files.dir, "a.gguf"), place(files.dir, "b.gguf")];
place(routerDir.dir, "smol.gguf");
const routerPort = await freePort();
const server = await startServer({
  config: {
    router: { port: routerPort },
    models: { directory: routerDir.dir, idleTimeoutSec: 0 },
    performance: { contextSize: 1024 },
    startup: { autoStart: true },
    backends: {
      basePort: await freePort(),
      idleTimeoutSec: 0,
      defaultSpawn: { command: ["llama-server", "-c", "1024"] },
      models: [{ name: "a", path: a, group: "ga" }, { name: "b", path: b, group: "gb" }],
    },
  },
  env: { LLAMA_SERVER_BIN: llamaServer, RUST_LOG: "warn" },
});
const watchdog = setTimeout(() => { console.error("watchdog"); server.stop().finally(() => process.exit(1)); }, 300_000);
const client = await connect(server.url);

/** ms from sending a streamed chat request to the first body byte. */
async function firstByte(base, model, headers = {}) {
  const started = performance.now();
  const res = await fetch(`${base}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ model, stream: true, max_tokens: 1, messages: [{ role: "user", content: "Hi" }] }),
  });
  if (!res.ok) throw new Error(`${model}: ${res.status} ${await res.text()}`);
  const reader = res.body.getReader();
  await reader.read();
  const ms = performance.now() - started;
  while (!(await reader.read()).done) { /* drain */ }
  return ms;
}

const status = async (id) => (await ok(client.socket, "models:list", {})).models.find((m) => m.id === id)?.status;
async function stopped(id) {
  await ok(client.socket, "models:unload", { id }).catch(() => {});
  await until(async () => (await status(id)) === "unloaded", { timeoutMs: 30000, what: `${id} unloaded` });
}

async function direct() {
  const port = await freePort();
  const started = performance.now();
  const proc = spawn(llamaServer, ["-c", "1024", "--model", a, "--port", String(port), "--host", "127.0.0.1"], { stdio: "ignore" });
  try {
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false);
      if (ok) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    const body = { model: "a", stream: true, max_tokens: 1, messages: [{ role: "user", content: "Hi" }] };
    const res = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const reader = res.body.getReader();
    await reader.read();
    const ms = performance.now() - started;
    while (!(await reader.read()).done) { /* drain */ }
    return ms;
  } finally {
    const exited = new Promise((r) => proc.once("exit", r));
    proc.kill("SIGTERM");
    await exited;
  }
}

// The router answers only with the key llama-dashboard gave it (its LLAMA_API_KEY), read once it runs.
let routerKey = {};
/** The router-mode model's cold start: on the router's own port, or (`viaUs`) through our /v1. */
async function routerCold(viaUs = false) {
  const router = `http://127.0.0.1:${routerPort}`;
  const headers = { "content-type": "application/json", ...routerKey };
  await fetch(`${router}/models/unload`, { method: "POST", headers, body: JSON.stringify({ model: "smol" }) });
  // A keep-alive connection llama-server closed meanwhile fails the fetch ("other side closed"): asked again.
  await until(async () => {
    const models = await fetch(`${router}/models`, { headers: routerKey }).then((r) => r.json(), () => null);
    return models?.data?.find((m) => m.id === "smol")?.status?.value === "unloaded";
  }, { timeoutMs: 30000, what: "router model unloaded" });
  if (!viaUs) return firstByte(router, "smol", routerKey);
  await until(async () => (await status("smol")) === "unloaded", { timeoutMs: 30000, what: "smol unloaded in our list" });
  return firstByte(server.url, "smol");
}

try {
  const router = await until(async () => { const s = await ok(client.socket, "router:status", {}); return s.running && s; }, { timeoutMs: 30000, what: "router running" });
  routerKey = keyHeaders(router.pid);
  await firstByte(server.url, "a"); // warm the page cache and both paths once
  await routerCold();
  const rows = { direct: [], cold: [], swap: [], router: [], routerOurs: [] };
  for (let i = 0; i < ROUNDS; i++) {
    console.error(`round ${i + 1} of ${ROUNDS}`);
    await stopped("a");
    await stopped("b");
    rows.direct.push(await direct());
    rows.cold.push(await firstByte(server.url, "a"));
    rows.swap.push(await firstByte(server.url, "b"));
    rows.router.push(await routerCold());
    rows.routerOurs.push(await routerCold(true));
  }
  const median = (v) => [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)];
  const fmt = (v) => `${median(v).toFixed(0)} ms (min ${Math.min(...v).toFixed(0)}, max ${Math.max(...v).toFixed(0)})`;
  console.log(`\n| ${ROUNDS} rounds, SmolLM2-135M Q4_1, -c 1024, CPU | request -> first streamed byte, median |`);
  console.log("|---|---|");
  console.log(`| llama-server started by hand (its own load + first token) | ${fmt(rows.direct)} |`);
  console.log(`| own backend, cold start through /v1 | ${fmt(rows.cold)} |`);
  console.log(`| **added by llama-dashboard** (own backend - by hand) | **${(median(rows.cold) - median(rows.direct)).toFixed(0)} ms** (${(median(rows.cold) / median(rows.direct)).toFixed(2)}x) |`);
  console.log(`| swap: B (other group) requested while A runs | ${fmt(rows.swap)} |`);
  console.log(`| native router cold start (its autoload, its own port) | ${fmt(rows.router)} |`);
  console.log(`| native router cold start - own backend cold start | ${(median(rows.router) - median(rows.cold)).toFixed(0)} ms |`);
  console.log(`| router-mode model, cold start through our /v1 (the router autoloads it) | ${fmt(rows.routerOurs)} |`);
  console.log(`| **added by llama-dashboard** (router-mode through /v1 - router's own port) | **${(median(rows.routerOurs) - median(rows.router)).toFixed(0)} ms** |`);
  console.log(`| router-mode through /v1 - llama-server started by hand | ${(median(rows.routerOurs) - median(rows.direct)).toFixed(0)} ms |`);
} finally {
  clearTimeout(watchdog);
  client.close();
  await server.stop();
  files.cleanup();
  routerDir.cleanup();
}
