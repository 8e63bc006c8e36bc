// models:update edits an own backend's settings in the init file (checked like the file itself),
// and models:reset clears an error state. A backend whose command does not exist provides the error.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { startServer } from "./lib/server.mjs";
import { connect, ok, request, until, freePort } from "./lib/socket.mjs";

let server, client;
const initFile = () => JSON.parse(readFileSync(path.join(server.work, "llama-router.init.json"), "utf8"));
const model = async (id) => (await ok(client.socket, "models:list", {})).models.find((m) => m.id === id);

before(async () => {
  server = await startServer({
    config: {
      startup: { autoStart: false },
      backends: {
        basePort: await freePort(),
        defaultSpawn: { command: ["/nonexistent/llama-server"] },
        models: [{ name: "broken", path: "/models/broken.gguf" }, { name: "other", path: "/models/other.gguf", group: "g" }],
      },
    },
  });
  client = await connect(server.url);
});

after(async () => {
  client?.close();
  await server?.stop();
});

test("models:update saves group, aliases, ttl and state into backends.models", async () => {
  const { model: updated } = await ok(client.socket, "models:update", { id: "broken", changes: { group: "small", aliases: ["b"], ttl: 42, state: "manual" } });
  assert.equal(updated.group, "small");
  assert.deepEqual(updated.aliases, ["b"]);
  assert.equal(updated.ttlSec, 42);
  const saved = initFile().backends.models.find((m) => m.name === "broken");
  assert.deepEqual([saved.group, saved.aliases, saved.ttl, saved.state], ["small", ["b"], 42, "manual"]);
  assert.equal(initFile().backends.defaultSpawn.command[0], "/nonexistent/llama-server", "the rest of the file is kept");
});

test("bad changes are refused at their field and nothing is saved", async () => {
  const before = JSON.stringify(initFile());
  const cases = [
    [{ ttl: -5 }, "changes.ttl"],
    [{ aliases: ["other"] }, "changes"],
    [{ spawn: { command: ["llama-server", "--port", "1"] } }, "changes.spawn.command"],
    [{ path: "/etc/passwd" }, "changes.path"],
    [{}, "changes"],
  ];
  for (const [changes, field] of cases) {
    const reply = await request(client.socket, "models:update", { id: "broken", changes });
    assert.equal(reply.success, false, JSON.stringify(changes));
    assert.equal(reply.error.code, "BAD_REQUEST");
    assert.equal(reply.error.field, field, `${JSON.stringify(changes)}: ${reply.error.message}`);
  }
  assert.equal(JSON.stringify(initFile()), before);
});

test("a backend that cannot start is an error saying why, and models:reset clears it", async () => {
  const res = await fetch(`${server.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "b", messages: [{ role: "user", content: "hi" }] }),
  });
  assert.equal(res.status, 503);
  const { error } = await res.json();
  assert.equal(error.code, "backend_error");
  assert.match(error.message, /cannot start \/nonexistent\/llama-server/);
  const broken = await model("broken");
  assert.equal(broken.status, "error");
  assert.match(broken.error, /cannot start/);
  assert.equal((await model("other")).status, "unloaded", "the other model is untouched");

  const reset = await ok(client.socket, "models:reset", { id: "broken" });
  assert.deepEqual(reset, { id: "broken", status: "unloaded" });
  await until(async () => (await model("broken")).status === "unloaded", { what: "the error to clear" });
  const { events } = await ok(client.socket, "models:get", { id: "broken" });
  assert.ok(events.some((e) => e.event === "load_failed" && /cannot start/.test(e.detail ?? "")), JSON.stringify(events));
});

test("a backend added or removed by router:init:save reaches every client as models:updated", async () => {
  const watcher = await connect(server.url);
  try {
    const loaded = await ok(client.socket, "router:init:load", {});
    const config = structuredClone(loaded.fileConfig);
    config.backends.models.push({ name: "added", path: path.join(loaded.config.models.directory, "added.gguf") });
    await ok(client.socket, "router:init:save", { config, revision: loaded.revision });
    await until(() => watcher.received.some((e) => e.event === "models:updated" && e.payload.data.models.some((m) => m.id === "added")),
      { what: "models:updated listing the added backend" });
    const again = await ok(client.socket, "router:init:load", {});
    const without = structuredClone(again.fileConfig);
    without.backends.models = without.backends.models.filter((m) => m.name !== "added");
    const since = watcher.received.length;
    await ok(client.socket, "router:init:save", { config: without, revision: again.revision });
    await until(() => watcher.received.slice(since).some((e) => e.event === "models:updated" && !e.payload.data.models.some((m) => m.id === "added")),
      { what: "models:updated without it" });
  } finally {
    watcher.close();
  }
});
