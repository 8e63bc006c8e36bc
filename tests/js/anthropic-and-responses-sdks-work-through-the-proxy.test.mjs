// Anthropic's Messages API (`/v1/messages`, `/v1/messages/count_tokens`) and OpenAI's Responses API
// (`/v1/responses`) through our /v1, with their official SDKs (tests/py/anthropic_and_responses_check.py with
// $LLAMA_DASHBOARD_PYTHON: `anthropic` and `openai`, pinned by scripts/test.sh) against the real llama-server
// router, which serves both: routed by `model`, keyed, recorded with token counts read from each API's own
// usage shape, and our own refusals in Anthropic's error shape on its API.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { connect, ok, until } from "./lib/socket.mjs";
import { needPython, runPython } from "./lib/python.mjs";
import { needReal, modelsDir, startWithRealRouter } from "./lib/real.mjs";

const skip = needReal() || needPython();
const MODEL = "smol";
const KEY = "sk-anthropic-test-5";
let server, client, models;

before(async () => {
  if (skip) return;
  models = modelsDir(MODEL);
  server = await startWithRealRouter({
    models: { directory: models.dir },
    performance: { contextSize: 2048 },
    startup: { autoStart: true, timeout: 20000 },
    security: { apiKeys: [KEY] },
  });
  client = await connect(server.url);
});
after(async () => {
  client?.close();
  await server?.stop();
  models?.cleanup();
});

test("the Anthropic SDK (messages whole and streamed, count_tokens, errors) and the OpenAI SDK's responses API work, each request recorded with its tokens", { skip }, async (t) => {
  const { code, signal, output } = await runPython("anthropic_and_responses_check.py", ["--base-url", server.url, "--model", MODEL, "--key", KEY], { timeoutMs: 180_000 });
  for (const line of output.trim().split("\n")) t.diagnostic(line);
  assert.equal(code, 0, `anthropic_and_responses_check.py exited with ${code ?? signal}:\n${output}`);
  assert.match(output, /all checks passed/, output);

  const { requests } = await until(async () => {
    const r = await ok(client.socket, "requests:list", { limit: 100 });
    return r.requests.filter((x) => x.endpoint === "/v1/responses" && x.outcome === "ok").length >= 2 && r;
  }, { what: "the script's requests stored" });
  const rows = (endpoint, stream) => requests.filter((r) => r.endpoint === endpoint && r.stream === stream && r.outcome === "ok");
  for (const [endpoint, stream] of [["/v1/messages", false], ["/v1/messages", true], ["/v1/responses", false], ["/v1/responses", true]]) {
    const found = rows(endpoint, stream);
    assert.ok(found.length > 0, `${endpoint} stream=${stream} recorded: ${JSON.stringify(requests, null, 1)}`);
    for (const r of found) {
      assert.equal(r.model, MODEL);
      // The prompt is the whole prompt (Anthropic counts cached tokens apart; llama-server reuses its cache).
      assert.ok(r.promptTokens >= 10, `${endpoint} stream=${stream}: prompt tokens ${r.promptTokens}`);
      assert.ok(r.completionTokens > 0 && r.completionTokens <= 8, `${endpoint} stream=${stream}: completion tokens ${r.completionTokens}`);
    }
  }
  assert.ok(requests.some((r) => r.endpoint === "/v1/messages/count_tokens" && r.outcome === "ok"));
  const unknown = requests.find((r) => r.endpoint === "/v1/messages" && r.model === "no-such-model");
  assert.equal(unknown?.statusCode, 404, JSON.stringify(unknown));
});

test("our own refusals on /v1/messages are in Anthropic's error shape, elsewhere in OpenAI's", { skip }, async () => {
  const send = (endpoint, body, headers = { "x-api-key": KEY }) => fetch(`${server.url}${endpoint}`, {
    method: "POST", headers: { "content-type": "application/json", "anthropic-version": "2023-06-01", ...headers }, body: JSON.stringify(body),
  });
  const messages = [{ role: "user", content: "hi" }];
  const cases = [
    [await send("/v1/messages", { model: "no-such-model", max_tokens: 4, messages }), 404, "not_found_error"],
    [await send("/v1/messages", { max_tokens: 4, messages }), 400, "invalid_request_error"],
    [await send("/v1/messages/count_tokens", { model: MODEL, messages }, { "x-api-key": "sk-wrong" }), 401, "authentication_error"],
  ];
  for (const [res, status, type] of cases) {
    const body = await res.json();
    assert.equal(res.status, status, JSON.stringify(body));
    assert.equal(body.type, "error", JSON.stringify(body));
    assert.equal(body.error.type, type, JSON.stringify(body));
    assert.ok(body.error.message.length > 0);
  }
  const openai = await (await send("/v1/chat/completions", { model: "no-such-model", messages })).json();
  assert.equal(openai.error.code, "model_not_found", JSON.stringify(openai));
  assert.equal(openai.type, undefined);
});
