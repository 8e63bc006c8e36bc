// Our own on-demand backends (`backends.models`) with the real llama-server and the real GGUF model,
// linked into a temp dir under one file per backend model, so each backend's process can be told
// apart by its `--model PATH`. The native router stays off (router.enabled false, autoStart false).
import assert from "node:assert/strict";
import { linkSync, copyFileSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { startServer } from "./server.mjs";
import { connect, ok, freePort, tempDir, until } from "./socket.mjs";
import { llamaServer, realModel, modelsDir } from "./real.mjs";

export { readSse, fakeBin } from "./fake-router.mjs";

/** Pids of running processes whose argv holds `--model <file>` for a file under `dir`. */
export function pidsUnder(dir) {
  const found = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let argv;
    try { argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0"); } catch { continue; }
    const i = argv.indexOf("--model");
    if (i >= 0 && argv[i + 1]?.startsWith(dir + path.sep)) {
      // A zombie (exited, not yet reaped) is not a running process.
      let state = "";
      try { state = readFileSync(`/proc/${entry}/stat`, "utf8").split(") ")[1]?.[0] ?? ""; } catch { continue; }
      if (state !== "Z") found.push({ pid: Number(entry), model: argv[i + 1], argv });
    }
  }
  return found;
}

/**
 * Starts llama-dashboard with `backends.models` made of `models` (each `{name, group?, ttl?, spawn?, aliases?}`;
 * `path` defaults to `<dir>/<name>.gguf`, a hard link of the real model) and a socket client.
 * `backends` adds or overrides backends settings; `config` adds top-level sections; `env` goes to the server
 * (and so to the backends it spawns); `auth` is the socket client's (with `security.adminToken`).
 * `link: false` creates no model files (for the fake llama-server, which reads none): `<dir>/<name>.gguf`
 * is then only a name in its argv.
 */
export async function startBackends({ models, backends = {}, config = {}, env = {}, auth, link = true }) {
  const files = tempDir("lldash-backends-");
  const empty = tempDir("lldash-nomodels-");
  const list = models.map((m) => {
    const file = path.join(files.dir, `${m.name}.gguf`);
    if (!m.path && link) {
      try { linkSync(realModel, file); } catch { copyFileSync(realModel, file); }
    }
    return { path: file, ...m };
  });
  let server;
  try {
    server = await startServer({
      config: {
        router: { enabled: false, port: await freePort() },
        startup: { autoStart: false },
        models: { directory: empty.dir },
        ...config,
        backends: {
          basePort: await freePort(),
          startTimeoutSec: 60,
          idleTimeoutSec: 0,
          defaultSpawn: { command: ["llama-server", "-c", "1024"] },
          ...backends,
          models: list,
        },
      },
      env: { LLAMA_SERVER_BIN: llamaServer, ...env },
    });
  } catch (err) {
    files.cleanup();
    empty.cleanup();
    throw err;
  }
  let client;
  try {
    client = await connect(server.url, { auth });
  } catch (err) {
    await server.stop();
    files.cleanup();
    empty.cleanup();
    throw err;
  }
  const ctx = {
    server,
    client,
    socket: client.socket,
    v1: `${server.url}/v1`,
    dir: files.dir,
    file: (name) => path.join(files.dir, `${name}.gguf`),
    /** Our llama-server processes now. */
    pids: () => pidsUnder(files.dir),
    /** Names of the backend models whose llama-server runs now. */
    running: () => pidsUnder(files.dir).map((p) => path.basename(p.model, ".gguf")).sort(),
    model: (id) => model(client.socket, id),
    events: (id) => events(client.socket, id),
    /** models:status broadcasts for `id` received so far (`{...data, at}`), oldest first. */
    statuses: (id) => client.received
      .filter((e) => e.event === "models:status" && e.payload?.data?.id === id)
      .map((e) => ({ ...e.payload.data, at: e.at })),
    /** Waits for a models:status broadcast for `id` with `status`, received after `since` (ms). */
    waitStatus: (id, status, { since = 0, timeoutMs = 30000 } = {}) => until(
      () => ctx.statuses(id).find((s) => s.status === status && s.at >= since),
      { timeoutMs, intervalMs: 50, what: `models:status ${id} ${status}` },
    ),
    /** Stops llama-dashboard; none of our llama-server processes may be left. */
    async stop() {
      client.close();
      await server.stop();
      try {
        await until(() => pidsUnder(files.dir).length === 0, { timeoutMs: 15000, what: "our llama-server processes to exit" });
      } finally {
        for (const { pid } of pidsUnder(files.dir)) { try { process.kill(pid, "SIGKILL"); } catch {} }
        files.cleanup();
        empty.cleanup();
      }
    },
  };
  return ctx;
}

/**
 * Both kinds of model on one server: `routerModel`, the real model in the models directory served by the real
 * llama-server router, and the own backend `own` (the real model too); `base` is the server's URL. `stop()`
 * also removes the models directory.
 */
export async function startBothKinds({ routerModel, own }) {
  const models = modelsDir(routerModel);
  try {
    const ctx = await startBackends({
      models: [{ name: own }],
      config: {
        router: { enabled: true, port: await freePort() },
        startup: { autoStart: true, timeout: 30000 },
        models: { directory: models.dir, maxLoaded: 2 },
        performance: { contextSize: 1024, parallelSlots: 1 },
      },
    });
    return { ...ctx, base: ctx.v1.replace(/\/v1$/, ""), stop: async () => { try { await ctx.stop(); } finally { models.cleanup(); } } };
  } catch (err) {
    models.cleanup();
    throw err;
  }
}

/** The backend model `id` from models:list. */
export async function model(socket, id) {
  const { models } = await ok(socket, "models:list", {});
  const m = models.find((x) => x.id === id);
  assert.ok(m, `${id} in models:list: ${JSON.stringify(models.map((x) => x.id))}`);
  return m;
}

/** models:get's events for `id`, oldest first. */
export async function events(socket, id) {
  const { events: list } = await ok(socket, "models:get", { id });
  return [...list].reverse();
}

/** A /v1 chat completion; resolves the fetch Response. */
export function chat(v1, model, { max_tokens = 4, stream = false, content = "Say hi", ...rest } = {}) {
  return fetch(`${v1}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model, messages: [{ role: "user", content }], max_tokens, stream, ...rest }),
  });
}

/** A /v1 chat that must succeed: the parsed body, whose answer came from `model`. */
export async function chatOk(v1, model, opts) {
  const res = await chat(v1, model, opts);
  const text = await res.text();
  assert.equal(res.status, 200, `chat ${model}: ${text}`);
  const body = JSON.parse(text);
  assert.ok(body.usage?.completion_tokens > 0, `chat ${model} generated nothing: ${text}`);
  return body;
}

/** Waits until the backend model `id` reports `status` in models:list; returns the model. */
export function untilStatus(socket, id, status, { timeoutMs = 30000 } = {}) {
  return until(async () => { const m = await model(socket, id); return m.status === status && m; }, {
    timeoutMs, intervalMs: 100, what: `${id} to be ${status}`,
  });
}

/** Polls models:get until an event for `id` matches `pred`; returns it. */
export function untilEvent(socket, id, pred, what) {
  return until(async () => (await events(socket, id)).find(pred), { timeoutMs: 10000, intervalMs: 100, what });
}

/** A skip reason when the real llama-server or model is missing (throws in CI; see needReal). */
export { needReal } from "./real.mjs";
