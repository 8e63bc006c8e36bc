// The error codes a user meets when the server cannot do what was asked: INTERNAL when a file cannot be
// read or written (here models.presetsFile pointing at a directory, a plausible slip), with the path and the
// OS reason, the server serving on; UNAUTHORIZED (HTTP 401 `unauthorized`) from /admin without the right
// admin token, saying which. (NOT_FOUND arises only on /v1, for a path outside a backend's proxyEndpoints:
// see backends-forward-only-their-proxy-endpoints; no socket event answers NOT_FOUND or UNAUTHORIZED, a
// socket without the token being refused at connect: see admin-token-guards-the-socket.)
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, writeFileSync } from "node:fs";
import { startServer } from "./lib/server.mjs";
import { connect, request, assertResponse, tempDir } from "./lib/socket.mjs";

const TOKEN = "errors-admin-token-42";
let models, server, client;

before(async () => {
  models = tempDir("lldash-errors-");
  writeFileSync(`${models.dir}/notes.txt`, "not a model\n");
  server = await startServer({
    config: {
      models: { directory: models.dir, presetsFile: models.dir },
      startup: { autoStart: false },
      security: { adminToken: TOKEN },
    },
  });
  client = await connect(server.url, { auth: { token: TOKEN } });
});
after(async () => {
  client?.close();
  await server?.stop();
  models?.cleanup();
});

test("presets:get of a presets file that is a directory: INTERNAL naming the path and the reason", async () => {
  const reply = await request(client.socket, "presets:get", { requestId: "g-1" });
  assertResponse(reply, "presets:get", { success: false, requestId: "g-1" });
  assert.equal(reply.error.code, "INTERNAL");
  assert.equal(reply.error.message, `cannot read ${models.dir}: Is a directory (os error 21)`);
});

test("presets:save to it: INTERNAL, nothing written, and the server keeps serving", async () => {
  const reply = await request(client.socket, "presets:save", { content: "[a]\nctx-size = 512\n", requestId: "s-1" });
  assertResponse(reply, "presets:save", { success: false, requestId: "s-1" });
  assert.equal(reply.error.code, "INTERNAL");
  assert.match(reply.error.message, new RegExp(`^cannot write ${models.dir}: .*\\(os error 21\\)$`));
  assert.deepEqual(readdirSync(models.dir), ["notes.txt"], "no temporary or backup file left behind");
  const status = await request(client.socket, "router:status", {});
  assertResponse(status, "router:status", { success: true });
  assert.equal(status.data.state, "stopped", "nothing was restarted");
  assert.equal((await fetch(`${server.url}/health`)).status, 200);
});

test("/admin without the admin token: 401 unauthorized saying how to send it", async () => {
  const res = await fetch(`${server.url}/admin/rescan`, { method: "POST" });
  assert.equal(res.status, 401);
  const { error } = await res.json();
  assert.equal(error.code, "unauthorized");
  assert.equal(error.type, "authentication_error");
  assert.equal(error.message, "admin token required: 'Authorization: Bearer <token>' or 'X-Admin-Token: <token>'");
});

test("/admin with a wrong admin token: 401 unauthorized 'wrong admin token'; the right one passes", async () => {
  const wrong = await fetch(`${server.url}/admin/rescan`, { method: "POST", headers: { "x-admin-token": `${TOKEN}x` } });
  assert.equal(wrong.status, 401);
  const { error } = await wrong.json();
  assert.deepEqual([error.code, error.message], ["unauthorized", "wrong admin token"]);
  const right = await fetch(`${server.url}/admin/rescan`, { method: "POST", headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(right.status, 200, await right.text());
});
