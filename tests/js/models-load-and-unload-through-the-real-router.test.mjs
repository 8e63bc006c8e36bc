// A real model loaded and unloaded through Socket.IO against a real llama-server router:
// live status with progress, an answer through our /v1, every step in the lifecycle history, and a preset
// from models.presetsFile that the router really reads.
import { test, before, after } from "node:test";
import { writeFileSync } from "node:fs";
import path from "node:path";
import assert from "node:assert/strict";
import { startServer } from "./lib/server.mjs";
import { connect, ok, request, freePort, until, waitFor } from "./lib/socket.mjs";
import { needReal, llamaServer, modelsDir } from "./lib/real.mjs";

const skip = needReal();
const ID = "smol";
const PRESET_N_PREDICT = 3;
let server, client, models, routerUrl;

before(async () => {
  if (skip) return;
  models = modelsDir(ID, { "broken.gguf": "GGUF this is not a model", "mmproj-smol-f16.gguf": "x" });
  const presets = path.join(models.dir, "presets.ini");
  // A preset of the same file whose answers stop after 3 tokens unless a request says otherwise (n-predict: a
  // setting our command line does not pass, so the preset's value is the one that holds).
  writeFileSync(presets, `[smol-short]\nmodel = ${path.join(models.dir, `${ID}.gguf`)}\nn-predict = ${PRESET_N_PREDICT}\n`);
  server = await startServer({
    config: {
      router: { port: await freePort() },
      models: { directory: models.dir, maxLoaded: 2, presetsFile: presets },
      performance: { contextSize: 1024, parallelSlots: 1 },
      startup: { autoStart: true, timeout: 20000 },
    },
    env: { LLAMA_SERVER_BIN: llamaServer },
  });
  client = await connect(server.url);
  routerUrl = (await until(async () => { const s = await ok(client.socket, "router:status", {}); return s.running && s; }, { timeoutMs: 30000, what: "router running" })).url;
});
after(async () => {
  client?.close();
  await server?.stop();
  models?.cleanup();
});

test("the catalog lists the real model as unloaded, and not the projector", { skip }, async () => {
  const list = await until(async () => {
    const { models: all } = await ok(client.socket, "models:list", {});
    return all.some((m) => m.id === "smol-short") && all;
  }, { what: "the preset to appear" });
  const ids = list.map((m) => m.id).sort();
  assert.deepEqual(ids, ["broken", ID, "smol-short"]);
  assert.equal(list.find((m) => m.id === "smol-short").preset, true);
  const smol = list.find((m) => m.id === ID);
  assert.equal(smol.status, "unloaded");
  assert.equal(smol.architecture, "llama");
  assert.equal(smol.quantization, "Q4_1");
  assert.equal(smol.contextLength, 8192);
  assert.ok(smol.parameters > 100e6 && smol.parameters < 200e6, String(smol.parameters));
  assert.equal(smol.metadata.blockCount, 30);
  assert.match(smol.projector, /mmproj-smol-f16\.gguf$/);
  const broken = list.find((m) => m.id === "broken");
  assert.ok(broken.metadataError, "a corrupt file is listed with its problem, not hidden");
  assert.equal(broken.architecture, null);
});

let loadWallMs;
test("models:load shows loading with progress, then loaded, and the model answers through our /v1", { skip }, async () => {
  const seen = [];
  const t0 = Date.now();
  const onStatus = (m) => { if (m.data.id === ID) seen.push(m.data); };
  client.socket.on("models:status", onStatus);
  const loaded = waitFor(client.socket, "models:status", { timeoutMs: 30000, filter: (m) => m.data.id === ID && m.data.status === "loaded" });
  const reply = await ok(client.socket, "models:load", { id: ID });
  assert.equal(reply.id, ID);
  assert.equal(reply.status, "loading");
  await loaded;
  loadWallMs = Date.now() - t0;
  client.socket.off("models:status", onStatus);
  assert.ok(seen.some((s) => s.status === "loading"), JSON.stringify(seen));
  assert.ok(seen.some((s) => s.status === "loading" && typeof s.progress === "number"), `a progress value: ${JSON.stringify(seen)}`);
  const { models: list } = await ok(client.socket, "models:list", {});
  assert.equal(list.find((m) => m.id === ID).status, "loaded");
  assert.ok(Date.now() - list.find((m) => m.id === ID).lastUsed < 60000, "lastUsed set by the load");

  const ask = (base) => fetch(`${base}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: ID, messages: [{ role: "user", content: "Say hi" }], max_tokens: 8 }),
  });
  const res = await ask(server.url);
  const text = await res.text();
  assert.equal(res.status, 200, text);
  const body = JSON.parse(text);
  assert.equal(body.object, "chat.completion");
  assert.equal(body.model, ID);
  const answer = body.choices[0].message;
  assert.equal(answer.role, "assistant");
  assert.ok(typeof answer.content === "string" && answer.content.trim().length > 0, `real text: ${text}`);
  const { usage } = body;
  assert.ok(usage.prompt_tokens > 0 && usage.completion_tokens > 0 && usage.completion_tokens <= 8, JSON.stringify(usage));
  assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
  const row = await until(async () => (await ok(client.socket, "requests:list", { model: ID })).requests[0], { what: "the stored request" });
  assert.equal(row.outcome, "ok", JSON.stringify(row));
  assert.equal(row.statusCode, 200);
  assert.equal(row.completionTokens, usage.completion_tokens, "the stored tokens are the ones the client got");
  assert.equal(row.promptTokens, usage.prompt_tokens);
  assert.equal((await ask(routerUrl)).status, 401, "the router's own port wants our key");
});

test("models:unload ends in unloaded", { skip }, async () => {
  const unloaded = waitFor(client.socket, "models:status", { timeoutMs: 20000, filter: (m) => m.data.id === ID && m.data.status === "unloaded" });
  const reply = await ok(client.socket, "models:unload", { id: ID });
  assert.equal(reply.status, "unloading");
  await unloaded;
});

test("the lifecycle history in SQLite has every step, with durations", { skip }, async () => {
  const { model, events } = await ok(client.socket, "models:get", { id: ID });
  assert.equal(model.id, ID);
  const kinds = events.map((e) => e.event).reverse();
  for (const k of ["load_requested", "loading", "loaded", "unload_requested", "unloaded"]) {
    assert.ok(kinds.includes(k), `${k} in ${kinds}`);
  }
  const loadedEvent = events.find((e) => e.event === "loaded");
  const { durationMs } = loadedEvent;
  assert.ok(Number.isInteger(durationMs) && durationMs > 0, `the load time in ms: ${JSON.stringify(loadedEvent)}`);
  assert.ok(durationMs <= loadWallMs + 50, `the load took ${durationMs} ms by the history, ${loadWallMs} ms as the client saw it`);
  assert.equal(events.find((e) => e.event === "load_requested").actor, "socket");
});

test("the model's own llama-server output is in the logs under its id", { skip }, async () => {
  const { logs } = await ok(client.socket, "logs:get", { model: ID, source: "llama_server", limit: 200 });
  assert.ok(logs.length > 0, "no per-model lines");
  assert.ok(logs.some((l) => /model loaded|listening/.test(l.message)), logs.map((l) => l.message).join("\n"));
});

test("a corrupt GGUF fails to load with a visible error; the router keeps serving the good model", { skip }, async () => {
  const failed = waitFor(client.socket, "models:status", { timeoutMs: 30000, filter: (m) => m.data.id === "broken" && m.data.status === "error" });
  await ok(client.socket, "models:load", { id: "broken" });
  const msg = await failed;
  assert.match(msg.data.error, /exited with code [1-9]/, JSON.stringify(msg.data));
  assert.equal((await ok(client.socket, "router:status", {})).running, true);
  const loaded = waitFor(client.socket, "models:status", { timeoutMs: 30000, filter: (m) => m.data.id === ID && m.data.status === "loaded" });
  await ok(client.socket, "models:load", { id: ID });
  await loaded;
});

test("a preset from models.presetsFile is listed, loads, and answers with the preset's settings", { skip }, async () => {
  const v1Ids = (await (await fetch(`${server.url}/v1/models`)).json()).data.map((m) => m.id);
  assert.ok(v1Ids.includes("smol-short"), `/v1/models lists the preset: ${JSON.stringify(v1Ids)}`);
  const loaded = waitFor(client.socket, "models:status", { timeoutMs: 30000, filter: (m) => m.data.id === "smol-short" && m.data.status === "loaded" });
  await ok(client.socket, "models:load", { id: "smol-short" });
  await loaded;
  // No max_tokens: the preset's n-predict is what stops the answer.
  const res = await fetch(`${server.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "smol-short", messages: [{ role: "user", content: "Tell me a long story about a dragon" }] }),
  });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  const body = JSON.parse(text);
  assert.equal(body.model, "smol-short");
  assert.equal(body.usage.completion_tokens, PRESET_N_PREDICT, `the preset's n-predict: ${text}`);
  assert.equal(body.choices[0].finish_reason, "length", text);
});

test("unknown ids, missing ids and paths are refused without touching the router", { skip }, async () => {
  for (const id of ["nope", "../../etc/passwd", "/etc/passwd"]) {
    const reply = await request(client.socket, "models:load", { id });
    assert.equal(reply.success, false);
    assert.equal(reply.error.code, "MODEL_NOT_FOUND", id);
  }
  const missing = await request(client.socket, "models:unload", {});
  assert.equal(missing.error.code, "BAD_REQUEST");
  assert.equal(missing.error.field, "id");
});

test("loading while the router is down is a clear error, not a hang; stopped models read unloaded", { skip }, async () => {
  await ok(client.socket, "router:stop", {});
  const t = Date.now();
  const reply = await request(client.socket, "models:load", { id: ID });
  assert.equal(reply.success, false);
  assert.equal(reply.error.code, "ROUTER_ERROR");
  assert.match(reply.error.message, /not running/);
  assert.ok(Date.now() - t < 2000);
  const { models: list } = await ok(client.socket, "models:list", {});
  assert.equal(list.find((m) => m.id === ID).status, "unloaded");
});
