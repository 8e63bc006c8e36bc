#!/usr/bin/env node
// Model load latency through llama-dashboard vs the router itself (release build, loopback, real parts).
//
//   cargo build --release && LLAMA_SERVER_BIN=... LLAMA_DASHBOARD_TEST_GGUF=... node bench/load-latency.mjs
// (scripts/setup-llama-server.sh and scripts/fetch-demo-model.sh provide both; run `npm ci` in tests/js once)
//
// For each of N load/unload rounds it listens to the router's own /models/sse and to our `models:status`
// broadcasts at the same time, and records:
//   - router load time: the router's SSE "loading" -> "loaded" (what llama-server itself takes);
//   - request to loaded: our `models:load` sent -> our `loaded` broadcast received (what a user waits);
//   - added by us: our `loaded` broadcast received - the router's SSE `loaded` received (our overhead).
// Also the RSS of llama-dashboard while the router runs with the model loaded.
// Prints a markdown table on stdout. The server (and with it the router) is always stopped at the end.
import { readFileSync, existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
process.env.LLAMA_DASHBOARD_BIN ||= path.join(here, "../target/release/llama-dashboard");
const ROUNDS = Number(process.env.BENCH_ROUNDS || 10);
const { startServer } = await import("../tests/js/lib/server.mjs");
const { connect, ok, freePort, until, waitFor } = await import("../tests/js/lib/socket.mjs");
const { modelsDir, llamaServer, realModel, keyHeaders } = await import("../tests/js/lib/real.mjs");

for (const [name, value] of [["LLAMA_DASHBOARD_BIN", process.env.LLAMA_DASHBOARD_BIN], ["LLAMA_SERVER_BIN", llamaServer], ["LLAMA_DASHBOARD_TEST_GGUF", realModel]]) {
  if (!value || !existsSync(value)) { console.error(`${name} missing (${value})`); process.exit(1); }
}

const ID = "smol";
const models = modelsDir(ID);
const server = await startServer({
  config: { router: { port: await freePort() }, models: { directory: models.dir }, performance: { contextSize: 1024 }, startup: { autoStart: true } },
  env: { LLAMA_SERVER_BIN: llamaServer, RUST_LOG: "warn" },
});
const watchdog = setTimeout(() => { console.error("watchdog"); server.stop().finally(() => process.exit(1)); }, 240_000);
try {
  const client = await connect(server.url);
  const router = await until(async () => { const s = await ok(client.socket, "router:status", {}); return s.running && s; }, { timeoutMs: 30000 });
  const sse = followRouter(router.url, keyHeaders(router.pid));
  const rows = [];
  let rss = 0;
  for (let i = 0; i < ROUNDS; i++) {
    const ours = waitFor(client.socket, "models:status", { timeoutMs: 30000, filter: (m) => m.data.id === ID && m.data.status === "loaded" });
    const theirs = sse.next("loaded");
    const loadingSeen = sse.next("loading");
    const sent = performance.now();
    await ok(client.socket, "models:load", { id: ID });
    const [routerLoading, routerLoaded] = [await loadingSeen, await theirs];
    await ours;
    const oursAt = performance.now();
    rows.push({ routerLoad: routerLoaded - routerLoading, total: oursAt - sent, added: oursAt - routerLoaded });
    rss = Math.max(rss, rssKiB(server.proc.pid));
    const unloaded = waitFor(client.socket, "models:status", { timeoutMs: 30000, filter: (m) => m.data.id === ID && m.data.status === "unloaded" });
    await ok(client.socket, "models:unload", { id: ID });
    await unloaded;
  }
  sse.close();
  client.close();
  print(rows, rss);
} finally {
  clearTimeout(watchdog);
  await server.stop();
  models.cleanup();
}

/**
 * Reads the router's /models/sse directly (with the key llama-dashboard gave the router: its port answers
 * nothing without it); next(status) resolves with the receive time of that status.
 */
function followRouter(url, headers) {
  const controller = new AbortController();
  const waiters = [];
  (async () => {
    const res = await fetch(`${url}/models/sse`, { headers, signal: controller.signal });
    if (!res.ok) throw new Error(`router /models/sse answered ${res.status}`);
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const chunk of res.body) {
      const at = performance.now();
      buffer += decoder.decode(chunk, { stream: true });
      let end;
      while ((end = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, end).trim();
        buffer = buffer.slice(end + 1);
        if (!line.startsWith("data:")) continue;
        const event = JSON.parse(line.slice(5));
        if (event.model !== ID) continue;
        for (const w of waiters.filter((w) => w.status === event.data.status)) { w.resolve(at); waiters.splice(waiters.indexOf(w), 1); }
      }
    }
  })().catch(() => {});
  return {
    next: (status) => new Promise((resolve) => waiters.push({ status, resolve })),
    close: () => controller.abort(),
  };
}

function rssKiB(pid) {
  const m = readFileSync(`/proc/${pid}/status`, "utf8").match(/^VmRSS:\s+(\d+)\s+kB/m);
  return m ? Number(m[1]) : 0;
}

function stats(values) {
  const s = [...values].sort((a, b) => a - b);
  const at = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return `${at(0.5).toFixed(1)} / ${at(0.9).toFixed(1)} / ${s[s.length - 1].toFixed(1)}`;
}

function print(rows, rss) {
  console.log(`| ${ROUNDS} load rounds, SmolLM2-135M Q4_1 | p50 / p90 / max (ms) |`);
  console.log("|---|---|");
  console.log(`| router's own load time (its SSE loading -> loaded) | ${stats(rows.map((r) => r.routerLoad))} |`);
  console.log(`| models:load sent -> our loaded broadcast received | ${stats(rows.map((r) => r.total))} |`);
  console.log(`| added by llama-dashboard (our broadcast - router's SSE event) | ${stats(rows.map((r) => r.added))} |`);
  console.log(`| llama-dashboard RSS with the router running, model loaded | ${(rss / 1024).toFixed(1)} MiB |`);
}
