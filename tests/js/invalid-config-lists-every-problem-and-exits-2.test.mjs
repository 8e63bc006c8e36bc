// Every config rule produces `<key.path>: <message>`; several problems are all listed at once; invalid
// config, malformed JSON (line/column) and a missing --config file stop the binary with exit code 2.
// The same rules answer through router:init:validate {valid, errors:[{path,message}], args}.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { startServer } from "./lib/server.mjs";
import { connect, ok, tempDir } from "./lib/socket.mjs";
import { runWithConfig, clearEnv, hasProblem } from "./lib/config.mjs";

let server, client;
// With an admin token, so that router:init:validate judges the config alone (without one, it also lists
// the program and file keys a save would refuse; see security-program-and-file-keys-need-the-admin-token).
const TOKEN = "validate-as-an-admin";
before(async () => {
  server = await startServer({ env: clearEnv(), config: { security: { adminToken: TOKEN } } });
  client = await connect(server.url, { auth: { token: TOKEN } });
});
after(async () => {
  client?.close();
  await server?.stop();
});

// [expected key path, config, expected message (optional, exact prefix)]
const rules = [
  ["models.maxLoaded", { models: { maxLoaded: 0 } }],
  ["models.maxLoaded", { models: { maxLoaded: 65 } }],
  ["performance.contextSize", { performance: { contextSize: 64 } }, "must be >= 128, got 64"],
  ["performance.contextSize", { performance: { contextSize: 1048577 } }],
  ["performance.batchSize", { performance: { batchSize: 0 } }],
  ["performance.gpuLayers", { performance: { gpuLayers: -2 } }],
  ["performance.parallelSlots", { performance: { parallelSlots: 0 } }],
  ["performance.parallelSlots", { performance: { parallelSlots: 257 } }],
  ["performance.httpThreads", { performance: { httpThreads: 0 } }],
  ["performance.httpThreads", { performance: { httpThreads: -2 } }],
  ["performance.threads", { performance: { threads: 0 } }],
  ["performance.threads", { performance: { threads: -5 } }],
  ["logging.level", { logging: { level: "loud" } }],
  ["logging.maxRows", { logging: { maxRows: 999 } }],
  ["startup.timeout", { startup: { timeout: 999 } }],
  ["startup.retryAttempts", { startup: { retryAttempts: 101 } }],
  ["startup.retryAttempts", { startup: { retryAttempts: -1 } }],
  ["startup.retryDelay", { startup: { retryDelay: -1 } }],
  ["metrics.intervalMs", { metrics: { intervalMs: 249 } }],
  ["metrics.intervalMs", { metrics: { intervalMs: 60001 } }],
  ["metrics.retentionDays", { metrics: { retentionDays: 0 } }],
  ["metrics.retentionDays", { metrics: { retentionDays: 366 } }],
  ["router.prot", { router: { prot: 8134 } }, "unknown key"],
  ["bogus", { bogus: true }, "unknown key"],
  ["performance.contextSizee", { performance: { contextSizee: 4096 } }, "unknown key"],
  ["router.port", { router: { port: "abc" } }],
  ["performance.contextSize", { performance: { contextSize: "big" } }],
  ["startup.autoStart", { startup: { autoStart: "yes" } }],
  ["models.preloadModels", { models: { preloadModels: "a.gguf" } }],
  ["router.port", { server: { port: 5000 }, router: { port: 5000 } }],
  ["security.adminToken", { server: { host: "0.0.0.0" } }],
  ["security.adminToken", { server: { host: "192.168.1.10" } }],
  ["models.idleTimeoutSec", { models: { idleTimeoutSec: -1 } }],
  ["proxy.maxBodyBytes", { proxy: { maxBodyBytes: 10 } }],
  ["proxy.queueTimeoutMs", { proxy: { queueTimeoutMs: 5 } }],
  ["backends.models[0].name", { backends: { models: [{ name: "../etc", path: "/m/a.gguf" }] } }, "'../etc' must be a plain name"],
  ["backends.models[1].name", { backends: { models: [{ name: "a", path: "/m/a.gguf" }, { name: "b", path: "/m/b.gguf", aliases: ["a"] }] } }, "'a' is used by another backend model"],
  ["backends.models[0].path", { backends: { models: [{ name: "a", path: "" }] } }],
  ["backends.models[0].groop", { backends: { models: [{ name: "a", path: "/m/a.gguf", groop: "x" }] } }, "unknown key"],
  ["backends.defaultSpawn.command", { backends: { defaultSpawn: { command: ["llama-server", "--port", "9"] } } }, "must not contain --port"],
  ["backends.defaultSpawn.command", { backends: { defaultSpawn: { command: [] } } }, "must name a program"],
  ["backends.maxRunning", { backends: { maxRunning: 65 } }],
  ["backends.basePort", { backends: { basePort: 80 } }],
  ["router.host", { router: { host: "0.0.0.0" } }, "'0.0.0.0' is not a loopback address; set router.allowNonLoopback"],
  ["server.maxConnections", { server: { maxConnections: 1 } }],
  ["server.headerTimeoutMs", { server: { headerTimeoutMs: 10 } }],
  ["server.sendTimeoutMs", { server: { sendTimeoutMs: 0 } }],
  ["proxy.bodyTimeoutMs", { proxy: { bodyTimeoutMs: 5 } }],
  ["proxy.directToChild", { proxy: { directToChild: "yes" } }],
  ["security.corsOrigins[0]", { security: { corsOrigins: ["app.example.com/path"] } }],
  ["security.allowedHosts[0]", { security: { allowedHosts: ["http://dash.lan:80"] } }],
  // In a file: "must not start with '***'"; over the socket: a placeholder that stands for no stored secret.
  ["security.apiKeys[0]", { security: { apiKeys: ["***abc"] } }],
  ["security.adminToken", { security: { adminToken: "***0123456789ab" } }],
  ["backends.defaultSpawn.command", { backends: { defaultSpawn: { command: ["llama-server", "--api-key", "k"] } } }, "must not contain --api-key"],
  ["(root)", { "": 1 }, "has an empty key"],
];

for (const [keyPath, config, message] of rules) {
  test(`${JSON.stringify(config)} -> '${keyPath}: ${message || "…"}' (--check exit 2, and router:init:validate)`, async () => {
    const res = await runWithConfig(config);
    assert.equal(res.code, 2, `exit code for an invalid config:\n${res.output}`);
    assert.ok(hasProblem(res.output, keyPath, message || ""), `expected a line '${keyPath}: ${message || ""}…' in:\n${res.output}`);
    const v = await ok(client.socket, "router:init:validate", { config });
    assert.equal(v.valid, false, JSON.stringify(v));
    assert.deepEqual(v.args, [], "args is empty when invalid");
    const hit = v.errors.find((e) => e.path === keyPath);
    assert.ok(hit, `errors should hold path '${keyPath}': ${JSON.stringify(v.errors)}`);
    assert.equal(typeof hit.message, "string");
    if (message) assert.ok(hit.message.startsWith(message), `message: ${hit.message}`);
  });
}

// Values exactly at the limits, and the other allowed forms, are accepted.
const valid = [
  { models: { maxLoaded: 1 }, performance: { contextSize: 128, batchSize: 1, gpuLayers: -1, parallelSlots: 1, httpThreads: -1, threads: -1 },
    logging: { level: "trace", maxRows: 1000 }, startup: { timeout: 1000, retryAttempts: 0, retryDelay: 0 }, metrics: { intervalMs: 250, retentionDays: 1 } },
  { models: { maxLoaded: 64 }, performance: { contextSize: 1048576, gpuLayers: 0, parallelSlots: 256, httpThreads: 1, threads: 1 },
    logging: { level: "error" }, startup: { retryAttempts: 100 }, metrics: { intervalMs: 60000, retentionDays: 365 } },
  { server: { host: "0.0.0.0" }, security: { adminToken: "t0ken-long-enough", apiKeys: ["k"], corsOrigins: ["http://x"] } },
  { server: { host: "::1" } },
  { router: { host: "192.168.1.5", allowNonLoopback: true }, security: { corsOrigins: ["*", "https://app.example.com:8443"], allowedHosts: ["dash.lan", "*.example.com"] } },
  { server: { maxConnections: 16, headerTimeoutMs: 1000, sendTimeoutMs: 1000 }, proxy: { bodyTimeoutMs: 1000 } },
  { version: "1.0", backends: { basePort: 51000, maxRunning: 2, idleTimeoutSec: 0, defaultSpawn: { command: ["llama-server", "-c", "2048"] },
    models: [{ name: "a.gguf", path: "/m/a.gguf", group: "small", aliases: ["alpha"], ttl: 60, state: "auto", spawn: { command: ["/opt/llama-server"], proxyEndpoints: ["/v1/"] } }] } },
  { models: { idleTimeoutSec: 0 }, proxy: { maxBodyBytes: 1024, queueSize: 0, queueTimeoutMs: 100 } },
  ...["debug", "info", "warn"].map((level) => ({ logging: { level } })),
];
for (const config of valid) {
  test(`valid: ${JSON.stringify(config)}`, async () => {
    const res = await runWithConfig(config);
    assert.equal(res.code, 0, res.output);
    const v = await ok(client.socket, "router:init:validate", { config });
    assert.equal(v.valid, true, JSON.stringify(v.errors));
    assert.deepEqual(v.errors, []);
    assert.ok(v.args.length > 0);
  });
}

const many = {
  name: "range problems in several sections, two in one section",
  config: { performance: { contextSize: 64, parallelSlots: 0 }, metrics: { intervalMs: 100 }, models: { maxLoaded: 0 }, startup: { timeout: 5 } },
  paths: ["performance.contextSize", "performance.parallelSlots", "metrics.intervalMs", "models.maxLoaded", "startup.timeout"],
};
const structural = {
  name: "unknown keys and wrong types in several sections",
  config: { router: { prot: 1 }, metrics: { intervalMs: "fast" }, bogus: true, logging: { level: 3 } },
  paths: ["router.prot", "metrics.intervalMs", "bogus", "logging.level"],
};
const mixed = {
  name: "structural and range problems together",
  config: { router: { prot: 1 }, performance: { contextSize: 64 }, metrics: { retentionDays: 0 } },
  paths: ["router.prot", "performance.contextSize", "metrics.retentionDays"],
};
for (const { name, config, paths } of [many, structural, mixed]) {
  test(`all problems are listed at once: ${name}`, async () => {
    const res = await runWithConfig(config);
    assert.equal(res.code, 2, res.output);
    for (const p of paths) assert.ok(hasProblem(res.output, p), `'${p}' missing from:\n${res.output}`);
    const v = await ok(client.socket, "router:init:validate", { config });
    assert.deepEqual(v.errors.map((e) => e.path).sort(), [...paths].sort(), JSON.stringify(v.errors));
  });
}

test("an invalid config stops a real start with exit 2 and lists every problem", async () => {
  const d = tempDir();
  try {
    const res = await runWithConfig(many.config, { args: ["--host", "127.0.0.1", "--port", "0", "--data-dir", path.join(d.dir, "data")] });
    assert.equal(res.code, 2, res.output);
    for (const p of many.paths) assert.ok(hasProblem(res.output, p), `'${p}' missing from:\n${res.output}`);
    assert.ok(!/listening on/.test(res.output), "must not start listening");
  } finally {
    d.cleanup();
  }
});

const broken = '{\n  "router": {\n    "port": 81 34\n  }\n}\n';
for (const args of [["--check"], ["--host", "127.0.0.1", "--port", "0"]]) {
  test(`malformed JSON -> exit 2 with line and column (${args[0]})`, async () => {
    const d = tempDir();
    try {
      const res = await runWithConfig(broken, { args: [...args, "--data-dir", path.join(d.dir, "data")] });
      assert.equal(res.code, 2, res.output);
      assert.match(res.output, /line 3,? column \d+/, res.output);
    } finally {
      d.cleanup();
    }
  });

  test(`--config naming a missing file -> exit 2 naming the path (${args[0]})`, async () => {
    const d = tempDir();
    try {
      const missing = path.join(d.dir, "nowhere", "my-router.init.json");
      const res = await runWithConfig(undefined, { args: [...args, "--data-dir", path.join(d.dir, "data"), "--config", missing] });
      assert.equal(res.code, 2, res.output);
      assert.ok(res.output.includes(missing), `the path should be named:\n${res.output}`);
    } finally {
      d.cleanup();
    }
  });
}

test("a config that is not a JSON object is refused", async () => {
  const res = await runWithConfig("[1, 2, 3]\n");
  assert.equal(res.code, 2, res.output);
});
