// The admin token and the API keys behave like credentials: a changed token ends the sessions admitted
// under the old one, a token cannot be removed while we listen beyond loopback, and API keys shown as
// placeholders are restored by identity (deleting one revokes exactly that one; a placeholder that stands
// for nothing is an error, so "Bearer ***" never becomes valid).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { startServer } from "./lib/server.mjs";
import { connect, connectExpectingError, ok, request, freePort, waitFor } from "./lib/socket.mjs";

const OLD = "the-old-admin-token";
const NEW = "the-new-admin-token";

async function serverWith(security, opts = {}) {
  return startServer({
    config: { router: { enabled: false, port: await freePort() }, startup: { autoStart: false }, security },
    ...opts,
  });
}

const rescan = (server, token) =>
  fetch(`${server.url}/admin/rescan`, { method: "POST", headers: { authorization: `Bearer ${token}` } });
const models = (server, key) => fetch(`${server.url}/v1/models`, { headers: key === undefined ? {} : { authorization: `Bearer ${key}` } });

test("changing the admin token disconnects every socket admitted under the old one", async () => {
  const server = await serverWith({ adminToken: OLD });
  const a = await connect(server.url, { auth: { token: OLD } });
  const b = await connect(server.url, { auth: { token: OLD }, transports: ["polling"] });
  try {
    const aGone = waitFor(a.socket, "disconnect");
    const bGone = waitFor(b.socket, "disconnect");
    const { fileConfig } = await ok(a.socket, "router:init:load", {});
    fileConfig.security.adminToken = NEW;
    const saved = await ok(a.socket, "router:init:save", { config: fileConfig });
    assert.match(saved.config.security.adminToken, /^\*\*\*[0-9a-f]{12}$/, "the reply shows the new token redacted");
    assert.equal(await aGone, "io server disconnect", "the saving socket got its reply, then was disconnected");
    assert.equal(await bGone, "io server disconnect");
    const refused = await connectExpectingError(server.url, { auth: { token: OLD } });
    assert.match(refused.message, /unauthorized: wrong admin token/);
    const fresh = await connect(server.url, { auth: { token: NEW } });
    fresh.close();
    assert.equal((await rescan(server, OLD)).status, 401, "the old token no longer opens /admin");
    assert.equal((await rescan(server, NEW)).status, 200);
    assert.equal(JSON.parse(readFileSync(path.join(server.work, "llama-router.init.json"), "utf8")).security.adminToken, NEW);
  } finally {
    a.close();
    b.close();
    await server.stop();
  }
});

test("removing the admin token is refused while the server listens beyond loopback", async () => {
  const server = await serverWith({ adminToken: OLD }, { host: "0.0.0.0" });
  const client = await connect(server.url.replace("0.0.0.0", "127.0.0.1"), { auth: { token: OLD } });
  try {
    const file = path.join(server.work, "llama-router.init.json");
    const before = readFileSync(file, "utf8");
    const { fileConfig } = await ok(client.socket, "router:init:load", {});
    fileConfig.security.adminToken = null;
    const reply = await request(client.socket, "router:init:save", { config: fileConfig });
    assert.equal(reply.error?.code, "FORBIDDEN", JSON.stringify(reply));
    assert.equal(reply.error.field, "config.security.adminToken");
    assert.match(reply.error.message, /0\.0\.0\.0/);
    assert.equal(readFileSync(file, "utf8"), before, "nothing written");
    assert.equal(client.socket.connected, true, "the session stays: nothing changed");
  } finally {
    client.close();
    await server.stop();
  }
});

test("API keys are restored by identity: deleting one revokes exactly that key, and placeholders are never keys", async () => {
  const keys = ["sk-first-key", "sk-second-key", "sk-third-key"];
  const server = await serverWith({ apiKeys: keys });
  const client = await connect(server.url);
  try {
    for (const key of keys) assert.equal((await models(server, key)).status, 200, key);
    const { fileConfig } = await ok(client.socket, "router:init:load", {});
    const shown = fileConfig.security.apiKeys;
    assert.equal(new Set(shown).size, 3, `each key has its own placeholder: ${shown}`);
    for (const p of shown) assert.match(p, /^\*\*\*[0-9a-f]{12}$/);
    assert.ok(!JSON.stringify(fileConfig).includes("sk-"), "no key reaches the client");

    fileConfig.security.apiKeys = [shown[2], shown[0]];
    await ok(client.socket, "router:init:save", { config: fileConfig });
    assert.equal((await models(server, "sk-second-key")).status, 401, "the deleted key is revoked");
    assert.equal((await models(server, "sk-first-key")).status, 200);
    assert.equal((await models(server, "sk-third-key")).status, 200);

    for (const forged of [["***"], [shown[1]], ["***000000000000"]]) {
      const reply = await request(client.socket, "router:init:save", { config: { ...fileConfig, security: { apiKeys: forged } } });
      assert.equal(reply.error?.code, "BAD_REQUEST", JSON.stringify(forged));
      assert.equal(reply.error.field, "config.security.apiKeys[0]");
    }
    for (const forged of ["***", shown[0], shown[1]]) {
      assert.equal((await models(server, forged)).status, 401, `Bearer ${forged}`);
    }
    const token = await request(client.socket, "router:init:save", { config: { ...fileConfig, security: { adminToken: "***" } } });
    assert.equal(token.error?.field, "config.security.adminToken", "a token placeholder that stands for nothing");
    const validated = await ok(client.socket, "router:init:validate", { config: { security: { apiKeys: ["***"] } } });
    assert.equal(validated.valid, false);
    assert.equal(validated.errors[0].path, "security.apiKeys[0]");
  } finally {
    client.close();
    await server.stop();
  }
});
