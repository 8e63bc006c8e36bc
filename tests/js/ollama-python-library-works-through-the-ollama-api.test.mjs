// Ollama's API (`/api/*`) with the official `ollama` Python library (tests/py/ollama_check.py with
// $LLAMA_DASHBOARD_PYTHON, pinned by scripts/test.sh) against the real llama-server router: list, show, chat
// and generate whole and streamed (NDJSON), embed and the older embeddings, ps with the expiry, load and
// unload by generate without a prompt, 404 for an unknown model; each call recorded under the path the client
// called with its token counts. Plus what the library does not show: the NDJSON lines as sent, and errors.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { connect, ok, until } from "./lib/socket.mjs";
import { needPython, runPython } from "./lib/python.mjs";
import { needReal, modelsDir, embeddingPreset, startWithRealRouter } from "./lib/real.mjs";

const skip = needReal() || needPython();
const CHAT = "smol";
const EMBED = "smol-embed";
let server, client, models, embeddingLength;

before(async () => {
  if (skip) return;
  models = modelsDir(CHAT);
  const presets = embeddingPreset(models, CHAT, EMBED);
  server = await startWithRealRouter({
    models: { directory: models.dir, presetsFile: presets },
    performance: { contextSize: 2048 },
    startup: { autoStart: true, timeout: 20000 },
  });
  client = await connect(server.url);
  await until(async () => (await ok(client.socket, "models:list", {})).models.some((m) => m.id === EMBED), { timeoutMs: 20000, what: `${EMBED} listed` });
  const { models: list } = await ok(client.socket, "models:list", {});
  embeddingLength = list.find((m) => m.id === CHAT).metadata.embeddingLength;
});
after(async () => {
  client?.close();
  await server?.stop();
  models?.cleanup();
});

test("the ollama library lists, shows, chats, generates, embeds, sees ps, loads and unloads, and gets 404 for an unknown model", { skip }, async (t) => {
  const { code, signal, output } = await runPython("ollama_check.py", [
    "--host", server.url, "--model", CHAT, "--embed-model", EMBED, "--embedding-size", String(embeddingLength),
  ], { timeoutMs: 240_000 });
  for (const line of output.trim().split("\n")) t.diagnostic(line);
  assert.equal(code, 0, `ollama_check.py exited with ${code ?? signal}:\n${output}`);
  assert.match(output, /all checks passed/, output);

  const { requests } = await until(async () => {
    const r = await ok(client.socket, "requests:list", { limit: 100 });
    return r.requests.some((x) => x.model === "no-such-model") && r;
  }, { what: "the script's requests stored" });
  for (const [endpoint, stream] of [["/api/chat", false], ["/api/chat", true], ["/api/generate", false], ["/api/generate", true]]) {
    const row = requests.find((r) => r.endpoint === endpoint && r.stream === stream && r.outcome === "ok");
    assert.ok(row, `${endpoint} stream=${stream} recorded under the path called: ${JSON.stringify(requests.map((r) => r.endpoint))}`);
    assert.equal(row.model, CHAT);
    assert.ok(row.promptTokens > 0 && row.completionTokens > 0 && row.completionTokens <= 8, JSON.stringify(row));
  }
  assert.ok(requests.some((r) => r.endpoint === "/api/embed" && r.model === EMBED && r.outcome === "ok"));
  assert.ok(requests.some((r) => r.endpoint === "/api/embeddings" && r.model === EMBED && r.outcome === "ok"));
  assert.equal(requests.find((r) => r.model === "no-such-model").statusCode, 404);
});

test("a chat streams as NDJSON lines, the last one done with the counts; bad requests get Ollama's error shape", { skip }, async () => {
  const res = await fetch(`${server.url}/api/chat`, {
    method: "POST",
    body: JSON.stringify({ model: `${CHAT}:latest`, messages: [{ role: "user", content: "Say hi" }], options: { num_predict: 4 } }),
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type"), /^application\/x-ndjson/);
  const lines = (await res.text()).trim().split("\n").map((l) => JSON.parse(l));
  assert.ok(lines.length >= 2, JSON.stringify(lines));
  assert.ok(lines.slice(0, -1).every((l) => l.done === false && l.model === CHAT && l.message.role === "assistant"));
  const last = lines.at(-1);
  assert.equal(last.done, true);
  assert.equal(last.done_reason, "length");
  assert.equal(last.eval_count, 4);
  assert.ok(last.prompt_eval_count > 0 && last.total_duration > 0, JSON.stringify(last));

  for (const [body, status, pattern] of [
    [{ messages: [] }, 400, /model/],
    ["{not json", 400, /JSON/],
    [{ model: "no-such-model", messages: [] }, 404, /no-such-model/],
  ]) {
    const bad = await fetch(`${server.url}/api/chat`, { method: "POST", body: typeof body === "string" ? body : JSON.stringify(body) });
    const answer = await bad.json();
    assert.equal(bad.status, status, JSON.stringify(answer));
    assert.equal(typeof answer.error, "string", JSON.stringify(answer));
    assert.match(answer.error, pattern);
  }
  const shown = await fetch(`${server.url}/api/show`, { method: "POST", body: JSON.stringify({ model: "no-such-model" }) });
  assert.equal(shown.status, 404);
  assert.match((await shown.json()).error, /not found/);
  assert.deepEqual(await (await fetch(`${server.url}/api/version`)).json(), { version: "0.9.0" });
});
