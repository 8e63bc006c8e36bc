// Hostile or broken /v1 input is refused by the proxy with an OpenAI-shaped error and never reaches the
// model's upstream: a body over proxy.maxBodyBytes (413, with or without Content-Length), malformed
// JSON (400), a `model` that names a path or holds control characters (400), an unknown model (404),
// a URL path with `..` segments that would reach the router's load/unload API (400).
// Each refusal is stored as "rejected".
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { chat, post, rows, rawHttp, startWithFake, assertOpenAiError, waitRows } from "./lib/fake-router.mjs";
import { until } from "./lib/socket.mjs";

let ctx;
after(() => ctx?.stop());
before(async () => {
  ctx = await startWithFake({ config: { proxy: { maxBodyBytes: 2048 } } });
});

const v1Seen = async () => (await ctx.seen()).filter((r) => r.path.startsWith("/v1/"));
const big = "x".repeat(4096);

test("a body over proxy.maxBodyBytes gets 413, with or without a Content-Length", async () => {
  const declared = await chat(ctx.v1, { messages: [{ role: "user", content: big }] });
  const error = await assertOpenAiError(declared, 413, "payload_too_large");
  assert.equal(error.type, "invalid_request_error");
  assert.match(error.message, /proxy\.maxBodyBytes \(2048 bytes\)/);

  // Chunked: no length up front, so the limit must hold while reading.
  const body = JSON.stringify({ model: "fake-a", messages: [{ role: "user", content: big }] });
  const chunked = await fetch(`${ctx.v1}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode(body)); c.close(); } }),
    duplex: "half",
  });
  await assertOpenAiError(chunked, 413, "payload_too_large");

  // Just under the limit is fine.
  const fits = await chat(ctx.v1, { messages: [{ role: "user", content: "y".repeat(1800) }] });
  assert.equal(fits.status, 200, await fits.text());
  const reached = await v1Seen();
  assert.equal(reached.length, 1, "only the request within the limit reached the upstream");
  assert.equal(reached[0].body.messages[0].content.length, 1800);
});

test("malformed JSON, a non-object body, and bad field types get 400 bad_request", async () => {
  const cases = [
    ['{"model":"fake-a","messages":[', /invalid JSON/],
    ["[1,2,3]", /must be a JSON object/],
    ['{"messages":[]}', /model: required/],
    ['{"model":7}', /model: must be a string/],
    ['{"model":"fake-a","stream":"yes"}', /stream: must be a boolean/],
  ];
  for (const [body, message] of cases) {
    const error = await assertOpenAiError(await post(ctx.v1, "/chat/completions", body), 400, "bad_request");
    assert.equal(error.type, "invalid_request_error");
    assert.match(error.message, message, body);
  }
});

test("a model that names a path or holds control characters gets 400 and reaches nothing", async () => {
  const before = (await v1Seen()).length;
  const unloads = (await ctx.seen()).filter((r) => r.path.startsWith("/models/")).length;
  for (const model of ["../../etc/passwd", "/etc/passwd", "..\\..\\windows\\win.ini", "~/models/x.gguf", "./fake-a"]) {
    const error = await assertOpenAiError(await chat(ctx.v1, { model }), 400, "bad_request");
    assert.match(error.message, /not a path/, model);
  }
  for (const model of ["fake-a\u0000", "fake\n-a", "fake-a\r\nX-Injected: 1", "\u001b[31mred", "", "m".repeat(300)]) {
    const error = await assertOpenAiError(await chat(ctx.v1, { model }), 400, "bad_request");
    assert.match(error.message, /^model: /, JSON.stringify(model));
  }
  const unknown = await assertOpenAiError(await chat(ctx.v1, { model: "no-such-model" }), 404, "model_not_found");
  assert.equal(unknown.type, "not_found_error");
  assert.equal((await v1Seen()).length, before, "no /v1 request reached the fake");
  assert.equal((await ctx.seen()).filter((r) => r.path.startsWith("/models/")).length, unloads, "no load or unload either");

  const rejected = await waitRows(ctx.socket, { outcome: "rejected", model: "../../etc/passwd" });
  assert.equal(rejected[0].statusCode, 400);
  const notFound = await waitRows(ctx.socket, { outcome: "rejected", model: "no-such-model" });
  assert.equal(notFound[0].statusCode, 404);
});

test("a URL path that climbs out of /v1 never reaches the router's own API", async () => {
  const { port } = new URL(ctx.v1);
  const body = JSON.stringify({ model: "fake-a" });
  // fetch would normalise these paths: send them as written.
  for (const target of ["/v1/../models/unload", "/v1/%2e%2E/models/unload", "/v1/./../models/load", "/v1/chat\\..\\..\\models\\unload"]) {
    const answer = await rawHttp(ctx.v1, [`POST ${target} HTTP/1.1`, `Host: 127.0.0.1:${port}`, "Content-Type: application/json",
      `Content-Length: ${body.length}`, "Connection: close", "", body].join("\r\n"));
    assert.equal(answer.status, 400, `${target}: ${JSON.stringify(answer)}`);
    assert.equal(JSON.parse(answer.body).error.code, "bad_request", answer.body);
  }
  assert.deepEqual((await ctx.seen()).filter((r) => r.path.startsWith("/models/")), [], "no load or unload reached the fake");
});

test("refusals are stored as rejected and the proxy keeps serving", async () => {
  // 2 too large + 5 bad bodies + 5 paths + 6 bad names + 1 unknown model + 4 climbing URLs.
  const { total } = await until(async () => {
    const r = await rows(ctx.socket, { outcome: "rejected", limit: 1 });
    return r.total >= 23 ? r : null;
  }, { what: "23 rejected rows" });
  assert.equal(total, 23);
  const tooLarge = await rows(ctx.socket, { outcome: "rejected", limit: 1000 });
  assert.equal(tooLarge.requests.filter((r) => r.statusCode === 413).length, 2);
  const fine = await chat(ctx.v1, {});
  assert.equal(fine.status, 200);
  assert.equal((await fine.json()).object, "chat.completion");
});
