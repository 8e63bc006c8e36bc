// The same port serves GET /health (JSON ok), GET /metrics (Prometheus text), the dashboard at /, the SPA
// fallback for page paths, and a real 404 for missing asset files.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "./lib/server.mjs";
import { until } from "./lib/socket.mjs";

let server;
before(async () => { server = await startServer({ config: { metrics: { intervalMs: 500 } } }); });
after(async () => { await server?.stop(); });

test("GET /health -> 200 JSON status ok", async () => {
  const res = await fetch(`${server.url}/health`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") || "", /application\/json/);
  const body = await res.json();
  assert.equal(body.status, "ok");
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
  assert.ok(values.get("llama_dashboard_uptime_seconds") >= 0);
});

test("/metrics uptime grows", async () => {
  const read = async () => parseProm(await (await fetch(`${server.url}/metrics`)).text()).values.get("llama_dashboard_uptime_seconds");
  const first = await read();
  await new Promise((r) => setTimeout(r, 2100));
  const second = await read();
  assert.ok(second >= first + 1, `uptime ${first} -> ${second} after 2.1 s`);
});

let index;
test("GET / -> the dashboard's index.html", async () => {
  const res = await fetch(`${server.url}/`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") || "", /text\/html/);
  index = await res.text();
  assert.match(index, /<html/i);
});

for (const page of ["/models", "/settings", "/logs/live"]) {
  test(`GET ${page} (a page path, no dot) -> index.html`, async () => {
    const res = await fetch(`${server.url}${page}`);
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
