// Secrets are never logged (README, Security defaults): the admin token, the API keys and the key each
// llama-server we start gets in its environment (LLAMA_API_KEY) appear in no stored log row, not in the
// log file and not on stderr (as text or hex), with RUST_LOG=trace (the trace lines of the crates that print whole
// frames and headers are dropped whatever RUST_LOG says) and llama-server's
// --verbose output relayed, after the situations that log: failed and good socket and /admin auth, /v1 with
// a wrong and a right key, a real router and an own backend starting and answering, config validation and
// saves (a new API key, a new admin token).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { startServer } from "./lib/server.mjs";
import { connect, connectExpectingError, ok, request, until, freePort, tempDir } from "./lib/socket.mjs";
import { needReal, llamaServer, modelsDir, keyHeaders } from "./lib/real.mjs";
import { pidsUnder } from "./lib/backends.mjs";

const skip = needReal();
const ADMIN = "admin-TOKEN-s3cr3t-4f1c9a";
const NEW_ADMIN = "admin-TOKEN-n3w-7d2e55";
const API_KEY = "sk-APIKEY-s3cr3t-82b0e1";
const NEW_API_KEY = "sk-APIKEY-n3w-c4d913";
let server, models, own, logFile, admin;
const processKeys = [];

before(async () => {
  if (skip) return;
  models = modelsDir("smol");
  own = modelsDir("own-smol");
  logFile = path.join(models.dir, "ours.log");
  server = await startServer({
    config: {
      router: { port: await freePort() },
      models: { directory: models.dir, idleTimeoutSec: 0 },
      logging: { enableDebugOutput: true, logFile },
      startup: { retryAttempts: 0 },
      security: { adminToken: ADMIN, apiKeys: [API_KEY] },
      backends: {
        basePort: await freePort(),
        defaultSpawn: { command: ["llama-server", "-c", "512"] },
        models: [{ name: "own-smol", path: path.join(own.dir, "own-smol.gguf") }],
      },
    },
    env: { LLAMA_SERVER_BIN: llamaServer, RUST_LOG: "trace" },
  });
  admin = await connect(server.url, { auth: { token: ADMIN } });
  await until(async () => (await ok(admin.socket, "router:status", {})).running, { timeoutMs: 30000, what: "the router running" });
});

after(async () => {
  admin?.close();
  await server?.stop();
  models?.cleanup();
  own?.cleanup();
});

const v1 = (p, headers = {}, body) => fetch(`${server.url}/v1${p}`, {
  method: body ? "POST" : "GET",
  headers: { "content-type": "application/json", ...headers },
  body: body && JSON.stringify(body),
});
const chat = (model, headers) => v1("/chat/completions", headers, { model, max_tokens: 3, messages: [{ role: "user", content: "Hi" }] });

test("every situation that logs around a secret", { skip }, async () => {
  // Sockets and /admin: a wrong token, then the right one (both header forms).
  const refused = await connectExpectingError(server.url, { auth: { token: `${ADMIN}-wrong` } });
  assert.match(refused.message, /unauthorized/);
  await connectExpectingError(server.url, {});
  const post = (headers) => fetch(`${server.url}/admin/reload`, { method: "POST", headers });
  assert.equal((await post({ authorization: "Bearer not-the-token" })).status, 401);
  assert.equal((await post({ authorization: `Bearer ${ADMIN}` })).status, 200);
  assert.equal((await post({ "x-admin-token": ADMIN })).status, 200);

  // /v1: a wrong key, then the right one, through the router and through an own backend.
  assert.equal((await chat("smol", { authorization: `Bearer ${API_KEY}x` })).status, 401);
  assert.equal((await chat("smol", { "x-api-key": "sk-wrong" })).status, 401);
  assert.equal((await chat("smol", { authorization: `Bearer ${API_KEY}` })).status, 200);
  assert.equal((await chat("own-smol", { "x-api-key": API_KEY })).status, 200);

  // The keys the router and the backend were given (read from their environment).
  const router = await ok(admin.socket, "router:status", {});
  processKeys.push(keyHeaders(router.pid).authorization.slice("Bearer ".length));
  const [backend] = pidsUnder(own.dir);
  assert.ok(backend, "the own backend runs");
  processKeys.push(keyHeaders(backend.pid).authorization.slice("Bearer ".length));

  // Config: validate and save with a new API key (the router restarts: its argv is logged), then a new admin token.
  const { fileConfig } = await ok(admin.socket, "router:init:load", {});
  const withKey = { ...fileConfig, security: { ...fileConfig.security, apiKeys: [...fileConfig.security.apiKeys, NEW_API_KEY] } };
  assert.equal((await ok(admin.socket, "router:init:validate", { config: withKey })).valid, true);
  const bad = { ...withKey, security: { ...withKey.security, adminToken: "short" } };
  assert.equal((await request(admin.socket, "router:init:save", { config: bad })).success, false);
  const saved = await ok(admin.socket, "router:init:save", { config: { ...withKey, performance: { ...withKey.performance, batchSize: 256 } } });
  assert.equal(saved.routerRestarted, true, JSON.stringify(saved));
  assert.equal((await chat("smol", { authorization: `Bearer ${NEW_API_KEY}` })).status, 200);
  const restarted = await ok(admin.socket, "router:status", {});
  processKeys.push(keyHeaders(restarted.pid).authorization.slice("Bearer ".length));

  const closed = new Promise((resolve) => admin.socket.once("disconnect", resolve));
  const current = (await ok(admin.socket, "router:init:load", {})).fileConfig;
  await ok(admin.socket, "router:init:save", { config: { ...current, security: { ...current.security, adminToken: NEW_ADMIN } } });
  await closed;
  admin = await connect(server.url, { auth: { token: NEW_ADMIN } });
});

test("no secret is in any stored log row, the log file or stderr", { skip }, async () => {
  const secrets = [ADMIN, NEW_ADMIN, API_KEY, NEW_API_KEY, ...processKeys];
  assert.equal(processKeys.length, 3, "the keys of the router (twice) and the backend were read");
  // Lines are stored by a writer in batches: the last line of the previous test (the session drop) marks the end.
  await until(async () => (await ok(admin.socket, "logs:get", { search: "admin token changed" })).logs.length > 0,
    { timeoutMs: 10000, what: "the admin token change in the log" });
  const rows = [];
  for (let before; ;) {
    const page = await ok(admin.socket, "logs:get", { level: "trace", limit: 1000, ...(before ? { before } : {}) });
    rows.push(...page.logs);
    if (!page.hasMore) break;
    before = page.logs.at(-1).id;
  }
  // The situations above were logged (otherwise this test would prove nothing).
  const text = rows.map((r) => `${r.level} ${r.source} ${r.model ?? ""} ${r.message}`).join("\n");
  for (const seen of [/starting llama-server router/, /init file saved/, /admin reload/, /the admin token changed/]) assert.match(text, seen);
  assert.ok(rows.some((r) => r.source === "llama_server" && r.model === "own-smol"), "the backend's own output is relayed");
  const places = { "stored log rows": text, "the log file": readFileSync(logFile, "utf8"), stderr: server.output() };
  for (const where of ["the log file", "stderr"]) assert.match(places[where], /DEBUG (hyper|h2|reqwest|tungstenite|tokio_tungstenite)/, `${where} has other crates' debug lines`);
  for (const [where, content] of Object.entries(places)) {
    for (const secret of secrets) {
      const hex = Buffer.from(secret.slice(4, -4)).toString("hex");
      assert.equal(content.toLowerCase().indexOf(hex), -1, `a secret (${secret.slice(0, 6)}...) is in ${where} in hex`);
      const at = content.indexOf(secret.slice(4, -4));
      assert.equal(at, -1, `a secret (${secret.slice(0, 6)}...) is in ${where}: ...${content.slice(Math.max(0, at - 200), at + 100)}...`);
    }
  }
});
