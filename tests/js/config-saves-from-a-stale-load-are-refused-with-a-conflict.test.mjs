// router:init:load names the init file's revision; a router:init:save that sends it back is refused with
// CONFLICT when the file changed since (a models:update of an own backend, another editor's save, an edit
// on disk), and the change it did not see stays in the file. A save without a revision writes over
// whatever is there, as before. The Configuration page sends its revision: the lost-update race the config
// churn run found (docs/reliability.md) cannot revert a change made after the page loaded.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { startServer } from "./lib/server.mjs";
import { connect, ok, request, freePort } from "./lib/socket.mjs";

let server, client, file;
const initFile = () => JSON.parse(readFileSync(file, "utf8"));
const ttlOf = (name) => initFile().backends.models.find((m) => m.name === name).ttl;

before(async () => {
  server = await startServer({
    config: {
      startup: { autoStart: false },
      backends: {
        basePort: await freePort(),
        defaultSpawn: { command: ["/nonexistent/llama-server"] },
        models: [{ name: "a", path: "/models/a.gguf" }],
      },
    },
  });
  file = path.join(server.work, "llama-router.init.json");
  client = await connect(server.url);
});

after(async () => {
  client?.close();
  await server?.stop();
});

test("a save with the revision it loaded succeeds and returns the new one, which the next load names", async () => {
  const loaded = await ok(client.socket, "router:init:load", {});
  assert.match(loaded.revision, /^[0-9a-f]{16}$/);
  const config = { ...loaded.fileConfig, models: { ...loaded.fileConfig.models, idleTimeoutSec: 111 } };
  const saved = await ok(client.socket, "router:init:save", { config, revision: loaded.revision });
  assert.match(saved.revision, /^[0-9a-f]{16}$/);
  assert.notEqual(saved.revision, loaded.revision, "the bytes changed");
  assert.equal((await ok(client.socket, "router:init:load", {})).revision, saved.revision);
  assert.equal(initFile().models.idleTimeoutSec, 111);
});

test("a save from a load older than a models:update is refused with CONFLICT and the update stays", async () => {
  const stale = await ok(client.socket, "router:init:load", {});
  await ok(client.socket, "models:update", { id: "a", changes: { ttl: 4242 } });
  const config = { ...stale.fileConfig, models: { ...stale.fileConfig.models, idleTimeoutSec: 222 } };
  const reply = await request(client.socket, "router:init:save", { config, revision: stale.revision });
  assert.equal(reply.success, false, JSON.stringify(reply));
  assert.equal(reply.error.code, "CONFLICT");
  assert.match(reply.error.message, /changed since it was loaded/);
  assert.ok(reply.error.message.includes(file), "the message names the file");
  assert.equal(ttlOf("a"), 4242, "the update the save did not see is kept");
  assert.equal(initFile().models.idleTimeoutSec, 111, "nothing of the refused save was written");

  // Loaded again, the same change saves, over the update's file.
  const fresh = await ok(client.socket, "router:init:load", {});
  const again = { ...fresh.fileConfig, models: { ...fresh.fileConfig.models, idleTimeoutSec: 222 } };
  await ok(client.socket, "router:init:save", { config: again, revision: fresh.revision });
  assert.equal(initFile().models.idleTimeoutSec, 222);
  assert.equal(ttlOf("a"), 4242);
});

test("an edit on disk after the load is a conflict too; a save without a revision writes over it", async () => {
  const stale = await ok(client.socket, "router:init:load", {});
  const onDisk = initFile();
  onDisk.models.idleTimeoutSec = 333;
  writeFileSync(file, `${JSON.stringify(onDisk, null, 2)}\n`);
  const config = { ...stale.fileConfig, models: { ...stale.fileConfig.models, idleTimeoutSec: 444 } };
  const refused = await request(client.socket, "router:init:save", { config, revision: stale.revision });
  assert.equal(refused.error?.code, "CONFLICT", JSON.stringify(refused));
  assert.equal(initFile().models.idleTimeoutSec, 333);
  await ok(client.socket, "router:init:save", { config });
  assert.equal(initFile().models.idleTimeoutSec, 444, "no revision: the last write wins");
});

test("a revision that is not a string is a bad request on its field", async () => {
  const { fileConfig } = await ok(client.socket, "router:init:load", {});
  const reply = await request(client.socket, "router:init:save", { config: fileConfig, revision: 7 });
  assert.equal(reply.error?.code, "BAD_REQUEST", JSON.stringify(reply));
  assert.equal(reply.error.field, "revision");
});
