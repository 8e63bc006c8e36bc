// The effective config is CLI > env > init file > defaults, as seen through router:init:status,
// router:init:load and `--check` (which prints the llama-server argv); the init file is found in the cwd
// when --config is not given; bad env values are startup errors naming the variable.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync, readFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startServer, runToExit } from "./lib/server.mjs";
import { connect, ok, tempDir, freePort } from "./lib/socket.mjs";
import { runWithConfig, clearEnv, hasArg, hasProblem } from "./lib/config.mjs";

async function effective(t, opts) {
  const server = await startServer({ ...opts, env: { ...clearEnv(), ...(opts.env || {}) } });
  t.after(() => server.stop());
  const client = await connect(server.url);
  t.after(() => client.close());
  const status = await ok(client.socket, "router:init:status", {});
  const load = await ok(client.socket, "router:init:load", {});
  return { server, status, load };
}

test("no config anywhere: defaults are used and the server says so", async (t) => {
  const { server, status, load } = await effective(t, {});
  assert.match(server.output(), /defaults/, "the server should log that it runs on defaults");
  assert.equal(load.source, "defaults");
  assert.equal(status.port, 8134);
  assert.equal(status.host, "127.0.0.1");
  assert.equal(status.maxLoaded, 4);
  assert.equal(status.contextSize, 4096);
  assert.equal(status.autoStart, true);
  assert.match(String(status.modelsDir), /models$/);
  const c = load.config;
  assert.equal(c.version, "1.0");
  assert.deepEqual(c.router, { enabled: true, host: "127.0.0.1", port: 8134, serverPath: null, allowNonLoopback: false });
  const { host, port, ...limits } = c.server;
  assert.deepEqual(limits, { maxConnections: 2048, headerTimeoutMs: 15000, sendTimeoutMs: 60000, shutdownTimeoutSec: 30 });
  const { directory, ...models } = c.models;
  assert.match(directory, /models$/);
  assert.deepEqual(models, { maxLoaded: 4, autoDiscovery: true, preloadModels: [], presetsFile: null, idleTimeoutSec: 300 });
  assert.deepEqual(c.performance, { contextSize: 4096, batchSize: 512, gpuLayers: -1, parallelSlots: 1, httpThreads: -1, threads: -1 });
  assert.deepEqual(c.logging, { level: "info", enableDebugOutput: false, logFile: null, maxRows: 100000 });
  assert.deepEqual(c.startup, { autoStart: true, timeout: 30000, retryAttempts: 3, retryDelay: 2000 });
  assert.deepEqual(c.metrics, { intervalMs: 2000, retentionDays: 7 });
  assert.deepEqual(c.proxy, { maxBodyBytes: 67108864, queueSize: 32, queueTimeoutMs: 120000, bodyTimeoutMs: 60000, directToChild: true });
  assert.deepEqual(c.security, { adminToken: null, apiKeys: [], corsOrigins: [], allowedHosts: [] });
});

const fileConfig = (modelsDir, serverPort) => ({
  server: { port: serverPort },
  router: { port: 9101 },
  models: { directory: modelsDir, maxLoaded: 7 },
  performance: { contextSize: 8192, gpuLayers: 10 },
  startup: { autoStart: true },
});

test("the init file overrides defaults; --port on the CLI overrides server.port of the file", async (t) => {
  const models = tempDir();
  t.after(models.cleanup);
  const filePort = await freePort();
  const { server, status, load } = await effective(t, { config: { ...fileConfig(models.dir, filePort), startup: { autoStart: false } } });
  const cfgPath = path.join(server.work, "llama-router.init.json");
  assert.equal(load.source, "file");
  assert.equal(path.resolve(load.configPath), cfgPath);
  assert.equal(path.resolve(status.configPath), cfgPath);
  assert.equal(status.port, 9101);
  assert.equal(status.maxLoaded, 7);
  assert.equal(status.contextSize, 8192);
  assert.equal(status.autoStart, false);
  assert.equal(path.resolve(server.work, status.modelsDir), models.dir);
  assert.equal(load.config.performance.gpuLayers, 10);
  assert.equal(load.config.router.port, 9101);
  assert.notEqual(server.port, filePort, "--port 0 on the CLI must win over server.port in the file");
});

test("environment variables override the init file", async (t) => {
  const fileModels = tempDir();
  const envModels = tempDir();
  t.after(() => { fileModels.cleanup(); envModels.cleanup(); });
  const { status, load } = await effective(t, {
    config: fileConfig(fileModels.dir, 3999),
    env: { LLAMA_ROUTER_PORT: "9102", LLAMA_MODELS_MAX: "9", LLAMA_CONTEXT_SIZE: "16384", LLAMA_GPU_LAYERS: "20", LLAMA_AUTO_START: "0", LLAMA_MODELS_DIR: envModels.dir },
  });
  assert.equal(status.port, 9102);
  assert.equal(status.maxLoaded, 9);
  assert.equal(status.contextSize, 16384);
  assert.equal(status.autoStart, false, "LLAMA_AUTO_START=0 over file autoStart:true");
  assert.equal(path.resolve(status.modelsDir), envModels.dir);
  assert.equal(load.config.router.port, 9102, "router:init:load shows the effective config (file + env)");
  // fileConfig is the file alone: what an editor shows and saves, so an override never lands in the file.
  assert.deepEqual(
    [load.fileConfig.router.port, load.fileConfig.models.maxLoaded, load.fileConfig.performance.contextSize, load.fileConfig.server.port],
    [9101, 7, 8192, 3999],
  );
  assert.equal(load.config.models.maxLoaded, 9);
  assert.equal(load.config.performance.contextSize, 16384);
  assert.equal(load.config.performance.gpuLayers, 20);
  assert.equal(load.config.startup.autoStart, false);
});

test("LLAMA_AUTO_START accepts false as well", async (t) => {
  const { status } = await effective(t, { config: { startup: { autoStart: true } }, env: { LLAMA_AUTO_START: "false" } });
  assert.equal(status.autoStart, false);
});

test("--check prints the argv of the effective config (env over file)", async () => {
  const models = tempDir();
  try {
    const file = await runWithConfig(fileConfig(models.dir, 3999));
    assert.equal(file.code, 0, file.output);
    assert.ok(hasArg(file.output, "--models-max", "7"), file.output);
    assert.ok(hasArg(file.output, "-c", "8192"), file.output);
    assert.ok(hasArg(file.output, "--port", "9101"), file.output);
    assert.ok(file.output.includes(models.dir), `models dir in the argv: ${file.output}`);
    const env = await runWithConfig(fileConfig(models.dir, 3999), { env: { LLAMA_MODELS_MAX: "9", LLAMA_CONTEXT_SIZE: "16384", LLAMA_ROUTER_PORT: "9102" } });
    assert.equal(env.code, 0, env.output);
    assert.ok(hasArg(env.output, "--models-max", "9") && !hasArg(env.output, "--models-max", "7"), env.output);
    assert.ok(hasArg(env.output, "-c", "16384"), env.output);
    assert.ok(hasArg(env.output, "--port", "9102"), env.output);
  } finally {
    models.cleanup();
  }
});

test("--check validates the effective config: a file port clash is fixed by env or by the CLI", async () => {
  const clash = { server: { port: 5000 }, router: { port: 5000 } };
  const bad = await runWithConfig(clash);
  assert.equal(bad.code, 2, bad.output);
  assert.ok(hasProblem(bad.output, "router.port"), bad.output);
  const byEnv = await runWithConfig(clash, { env: { LLAMA_ROUTER_PORT: "5002" } });
  assert.equal(byEnv.code, 0, `LLAMA_ROUTER_PORT should override the file:\n${byEnv.output}`);
  const byCli = await runWithConfig(clash, { args: ["--check", "--port", "5001"] });
  assert.equal(byCli.code, 0, `--port should override server.port of the file:\n${byCli.output}`);
  const cliClash = await runWithConfig({ router: { port: 5003 } }, { args: ["--check", "--port", "5003"] });
  assert.equal(cliClash.code, 2, `--port equal to router.port is a clash:\n${cliClash.output}`);
});

test("without --config, ./llama-router.init.json in the cwd is used", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "lldash-cwd-"));
  try {
    const none = await runToExit(["--check"], { cwd: dir, env: clearEnv() });
    assert.equal(none.code, 0, none.output);
    assert.match(none.output, /defaults/);
    assert.ok(hasArg(none.output, "--models-max", "4"), none.output);
    writeFileSync(path.join(dir, "llama-router.init.json"), JSON.stringify({ models: { maxLoaded: 5 } }));
    const found = await runToExit(["--check"], { cwd: dir, env: clearEnv() });
    assert.equal(found.code, 0, found.output);
    assert.ok(hasArg(found.output, "--models-max", "5"), found.output);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

for (const [name, value] of [["LLAMA_MODELS_MAX", "abc"], ["LLAMA_ROUTER_PORT", "99999"], ["LLAMA_CONTEXT_SIZE", "big"], ["LLAMA_GPU_LAYERS", "x"], ["LLAMA_AUTO_START", "maybe"]]) {
  test(`a bad ${name}=${value} is an error naming the variable`, async () => {
    const res = await runWithConfig(undefined, { env: { [name]: value } });
    assert.notEqual(res.code, 0, res.output);
    assert.ok(res.output.includes(name), `output should name ${name}:\n${res.output}`);
  });
}

test("a bad env value stops a real start too (not only --check)", async () => {
  const d = tempDir();
  try {
    const res = await runToExit(["--host", "127.0.0.1", "--port", "0", "--data-dir", path.join(d.dir, "data")],
      { cwd: d.dir, env: { ...clearEnv(), LLAMA_MODELS_MAX: "many" }, timeoutMs: 10000 });
    assert.notEqual(res.code, 0, res.output);
    assert.ok(res.output.includes("LLAMA_MODELS_MAX"), res.output);
  } finally {
    d.cleanup();
  }
});

test("an env value out of range is reported at its config key", async () => {
  const res = await runWithConfig(undefined, { env: { LLAMA_MODELS_MAX: "0" } });
  assert.equal(res.code, 2, res.output);
  assert.ok(hasProblem(res.output, "models.maxLoaded") || res.output.includes("LLAMA_MODELS_MAX"), res.output);
});

// The LLAMA_DASHBOARD_* variables of the README's flag table: each beats the init file (or the default) and
// loses to its flag. `flags: false` starts the binary without the harness's own --host/--port/--data-dir.
const noDashboardEnv = { LLAMA_DASHBOARD_CONFIG: undefined, LLAMA_DASHBOARD_HOST: undefined, LLAMA_DASHBOARD_PORT: undefined, LLAMA_DASHBOARD_DATA_DIR: undefined };

/** A temp dir removed after the test. */
function dirFor(t) {
  const d = tempDir();
  t.after(d.cleanup);
  return d.dir;
}

async function startBare(t, { file, env, args }) {
  const dir = dirFor(t);
  const cfg = path.join(dir, "file.init.json");
  writeFileSync(cfg, JSON.stringify(file));
  const server = await startServer({ flags: false, args: [...args, "--config", cfg], env: { ...clearEnv(), ...noDashboardEnv, ...env } });
  t.after(() => server.stop());
  return server;
}

test("LLAMA_DASHBOARD_HOST beats server.host of the file; --host beats it", async (t) => {
  const rest = ["--port", "0", "--data-dir", dirFor(t)];
  const byEnv = await startBare(t, { file: { server: { host: "127.0.0.4" } }, env: { LLAMA_DASHBOARD_HOST: "127.0.0.2" }, args: rest });
  assert.equal(new URL(byEnv.url).hostname, "127.0.0.2", byEnv.output());
  const client = await connect(byEnv.url); // it listens there (any 127/8 address is loopback)
  t.after(() => client.close());
  assert.equal((await ok(client.socket, "router:init:load", {})).config.server.host, "127.0.0.2");
  const byFlag = await startBare(t, { file: { server: { host: "127.0.0.4" } }, env: { LLAMA_DASHBOARD_HOST: "127.0.0.2" }, args: ["--host", "127.0.0.3", ...rest] });
  assert.equal(new URL(byFlag.url).hostname, "127.0.0.3", byFlag.output());
});

test("LLAMA_DASHBOARD_PORT beats server.port of the file; --port beats it", async (t) => {
  const [filePort, envPort] = [await freePort(), await freePort()];
  const rest = ["--host", "127.0.0.1", "--data-dir", dirFor(t)];
  const byEnv = await startBare(t, { file: { server: { port: filePort } }, env: { LLAMA_DASHBOARD_PORT: String(envPort) }, args: rest });
  assert.equal(byEnv.port, envPort, byEnv.output());
  assert.equal((await fetch(`http://127.0.0.1:${envPort}/health`)).status, 200);
  const byFlag = await startBare(t, { file: { server: { port: filePort } }, env: { LLAMA_DASHBOARD_PORT: String(envPort) }, args: ["--port", "0", ...rest] });
  assert.ok(![filePort, envPort].includes(byFlag.port), `--port 0 picks a free port, got ${byFlag.port}`);
});

test("LLAMA_DASHBOARD_DATA_DIR places the database instead of ./data; --data-dir beats it", async (t) => {
  const [envDir, flagDir] = [dirFor(t), dirFor(t)];
  const db = (dir) => existsSync(path.join(dir, "llama-dashboard.db"));
  const rest = ["--host", "127.0.0.1", "--port", "0"];
  const byEnv = await startBare(t, { file: {}, env: { LLAMA_DASHBOARD_DATA_DIR: envDir }, args: rest });
  assert.ok(db(envDir), `no database in LLAMA_DASHBOARD_DATA_DIR:\n${byEnv.output()}`);
  assert.equal(db(path.join(byEnv.work, "data")), false, "nothing in ./data");
  await byEnv.stop();
  rmSync(envDir, { recursive: true, force: true });
  const byFlag = await startBare(t, { file: {}, env: { LLAMA_DASHBOARD_DATA_DIR: envDir }, args: ["--data-dir", flagDir, ...rest] });
  assert.ok(db(flagDir), `no database in --data-dir:\n${byFlag.output()}`);
  assert.equal(existsSync(envDir), false, "the variable's directory is not used when --data-dir is given");
});

test("LLAMA_DASHBOARD_CONFIG beats ./llama-router.init.json; --config beats it; a missing file is an error", async () => {
  const d = tempDir();
  try {
    const file = (name, maxLoaded) => { const p = path.join(d.dir, name); writeFileSync(p, JSON.stringify({ models: { maxLoaded } })); return p; };
    file("llama-router.init.json", 5);
    const [envFile, flagFile] = [file("env.json", 6), file("flag.json", 7)];
    const check = (env, args = []) => runToExit(["--check", ...args], { cwd: d.dir, env: { ...clearEnv(), ...noDashboardEnv, ...env } });
    const cwd = await check({});
    assert.ok(hasArg(cwd.output, "--models-max", "5"), cwd.output);
    const byEnv = await check({ LLAMA_DASHBOARD_CONFIG: envFile });
    assert.equal(byEnv.code, 0, byEnv.output);
    assert.ok(byEnv.output.includes(envFile) && hasArg(byEnv.output, "--models-max", "6"), byEnv.output);
    const byFlag = await check({ LLAMA_DASHBOARD_CONFIG: envFile }, ["--config", flagFile]);
    assert.ok(byFlag.output.includes(flagFile) && hasArg(byFlag.output, "--models-max", "7"), byFlag.output);
    const missing = await check({ LLAMA_DASHBOARD_CONFIG: path.join(d.dir, "nope.json") });
    assert.equal(missing.code, 2, missing.output);
    assert.ok(missing.output.includes("nope.json"), missing.output);
  } finally {
    d.cleanup();
  }
});

test("LLAMA_DASHBOARD_CONFIG is the file a running server reads and saves", async (t) => {
  const d = tempDir();
  t.after(d.cleanup);
  const file = path.join(d.dir, "from-env.json");
  writeFileSync(file, JSON.stringify({ models: { maxLoaded: 6 }, startup: { autoStart: false } }));
  const server = await startServer({ env: { ...clearEnv(), ...noDashboardEnv, LLAMA_DASHBOARD_CONFIG: file } });
  t.after(() => server.stop());
  const client = await connect(server.url);
  t.after(() => client.close());
  const load = await ok(client.socket, "router:init:load", {});
  assert.equal(load.source, "file");
  assert.equal(path.resolve(server.work, load.configPath), file);
  assert.equal(load.config.models.maxLoaded, 6);
  const saved = await ok(client.socket, "router:init:save", { config: { ...load.fileConfig, models: { ...load.fileConfig.models, maxLoaded: 8 } } });
  assert.equal(path.resolve(server.work, saved.saved), file, JSON.stringify(saved));
  assert.equal(JSON.parse(readFileSync(file, "utf8")).models.maxLoaded, 8, "saved over the file the variable names");
});
