// A GGUF in the Hugging Face cache is untrusted input: one whose llama.context_length (2^40) no model could
// have must not crash the server or the memory estimate. It is listed as a backend model with a
// metadataError naming the key, a valid GGUF beside it is listed without one, and the server keeps
// answering. No llama-server is needed: the files are only read and listed.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { startServer } from "./lib/server.mjs";
import { connect, ok, tempDir, until } from "./lib/socket.mjs";

const COMMIT = "0123456789abcdef0123456789abcdef01234567";

/** GGUF v3 bytes: metadata `kvs` as [key, "u32" | "u64" | "string", value], one small tensor. */
function gguf(kvs) {
  const parts = [];
  const u32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); parts.push(b); };
  const u64 = (v) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); parts.push(b); };
  const str = (s) => { const b = Buffer.from(s, "utf8"); u64(b.length); parts.push(b); };
  parts.push(Buffer.from("GGUF"));
  u32(3);
  u64(1); // tensors
  u64(kvs.length);
  for (const [key, type, value] of kvs) {
    str(key);
    if (type === "u32") { u32(4); u32(value); }
    else if (type === "u64") { u32(10); u64(value); }
    else { u32(8); str(value); }
  }
  str("token_embd.weight");
  u32(2); u64(64); u64(256); // dims
  u32(0); u64(0); // f32, offset
  return Buffer.concat(parts);
}

const llama = (contextLength) => gguf([
  ["general.architecture", "string", "llama"],
  ["general.name", "string", "tiny"],
  ["llama.context_length", "u64", contextLength],
  ["llama.block_count", "u32", 2],
  ["llama.attention.head_count", "u32", 4],
  ["llama.embedding_length", "u32", 64],
]);

let hub, server, client;

before(async () => {
  hub = tempDir("lldash-hostile-hub-");
  const snapshot = path.join(hub.dir, "models--user--repo", "snapshots", COMMIT);
  mkdirSync(snapshot, { recursive: true });
  writeFileSync(path.join(snapshot, "hostile-context.gguf"), llama(2n ** 40n));
  writeFileSync(path.join(snapshot, "tiny-good.gguf"), llama(2048));
  server = await startServer({ config: { startup: { autoStart: false } }, env: { HF_HUB_CACHE: hub.dir } });
  client = await connect(server.url);
});

after(async () => {
  client?.close();
  await server?.stop();
  hub?.cleanup();
});

test("the hostile GGUF is listed with an error naming the key, the valid one without, and the server stays up", async () => {
  const backendModels = async () =>
    (await ok(client.socket, "models:list", {})).models.filter((m) => m.source === "backend");
  const models = await until(async () => {
    const list = await backendModels();
    return list.length >= 2 && list.every((m) => "metadataError" in m) ? list : null;
  }, { what: "both backend models with their metadata" });
  const byId = Object.fromEntries(models.map((m) => [m.id, m]));
  assert.deepEqual(Object.keys(byId).sort(), ["hostile-context", "tiny-good"], JSON.stringify(models));

  const hostile = byId["hostile-context"];
  assert.equal(typeof hostile.metadataError, "string", JSON.stringify(hostile));
  assert.match(hostile.metadataError, /llama\.context_length/);
  assert.match(hostile.metadataError, /1099511627776/);
  assert.equal(hostile.memory, null, "no memory estimate for a file that was refused");

  const good = byId["tiny-good"];
  assert.equal(good.metadataError, null, JSON.stringify(good));
  assert.equal(good.architecture, "llama");
  assert.equal(good.contextLength, 2048);
  assert.ok(good.memory && good.memory.totalBytes > 0, JSON.stringify(good.memory));

  const health = await fetch(`${server.url}/health`);
  assert.equal(health.status, 200);
  assert.equal((await health.json()).status, "ok");
  assert.equal(server.proc.exitCode, null, "the server process is still running");
  assert.equal(server.proc.signalCode, null, "the server process was not killed");
  assert.doesNotMatch(server.output(), /panicked/, "no panic in the server's output");
});
