// The official OpenAI Node SDK, used the way a user uses it, against our /v1 proxy in front of a real
// llama-server router and the real model: list, chat (whole and streamed), legacy completions, embeddings,
// the SDK's typed errors, API keys; then what we stored about those requests and what /metrics counts.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import OpenAI, { AuthenticationError, BadRequestError, NotFoundError, APIError } from "openai";
import { startServer } from "./lib/server.mjs";
import { connect, ok, until } from "./lib/socket.mjs";
import { needReal, modelsDir, embeddingPreset, startWithRealRouter } from "./lib/real.mjs";

const skip = needReal();
const CHAT = "smol";
const EMBED = "smol-embed";
const KEY = "sk-test-123";
let server, keyed, client, models, sdk, embeddingLength;
// What the SDK reported, compared later with the stored rows.
const seen = {};

/**
 * A client as a user writes it, with two exceptions: no automatic retries (a retry would hide a failure
 * and add rows to the request history), and a timeout shorter than the default ten minutes.
 */
const openai = (baseURL, apiKey = "sk-anything") => new OpenAI({ baseURL: `${baseURL}/v1`, apiKey, maxRetries: 0, timeout: 120_000 });

const prompt = [{ role: "user", content: "Say hi" }];

before(async () => {
  if (skip) return;
  models = modelsDir(CHAT);
  // llama-server's --embeddings restricts a server to embeddings, so embeddings get their own preset id; the
  // model has no pooling type of its own and OpenAI's /v1/embeddings needs one.
  const presets = embeddingPreset(models, CHAT, EMBED);
  server = await startWithRealRouter({
    models: { directory: models.dir, presetsFile: presets },
    performance: { contextSize: 2048, parallelSlots: 1 },
    proxy: { queueTimeoutMs: 10000 },
    startup: { autoStart: true, timeout: 20000 },
  });
  client = await connect(server.url);
  const { models: list } = await ok(client.socket, "models:list", {});
  embeddingLength = list.find((m) => m.id === CHAT)?.metadata?.embeddingLength;
  sdk = openai(server.url);
  // Presets are known once the router has reported them.
  await until(async () => (await sdk.models.list()).data.some((m) => m.id === EMBED), { timeoutMs: 20000, what: `${EMBED} listed` });
});

after(async () => {
  client?.close();
  await keyed?.stop();
  await server?.stop();
  models?.cleanup();
});

test("models.list() and models.retrieve() show the file model and the preset", { skip }, async () => {
  const page = await sdk.models.list();
  const ids = page.data.map((m) => m.id);
  assert.ok(ids.includes(CHAT) && ids.includes(EMBED), JSON.stringify(ids));
  for (const m of page.data) {
    assert.equal(m.object, "model");
    assert.equal(typeof m.owned_by, "string");
    assert.equal(typeof m.created, "number");
  }
  const one = await sdk.models.retrieve(CHAT);
  assert.equal(one.id, CHAT);
  await assert.rejects(sdk.models.retrieve("no-such-model"), (e) => e instanceof NotFoundError && e.status === 404);
});

test("chat.completions.create returns text and usage", { skip }, async () => {
  const res = await sdk.chat.completions.create({ model: CHAT, messages: prompt, max_tokens: 8, temperature: 0 });
  assert.equal(res.object, "chat.completion");
  assert.equal(res.choices.length, 1);
  assert.equal(res.choices[0].message.role, "assistant");
  assert.equal(typeof res.choices[0].message.content, "string");
  assert.ok(res.choices[0].message.content.length > 0, JSON.stringify(res.choices[0]));
  assert.ok(res.usage.prompt_tokens > 0 && res.usage.completion_tokens > 0 && res.usage.completion_tokens <= 8, JSON.stringify(res.usage));
  assert.equal(res.usage.total_tokens, res.usage.prompt_tokens + res.usage.completion_tokens);
  seen.chat = res.usage;
});

test("a streamed chat yields deltas and a final usage chunk", { skip }, async () => {
  const stream = await sdk.chat.completions.create({
    model: CHAT, messages: prompt, max_tokens: 8, temperature: 0, stream: true, stream_options: { include_usage: true },
  });
  let text = "";
  let deltas = 0;
  let usage = null;
  let finish = null;
  for await (const chunk of stream) {
    assert.equal(chunk.object, "chat.completion.chunk");
    for (const choice of chunk.choices) {
      if (choice.delta?.content) { text += choice.delta.content; deltas++; }
      if (choice.finish_reason) finish = choice.finish_reason;
    }
    if (chunk.usage) usage = chunk.usage;
  }
  assert.ok(deltas > 0 && text.length > 0, `no content deltas (text ${JSON.stringify(text)})`);
  assert.ok(["stop", "length"].includes(finish), `finish_reason ${finish}`);
  assert.ok(usage && usage.prompt_tokens > 0 && usage.completion_tokens > 0, `final usage: ${JSON.stringify(usage)}`);
  seen.stream = usage;
});

test("leaving a stream early frees the model's slot: the next request is served at once", { skip }, async () => {
  const stream = await sdk.chat.completions.create({
    model: CHAT, messages: [{ role: "user", content: "Tell a long story about a dragon" }], max_tokens: 16, stream: true,
  });
  for await (const chunk of stream) if (chunk.choices[0]?.delta?.content) break; // the SDK aborts the request
  // One slot (performance.parallelSlots 1): a slot still held would make this wait for proxy.queueTimeoutMs.
  const t = Date.now();
  const res = await sdk.chat.completions.create({ model: CHAT, messages: prompt, max_tokens: 2 });
  assert.ok(res.usage.completion_tokens > 0);
  assert.ok(Date.now() - t < 5000, `took ${Date.now() - t} ms`);
});

test("the legacy completions.create works", { skip }, async () => {
  const res = await sdk.completions.create({ model: CHAT, prompt: "Once upon a time", max_tokens: 8, temperature: 0 });
  assert.equal(typeof res.choices[0].text, "string");
  assert.ok(res.choices[0].text.length > 0, JSON.stringify(res.choices[0]));
  assert.ok(res.usage.completion_tokens > 0, JSON.stringify(res.usage));
  seen.completion = res.usage;
});

test("embeddings.create on the embeddings preset returns one vector per input, of the model's size", { skip }, async () => {
  assert.equal(embeddingLength, 576, "SmolLM2-135M's embedding length, read from its GGUF by the catalog");
  const res = await sdk.embeddings.create({ model: EMBED, input: ["hello world", "a second text"] });
  assert.equal(res.data.length, 2);
  for (const [i, d] of res.data.entries()) {
    assert.equal(d.index, i);
    assert.ok(Array.isArray(d.embedding), `the SDK decodes to an array, got ${typeof d.embedding}`);
    assert.equal(d.embedding.length, embeddingLength);
    assert.ok(d.embedding.every(Number.isFinite), "finite numbers");
    assert.ok(d.embedding.some((x) => x !== 0), "not all zeros");
  }
  assert.notDeepEqual(res.data[0].embedding, res.data[1].embedding);
});

test("an unknown model is the SDK's NotFoundError with code model_not_found", { skip }, async () => {
  const err = await sdk.chat.completions.create({ model: "no-such-model", messages: prompt, max_tokens: 4 }).catch((e) => e);
  assert.ok(err instanceof NotFoundError, `${err?.constructor?.name}: ${err}`);
  assert.equal(err.status, 404);
  assert.equal(err.code, "model_not_found");
  assert.equal(err.type, "not_found_error");
  assert.match(err.message, /no-such-model/);
});

test("a request without a model, or with malformed JSON, is a 400 in OpenAI's error shape", { skip }, async () => {
  const viaSdk = await sdk.chat.completions.create({ messages: prompt, max_tokens: 4 }).catch((e) => e);
  assert.ok(viaSdk instanceof BadRequestError, `${viaSdk?.constructor?.name}: ${viaSdk}`);
  assert.equal(viaSdk.code, "bad_request");

  const post = (body) => fetch(`${server.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body });
  for (const body of [JSON.stringify({ messages: prompt, max_tokens: 4 }), '{"model":"smol",']) {
    const res = await post(body);
    assert.equal(res.status, 400, body);
    const json = await res.json();
    assert.deepEqual(Object.keys(json.error).sort(), ["code", "message", "param", "type"], JSON.stringify(json));
    assert.equal(json.error.code, "bad_request");
    assert.equal(json.error.type, "invalid_request_error");
    assert.equal(typeof json.error.message, "string");
  }
});

test("with security.apiKeys a wrong key is an AuthenticationError and the right key works", { skip }, async () => {
  keyed = await startServer({ config: { models: { directory: models.dir }, security: { apiKeys: [KEY] } } });
  for (const key of ["sk-wrong", `${KEY}x`]) {
    const wrong = openai(keyed.url, key);
    const listErr = await wrong.models.list().catch((e) => e);
    assert.ok(listErr instanceof AuthenticationError, `${listErr?.constructor?.name}: ${listErr}`);
    assert.equal(listErr.status, 401);
    assert.equal(listErr.code, "invalid_api_key");
    const chatErr = await wrong.chat.completions.create({ model: CHAT, messages: prompt, max_tokens: 4 }).catch((e) => e);
    assert.ok(chatErr instanceof AuthenticationError, `${chatErr?.constructor?.name}: ${chatErr}`);
  }
  const right = openai(keyed.url, KEY);
  const ids = (await right.models.list()).data.map((m) => m.id);
  assert.ok(ids.includes(CHAT), JSON.stringify(ids));
  // Past the key check, this server has no router: the SDK sees our 503, not a 401.
  const past = await right.chat.completions.create({ model: CHAT, messages: prompt, max_tokens: 4 }).catch((e) => e);
  assert.ok(past instanceof APIError && !(past instanceof AuthenticationError), `${past?.constructor?.name}: ${past}`);
  assert.equal(past.status, 503);
  await keyed.stop();
  keyed = null;
});

test("the stored rows carry the tokens the SDK reported, and the stream's time to first token", { skip }, async () => {
  assert.ok(seen.chat && seen.stream && seen.completion, "the generation tests ran");
  const rows = await until(async () => {
    const { requests } = await ok(client.socket, "requests:list", { order: "asc", limit: 100 });
    return requests.some((r) => r.model === "no-such-model") && requests.some((r) => r.model === EMBED) && requests;
  }, { what: "the request rows" });
  const chatRows = rows.filter((r) => r.model === CHAT && r.endpoint === "/v1/chat/completions" && r.statusCode === 200);
  const whole = chatRows.find((r) => !r.stream);
  const streamed = chatRows.find((r) => r.stream);
  assert.ok(whole && streamed, JSON.stringify(rows, null, 1));

  assert.equal(whole.outcome, "ok", JSON.stringify(whole));
  assert.equal(whole.promptTokens, seen.chat.prompt_tokens, JSON.stringify(whole));
  assert.equal(whole.completionTokens, seen.chat.completion_tokens, JSON.stringify(whole));
  assert.ok(typeof whole.totalMs === "number" && typeof whole.ttftMs === "number", JSON.stringify(whole));
  assert.ok(whole.totalMs > 0 && whole.ttftMs >= 0 && whole.ttftMs <= whole.totalMs, JSON.stringify(whole));

  assert.equal(streamed.outcome, "ok", JSON.stringify(streamed));
  assert.ok(typeof streamed.ttftMs === "number" && streamed.ttftMs > 0 && streamed.ttftMs <= streamed.totalMs, JSON.stringify(streamed));
  assert.equal(streamed.promptTokens, seen.stream.prompt_tokens, JSON.stringify(streamed));
  assert.equal(streamed.completionTokens, seen.stream.completion_tokens, JSON.stringify(streamed));

  const completion = rows.find((r) => r.endpoint === "/v1/completions");
  assert.equal(completion?.outcome, "ok", JSON.stringify(completion));
  assert.equal(completion.completionTokens, seen.completion.completion_tokens);
  const embed = rows.find((r) => r.model === EMBED && r.endpoint === "/v1/embeddings");
  assert.equal(embed?.outcome, "ok", JSON.stringify(embed));
  assert.equal(embed.statusCode, 200);
  const unknown = rows.find((r) => r.model === "no-such-model");
  assert.equal(unknown.outcome, "rejected", JSON.stringify(unknown));
  assert.equal(unknown.statusCode, 404);
});

test("/metrics counts the proxied requests by model and status", { skip }, async () => {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const count = (labels) => Number(text.match(new RegExp(`^llama_dashboard_requests_total\\{${labels}\\} (\\d+)$`, "m"))?.[1]);
  assert.ok(count('model="smol",code="200"') >= 3, `chat, stream and completion: ${text.split("\n").filter((l) => l.includes("requests_total")).join("\n")}`);
  assert.ok(count('model="smol-embed",code="200"') >= 1);
  assert.ok(count('model="\\(unknown\\)",code="404"') >= 1, "an unknown model counts under (unknown), not its name");
  assert.ok(!text.includes('model="no-such-model"'));
});
