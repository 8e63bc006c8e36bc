// `/metrics` is valid Prometheus exposition by Prometheus' own linter (`promtool check metrics`, from
// Debian's prometheus package), with the per-model series present, and scraping it never loads or wakes a
// model: not a router-mode model (real llama-server router), not an own backend, not one used before.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { startBothKinds, chatOk, needReal } from "./lib/backends.mjs";
import { until } from "./lib/socket.mjs";

const promtool = process.env.LLAMA_DASHBOARD_PROMTOOL;
function needPromtool() {
  if (promtool && existsSync(promtool)) return false;
  if (process.env.CI) throw new Error("CI must provide LLAMA_DASHBOARD_PROMTOOL (scripts/test.sh sets it)");
  return "LLAMA_DASHBOARD_PROMTOOL not set (scripts/test.sh sets it)";
}
const skip = needReal() || needPromtool();
const ROUTER_MODEL = "smol";
const OWN = "own";
let ctx, base;

before(async () => {
  if (skip) return;
  ctx = await startBothKinds({ routerModel: ROUTER_MODEL, own: OWN });
  base = ctx.base;
  await until(async () => (await statuses())[ROUTER_MODEL], { timeoutMs: 30000, what: "the router's model to be listed" });
});
after(() => ctx?.stop());

/** Each model's status.value from GET /models. */
async function statuses() {
  const { data } = await (await fetch(`${base}/models`)).json();
  return Object.fromEntries(data.map((m) => [m.id, m.status.value]));
}

async function scrape(times) {
  let text = "";
  for (let i = 0; i < times; i++) {
    const res = await fetch(`${base}/metrics`);
    assert.equal(res.status, 200);
    text = await res.text();
  }
  return text;
}

function lint(text) {
  const run = spawnSync(promtool, ["check", "metrics"], { input: text, encoding: "utf8", timeout: 30000 });
  return { status: run.status, output: `${run.stdout}${run.stderr}`.trim() };
}

test("scraping /metrics loads no model of either kind", { skip }, async () => {
  const loadsBefore = ctx.statuses(OWN).length + ctx.statuses(ROUTER_MODEL).length;
  await scrape(30);
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(await statuses(), { [ROUTER_MODEL]: "unloaded", [OWN]: "unloaded" });
  assert.deepEqual(ctx.running(), [], "no own backend process started");
  assert.equal(ctx.statuses(OWN).length + ctx.statuses(ROUTER_MODEL).length, loadsBefore, "no models:status change");
});

test("/metrics passes promtool check metrics with per-model series, and scraping leaves an unloaded model unloaded", { skip }, async () => {
  await chatOk(ctx.v1, OWN);
  await chatOk(ctx.v1, ROUTER_MODEL);
  const unknown = await fetch(`${ctx.v1}/chat/completions`, {
    method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "no-such-model", messages: [{ role: "user", content: "hi" }] }),
  });
  assert.equal(unknown.status, 404);
  const text = await until(async () => {
    const t = await scrape(1);
    const counted = (model) => t.includes(`llama_dashboard_requests_total{model="${model}"`);
    return counted(OWN) && counted(ROUTER_MODEL) && counted("(unknown)") && t;
  }, { timeoutMs: 10000, what: "every request counted in /metrics (rows are recorded in batches)" });
  assert.match(text, /llama_dashboard_requests_total\{[^}]*model="own"/);
  assert.match(text, /llama_dashboard_request_duration_seconds_bucket\{[^}]*model="smol"/);
  const checked = lint(text);
  assert.equal(checked.status, 0, `promtool check metrics:\n${checked.output}`);
  assert.equal(checked.output, "", "no lint problem reported");
  assert.equal(lint(`${text}\nthis is not exposition format\n`).status, 1, "promtool does refuse broken input");

  for (const id of [OWN, ROUTER_MODEL]) {
    const res = await fetch(`${base}/models/unload`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: id }) });
    assert.equal(res.status, 200, await res.text());
  }
  await until(async () => Object.values(await statuses()).every((v) => v === "unloaded"), { timeoutMs: 30000, what: "both unloaded" });
  await scrape(30);
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(await statuses(), { [ROUTER_MODEL]: "unloaded", [OWN]: "unloaded" }, "a scrape wakes no model used before");
  assert.deepEqual(ctx.running(), []);
});
