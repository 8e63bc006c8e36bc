// The llama-router style operator endpoints on our port, with the fake llama-server as an own backend:
// /<model>/health|props|slots pass through to a running backend (503 with its status while stopped, never
// starting it), POST /admin/reload stops every backend, /admin/rescan rescans models.directory (a file added
// and one removed show in its counts, models:updated, models:list and /v1/models); all need the admin token.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { startServer } from "./lib/server.mjs";
import { connect, freePort, ok, until, tempDir, waitFor } from "./lib/socket.mjs";
import { fakeBin } from "./lib/fake-router.mjs";

/** The smallest valid GGUF: magic, version 3, no tensors, no metadata. */
const EMPTY_GGUF = Buffer.concat([Buffer.from("GGUF"), Buffer.from([3, 0, 0, 0]), Buffer.alloc(16)]);

const TOKEN = "admin-token-123";
const bearer = { authorization: `Bearer ${TOKEN}` };
let server, models;

before(async () => {
  models = tempDir("lldash-admin-");
  writeFileSync(path.join(models.dir, "old-model.gguf"), EMPTY_GGUF);
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

test("rescan picks up a GGUF added to and one removed from models.directory, and says so", async (t) => {
  const client = await connect(server.url, { auth: { token: TOKEN } });
  t.after(() => client.close());
  const v1Ids = async () => (await (await fetch(`${server.url}/v1/models`)).json()).data.map((m) => m.id).sort();
  assert.deepEqual(await v1Ids(), ["fake-a", "old-model"], "the file there at start and the backend");

  rmSync(path.join(models.dir, "old-model.gguf"));
  writeFileSync(path.join(models.dir, "new-model.gguf"), EMPTY_GGUF);
  const updated = waitFor(client.socket, "models:updated", { filter: (m) => m.data.models.some((x) => x.id === "new-model") });
  const res = await fetch(`${server.url}/admin/rescan`, { method: "POST", headers: bearer });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { success: true, added: 1, removed: 1, total: 2 });

  const pushed = (await updated).data.models;
  assert.deepEqual(pushed.map((m) => m.id).sort(), ["fake-a", "new-model"], "dashboards are told at once");
  const added = pushed.find((m) => m.id === "new-model");
  assert.equal(added.path, path.join(models.dir, "new-model.gguf"));
  assert.equal(added.status, "unloaded");
  assert.deepEqual(await v1Ids(), ["fake-a", "new-model"], "/v1/models follows");
  assert.deepEqual((await ok(client.socket, "models:list", {})).models.map((m) => m.id).sort(), ["fake-a", "new-model"]);

  const again = await fetch(`${server.url}/admin/rescan`, { method: "POST", headers: bearer });
  assert.deepEqual(await again.json(), { success: true, added: 0, removed: 0, total: 2 }, "nothing changed since");
});
