// The official OpenAI Python SDK against our /v1 proxy (real llama-server router, real model): runs
// tests/py/openai_sdk_check.py with $LLAMA_DASHBOARD_PYTHON (scripts/test.sh makes a venv with a pinned `openai`).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "./lib/server.mjs";
import { connect, ok, until } from "./lib/socket.mjs";
import { needPython, runPython } from "./lib/python.mjs";
import { needReal, modelsDir, embeddingPreset, startWithRealRouter } from "./lib/real.mjs";

const skip = needReal() || needPython();
const CHAT = "smol";
const EMBED = "smol-embed";
const KEY = "sk-test-123";
let server, keyed, client, models, embeddingLength;

before(async () => {
  if (skip) return;
  models = modelsDir(CHAT);
  const presets = embeddingPreset(models, CHAT, EMBED);
  server = await startWithRealRouter({
    models: { directory: models.dir, presetsFile: presets },
    performance: { contextSize: 2048 },
    startup: { autoStart: true, timeout: 20000 },
  });
  keyed = await startServer({ config: { models: { directory: models.dir }, security: { apiKeys: [KEY] } } });
  client = await connect(server.url);
  await until(async () => (await ok(client.socket, "models:list", {})).models.some((m) => m.id === EMBED), { timeoutMs: 20000, what: `${EMBED} listed` });
  const { models: list } = await ok(client.socket, "models:list", {});
  embeddingLength = list.find((m) => m.id === CHAT).metadata.embeddingLength;
});

after(async () => {
  client?.close();
  await keyed?.stop();
  await server?.stop();
  models?.cleanup();
});

test("the Python SDK lists, chats (whole and streamed), completes, embeds, and gets typed errors", { skip }, async (t) => {
  const { code, signal, output } = await runPython("openai_sdk_check.py", [
    "--base-url", server.url, "--model", CHAT, "--embed-model", EMBED,
    "--embedding-size", String(embeddingLength), "--keyed-url", keyed.url, "--key", KEY,
  ], { timeoutMs: 180_000 });
  for (const line of output.trim().split("\n")) t.diagnostic(line);
  assert.equal(code, 0, `openai_sdk_check.py exited with ${code ?? signal}:\n${output}`);
  assert.match(output, /all checks passed/, output);

  // What the script did is in the request history like any client's requests.
  const { requests } = await until(async () => {
    const r = await ok(client.socket, "requests:list", { limit: 100 });
    return r.requests.some((x) => x.model === "no-such-model") && r;
  }, { what: "the script's requests stored" });
  const okRows = requests.filter((r) => r.outcome === "ok");
  assert.ok(okRows.some((r) => r.endpoint === "/v1/chat/completions" && r.stream && r.ttftMs > 0), JSON.stringify(requests, null, 1));
  assert.ok(okRows.some((r) => r.endpoint === "/v1/chat/completions" && !r.stream && r.completionTokens > 0));
  assert.ok(okRows.some((r) => r.endpoint === "/v1/completions"));
  assert.ok(okRows.some((r) => r.endpoint === "/v1/embeddings" && r.model === EMBED));
});
