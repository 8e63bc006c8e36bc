// router:init:load shows the effective config with security.adminToken and security.apiKeys redacted as "***";
// no secret leaks through the snapshot, router:init:status or the dashboard's replies.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "./lib/server.mjs";
import { connect, ok } from "./lib/socket.mjs";

const TOKEN = "adm-SECRET-0001";
const KEYS = ["key-SECRET-0002", "key-SECRET-0003"];
let server, client;
before(async () => {
  server = await startServer({ config: { security: { adminToken: TOKEN, apiKeys: KEYS, corsOrigins: ["http://example.test"] } } });
  client = await connect(server.url, { auth: { token: TOKEN } });
});
after(async () => {
  client?.close();
  await server?.stop();
});

test("router:init:load redacts adminToken and apiKeys as ***", async () => {
  const load = await ok(client.socket, "router:init:load", {});
  assert.equal(load.config.security.adminToken, "***");
  const keys = load.config.security.apiKeys;
  assert.ok(keys === "***" || (Array.isArray(keys) && keys.length === KEYS.length && keys.every((k) => k === "***")), `apiKeys: ${JSON.stringify(keys)}`);
  assert.deepEqual(load.config.security.corsOrigins, ["http://example.test"], "non-secret security fields stay visible");
  assert.ok(!JSON.stringify(load).includes("SECRET"), `a secret leaked: ${JSON.stringify(load.config.security)}`);
});

test("no secret in the snapshot, status or settings", async () => {
  const snap = await client.snapshot;
  const status = await ok(client.socket, "router:init:status", {});
  const settings = await ok(client.socket, "settings:get", {});
  for (const [what, v] of [["snapshot", snap], ["router:init:status", status], ["settings:get", settings]]) {
    assert.ok(!JSON.stringify(v).includes("SECRET"), `${what} leaks a secret`);
  }
});
