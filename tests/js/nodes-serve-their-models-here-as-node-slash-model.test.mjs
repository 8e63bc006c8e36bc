// A node's models are served through this server as `node/model`: listed in /v1/models with the node
// they run on, answered by the node (a real llama-dashboard with the real SmolLM2 in its own backend,
// behind its own API key) whole and streamed, with X-Llama-Dashboard-Node naming it; the request is in
// both servers' histories. A node that is down, or a model it does not have, gets a clear error here.
// llama.cpp's and Ollama's lists show node/model too, and the Models page unloads and loads it on the node.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { linkSync, copyFileSync } from "node:fs";
import path from "node:path";
import { startServer } from "./lib/server.mjs";
import { connect, ok, freePort, tempDir, until } from "./lib/socket.mjs";
import { needReal, llamaServer, realModel } from "./lib/real.mjs";
import { launchBrowser, withBrowserPage, waitForText, byTestId, screenshot } from "./lib/browser.mjs";

const skip = needReal();
const KEY = "sk-node-b-4d2";
let files, nodeB, front, client, clientB;

before(async () => {
  if (skip) return;
  files = tempDir("lldash-node-b-");
  const file = path.join(files.dir, "smol.gguf");
  try { linkSync(realModel, file); } catch { copyFileSync(realModel, file); }
  nodeB = await startServer({
    config: {
      router: { enabled: false, port: await freePort() }, startup: { autoStart: false },
      models: { directory: path.join(files.dir, "none") },
      security: { apiKeys: [KEY] },
      backends: {
        basePort: await freePort(), idleTimeoutSec: 0, defaultSpawn: { command: ["llama-server", "-c", "512"] },
        models: [{ name: "smol", path: file }],
      },
    },
    env: { LLAMA_SERVER_BIN: llamaServer },
  });
  front = await startServer({
    config: {
      startup: { autoStart: false },
      nodes: [{ name: "b", url: nodeB.url, apiKey: KEY }, { name: "gone", url: `http://127.0.0.1:${await freePort()}` }],
    },
  });
  client = await connect(front.url);
  clientB = await connect(nodeB.url);
  await until(async () => (await ok(client.socket, "nodes:list", {})).nodes[0].state === "up", { what: "node b up" });
});
after(async () => {
  client?.close();
  clientB?.close();
  await front?.stop();
  await nodeB?.stop();
  files?.cleanup();
});

const chat = (model, extra = {}) => fetch(`${front.url}/v1/chat/completions`, {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ model, messages: [{ role: "user", content: "Say hello." }], max_tokens: 8, ...extra }),
});

test("/v1/models lists the node's models as node/model, with the node", { skip }, async () => {
  const { data } = await (await fetch(`${front.url}/v1/models`)).json();
  const remote = data.find((m) => m.id === "b/smol");
  assert.ok(remote, JSON.stringify(data.map((m) => m.id)));
  assert.equal(remote.owned_by, "b");
  assert.equal(remote.node, "b");
  assert.ok(["loaded", "unloaded"].includes(remote.status.value), JSON.stringify(remote.status));
  assert.ok(!data.some((m) => m.id.startsWith("gone/")), "a node that is down lists nothing");
});

test("node/model is answered by the node, whole and streamed, and named in X-Llama-Dashboard-Node", { skip }, async () => {
  const res = await chat("b/smol");
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal(res.headers.get("x-llama-dashboard-node"), "b");
  const body = await res.json();
  assert.ok(body.choices[0].message.content.length > 0, JSON.stringify(body));
  assert.ok(body.usage.completion_tokens > 0);

  const streamed = await chat("b/smol", { stream: true });
  assert.equal(streamed.status, 200);
  assert.equal(streamed.headers.get("x-llama-dashboard-node"), "b");
  assert.match(streamed.headers.get("content-type"), /text\/event-stream/);
  assert.match(await streamed.text(), /data: \[DONE\]/);
});

test("the request is in the front's history as node/model and in the node's as its own model", { skip }, async () => {
  const here = await until(async () => {
    const { requests } = await ok(client.socket, "requests:list", { model: "b/smol" });
    return requests.length >= 2 && requests;
  }, { what: "the front's rows" });
  assert.ok(here.every((r) => r.statusCode === 200 && r.outcome === "ok" && r.node === "b"), JSON.stringify(here));
  assert.ok(here.some((r) => r.completionTokens > 0), "token counts recorded here too");
  const there = await until(async () => {
    const { requests } = await ok(clientB.socket, "requests:list", { model: "smol" });
    return requests.length >= 2 && requests;
  }, { what: "the node's rows" });
  assert.ok(there.every((r) => r.statusCode === 200 && r.node === null), "the node served them itself");
});

test("a node that is down, or a model it does not have, gets a clear error here", { skip }, async () => {
  const down = await chat("gone/smol");
  assert.equal(down.status, 502);
  const err = (await down.json()).error;
  assert.equal(err.code, "upstream_error");
  assert.match(err.message, /node 'gone' is down: cannot connect/);
  const missing = await chat("b/no-such-model");
  assert.equal(missing.status, 404);
  assert.match((await missing.json()).error.message, /b\/no-such-model/);
});

test("llama.cpp's /models and Ollama's /api/tags list node/model too, and Ollama's chat reaches the node", { skip }, async () => {
  const llamacpp = await (await fetch(`${front.url}/models`)).json();
  assert.ok(llamacpp.data.some((m) => m.id === "b/smol" && m.node === "b"), JSON.stringify(llamacpp.data.map((m) => m.id)));
  const tags = await (await fetch(`${front.url}/api/tags`)).json();
  assert.ok(tags.models.some((m) => m.name === "b/smol"), JSON.stringify(tags.models.map((m) => m.name)));
  const res = await fetch(`${front.url}/api/chat`, {
    method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "b/smol:latest", messages: [{ role: "user", content: "Say hi." }], stream: false, options: { num_predict: 4 } }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal(res.headers.get("x-llama-dashboard-node"), "b");
  const body = await res.json();
  assert.equal(body.done, true);
  assert.ok(body.message.content.length > 0, JSON.stringify(body));
});

test("the Models page lists the node's model and unloads and loads it on the node", { skip }, async () => {
  const browser = await launchBrowser();
  try {
    await withBrowserPage(browser, async (page) => {
      await page.goto(`${front.url}/models`);
      const status = "node-model-status-b/smol";
      await waitForText(page, status, "loaded", 15000);
      await page.click(byTestId("node-unload-b/smol"));
      await waitForText(page, status, "unloaded", 15000);
      const there = (await ok(clientB.socket, "models:get", { id: "smol" })).model.status;
      assert.equal(there, "unloaded", "unloaded on the node itself");
      await page.click(byTestId("node-load-b/smol"));
      await waitForText(page, status, "loaded", 30000);
      await waitForText(page, "node-model-ttl-b/smol", "never", 5000); // the node's idleTimeoutSec is 0
      await waitForText(page, "node-model-memory-b/smol", /^\d+(\.\d)? MiB$/, 5000); // its llama-server's memory there
      assert.equal((await ok(clientB.socket, "models:get", { id: "smol" })).model.status, "loaded");
      await screenshot(page, "models-node-models");
      await page.goto(`${front.url}/requests`);
      await waitForText(page, "request-node", "node b", 10000);
    });
  } finally {
    await browser.close();
  }
});
