// The init file is written like a database writes its files: concurrent writers (models:update from many
// clients, models:import, a save) never lose each other's change, the file keeps its mode, a symlinked
// file is written through the link, no temp file is left behind, and a config that would not run with
// the environment's overrides is refused before anything is written.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, copyFileSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync, symlinkSync, lstatSync, writeFileSync } from "node:fs";
import path from "node:path";
import { startServer } from "./lib/server.mjs";
import { connect, ok, request, freePort, tempDir } from "./lib/socket.mjs";

const dirs = tempDir("lldash-writers-");
after(() => dirs.cleanup());

const N = 12;

test("concurrent updates and an import all land, the mode is kept and no temp file is left", async () => {
  const models = path.join(dirs.dir, "models");
  mkdirSync(path.join(models, "incoming"), { recursive: true });
  for (const name of ["new-a", "new-b"]) writeFileSync(path.join(models, "incoming", `${name}.gguf`), "GGUF");
  const server = await startServer({
    config: {
      router: { enabled: false, port: await freePort() },
      startup: { autoStart: false },
      models: { directory: models },
      backends: {
        basePort: await freePort(),
        models: Array.from({ length: N }, (_, i) => ({ name: `m${i}`, path: path.join(models, `m${i}.gguf`) })),
      },
    },
  });
  const file = path.join(server.work, "llama-router.init.json");
  chmodSync(file, 0o640);
  const clients = await Promise.all(Array.from({ length: 4 }, () => connect(server.url)));
  try {
    const writes = [];
    for (let i = 0; i < N; i++) {
      writes.push(ok(clients[i % clients.length].socket, "models:update", { id: `m${i}`, changes: { ttl: 100 + i, group: `g${i % 3}` } }));
      if (i === N / 2) writes.push(ok(clients[0].socket, "models:import", { dir: path.join(models, "incoming") }));
    }
    await Promise.all(writes);
    const saved = JSON.parse(readFileSync(file, "utf8")).backends.models;
    for (let i = 0; i < N; i++) {
      const m = saved.find((x) => x.name === `m${i}`);
      assert.deepEqual([m?.ttl, m?.group], [100 + i, `g${i % 3}`], `m${i}'s update survived the others`);
    }
    assert.ok(saved.some((m) => m.name === "new-a") && saved.some((m) => m.name === "new-b"), "the import survived too");
    assert.equal(statSync(file).mode & 0o777, 0o640, "the file kept its mode");
    const leftovers = readdirSync(server.work).filter((f) => f.endsWith(".tmp"));
    assert.deepEqual(leftovers, [], "no temp file left behind");
    const live = (await ok(clients[1].socket, "models:list", {})).models.filter((m) => /^m\d+$/.test(m.id));
    assert.equal(live.filter((m) => m.ttlSec >= 100).length, N, "the running config has every change");
  } finally {
    for (const c of clients) c.close();
    await server.stop();
  }
});

test("a symlinked init file is written through the link, and a new one holding secrets is private", async () => {
  const real = path.join(dirs.dir, "real-init.json");
  const server = await startServer({ config: { router: { enabled: false, port: await freePort() }, startup: { autoStart: false } } });
  const link = path.join(server.work, "llama-router.init.json");
  copyFileSync(link, real);
  renameSync(link, `${link}.orig`);
  symlinkSync(real, link);
  const client = await connect(server.url);
  try {
    const { fileConfig } = await ok(client.socket, "router:init:load", {});
    fileConfig.metrics.intervalMs = 3000;
    fileConfig.security.apiKeys = ["sk-written-through-a-link"];
    await ok(client.socket, "router:init:save", { config: fileConfig });
    assert.ok(lstatSync(link).isSymbolicLink(), "the link is still a link");
    assert.equal(JSON.parse(readFileSync(real, "utf8")).metrics.intervalMs, 3000, "the target got the new text");
  } finally {
    client.close();
    await server.stop();
  }
  const fresh = await startServer({ config: undefined });
  const second = await connect(fresh.url);
  try {
    const { fileConfig, source } = await ok(second.socket, "router:init:load", {});
    assert.equal(source, "defaults", "no init file yet");
    fileConfig.security.apiKeys = ["sk-a-secret-in-a-new-file"];
    const saved = await ok(second.socket, "router:init:save", { config: fileConfig });
    assert.equal(statSync(saved.saved.startsWith("/") ? saved.saved : path.join(fresh.work, saved.saved)).mode & 0o777, 0o600,
      "a new file holding secrets is readable by its owner only");
  } finally {
    second.close();
    await fresh.stop();
  }
});

test("a write that would leave a file that does not load is refused before anything is written", async () => {
  const server = await startServer({
    config: {
      router: { enabled: false, port: await freePort() },
      startup: { autoStart: false },
      backends: { basePort: await freePort(), models: [{ name: "m", path: "/models/m.gguf" }] },
    },
  });
  const client = await connect(server.url);
  try {
    // Someone edits the file by hand meanwhile and leaves a mistake in it.
    const file = path.join(server.work, "llama-router.init.json");
    const edited = JSON.parse(readFileSync(file, "utf8"));
    edited.performance = { contextSize: 64 };
    writeFileSync(file, JSON.stringify(edited, null, 2));
    const before = readFileSync(file, "utf8");
    const reply = await request(client.socket, "models:update", { id: "m", changes: { ttl: 5 } });
    assert.equal(reply.error?.code, "BAD_REQUEST", JSON.stringify(reply));
    assert.match(reply.error.message, /performance\.contextSize/);
    assert.equal(readFileSync(file, "utf8"), before, "nothing written: the file still holds the hand edit, not a mix");
    const m = (await ok(client.socket, "models:list", {})).models.find((x) => x.id === "m");
    assert.notEqual(m.ttlSec, 5, "and the running config did not change either");
  } finally {
    client.close();
    await server.stop();
  }
});
