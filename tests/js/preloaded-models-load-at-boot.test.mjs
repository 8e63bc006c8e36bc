// The boot flow: with startup.autoStart the router starts by itself and models.preloadModels get loaded
// without anyone asking; the steps are in the log with their durations.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "./lib/server.mjs";
import { connect, ok, freePort, until } from "./lib/socket.mjs";
import { needReal, llamaServer, modelsDir } from "./lib/real.mjs";

const skip = needReal();
let server, client, models;
after(async () => {
  client?.close();
  await server?.stop();
  models?.cleanup();
});

test("preloadModels are loaded at boot and the boot steps are logged with durations", { skip }, async () => {
  models = modelsDir("warm");
  server = await startServer({
    config: {
      router: { port: await freePort() },
      models: { directory: models.dir, preloadModels: ["warm"] },
      performance: { contextSize: 1024 },
      startup: { autoStart: true, timeout: 20000 },
    },
    env: { LLAMA_SERVER_BIN: llamaServer },
  });
  client = await connect(server.url);
  await until(async () => {
    const { models: list } = await ok(client.socket, "models:list", {});
    return list.find((m) => m.id === "warm")?.status === "loaded";
  }, { timeoutMs: 40000, what: "the preloaded model to be loaded" });
  const { events } = await ok(client.socket, "models:get", { id: "warm" });
  assert.equal(events.find((e) => e.event === "load_requested").actor, "boot");
  const { logs } = await ok(client.socket, "logs:get", { limit: 1000 });
  for (const step of ["database ready", "router ready", "router started", "preload requested"]) {
    const line = logs.find((l) => l.message.includes(step));
    assert.ok(line, `boot step "${step}" logged`);
    assert.match(line.message, /elapsed_ms=\d+/, `"${step}" carries its duration`);
  }
});
