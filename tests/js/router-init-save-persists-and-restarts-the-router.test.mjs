// Editing the init file over Socket.IO: a bad config changes nothing; a good one is saved with a backup
// and the real router restarts with the new argv while the dashboard stays up.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, existsSync } from "node:fs";
import path from "node:path";
import { startServer } from "./lib/server.mjs";
import { connect, ok, request, freePort, until, tempDir } from "./lib/socket.mjs";
import { needReal, llamaServer, keyHeaders } from "./lib/real.mjs";

const skip = needReal({ model: false });
const models = tempDir("lldash-save-");
let server, client, file, routerPort;

before(async () => {
  if (skip) return;
  routerPort = await freePort();
  server = await startServer({
    config: { router: { port: routerPort }, models: { directory: models.dir, maxLoaded: 2 }, startup: { autoStart: true, timeout: 20000 } },
    env: { LLAMA_SERVER_BIN: llamaServer },
  });
  file = path.join(server.work, "llama-router.init.json");
  client = await connect(server.url);
  await until(async () => (await ok(client.socket, "router:status", {})).running, { timeoutMs: 30000, what: "router running" });
});
after(async () => {
  client?.close();
  await server?.stop();
  models.cleanup();
});

test("an invalid config is refused with the field named and nothing is written", { skip }, async () => {
  const before = readFileSync(file, "utf8");
  const { config } = await ok(client.socket, "router:init:load", {});
  const reply = await request(client.socket, "router:init:save", { config: { ...config, performance: { ...config.performance, contextSize: 64 } } });
  assert.equal(reply.success, false);
  assert.equal(reply.error.code, "BAD_REQUEST");
  assert.equal(reply.error.field, "config.performance.contextSize");
  assert.equal(readFileSync(file, "utf8"), before);
  assert.equal(existsSync(`${file}.bak`), false);
});

test("a valid config is saved with a backup and the router restarts with the new argv", { skip }, async () => {
  const original = readFileSync(file, "utf8");
  const oldPid = (await ok(client.socket, "router:status", {})).pid;
  const { config } = await ok(client.socket, "router:init:load", {});
  const next = { ...config, models: { ...config.models, maxLoaded: 3 }, performance: { ...config.performance, contextSize: 1024 } };
  const saved = await ok(client.socket, "router:init:save", { config: next });
  assert.equal(saved.routerRestarted, true);
  assert.deepEqual(saved.requiresRestart, []);
  assert.equal(readFileSync(saved.backup, "utf8"), original);
  assert.equal(JSON.parse(readFileSync(file, "utf8")).models.maxLoaded, 3);
  const argv = saved.args.join(" ");
  assert.match(argv, /--models-max 3 /);
  assert.match(argv, /-c 1024 /);

  const status = await ok(client.socket, "router:status", {});
  assert.equal(status.running, true);
  assert.notEqual(status.pid, oldPid);
  const props = await (await fetch(`${status.url}/props`, { headers: keyHeaders(status.pid) })).json();
  assert.equal(props.max_instances, 3, "the running router uses the saved --models-max");
  assert.equal((await ok(client.socket, "router:init:status", {})).maxLoaded, 3);
});

test("changing CORS origins is saved but reported as needing a restart of llama-dashboard; API keys are not", { skip }, async () => {
  const { config } = await ok(client.socket, "router:init:load", {});
  const keyed = await ok(client.socket, "router:init:save", { config: { ...config, security: { ...config.security, apiKeys: ["sk-save-1"] } } });
  assert.deepEqual(keyed.requiresRestart, [], "API keys apply at once");
  assert.equal(keyed.routerRestarted, false, "the router's argv did not change");
  const { config: current } = await ok(client.socket, "router:init:load", {});
  const security = { ...current.security, corsOrigins: ["http://example.test"] };
  const saved = await ok(client.socket, "router:init:save", { config: { ...current, security } });
  assert.deepEqual(saved.requiresRestart, ["security.corsOrigins"]);
  assert.deepEqual(JSON.parse(readFileSync(file, "utf8")).security.corsOrigins, ["http://example.test"]);
  assert.equal((await fetch(`${server.url}/health`)).status, 200, "still serving");
});
