// README (Security defaults) and SECURITY.md ("On a LAN"): binding beyond loopback needs the admin token, and
// without `security.apiKeys` we log a warning that /v1 is open. The warning is written before the "ready" line,
// so once "ready" is stored its absence is final.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "./lib/server.mjs";
import { connect, ok, until } from "./lib/socket.mjs";

const TOKEN = "lan-admin-token-0d9f";
const WARNING = "security.apiKeys is empty: /v1 is open to anyone who can reach this address (the admin token guards only the dashboard)";

async function boot(t, { host, apiKeys }) {
  const server = await startServer({
    host,
    config: { security: { adminToken: TOKEN, apiKeys }, startup: { autoStart: false } },
  });
  t.after(() => server.stop());
  const url = server.url.replace("0.0.0.0", "127.0.0.1"); // we only talk over loopback
  const client = await connect(url, { auth: { token: TOKEN } });
  t.after(() => client.close());
  const logs = await until(async () => {
    const { logs: rows } = await ok(client.socket, "logs:get", { limit: 1000 });
    return rows.some((l) => l.message.startsWith("ready")) && rows;
  }, { timeoutMs: 10000, what: "the ready line to be stored" });
  return { server, url, logs, warned: logs.filter((l) => l.message.includes(WARNING)) };
}

test("0.0.0.0 without API keys: the warning is logged (stored and on stderr) and /v1 indeed answers without a key", async (t) => {
  const { server, url, warned } = await boot(t, { host: "0.0.0.0", apiKeys: [] });
  assert.equal(warned.length, 1, "one warning in logs:get");
  assert.equal(warned[0].level, "warn");
  assert.match(warned[0].message, /host=0\.0\.0\.0/);
  assert.match(server.output(), new RegExp(`WARN .*${WARNING.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
  assert.equal((await fetch(`${url}/v1/models`)).status, 200, "what the warning says: /v1 is open");
});

test("0.0.0.0 with API keys: no warning, and /v1 wants a key", async (t) => {
  const { server, url, warned } = await boot(t, { host: "0.0.0.0", apiKeys: ["sk-lan-key-5c31"] });
  assert.deepEqual(warned, []);
  assert.ok(!server.output().includes("/v1 is open"), server.output());
  assert.equal((await fetch(`${url}/v1/models`)).status, 401);
});

test("loopback without API keys: no warning", async (t) => {
  const { server, warned } = await boot(t, { host: "127.0.0.1", apiKeys: [] });
  assert.deepEqual(warned, []);
  assert.ok(!server.output().includes("/v1 is open"), server.output());
});
