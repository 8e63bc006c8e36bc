// The llama-router style operator endpoints on our port, with the fake llama-server as an own backend:
// /<model>/health|props|slots pass through to a running backend (503 with its status while stopped, never
// starting it), POST /admin/reload stops every backend, /admin/rescan rescans; all need the admin token.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "./lib/server.mjs";
import { freePort, until, tempDir } from "./lib/socket.mjs";
import { fakeBin } from "./lib/fake-router.mjs";

const TOKEN = "admin-token-123";
const bearer = { authorization: `Bearer ${TOKEN}` };
let server, models;

before(async () => {
  models = tempDir("lldash-admin-");
  server = await startServer({
    config: {
      models: { directory: models.dir },
      startup: { autoStart: false },
      security: { adminToken: TOKEN },
      backends: {
        basePort: await freePort(),
        defaultSpawn: { command: ["node", fakeBin] },
        models: [{ name: "fake-a", path: "/models/fake-a.gguf", aliases: ["fa"] }],
      },
    },
    env: { FAKE_LOAD_MS: "20", FAKE_TOKENS: "2", FAKE_TOKEN_MS: "1" },
  });
});

after(async () => {
  await server?.stop();
  models?.cleanup();
});

const health = (headers = bearer) => fetch(`${server.url}/fake-a/health`, { headers });

test("without the admin token every operator endpoint answers 401", async () => {
  for (const [method, path] of [["GET", "/fake-a/health"], ["GET", "/fa/slots"], ["POST", "/admin/reload"], ["POST", "/admin/rescan"]]) {
    const res = await fetch(`${server.url}${path}`, { method });
    assert.equal(res.status, 401, `${method} ${path}`);
    assert.equal((await res.json()).error.code, "unauthorized");
    const wrong = await fetch(`${server.url}${path}`, { method, headers: { "x-admin-token": "nope-nope" } });
    assert.equal(wrong.status, 401, `${method} ${path} with a wrong token`);
  }
});

test("the endpoints that change state answer POST only, so no link or image tag can trigger them", async () => {
  for (const path of ["/admin/reload", "/admin/rescan"]) {
    const res = await fetch(`${server.url}${path}`, { headers: bearer });
    assert.equal(res.status, 405, `GET ${path}`);
  }
});

test("a stopped backend's health is 503 with its status, and asking does not start it", async () => {
  const res = await health();
  assert.equal(res.status, 503);
  assert.deepEqual(await res.json(), { status: "unloaded", model: "fake-a" });
  assert.equal((await health()).status, 503, "still stopped");
  const unknown = await fetch(`${server.url}/no-such-model/props`, { headers: bearer });
  assert.equal(unknown.status, 404);
});

test("a running backend's health, props and slots pass through; reload stops it", async () => {
  const chat = await fetch(`${server.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "fake-a", messages: [{ role: "user", content: "hi" }] }),
  });
  assert.equal(chat.status, 200, await chat.clone().text());
  await chat.json();
  const up = await health({ "x-admin-token": TOKEN });
  assert.equal(up.status, 200);
  assert.equal((await up.json()).status, "ok");
  const props = await fetch(`${server.url}/fa/props`, { headers: bearer });
  assert.equal(props.status, 200, "an alias reaches the same backend");

  const reload = await fetch(`${server.url}/admin/reload`, { method: "POST", headers: bearer });
  assert.equal(reload.status, 200);
  assert.deepEqual(await reload.json(), { success: true, stopping: ["fake-a"] });
  await until(async () => (await health()).status === 503, { timeoutMs: 10000, what: "the backend to stop" });
});

test("rescan answers with the catalog's counts", async () => {
  const res = await fetch(`${server.url}/admin/rescan`, { method: "POST", headers: bearer });
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.success, true);
  assert.equal(body.total, 1, JSON.stringify(body));
});
