// The attack from issue 10: with the default configuration (loopback, no admin token) a client saves a
// backend whose command is a shell, then loads it. Without a token every key that names a program or a
// file is refused with FORBIDDEN naming the key, and the init file stays byte for byte as it was; with a
// token (which every socket then presents) the same save is allowed and the command runs.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { startServer } from "./lib/server.mjs";
import { connect, ok, request, freePort, tempDir, until } from "./lib/socket.mjs";

const TOKEN = "admin-token-for-the-spawn-test";
const dirs = tempDir("lldash-protect-");
after(() => dirs.cleanup());

async function serverWith(security) {
  const server = await startServer({
    config: {
      router: { enabled: false, port: await freePort() },
      startup: { autoStart: false },
      models: { directory: dirs.dir, presetsFile: path.join(dirs.dir, "presets.ini") },
      security,
      backends: { basePort: await freePort(), startTimeoutSec: 5, models: [{ name: "kept", path: path.join(dirs.dir, "kept.gguf") }] },
    },
  });
  const client = await connect(server.url, { auth: security.adminToken ? { token: TOKEN } : undefined });
  const file = path.join(server.work, "llama-router.init.json");
  return { server, client, socket: client.socket, file, stop: async () => { client.close(); await server.stop(); } };
}

/** The file config as the Configuration page gets it, with `edit` applied. */
async function edited(socket, edit) {
  const { fileConfig } = await ok(socket, "router:init:load", {});
  edit(fileConfig);
  return fileConfig;
}

test("without an admin token, a shell as a backend's command is refused, nothing is written and nothing runs", async () => {
  const ctx = await serverWith({});
  try {
    const proof = path.join(dirs.dir, "proof-without-token");
    const before = readFileSync(ctx.file, "utf8");
    const loaded = await ok(ctx.socket, "router:init:load", {});
    assert.equal(loaded.protected.editable, false);
    assert.match(loaded.protected.reason, /security\.adminToken/);
    assert.ok(loaded.protected.keys.includes("backends.models[].spawn.command"));

    const config = await edited(ctx.socket, (c) => c.backends.models.push({
      name: "evil", path: path.join(dirs.dir, "evil.gguf"), spawn: { command: ["/bin/sh", "-c", `id > ${proof}`] },
    }));
    const reply = await request(ctx.socket, "router:init:save", { config });
    assert.equal(reply.success, false);
    assert.equal(reply.error.code, "FORBIDDEN", JSON.stringify(reply));
    assert.equal(reply.error.field, "config.backends.models[1].spawn.command");
    assert.match(reply.error.message, /security\.adminToken/);
    assert.equal(readFileSync(ctx.file, "utf8"), before, "the init file is untouched");

    const load = await request(ctx.socket, "models:load", { id: "evil" });
    assert.equal(load.error?.code, "MODEL_NOT_FOUND", "the model was never added");
    assert.equal(existsSync(proof), false, "the command never ran");

    const validate = await ok(ctx.socket, "router:init:validate", { config });
    assert.equal(validate.valid, false);
    assert.deepEqual(validate.errors.map((e) => e.path), ["backends.models[1].spawn.command"]);
  } finally {
    await ctx.stop();
  }
});

test("without an admin token, every key that names a program or a file is refused by name", async () => {
  const ctx = await serverWith({});
  try {
    const before = readFileSync(ctx.file, "utf8");
    const cases = [
      ["router.serverPath", (c) => { c.router.serverPath = "/bin/sh"; }],
      ["models.directory", (c) => { c.models.directory = "/"; }],
      ["backends.defaultSpawn.command", (c) => { c.backends.defaultSpawn.command = ["/bin/sh", "-c", "id"]; }],
      ["models.presetsFile", (c) => { c.models.presetsFile = "/etc/passwd"; }],
      ["logging.logFile", (c) => { c.logging.logFile = path.join(dirs.dir, ".bashrc"); }],
      ["backends.importRoots", (c) => { c.backends.importRoots = ["/"]; }],
      ["backends.models[0].spawn.command", (c) => { c.backends.models[0].spawn = { command: ["/bin/sh"] }; }],
      ["backends.models[1].path", (c) => { c.backends.models.push({ name: "shadow", path: "/etc/shadow" }); }],
    ];
    for (const [key, edit] of cases) {
      const reply = await request(ctx.socket, "router:init:save", { config: await edited(ctx.socket, edit) });
      assert.equal(reply.error?.code, "FORBIDDEN", `${key}: ${JSON.stringify(reply)}`);
      assert.equal(reply.error.field, `config.${key}`);
    }
    const update = await request(ctx.socket, "models:update", { id: "kept", changes: { spawn: { command: ["/bin/sh", "-c", "id"] } } });
    assert.equal(update.error?.code, "FORBIDDEN", JSON.stringify(update));
    assert.equal(update.error.field, "changes.spawn.command");
    const presets = await request(ctx.socket, "presets:save", { content: "[m]\nlog-file = /tmp/x\n" });
    assert.equal(presets.error?.code, "FORBIDDEN", JSON.stringify(presets));
    assert.equal((await ok(ctx.socket, "presets:get", {})).editable, false);
    assert.equal(readFileSync(ctx.file, "utf8"), before, "the init file is untouched");
    assert.equal(existsSync(path.join(dirs.dir, "presets.ini")), false, "no presets file was written");

    const harmless = await ok(ctx.socket, "router:init:save", { config: await edited(ctx.socket, (c) => { c.metrics.intervalMs = 1500; }) });
    assert.equal(harmless.config.metrics.intervalMs, 1500, "other keys still save without a token");
    assert.equal(JSON.parse(readFileSync(ctx.file, "utf8")).metrics.intervalMs, 1500);
  } finally {
    await ctx.stop();
  }
});

test("with an admin token the client that presented it may change the command, and it runs", async () => {
  const ctx = await serverWith({ adminToken: TOKEN });
  try {
    const proof = path.join(dirs.dir, "proof-with-token");
    const loaded = await ok(ctx.socket, "router:init:load", {});
    assert.equal(loaded.protected.editable, true);
    assert.equal(loaded.protected.reason, null);
    const config = await edited(ctx.socket, (c) => c.backends.models.push({
      name: "script", path: path.join(dirs.dir, "script.gguf"), spawn: { command: ["/bin/sh", "-c", `id > ${proof}`] },
    }));
    const saved = await ok(ctx.socket, "router:init:save", { config });
    assert.equal(saved.config.backends.models[1].spawn.command[0], "/bin/sh");
    await ok(ctx.socket, "models:load", { id: "script" });
    await until(() => existsSync(proof), { what: "the configured command to run" });
    assert.match(readFileSync(proof, "utf8"), /uid=/);
    assert.equal((await ok(ctx.socket, "presets:get", {})).editable, true);
    await ok(ctx.socket, "presets:save", { content: "[m]\nctx-size = 1024\n" });
  } finally {
    await ctx.stop();
  }
});
