// One definite case per request event of docs/socket-events.md, shared by the ack and the `:result`
// tests: a real llama-server router with the real SmolLM2 model, an admin token (so every event may
// succeed), a presets file and an import root. Each case prepares the state that gives its event one
// answer (`payload(ctx)`), and `check(data, ctx)` asserts that answer: the reply's key fields and what
// the user would see elsewhere (a file on disk, a process, a broadcast). Cases run in the order of the
// docs' table and build on each other (load before unload, stop before restart). The `models:pull*` cases
// pull from a local hub-shaped server (lib/hub.mjs) that serves the real model.
import assert from "node:assert/strict";
import { copyFileSync, existsSync, linkSync, mkdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import path from "node:path";
import { startServer } from "./server.mjs";
import { connect, ok, freePort, tempDir, until, assertSample } from "./socket.mjs";
import { llamaServer, realModel, keyHeaders } from "./real.mjs";
import { argPair } from "./config.mjs";
import { startHub, SHA } from "./hub.mjs";

export const TOKEN = "events-admin-token-7f3e";
const MODEL = "smol";
const PULLED = "pulled-Q4_1.gguf";
const SLOW = "slow-Q8_0.gguf";
const PLACEHOLDER = /^\*\*\*[0-9a-f]{12}$/;

const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };
const link = (from, to) => { try { linkSync(from, to); } catch { copyFileSync(from, to); } };
const readJson = (file) => JSON.parse(readFileSync(file, "utf8"));

/** The server of the cases, two connected clients (`client` asks, `other` watches) and the paths involved. */
export async function startEventServer() {
  const models = tempDir("lldash-events-models-");
  const imports = tempDir("lldash-events-import-");
  link(realModel, path.join(models.dir, `${MODEL}.gguf`));
  link(realModel, path.join(imports.dir, "imported-smol.gguf"));
  const routerPort = await freePort();
  const presetsDir = tempDir("lldash-events-presets-");
  const presetsPath = path.join(presetsDir.dir, "presets.ini");
  const hfCache = tempDir("lldash-events-hf-");
  let server, client, other, hub;
  const cleanup = () => { models.cleanup(); imports.cleanup(); presetsDir.cleanup(); hfCache.cleanup(); hub?.close(); };
  try {
    hub = await startHub({ repos: {
      "org/pulled-GGUF": { downloads: 7, likes: 3, files: { [PULLED]: { path: realModel, etag: "ca5e0001" } } },
      "org/slow-GGUF": { files: { [SLOW]: { body: Buffer.alloc(16 * 1024 * 1024, 7), etag: "ca5e0002" } } },
    } });
    hub.slow(SLOW, 256 * 1024);
    server = await startServer({
      config: {
        router: { port: routerPort },
        models: { directory: models.dir, presetsFile: presetsPath, idleTimeoutSec: 0 },
        performance: { contextSize: 512 },
        startup: { autoStart: true, timeout: 30000, retryAttempts: 0 },
        security: { adminToken: TOKEN },
        backends: { importRoots: [imports.dir], basePort: await freePort() },
        nodes: [{ name: "nowhere", url: `http://127.0.0.1:${await freePort()}` }],
      },
      env: { LLAMA_SERVER_BIN: llamaServer, HF_ENDPOINT: hub.url, HF_HUB_CACHE: hfCache.dir, HF_TOKEN: "" },
    });
    client = await connect(server.url, { auth: { token: TOKEN } });
    other = await connect(server.url, { auth: { token: TOKEN } });
    await until(async () => (await ok(client.socket, "router:status", {})).running, { timeoutMs: 30000, what: "router running" });
  } catch (err) {
    client?.close();
    other?.close();
    await server?.stop();
    cleanup();
    throw err;
  }
  const ctx = {
    server, client, other, socket: client.socket, routerPort, presetsPath,
    modelsDir: models.dir, importDir: imports.dir, model: MODEL, modelFile: path.join(models.dir, `${MODEL}.gguf`),
    hub, hfCache: hfCache.dir,
    configPath: path.join(server.work, "llama-router.init.json"),
    /** The first broadcast `event` the asking client got at or after `since` that satisfies `pred`. */
    broadcast: (event, pred = () => true, since = 0, timeoutMs = 30000) => until(
      () => client.received.find((e) => e.event === event && e.at >= since && pred(e.payload?.data))?.payload,
      { timeoutMs, intervalMs: 50, what: `a '${event}' broadcast` },
    ),
    async stop() {
      client.close();
      other.close();
      await server.stop();
      cleanup();
    },
  };
  return ctx;
}

/** Starts a pull of the slow repository and waits until it has downloaded something; its reply. */
async function slowPull(ctx) {
  const started = await ok(ctx.socket, "models:pull", { repo: "org/slow-GGUF" });
  await ctx.broadcast("models:pull:progress", (p) => p.pullId === started.pullId && p.bytes > 0);
  return started;
}

/** Memoized: one /v1 request for a model nobody has, stored as `rejected`. */
async function rejectedRequest(ctx) {
  ctx.rejected ??= (async () => {
    const res = await fetch(`${ctx.server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "no-such-model", messages: [{ role: "user", content: "hi" }] }),
    });
    assert.equal(res.status, 404, await res.text());
    await ctx.broadcast("requests:completed", (d) => d.request?.model === "no-such-model");
  })();
  return ctx.rejected;
}

const status = (ctx) => ok(ctx.socket, "router:status", {});

function assertRunningStatus(d, ctx) {
  assert.equal(d.running, true, JSON.stringify(d));
  assert.equal(d.state, "running");
  assert.equal(typeof d.pid, "number");
  assert.ok(alive(d.pid), `router pid ${d.pid} is a live process`);
  assert.equal(d.url, `http://127.0.0.1:${ctx.routerPort}`);
  assert.equal(d.port, ctx.routerPort);
  assert.equal(d.modelsDir, ctx.modelsDir);
  assert.equal(d.contextSize, 512);
  assert.equal(d.configPath, ctx.configPath);
  assert.equal(typeof d.uptimeMs, "number");
}

/** event -> {payload(ctx) (may wait for its preconditions), check(data, ctx)} */
export const cases = {
  "models:list": {
    payload: () => ({}),
    check: (d, ctx) => {
      const m = d.models.find((x) => x.id === ctx.model);
      assert.ok(m, `${ctx.model} listed: ${JSON.stringify(d.models.map((x) => x.id))}`);
      assert.equal(m.source, "router");
      assert.equal(m.path, ctx.modelFile);
      assert.equal(m.sizeBytes, statSync(ctx.modelFile).size);
      assert.equal(m.architecture, "llama", "read from the GGUF header");
      assert.equal(m.status, "unloaded");
    },
  },
  "models:get": {
    payload: (ctx) => ({ id: ctx.model }),
    check: (d, ctx) => {
      assert.equal(d.model.id, ctx.model);
      assert.equal(d.model.path, ctx.modelFile);
      assert.ok(Array.isArray(d.events), JSON.stringify(d));
      assert.equal(d.events.filter((e) => e.event === "loaded").length, 0, "never loaded yet");
    },
  },
  "models:scan": {
    payload: (ctx) => { link(realModel, path.join(ctx.modelsDir, "scanned.gguf")); return {}; },
    check: async (d, ctx) => {
      assert.deepEqual({ added: d.added, removed: d.removed, total: d.total }, { added: 1, removed: 0, total: 2 });
      const upd = await ctx.broadcast("models:updated", (u) => u.models.some((m) => m.id === "scanned"));
      assert.equal(upd.type, "broadcast");
    },
  },
  "models:load": {
    payload: (ctx) => { ctx.loadAsked = Date.now(); return { id: ctx.model }; },
    check: async (d, ctx) => {
      assert.deepEqual(d, { id: ctx.model, status: "loading" });
      await ctx.broadcast("models:status", (s) => s.id === ctx.model && s.status === "loaded", ctx.loadAsked);
    },
  },
  "models:unload": {
    payload: async (ctx) => {
      await until(async () => (await ok(ctx.socket, "models:get", { id: ctx.model })).model.status === "loaded",
        { timeoutMs: 30000, what: "the model loaded" });
      ctx.unloadAsked = Date.now();
      return { id: ctx.model };
    },
    check: async (d, ctx) => {
      assert.deepEqual(d, { id: ctx.model, status: "unloading" });
      await ctx.broadcast("models:status", (s) => s.id === ctx.model && s.status === "unloaded", ctx.unloadAsked);
    },
  },
  "models:update": {
    payload: (ctx) => ({ id: ctx.model, changes: { ttl: 120 } }),
    check: async (d, ctx) => {
      assert.equal(d.model.id, ctx.model);
      assert.equal(d.model.ttlSec, 120);
      assert.equal((await ok(ctx.socket, "models:get", { id: ctx.model })).model.ttlSec, 120, "stored");
    },
  },
  "models:reset": {
    payload: async (ctx) => {
      await until(async () => (await ok(ctx.socket, "models:get", { id: ctx.model })).model.status === "unloaded",
        { timeoutMs: 30000, what: "the model unloaded" });
      return { id: ctx.model };
    },
    check: (d, ctx) => assert.deepEqual(d, { id: ctx.model, status: "unloaded" }),
  },
  "models:import": {
    payload: (ctx) => ({ dir: ctx.importDir }),
    check: async (d, ctx) => {
      assert.deepEqual(d, { dir: realpathSync(ctx.importDir), added: ["imported-smol"], saved: ctx.configPath, total: 1 });
      const saved = readJson(ctx.configPath).backends.models;
      assert.deepEqual(saved.map((m) => [m.name, m.state, m.path]), [["imported-smol", "manual", path.join(realpathSync(ctx.importDir), "imported-smol.gguf")]]);
      const listed = (await ok(ctx.socket, "models:list", {})).models.find((m) => m.id === "imported-smol");
      assert.equal(listed?.source, "backend");
    },
  },
  "models:plan": {
    payload: async (ctx) => {
      await until(async () => (await ok(ctx.socket, "models:get", { id: ctx.model })).model.status === "unloaded",
        { timeoutMs: 30000, what: "the model unloaded" });
      return { id: ctx.model };
    },
    check: (d, ctx) => {
      assert.deepEqual({ id: d.id, kind: d.kind, loaded: d.loaded, evicts: d.evicts, refused: d.refused },
        { id: ctx.model, kind: "router", loaded: false, evicts: [], refused: null });
      assert.ok(d.needBytes > statSync(ctx.modelFile).size, `needBytes ${d.needBytes} covers the weights`);
      assert.match(d.summary, new RegExp(`^Loading ${ctx.model} unloads nothing`));
    },
  },
  "models:delete": {
    payload: () => ({ id: "scanned" }),
    check: async (d, ctx) => {
      const file = path.join(ctx.modelsDir, "scanned.gguf");
      assert.deepEqual({ id: d.id, path: d.path, deleted: d.deleted }, { id: "scanned", path: file, deleted: true });
      assert.equal(d.bytes, statSync(ctx.modelFile).size);
      assert.ok(!existsSync(file), "the file is gone");
      await ctx.broadcast("models:updated", (u) => !u.models.some((m) => m.id === "scanned"));
    },
  },
  "models:pull:search": {
    payload: () => ({ query: "pulled" }),
    check: (d) => assert.deepEqual(d, { query: "pulled", models: [{ id: "org/pulled-GGUF", downloads: 7, likes: 3, lastModified: "2026-11-01T00:00:00.000Z" }] }),
  },
  "models:pull:files": {
    payload: (ctx) => { ctx.hub.seen.length = 0; return { repo: "org/pulled-GGUF" }; },
    check: (d, ctx) => {
      assert.deepEqual({ repo: d.repo, commit: d.commit, default: d.default, sidecars: d.sidecars }, { repo: "org/pulled-GGUF", commit: SHA, default: PULLED, sidecars: [] });
      const [f] = d.files;
      assert.deepEqual({ file: f.file, sizeBytes: f.sizeBytes, quant: f.quant, kind: f.kind, parts: f.parts, headerError: f.headerError },
        { file: PULLED, sizeBytes: statSync(realModel).size, quant: "Q4_1", kind: "model", parts: 1, headerError: null });
      assert.equal(f.header.architecture, "llama");
      assert.ok(f.fit.verdict === "fits" && f.fit.needBytes > f.sizeBytes, JSON.stringify(f.fit));
      assert.ok(ctx.hub.requestsFor(PULLED).every((r) => /^bytes=0-\d+$/.test(r.range)), "only the header, with Range requests");
    },
  },
  "models:pull": {
    payload: () => ({ repo: "org/pulled-GGUF" }),
    check: async (d, ctx) => {
      assert.deepEqual({ ...d, pullId: typeof d.pullId }, { pullId: "string", repo: "org/pulled-GGUF", file: PULLED, sidecars: [], totalBytes: statSync(realModel).size });
      const done = (await ctx.broadcast("models:pull:done", (x) => x.pullId === d.pullId, 0, 60000)).data;
      assert.equal(done.path, path.join(ctx.hfCache, "models--org--pulled-GGUF", "snapshots", SHA, PULLED));
      assert.equal(statSync(done.path).size, statSync(realModel).size);
      const listed = (await ok(ctx.socket, "models:list", {})).models.find((m) => m.id === done.modelId);
      assert.equal(listed?.source, "backend", "listed without a restart");
    },
  },
  "models:pull:cancel": {
    payload: async (ctx) => ({ pullId: (await slowPull(ctx)).pullId }),
    check: async (d, ctx) => {
      assert.equal(d.cancelled, true);
      assert.ok(d.bytes > 0, JSON.stringify(d));
      const error = (await ctx.broadcast("models:pull:error", (x) => x.pullId === d.pullId)).data;
      assert.deepEqual([error.code, error.bytes], ["CANCELLED", d.bytes]);
      assert.equal(statSync(path.join(ctx.hfCache, "models--org--slow-GGUF", "blobs", "ca5e0002.incomplete")).size, d.bytes, "the partial blob is kept");
    },
  },
  "models:pull:list": {
    payload: async (ctx) => { ctx.listed = await slowPull(ctx); return {}; },
    check: async (d, ctx) => {
      assert.deepEqual(d.pulls.map((p) => [p.pullId, p.repo, p.file, p.totalBytes]), [[ctx.listed.pullId, "org/slow-GGUF", SLOW, 16 * 1024 * 1024]]);
      assert.ok(d.pulls[0].bytes > 0 && typeof d.pulls[0].startedAt === "number", JSON.stringify(d.pulls[0]));
      await ok(ctx.socket, "models:pull:cancel", { pullId: ctx.listed.pullId });
    },
  },
  "router:init:load": {
    payload: () => ({}),
    check: (d, ctx) => {
      assert.equal(d.source, "file");
      assert.equal(d.configPath, ctx.configPath);
      assert.equal(d.config.router.port, ctx.routerPort);
      assert.equal(d.fileConfig.models.presetsFile, ctx.presetsPath);
      assert.match(d.config.security.adminToken, PLACEHOLDER, "the token is never sent back");
      assert.equal(d.protected.editable, true, "an admin-token session may edit program and file keys");
    },
  },
  "router:init:validate": {
    payload: () => ({ config: { performance: { contextSize: 2048 } } }),
    check: (d) => {
      assert.equal(d.valid, true, JSON.stringify(d.errors));
      assert.deepEqual(d.errors, []);
      assert.ok(argPair(d.args, "-c", 2048), `-c 2048 in ${JSON.stringify(d.args)}`);
    },
  },
  "router:init:save": {
    payload: async (ctx) => {
      const { fileConfig } = await ok(ctx.socket, "router:init:load", {});
      ctx.pidBeforeSave = (await status(ctx)).pid;
      return { config: { ...fileConfig, proxy: { ...fileConfig.proxy, queueSize: 7 } } };
    },
    check: async (d, ctx) => {
      assert.equal(d.saved, ctx.configPath);
      assert.equal(d.backup, `${ctx.configPath}.bak`);
      assert.ok(existsSync(d.backup), "the previous file is kept");
      assert.equal(d.routerRestarted, false, "the router's argv did not change");
      assert.deepEqual(d.requiresRestart, []);
      assert.equal(d.config.proxy.queueSize, 7);
      const onDisk = readJson(ctx.configPath);
      assert.equal(onDisk.proxy.queueSize, 7);
      assert.equal(onDisk.security.adminToken, TOKEN, "the placeholder kept exactly the secret");
      assert.equal((await status(ctx)).pid, ctx.pidBeforeSave, "the router was not restarted");
    },
  },
  "router:init:status": { payload: () => ({}), check: assertRunningStatus },
  "router:status": { payload: () => ({}), check: assertRunningStatus },
  "router:start": {
    payload: async (ctx) => { ctx.pidBeforeStart = (await status(ctx)).pid; return {}; },
    check: (d, ctx) => {
      assertRunningStatus(d, ctx);
      assert.equal(d.pid, ctx.pidBeforeStart, "starting a running router keeps the one process");
    },
  },
  "router:stop": {
    payload: async (ctx) => { ctx.pidBeforeStop = (await status(ctx)).pid; return {}; },
    check: async (d, ctx) => {
      assert.equal(d.running, false);
      assert.equal(d.state, "stopped");
      assert.equal(d.pid, null);
      await until(() => !alive(ctx.pidBeforeStop), { timeoutMs: 5000, what: "the router process gone" });
    },
  },
  "router:restart": {
    payload: () => ({}),
    check: async (d, ctx) => {
      assertRunningStatus(d, ctx);
      assert.notEqual(d.pid, ctx.pidBeforeStop);
      assert.equal((await fetch(`${d.url}/health`, { headers: keyHeaders(d.pid) })).status, 200);
    },
  },
  "presets:get": {
    payload: () => ({}),
    check: (d, ctx) => assert.deepEqual(d, { path: ctx.presetsPath, content: "", presets: [], editable: true, reason: null }),
  },
  "presets:save": {
    payload: async (ctx) => {
      ctx.presets = `; saved by the events test\n[smol-preset]\nmodel = ${ctx.modelFile}\n`;
      ctx.pidBeforePresets = (await status(ctx)).pid;
      return { content: ctx.presets };
    },
    check: async (d, ctx) => {
      assert.deepEqual(d, { path: ctx.presetsPath, backup: null, presets: ["smol-preset"], routerRestarted: true });
      assert.equal(readFileSync(ctx.presetsPath, "utf8"), ctx.presets);
      const after = await status(ctx);
      assert.equal(after.running, true);
      assert.notEqual(after.pid, ctx.pidBeforePresets, "the router restarted to read the presets");
      await until(async () => (await ok(ctx.socket, "models:list", {})).models.some((m) => m.id === "smol-preset" && m.preset === true),
        { timeoutMs: 10000, what: "the router to list the new preset" });
    },
  },
  "metrics:get": {
    payload: async (ctx) => { ctx.sample = (await ctx.broadcast("metrics:update", () => true, 0, 10000)).data.metrics; return {}; },
    check: (d, ctx) => {
      assertSample(d.metrics, "data.metrics");
      assert.ok(d.metrics.timestamp >= ctx.sample.timestamp, "the latest sample");
    },
  },
  "metrics:history": {
    payload: async (ctx) => {
      ctx.sample ??= (await ctx.broadcast("metrics:update", () => true, 0, 10000)).data.metrics;
      return { since: ctx.sample.timestamp - 60000, until: ctx.sample.timestamp };
    },
    check: (d, ctx) => {
      assert.ok(d.samples.length >= 1);
      const ts = d.samples.map((s) => s.timestamp);
      assert.deepEqual(ts, [...ts].sort((a, b) => a - b), "oldest first");
      assert.equal(ts.at(-1), ctx.sample.timestamp, "the broadcast sample was stored");
      assert.ok(ts.every((t) => t >= ctx.sample.timestamp - 60000 && t <= ctx.sample.timestamp), "in range");
      assertSample(d.samples.at(-1), "samples[-1]");
    },
  },
  "logs:get": {
    payload: () => ({ search: "presets saved", limit: 5 }),
    check: (d) => {
      assert.equal(d.logs.length, 1, JSON.stringify(d.logs));
      assert.match(d.logs[0].message, /presets saved/);
      assert.equal(d.logs[0].level, "info");
      assert.equal(d.hasMore, false);
    },
  },
  "settings:get": {
    payload: () => ({}),
    check: (d) => assert.deepEqual(d.settings, { theme: "dark", metricsIntervalMs: 2000, retentionDays: 7, logsMaxRows: 100000 }),
  },
  "settings:update": {
    payload: () => ({ settings: { theme: "light" } }),
    check: async (d, ctx) => {
      assert.deepEqual(d.settings, { theme: "light", metricsIntervalMs: 2000, retentionDays: 7, logsMaxRows: 100000 });
      await ctx.broadcast("settings:updated", (s) => s.settings.theme === "light");
      assert.equal((await ok(ctx.socket, "settings:get", {})).settings.theme, "light", "stored");
    },
  },
  "requests:list": {
    payload: async (ctx) => { await rejectedRequest(ctx); return { outcome: "rejected" }; },
    check: (d) => {
      assert.equal(d.total, 1, JSON.stringify(d));
      const [r] = d.requests;
      assert.equal(r.model, "no-such-model");
      assert.equal(r.endpoint, "/v1/chat/completions");
      assert.equal(r.api, "openai");
      assert.equal(r.statusCode, 404);
      assert.equal(r.outcome, "rejected");
    },
  },
  "requests:stats": {
    payload: async (ctx) => { await rejectedRequest(ctx); return {}; },
    check: (d) => {
      assert.equal(d.totals.requests, 1, JSON.stringify(d));
      assert.equal(d.totals.errors, 1, "a rejected request counts as an error");
      assert.equal(d.active, 0);
      assert.equal(d.queued, 0);
      assert.deepEqual(d.models.map((m) => [m.model, m.requests]), [["no-such-model", 1]]);
    },
  },
  "requests:history": {
    payload: async (ctx) => { await rejectedRequest(ctx); return { bucketMs: 3600000 }; },
    check: (d) => {
      assert.equal(d.bucketMs, 3600000);
      assert.deepEqual(d.buckets.map((b) => [b.model, b.requests, b.errors]), [["no-such-model", 1, 1]], "one bucket has the request");
      assert.deepEqual(d.byApi, [{ api: "openai", requests: 1, errors: 1 }]);
    },
  },
  "nodes:list": {
    // The server becomes a node of itself (saved like any config change): one node up, one never there.
    payload: async (ctx) => {
      const loaded = await ok(ctx.socket, "router:init:load", {});
      const config = structuredClone(loaded.fileConfig);
      config.nodes = [...config.nodes, { name: "self", url: ctx.server.url }];
      await ok(ctx.socket, "router:init:save", { config, revision: loaded.revision });
      await until(async () => (await ok(ctx.socket, "nodes:list", {})).nodes.every((n) => n.state === "up" || n.state === "down"),
        { what: "both nodes looked at" });
      return {};
    },
    check: (d, ctx) => {
      assert.deepEqual(d.nodes.map((n) => [n.name, n.state]), [["nowhere", "down"], ["self", "up"]]);
      assert.match(d.nodes[0].error, /cannot connect/);
      assert.ok(d.nodes[1].models.some((m) => m.id === ctx.model), JSON.stringify(d.nodes[1].models));
    },
  },
  "nodes:load": {
    payload: (ctx) => { ctx.nodeLoadAsked = Date.now(); return { node: "self", model: ctx.model }; },
    check: async (d, ctx) => {
      assert.deepEqual(d, { node: "self", model: ctx.model, status: "loading" });
      await ctx.broadcast("models:status", (s) => s.id === ctx.model && s.status === "loaded", ctx.nodeLoadAsked);
      await ctx.broadcast("nodes:status", (s) => s.node.name === "self"
        && s.node.models.some((m) => m.id === ctx.model && m.status === "loaded"), ctx.nodeLoadAsked);
    },
  },
  "nodes:unload": {
    payload: (ctx) => { ctx.nodeUnloadAsked = Date.now(); return { node: "self", model: ctx.model }; },
    check: async (d, ctx) => {
      assert.deepEqual(d, { node: "self", model: ctx.model, status: "unloading" });
      await ctx.broadcast("models:status", (s) => s.id === ctx.model && s.status === "unloaded", ctx.nodeUnloadAsked);
    },
  },
};
