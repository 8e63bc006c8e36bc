// Memory fit: a backend whose estimated need (weights + KV cache for its context, from its GGUF) exceeds
// what is free even after stopping every other backend is refused before anything is stopped or spawned,
// with a message that gives the estimate and what is free.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "./lib/server.mjs";
import { connect, ok, until, freePort } from "./lib/socket.mjs";
import { needReal, modelsDir, llamaServer } from "./lib/real.mjs";

const skip = needReal();
let server, client, files;

before(async () => {
  if (skip) return;
  files = modelsDir("smol");
  server = await startServer({
    config: {
      startup: { autoStart: false },
      metrics: { intervalMs: 500 },
      backends: {
        basePort: await freePort(),
        models: [
          // 4 million tokens of KV cache for SmolLM2 (30 layers, 3 KV heads of 64): about 86 GiB.
          { name: "huge", path: `${files.dir}/smol.gguf`, spawn: { command: ["llama-server", "-c", "4000000"] } },
          { name: "small", path: `${files.dir}/smol.gguf`, spawn: { command: ["llama-server", "-c", "512"] } },
        ],
      },
    },
    env: { LLAMA_SERVER_BIN: llamaServer },
  });
  client = await connect(server.url);
  await until(async () => (await ok(client.socket, "metrics:get", {})).metrics, { what: "a first metrics sample" });
});

after(async () => {
  client?.close();
  await server?.stop();
  files?.cleanup();
});

test("each backend model carries its estimated need and what is free", { skip }, async () => {
  const { models } = await ok(client.socket, "models:list", {});
  const huge = models.find((m) => m.id === "huge");
  const small = models.find((m) => m.id === "small");
  assert.equal(huge.memory.context, 4000000);
  assert.equal(huge.memory.kvCacheBytes, 4000000 * 30 * 3 * 64 * 2 * 2);
  assert.equal(small.memory.kvCacheBytes, 512 * 30 * 3 * 64 * 2 * 2);
  assert.ok(huge.memory.totalBytes > huge.memory.freeBytes, JSON.stringify(huge.memory));
  assert.equal(huge.architecture, "llama", "GGUF metadata is read for backend models");
});

test("a model that cannot fit is refused with the estimate, and nothing is spawned", { skip }, async () => {
  const res = await fetch(`${server.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "huge", messages: [{ role: "user", content: "hi" }] }),
  });
  assert.equal(res.status, 503);
  const { error } = await res.json();
  assert.equal(error.code, "backend_error");
  assert.match(error.message, /needs about [\d.]+ GiB \(weights [\d.]+ GiB \+ KV cache [\d.]+ GiB for 4000000 tokens \+ margin\) but only [\d.]+ GiB is free/);
  const { models } = await ok(client.socket, "models:list", {});
  const huge = models.find((m) => m.id === "huge");
  assert.equal(huge.status, "error");
  assert.equal(huge.port, null, "never started");
  const { events } = await ok(client.socket, "models:get", { id: "huge" });
  assert.ok(events.some((e) => e.event === "load_refused" && e.actor === "memory"), JSON.stringify(events));
  assert.equal(models.find((m) => m.id === "small").status, "unloaded");
});
