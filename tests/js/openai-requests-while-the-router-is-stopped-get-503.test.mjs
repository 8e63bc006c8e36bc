// A /v1 request for a listed model while the llama-server router is not running is answered at once with
// a 503 OpenAI error that names the router (and says when to retry), not a hang or a bare connection error.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import OpenAI, { InternalServerError } from "openai";
import { startServer } from "./lib/server.mjs";
import { connect, ok, until, tempDir } from "./lib/socket.mjs";
import { writeFileSync } from "node:fs";
import path from "node:path";

let server, client, models;

before(async () => {
  models = tempDir("lldash-models-");
  writeFileSync(path.join(models.dir, "dummy.gguf"), "GGUF not really a model");
  // No LLAMA_SERVER_BIN: the router's autoStart fails and it stays down.
  server = await startServer({ config: { models: { directory: models.dir } } });
  client = await connect(server.url);
  await until(async () => (await ok(client.socket, "models:list", {})).models.some((m) => m.id === "dummy"), { what: "dummy listed" });
  const status = await ok(client.socket, "router:status", {});
  assert.equal(status.running, false, JSON.stringify(status));
});

after(async () => {
  client?.close();
  await server?.stop();
  models?.cleanup();
});

test("raw HTTP: 503, OpenAI's error shape, the router named, Retry-After", async () => {
  const t = Date.now();
  const res = await fetch(`${server.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "dummy", messages: [{ role: "user", content: "hi" }], max_tokens: 4 }),
  });
  assert.ok(Date.now() - t < 2000, "answered at once");
  assert.equal(res.status, 503);
  assert.ok(Number(res.headers.get("retry-after")) > 0, `retry-after: ${res.headers.get("retry-after")}`);
  const { error } = await res.json();
  assert.deepEqual(Object.keys(error).sort(), ["code", "message", "param", "type"]);
  assert.equal(error.type, "server_error");
  assert.equal(error.code, "router_error");
  assert.match(error.message, /router/);
  assert.match(error.message, /not running/);
  assert.match(error.message, /dummy/);
});

test("the SDK: an InternalServerError with status 503 naming the router", async () => {
  const sdk = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "sk-anything", maxRetries: 0 });
  const err = await sdk.embeddings.create({ model: "dummy", input: "hi" }).catch((e) => e);
  assert.ok(err instanceof InternalServerError, `${err?.constructor?.name}: ${err}`);
  assert.equal(err.status, 503);
  assert.equal(err.code, "router_error");
  assert.match(err.message, /router/);
});

test("the refusal is stored as an error for the model", async () => {
  const { requests } = await until(async () => {
    const r = await ok(client.socket, "requests:list", { model: "dummy" });
    return r.requests.length >= 2 && r;
  }, { what: "two stored rows" });
  for (const r of requests) {
    assert.equal(r.statusCode, 503, JSON.stringify(r));
    assert.equal(r.outcome, "error", JSON.stringify(r));
    assert.match(r.error, /router/);
  }
});
