// The llama-server command line our code builds from the init file is accepted by a REAL llama-server: the
// router we start with it reaches running, it is exactly the argv router:init:validate shows for that config,
// and each setting is in force: models.maxLoaded in the router's /props, performance.parallelSlots and
// performance.contextSize in the loaded model's /props and /slots, and the model answers through our /v1.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { connect, ok, waitFor } from "./lib/socket.mjs";
import { argPair, clearEnv } from "./lib/config.mjs";
import { needReal, modelsDir, keyHeaders, startWithRealRouter } from "./lib/real.mjs";

const skip = needReal();
const ID = "smol";
const CONTEXT = 2048;
const SLOTS = 2;
let server, client, models, router;

/** GETs `path` from the router itself, with the key it was given. */
async function routerGet(path) {
  const res = await fetch(`${router.url}${path}`, { headers: keyHeaders(router.pid), signal: AbortSignal.timeout(10000) });
  const text = await res.text();
  assert.equal(res.status, 200, `${path}: ${text}`);
  return JSON.parse(text);
}

before(async () => {
  if (skip) return;
  models = modelsDir(ID);
  for (const k of Object.keys(clearEnv())) delete process.env[k]; // the developer's LLAMA_* overrides stay out
  server = await startWithRealRouter({
    models: { directory: models.dir, maxLoaded: 1 },
    performance: { contextSize: CONTEXT, parallelSlots: SLOTS, batchSize: 256, threads: 2, httpThreads: 2 },
    startup: { autoStart: true, timeout: 30000 },
  });
  client = await connect(server.url);
  router = await ok(client.socket, "router:status", {});
});
after(async () => {
  client?.close();
  await server?.stop();
  models?.cleanup();
});

test("the running router has exactly the argv router:init:validate gives for the init file, with the config's values", { skip }, async () => {
  assert.equal(router.state, "running", JSON.stringify(router));
  const argv = readFileSync(`/proc/${router.pid}/cmdline`, "utf8").split("\0").filter(Boolean).slice(1);
  const { fileConfig } = await ok(client.socket, "router:init:load", {});
  const validated = await ok(client.socket, "router:init:validate", { config: fileConfig });
  assert.equal(validated.valid, true, JSON.stringify(validated.errors));
  const shown = validated.args[0]?.startsWith("-") ? validated.args : validated.args.slice(1);
  assert.deepEqual(argv, shown, "what the Configuration page shows is what runs");
  for (const [flag, value] of [["--models-dir", models.dir], ["--models-max", 1], ["-c", CONTEXT], ["-b", 256], ["-np", SLOTS],
    ["-t", 2], ["--threads-http", 2], ["--host", "127.0.0.1"], ["--port", router.port]]) {
    assert.ok(argPair(argv, flag, value), `${flag} ${value} in ${JSON.stringify(argv)}`);
  }
  assert.ok(!argv.includes("--model") && !argv.includes("-m"), "router mode: no single --model");
});

test("the real llama-server took it as a router with models.maxLoaded instances", { skip }, async () => {
  const props = await routerGet("/props");
  assert.equal(props.role, "router", JSON.stringify(props));
  assert.equal(props.max_instances, 1, `--models-max from models.maxLoaded: ${JSON.stringify(props)}`);
  assert.equal((await fetch(`${router.url}/health`)).status, 200);
});

test("a loaded model runs with the configured slots and context, and answers through our /v1", { skip }, async () => {
  const loaded = waitFor(client.socket, "models:status", { timeoutMs: 60000, filter: (m) => m.data.id === ID && m.data.status === "loaded" });
  await ok(client.socket, "models:load", { id: ID });
  await loaded;
  const props = await routerGet(`/props?model=${ID}`);
  assert.equal(props.total_slots, SLOTS, "performance.parallelSlots");
  assert.equal(props.default_generation_settings.n_ctx * SLOTS, CONTEXT, "performance.contextSize, shared by the slots");
  const slots = await routerGet(`/slots?model=${ID}`);
  assert.deepEqual(slots.map((s) => s.n_ctx), Array(SLOTS).fill(CONTEXT / SLOTS));

  const res = await fetch(`${server.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: ID, messages: [{ role: "user", content: "Say hi" }], max_tokens: 4 }),
  });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  const body = JSON.parse(text);
  assert.ok(body.choices[0].message.content.length > 0 && body.usage.completion_tokens > 0, text);
});
