#!/usr/bin/env node
// What each hop in front of a loaded model costs (release build, loopback, real llama-server router and model).
// llama-dashboard starts the native router on a models directory holding the GGUF, the model is loaded once,
// and the same small non-streamed chat request (max_tokens 1, temperature 0) is sent N times to each of:
//   - direct: the model's own llama-server process (its port from the router's GET /models, status.args);
//   - router: the native router's port (it forwards to that process);
//   - llama-dashboard: our /v1 (whatever our binary does: through the router, or straight to the process).
// The three paths are interleaved: each round sends one request to each, in a rotating order, one at a time.
// Latency is from sending to the last body byte (Node's fetch, keep-alive). A second table subtracts the time
// llama-server itself reports for each answer (`timings.prompt_ms + predicted_ms`): what is left is the time
// spent outside the model's work (HTTP, the hops, queueing), without the model's run-to-run variation, which
// dominates the p99 of the first table. Prints markdown tables on stdout;
// progress goes to stderr. The server (and with it the router and the model's process) is always stopped.
//
//   cargo build --release && LLAMA_SERVER_BIN=... LLAMA_DASHBOARD_TEST_GGUF=... node bench/router-hop.mjs
// (scripts/setup-llama-server.sh and scripts/fetch-demo-model.sh provide both; run `npm ci` in tests/js once)
//
// Env: LLAMA_DASHBOARD_BIN (default target/release/llama-dashboard), BENCH_TRIPLES (300), BENCH_WARMUP (10).
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
process.env.LLAMA_DASHBOARD_BIN ||= path.join(here, "../target/release/llama-dashboard");
const TRIPLES = Number(process.env.BENCH_TRIPLES || 300);
const WARMUP = Number(process.env.BENCH_WARMUP || 10);
const ID = "smol";
const { startServer } = await import("../tests/js/lib/server.mjs");
const { connect, ok, freePort, until } = await import("../tests/js/lib/socket.mjs");
const { modelsDir, llamaServer, realModel, keyHeaders } = await import("../tests/js/lib/real.mjs");
for (const [name, value] of [["LLAMA_DASHBOARD_BIN", process.env.LLAMA_DASHBOARD_BIN], ["LLAMA_SERVER_BIN", llamaServer], ["LLAMA_DASHBOARD_TEST_GGUF", realModel]]) {
  if (!value || !existsSync(value)) { console.error(`${name} missing (${value})`); process.exit(1); }
}

const log = (...a) => console.error("[router-hop]", ...a);
const models = modelsDir(ID);
const server = await startServer({
  config: {
    router: { port: await freePort() },
    models: { directory: models.dir, idleTimeoutSec: 0 },
    performance: { contextSize: 1024 },
    startup: { autoStart: true },
  },
  env: { LLAMA_SERVER_BIN: llamaServer, RUST_LOG: "warn" },
});
async function cleanup() {
  await server.stop().catch(() => {});
  models.cleanup();
}
const watchdog = setTimeout(() => { console.error("[router-hop] watchdog: over 600 s"); cleanup().finally(() => process.exit(1)); }, 600_000);
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => { cleanup().finally(() => process.exit(130)); });

const BODY = JSON.stringify({ model: ID, max_tokens: 1, temperature: 0, stream: false, messages: [{ role: "user", content: "Say hello." }] });

/**
 * {ms, outside}: ms from sending the chat request to the last byte of its answer (checked: 200 and a choice),
 * and that minus the time llama-server reports it spent on the answer.
 */
async function once(base, headers) {
  const started = performance.now();
  const res = await fetch(`${base}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: BODY });
  const text = await res.text();
  const ms = performance.now() - started;
  const body = res.ok ? JSON.parse(text) : null;
  if (!body?.choices?.length) throw new Error(`${base}: ${res.status} ${text.slice(0, 300)}`);
  const work = (body.timings?.prompt_ms ?? NaN) + (body.timings?.predicted_ms ?? NaN);
  if (!Number.isFinite(work)) throw new Error(`${base}: no timings in the answer: ${text.slice(0, 300)}`);
  return { ms, outside: ms - work };
}

/** The model's own process: its port from the router's /models (status.args holds "--port", "N"). */
async function childPort(routerUrl, headers) {
  const list = await (await fetch(`${routerUrl}/models`, { headers })).json();
  const entry = list.data?.find((m) => m.id === ID);
  const args = entry?.status?.args || [];
  const i = args.indexOf("--port");
  if (entry?.status?.value !== "loaded" || i < 0) throw new Error(`no loaded ${ID} with a --port in the router's /models: ${JSON.stringify(entry)}`);
  return Number(args[i + 1]);
}

function stats(v) {
  const s = [...v].sort((a, b) => a - b);
  const at = (p) => s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
  return { n: s.length, p50: at(50), p90: at(90), p99: at(99), mean: s.reduce((a, b) => a + b, 0) / s.length };
}

let code = 0;
try {
  const client = await connect(server.url);
  const router = await until(async () => { const s = await ok(client.socket, "router:status", {}); return s.running && s; }, { timeoutMs: 30000, what: "router running" });
  log(`router pid ${router.pid} at ${router.url}; loading ${ID}`);
  await ok(client.socket, "models:load", { id: ID });
  const routerKey = keyHeaders(router.pid);
  await until(async () => {
    const list = await (await fetch(`${router.url}/models`, { headers: routerKey })).json();
    return list.data?.find((m) => m.id === ID)?.status?.value === "loaded";
  }, { timeoutMs: 60000, what: `${ID} loaded` });
  client.close();
  const port = await childPort(router.url, routerKey);
  const paths = [
    { name: "direct (the model's own llama-server)", url: `http://127.0.0.1:${port}`, headers: routerKey, ms: [], outside: [] },
    { name: "native router (its port)", url: router.url, headers: routerKey, ms: [], outside: [] },
    { name: "llama-dashboard (/v1)", url: server.url, headers: {}, ms: [], outside: [] },
  ];
  log(`model process on port ${port}; warming up (${WARMUP} per path), then ${TRIPLES} interleaved triples`);
  for (let i = 0; i < WARMUP; i++) for (const p of paths) await once(p.url, p.headers);
  const started = performance.now();
  for (let i = 0; i < TRIPLES; i++) {
    for (let k = 0; k < paths.length; k++) {
      const p = paths[(i + k) % paths.length];
      const { ms, outside } = await once(p.url, p.headers);
      p.ms.push(ms);
      p.outside.push(outside);
    }
    if ((i + 1) % 100 === 0) log(`${i + 1} of ${TRIPLES} triples`);
  }
  const wallS = (performance.now() - started) / 1000;
  if ((await childPort(router.url, routerKey)) !== port) throw new Error("the model's process changed during the run");

  const cols = ["p50", "p90", "p99", "mean"];
  const f = (x) => x.toFixed(2);
  const signed = (x) => `${x >= 0 ? "+" : ""}${f(x)}`;
  const table = (title, key) => {
    const [direct, viaRouter, ours] = paths.map((p) => stats(p[key]));
    const out = [];
    out.push(`| ${title} | p50 ms | p90 ms | p99 ms | mean ms |`);
    out.push("|---|---|---|---|---|");
    for (const [p, s] of [[paths[0], direct], [paths[1], viaRouter], [paths[2], ours]]) out.push(`| ${p.name} | ${cols.map((c) => f(s[c])).join(" | ")} |`);
    out.push(`| **added by the router** (router - direct) | ${cols.map((c) => signed(viaRouter[c] - direct[c])).join(" | ")} |`);
    out.push(`| **added by llama-dashboard** (ours - direct) | ${cols.map((c) => signed(ours[c] - direct[c])).join(" | ")} |`);
    out.push(`| llama-dashboard / router | ${cols.map((c) => `${(ours[c] / viaRouter[c]).toFixed(3)}x`).join(" | ")} |`);
    return out.join("\n");
  };
  console.log(table(`${TRIPLES} interleaved triples, SmolLM2-135M Q4_1, max_tokens 1, CPU: latency`, "ms"));
  console.log("");
  console.log(table("the same requests: time outside llama-server (latency - timings.prompt_ms - predicted_ms)", "outside"));
  log(`${3 * TRIPLES} requests in ${wallS.toFixed(1)} s`);
} catch (err) {
  console.error("[router-hop] failed:", err?.stack || err);
  console.error("[router-hop] server output tail:\n" + server.output().slice(-3000));
  code = 1;
} finally {
  clearTimeout(watchdog);
  await cleanup();
}
process.exit(code);
