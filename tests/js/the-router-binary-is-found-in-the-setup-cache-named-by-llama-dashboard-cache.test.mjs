// With no router.serverPath, no $LLAMA_SERVER_BIN and no llama-server on PATH, the router's binary is the newest
// `*/bin/llama-server` of the setup script's cache: `$LLAMA_DASHBOARD_CACHE`, else ~/.cache/llama-dashboard.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { startServer } from "./lib/server.mjs";
import { connect, request, freePort, tempDir } from "./lib/socket.mjs";
import { fakeBin } from "./lib/fake-router.mjs";

const cache = tempDir("lldash-cache-");
const models = tempDir("lldash-cache-models-");
after(() => { cache.cleanup(); models.cleanup(); });

async function startRouter(t, env) {
  const server = await startServer({
    config: { router: { port: await freePort() }, models: { directory: models.dir }, startup: { autoStart: false, retryAttempts: 0 } },
    env: { LLAMA_SERVER_BIN: "", PATH: "/usr/bin:/bin", ...env },
  });
  t.after(() => server.stop());
  const client = await connect(server.url);
  t.after(() => client.close());
  return request(client.socket, "router:start", {}, { timeoutMs: 15000 });
}

test("the newest build in $LLAMA_DASHBOARD_CACHE runs as the router", async (t) => {
  for (const build of ["llama-server-1.0.0", "llama-server-2.0.0"]) mkdirSync(path.join(cache.dir, build, "bin"), { recursive: true });
  // The older build cannot start: picking it would fail the start.
  writeFileSync(path.join(cache.dir, "llama-server-1.0.0", "bin", "llama-server"), "#!/bin/sh\nexit 3\n", { mode: 0o755 });
  symlinkSync(fakeBin, path.join(cache.dir, "llama-server-2.0.0", "bin", "llama-server"));
  const reply = await startRouter(t, { LLAMA_DASHBOARD_CACHE: cache.dir });
  assert.equal(reply.success, true, JSON.stringify(reply));
  assert.equal(reply.data.running, true);
});

test("an empty cache and nothing else gives a clear error naming where it looked", async (t) => {
  const empty = tempDir("lldash-cache-empty-");
  t.after(empty.cleanup);
  const reply = await startRouter(t, { LLAMA_DASHBOARD_CACHE: empty.dir });
  assert.equal(reply.success, false);
  assert.equal(reply.error.code, "ROUTER_ERROR");
  assert.match(reply.error.message, /llama-server/, reply.error.message);
  assert.match(reply.error.message, /router\.serverPath|LLAMA_SERVER_BIN|PATH/, reply.error.message);
});
