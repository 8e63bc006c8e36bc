// `nodes`: another llama-dashboard (a real process with its own data dir and API key) is looked at every
// 2 s through its model list: up with its models, `unauthorized` with a wrong key (not down: it is there),
// `down` when nothing listens or when it stops answering (a paused process accepts and says nothing), and
// up again once it answers. Every change reaches the dashboards as nodes:status. A node's API key is a
// secret: a placeholder in router:init:load that keeps the key on save, never in the logs, and it cannot
// be sent to another address without the admin token. The Dashboard's Nodes card shows each state live.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { startServer } from "./lib/server.mjs";
import { connect, ok, request, freePort, until } from "./lib/socket.mjs";
import { modelsDir, realModel } from "./lib/real.mjs";
import { launchBrowser, withBrowserPage, waitForText, byTestId, screenshot } from "./lib/browser.mjs";

const KEY = "sk-node-b-secret-4711";
let nodeB, front, client, models;

before(async () => {
  models = modelsDir("smol");
  nodeB = await startServer({
    config: { models: { directory: models.dir }, startup: { autoStart: false }, security: { apiKeys: [KEY] } },
  });
  front = await startServer({
    config: {
      startup: { autoStart: false },
      nodes: [
        { name: "b", url: nodeB.url, apiKey: KEY },
        { name: "wrong-key", url: nodeB.url, apiKey: "sk-not-the-key" },
        { name: "gone", url: `http://127.0.0.1:${await freePort()}` },
      ],
    },
  });
  client = await connect(front.url);
});
after(async () => {
  client?.close();
  if (nodeB?.proc.pid) { try { process.kill(nodeB.proc.pid, "SIGCONT"); } catch {} }
  await front?.stop();
  await nodeB?.stop();
  models?.cleanup();
});

const nodes = async () => Object.fromEntries((await ok(client.socket, "nodes:list", {})).nodes.map((n) => [n.name, n]));
const statusOf = (name, state, since) => until(
  () => client.received.find((e) => e.event === "nodes:status" && e.at >= since && e.payload.data.node.name === name && e.payload.data.node.state === state),
  { timeoutMs: 8000, intervalMs: 50, what: `nodes:status ${name} ${state}` },
);

test("each node is up with its models, unauthorized with a wrong key, or down when nothing listens", async () => {
  const all = await until(async () => {
    const n = await nodes();
    return ["b", "wrong-key", "gone"].every((name) => n[name].state !== "unknown") && n;
  }, { what: "every node looked at" });
  assert.equal(all.b.state, "up", JSON.stringify(all.b));
  assert.deepEqual(all.b.models.map((m) => [m.id, m.status, m.unloadAt]), [["smol", "unloaded", null]]);
  assert.equal(all.b.models[0].sizeBytes, statSync(realModel).size, "the node's own facts of its model");
  assert.equal(typeof all.b.models[0].ttlSec, "number");
  assert.ok(all.b.rttMs >= 0 && all.b.rttMs < 1500, `rtt ${all.b.rttMs}`);
  const sys = (await until(async () => (await nodes()).b.system, { what: "b's load" }));
  assert.ok(sys.cpuPercent >= 0 && sys.memoryTotalBytes > sys.memoryUsedBytes && sys.memoryUsedBytes > 0, JSON.stringify(sys));
  assert.deepEqual([sys.inFlight, sys.queued], [0, 0], "nothing running on b");
  assert.equal(all.gone.system, null);
  assert.equal(all["wrong-key"].state, "unauthorized");
  assert.match(all["wrong-key"].error, /401/);
  assert.equal(all.gone.state, "down");
  assert.match(all.gone.error, /cannot connect/);
  assert.equal(all.b.url, nodeB.url);
  const snapshot = client.received.find((e) => e.event === "snapshot").payload.data;
  assert.deepEqual(snapshot.nodes.map((n) => n.name), ["b", "wrong-key", "gone"], "the snapshot carries the nodes");
});

test("a node that stops answering is down within the deadline, and up again once it answers", async () => {
  const paused = Date.now();
  process.kill(nodeB.proc.pid, "SIGSTOP");
  const down = await statusOf("b", "down", paused);
  assert.match(down.payload.data.node.error, /no answer within 1500 ms/);
  assert.ok(down.at - paused < 5000, `down after ${down.at - paused} ms`);
  const resumed = Date.now();
  process.kill(nodeB.proc.pid, "SIGCONT");
  const up = await statusOf("b", "up", resumed);
  assert.ok(up.payload.data.node.since >= resumed - 1000, "its state's start moved");
});

test("a node's API key is a placeholder to editors, kept by a save, never logged, and bound to its URL", async () => {
  const loaded = await ok(client.socket, "router:init:load", {});
  const shown = loaded.fileConfig.nodes[0].apiKey;
  assert.match(shown, /^\*\*\*[0-9a-f]{12}$/);
  assert.ok(!JSON.stringify(loaded).includes(KEY), "the key is in no part of the reply");

  await ok(client.socket, "router:init:save", { config: loaded.fileConfig, revision: loaded.revision });
  const file = JSON.parse(readFileSync(path.join(front.work, "llama-router.init.json"), "utf8"));
  assert.equal(file.nodes[0].apiKey, KEY, "the placeholder saved back keeps the key");

  const again = await ok(client.socket, "router:init:load", {});
  const moved = structuredClone(again.fileConfig);
  moved.nodes[0].url = "http://127.0.0.1:9";
  const refused = await request(client.socket, "router:init:save", { config: moved, revision: again.revision });
  assert.equal(refused.error?.code, "BAD_REQUEST", JSON.stringify(refused));
  assert.equal(refused.error.field, "config.nodes[0].apiKey", "its placeholder stands for no key at the new URL");
  moved.nodes[0].apiKey = "sk-typed-anew";
  const forbidden = await request(client.socket, "router:init:save", { config: moved, revision: again.revision });
  assert.equal(forbidden.error?.code, "FORBIDDEN", JSON.stringify(forbidden));
  assert.equal(forbidden.error.field, "config.nodes[0].url");

  const { logs } = await ok(client.socket, "logs:get", { search: "sk-", limit: 1000 });
  assert.deepEqual(logs.filter((l) => l.message.includes(KEY)), [], "no log line holds the key");
});

test("the Dashboard's Nodes card shows each node's state and models, and follows a node going down and up", async () => {
  const browser = await launchBrowser();
  try {
    await withBrowserPage(browser, async (page) => {
      await page.goto(`${front.url}/`);
      await waitForText(page, "node-state-b", "up");
      await waitForText(page, "node-state-wrong-key", "unauthorized");
      await waitForText(page, "node-state-gone", "down");
      await waitForText(page, "node-models-b", "none loaded · 1 more");
      await waitForText(page, "node-models-gone", /cannot connect/);
      await waitForText(page, "node-system-b", /^CPU \d+ % · memory .+ \/ .+ · 0 running, 0 queued$/);
      process.kill(nodeB.proc.pid, "SIGSTOP");
      try {
        await waitForText(page, "node-state-b", "down", 8000);
        await screenshot(page, "dashboard-nodes");
      } finally {
        process.kill(nodeB.proc.pid, "SIGCONT");
      }
      await waitForText(page, "node-state-b", "up", 8000);
    });
  } finally {
    await browser.close();
  }
});
