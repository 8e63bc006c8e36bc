// router:init:load shows security.adminToken and each of security.apiKeys as a placeholder: "***" and 12
// hex digits, one per secret, the same in `config` and `fileConfig` and on every load while the server runs.
// A placeholder sent back stands for exactly its secret (check and save keep it); a string starting with
// "***" that stands for no stored secret is refused at its key; no secret leaks through the snapshot,
// router:init:status or the dashboard's replies.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { startServer } from "./lib/server.mjs";
import { connect, ok, request } from "./lib/socket.mjs";

const TOKEN = "adm-SECRET-0001";
const KEYS = ["key-SECRET-0002", "key-SECRET-0003"];
const PLACEHOLDER = /^\*\*\*[0-9a-f]{12}$/;
let server, client, file;
before(async () => {
  server = await startServer({
    config: { startup: { autoStart: false }, security: { adminToken: TOKEN, apiKeys: KEYS, corsOrigins: ["http://example.test"] } },
  });
  file = path.join(server.work, "llama-router.init.json");
  client = await connect(server.url, { auth: { token: TOKEN } });
});
after(async () => {
  client?.close();
  await server?.stop();
});

test("router:init:load shows each secret as its own stable placeholder", async () => {
  const load = await ok(client.socket, "router:init:load", {});
  const { adminToken, apiKeys } = load.config.security;
  assert.match(adminToken, PLACEHOLDER);
  assert.equal(apiKeys.length, KEYS.length);
  for (const key of apiKeys) assert.match(key, PLACEHOLDER);
  assert.equal(new Set([adminToken, ...apiKeys]).size, 3, `one placeholder per secret: ${JSON.stringify(load.config.security)}`);
  assert.deepEqual(load.fileConfig.security.apiKeys, apiKeys, "the same placeholders in fileConfig");
  assert.equal(load.fileConfig.security.adminToken, adminToken);
  assert.deepEqual(load.config.security.corsOrigins, ["http://example.test"], "non-secret security fields stay visible");
  assert.ok(!JSON.stringify(load).includes("SECRET"), `a secret leaked: ${JSON.stringify(load.config.security)}`);
  const again = await ok(client.socket, "router:init:load", {});
  assert.deepEqual(again.config.security, load.config.security, "stable while the server runs");
});

test("placeholders sent back keep their secrets; one that stands for none is refused at its key", async () => {
  const { fileConfig } = await ok(client.socket, "router:init:load", {});
  const checked = await ok(client.socket, "router:init:validate", { config: fileConfig });
  assert.equal(checked.valid, true, JSON.stringify(checked.errors));

  const forged = structuredClone(fileConfig);
  forged.security.apiKeys = [fileConfig.security.apiKeys[0], "***"];
  const bad = await ok(client.socket, "router:init:validate", { config: forged });
  assert.equal(bad.valid, false);
  assert.deepEqual(bad.errors.map((e) => e.path), ["security.apiKeys[1]"]);
  const before = readFileSync(file, "utf8");
  const refused = await request(client.socket, "router:init:save", { config: forged });
  assert.equal(refused.success, false);
  assert.equal(refused.error.code, "BAD_REQUEST");
  assert.equal(refused.error.field, "config.security.apiKeys[1]");
  assert.equal(readFileSync(file, "utf8"), before, "nothing was written");
  const fakeToken = structuredClone(fileConfig);
  fakeToken.security.adminToken = "***000000000000";
  const badToken = await ok(client.socket, "router:init:validate", { config: fakeToken });
  assert.deepEqual(badToken.errors.map((e) => e.path), ["security.adminToken"]);

  // The second key's placeholder left out: that key alone is gone; the token is kept (this socket stays).
  const revoke = structuredClone(fileConfig);
  revoke.security.apiKeys = [fileConfig.security.apiKeys[0]];
  const saved = await ok(client.socket, "router:init:save", { config: revoke });
  assert.deepEqual(saved.config.security.apiKeys, [fileConfig.security.apiKeys[0]], "the reply shows the placeholder again");
  assert.ok(!JSON.stringify(saved).includes("SECRET"), "no secret in the save's reply");
  const written = JSON.parse(readFileSync(file, "utf8")).security;
  assert.equal(written.adminToken, TOKEN);
  assert.deepEqual(written.apiKeys, [KEYS[0]]);
  assert.ok(client.socket.connected, "the token did not change: the socket stays connected");
});

test("no secret in the snapshot, status or settings", async () => {
  const snap = await client.snapshot;
  const status = await ok(client.socket, "router:init:status", {});
  const settings = await ok(client.socket, "settings:get", {});
  for (const [what, v] of [["snapshot", snap], ["router:init:status", status], ["settings:get", settings]]) {
    assert.ok(!JSON.stringify(v).includes("SECRET"), `${what} leaks a secret`);
  }
});
