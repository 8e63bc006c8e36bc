// With security.apiKeys set, /v1 needs a key (401 invalid_api_key otherwise, not stored as a request),
// and what reaches the model's upstream carries neither the client's credentials nor any hop-by-hop
// header, including headers the client's Connection header names (a request-smuggling vector).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { chat, startWithFake, assertOpenAiError, rawHttp, waitRows, waitSeen } from "./lib/fake-router.mjs";

const KEY = "sk-fake-right-key-123";
let ctx;
after(() => ctx?.stop());
before(async () => {
  ctx = await startWithFake({ config: { security: { apiKeys: [KEY, "sk-another-key-456"] } } });
});

const v1Seen = async () => (await ctx.seen()).filter((r) => r.path.startsWith("/v1/"));

test("no key or a wrong key gets 401 invalid_api_key and reaches nothing; the right key gets through", async () => {
  const missing = await assertOpenAiError(await chat(ctx.v1, {}), 401, "invalid_api_key");
  assert.equal(missing.type, "authentication_error");
  assert.match(missing.message, /missing API key/);
  for (const headers of [{ authorization: "Bearer sk-wrong" }, { authorization: `Bearer ${KEY}x` }, { authorization: `Basic ${KEY}` }, { "x-api-key": "nope" }]) {
    await assertOpenAiError(await chat(ctx.v1, {}, { headers }), 401, "invalid_api_key");
  }
  await assertOpenAiError(await fetch(`${ctx.v1}/models`), 401, "invalid_api_key");
  assert.equal((await v1Seen()).length, 0, "nothing reached the upstream");

  const right = await chat(ctx.v1, {}, { headers: { authorization: `Bearer ${KEY}` } });
  assert.equal(right.status, 200, await right.clone().text());
  assert.equal((await right.json()).choices[0].message.role, "assistant");
  const other = await chat(ctx.v1, {}, { headers: { "x-api-key": "sk-another-key-456" } });
  assert.equal(other.status, 200);
  const list = await fetch(`${ctx.v1}/models`, { headers: { authorization: `Bearer ${KEY}` } });
  assert.equal(list.status, 200);

  const seen = await v1Seen();
  assert.equal(seen.length, 2);
  for (const r of seen) {
    // The upstream sees only the key we gave it when we started it, never the client's.
    assert.match(r.headers.authorization ?? "", /^Bearer [0-9a-f]{64}$/, "our own key for the upstream");
    assert.ok(!r.headers.authorization.includes(KEY), "the client's API key stays with us");
    assert.equal(r.headers["x-api-key"], undefined, "the API key stays with us");
  }
  // Records are stored in order: the 401s came first, so had they been recorded they would be here too.
  const stored = await waitRows(ctx.socket, {}, 2);
  assert.deepEqual(stored.map((r) => r.statusCode), [200, 200], JSON.stringify(stored));
});

test("credentials, hop-by-hop headers and headers named by Connection are not forwarded either way", async () => {
  const body = JSON.stringify({ model: "fake-b", stream: true, messages: [{ role: "user", content: "smuggle" }] });
  const chunks = `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
  const { port } = new URL(ctx.v1);
  const answer = await rawHttp(ctx.v1, [
    "POST /v1/chat/completions HTTP/1.1",
    `Host: 127.0.0.1:${port}`,
    "Content-Type: application/json",
    `Authorization: Bearer ${KEY}`,
    "Connection: X-Smuggle, close",
    "X-Smuggle: GET /admin HTTP/1.1",
    "Keep-Alive: timeout=99",
    "TE: trailers",
    "Trailer: X-Checksum",
    "Proxy-Authorization: Basic c2VjcmV0",
    "Cookie: session=secret",
    "X-Admin-Token: admin-secret-token",
    "X-Request-Id: req-42",
    "Transfer-Encoding: chunked",
    "",
    chunks,
  ].join("\r\n"));
  assert.equal(answer.status, 200, JSON.stringify(answer));
  assert.match(answer.body, /\[DONE\]/);

  const seen = await waitSeen(ctx, (r) => r.body?.messages?.[0]?.content === "smuggle", "the request at the fake");
  const names = seen.rawHeaderNames.map((n) => n.toLowerCase());
  for (const name of ["x-smuggle", "proxy-authorization", "keep-alive", "te", "trailer", "transfer-encoding", "cookie", "x-admin-token", "x-api-key", "upgrade"]) {
    assert.ok(!names.includes(name), `the upstream received '${name}': ${JSON.stringify(seen.headers)}`);
  }
  assert.equal(names.filter((n) => n === "authorization").length, 1, "one Authorization: ours, not the client's as well");
  assert.match(seen.headers.authorization, /^Bearer [0-9a-f]{64}$/);
  assert.ok(!/x-smuggle/i.test(seen.headers.connection ?? ""), `Connection: ${seen.headers.connection}`);
  assert.equal(seen.headers["x-request-id"], "req-42", "end-to-end headers pass");
  assert.equal(seen.headers["content-type"], "application/json");
  assert.equal(Number(seen.headers["content-length"]), body.length, "the body arrives whole, with its length");
  assert.equal(seen.body.messages[0].content, "smuggle");

  // The answer keeps the upstream's end-to-end headers but not its hop-by-hop ones (Node sends Keep-Alive).
  assert.equal(answer.headers["x-fake-upstream"], "1");
  assert.match(answer.headers["content-type"], /^text\/event-stream/);
  assert.equal(answer.headers["keep-alive"], undefined, JSON.stringify(answer.headers));
});

test("a redirect from the upstream reaches the client as it was sent, and is not followed", async () => {
  const res = await chat(ctx.v1, { messages: [{ role: "user", content: "redirect me" }], fake: { redirect: "/v1/elsewhere" } },
    { headers: { authorization: `Bearer ${KEY}` }, redirect: "manual" });
  assert.equal(res.status, 307);
  assert.equal(res.headers.get("location"), "/v1/elsewhere");
  assert.deepEqual(await res.json(), { redirected: "/v1/elsewhere" });
  const seen = (await v1Seen()).filter((r) => r.body?.messages?.[0]?.content === "redirect me" || r.path === "/v1/elsewhere");
  assert.equal(seen.length, 1, `the upstream saw one request: ${JSON.stringify(seen.map((r) => r.path))}`);
});
