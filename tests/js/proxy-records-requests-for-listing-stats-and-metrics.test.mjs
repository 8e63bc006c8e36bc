// Every /v1 request is recorded however it ends: a row in SQLite (requests:list with filters, sorting and
// paging; requests:stats totals), a requests:completed broadcast, and Prometheus series in /metrics
// labelled by model, where names that match no model count as model="(unknown)".
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { chat, post, readSse, rows, startWithFake } from "./lib/fake-router.mjs";
import { ok, request, until, assertBadRequest } from "./lib/socket.mjs";

let ctx;
after(() => ctx?.stop());
before(async () => {
  ctx = await startWithFake({ env: { FAKE_TOKENS: "3", FAKE_TOKEN_MS: "5" } });
  // 1: fake-a streamed, ok, 3 tokens (timings only, no usage)
  await readSse(await chat(ctx.v1, { stream: true }));
  // 2: fake-a JSON, ok, 10 slow tokens: the longest request
  assert.equal((await chat(ctx.v1, { fake: { tokens: 10, tokenMs: 40 } })).status, 200);
  // 3: fake-a JSON, ok, 4 tokens
  assert.equal((await chat(ctx.v1, { fake: { tokens: 4 } })).status, 200);
  // 4: fake-b text completion, ok, 2 tokens
  assert.equal((await post(ctx.v1, "/completions", { model: "fake-b", prompt: "once upon a time", fake: { tokens: 2 } })).status, 200);
  // 5: fake-a streamed, dies after 1 token: error (status 200 was already sent)
  await readSse(await chat(ctx.v1, { stream: true, fake: { dieAfter: 1 } }));
  // 6 and 7: refused before reaching a model
  assert.equal((await chat(ctx.v1, { model: "no-such-model" })).status, 404);
  assert.equal((await chat(ctx.v1, { model: "../../etc/passwd" })).status, 400);
  await until(async () => (await rows(ctx.socket, {})).total === 7, { what: "7 stored rows" });
});

test("each request is broadcast once as requests:completed with the Request shape", async () => {
  const completed = await until(() => {
    const got = ctx.client.received.filter((e) => e.event === "requests:completed");
    return got.length >= 7 ? got : null;
  }, { what: "7 requests:completed broadcasts" });
  assert.equal(completed.length, 7);
  const keys = ["id", "timestamp", "model", "endpoint", "api", "statusCode", "stream", "outcome", "promptTokens", "completionTokens",
    "ttftMs", "totalMs", "queueMs", "tokensPerSecond", "error", "client", "node"];
  for (const { payload } of completed) {
    assert.deepEqual(Object.keys(payload.data.request).sort(), [...keys].sort());
    assert.equal(payload.data.request.api, "openai", "every request here went through OpenAI's /v1 paths");
  }
  const ids = completed.map((e) => e.payload.data.request.id);
  assert.equal(new Set(ids).size, 7);
  const { requests } = await rows(ctx.socket, {});
  assert.deepEqual(requests.map((r) => r.id).sort((a, b) => a - b), [...ids].sort((a, b) => a - b));
});

test("rows carry tokens, timings and outcome from what llama-server sent", async () => {
  const { requests } = await rows(ctx.socket, { sort: "timestamp", order: "asc" });
  const [streamed, slow, quick, completion, broken, unknown, pathLike] = requests;
  assert.deepEqual(requests.map((r) => r.outcome), ["ok", "ok", "ok", "ok", "error", "rejected", "rejected"]);
  assert.deepEqual(requests.map((r) => r.statusCode), [200, 200, 200, 200, 200, 404, 400]);
  assert.deepEqual(requests.map((r) => r.model), ["fake-a", "fake-a", "fake-a", "fake-b", "fake-a", "no-such-model", "../../etc/passwd"]);
  assert.equal(streamed.stream, true);
  assert.equal(slow.stream, false);
  assert.deepEqual([streamed.promptTokens, streamed.completionTokens], [2, 3], "a stream's counts come from its final timings");
  assert.deepEqual([slow.promptTokens, slow.completionTokens], [2, 10], "a JSON answer's counts come from usage");
  assert.deepEqual([completion.endpoint, completion.promptTokens, completion.completionTokens], ["/v1/completions", 4, 2]);
  for (const r of [streamed, slow, quick, completion]) {
    assert.equal(typeof r.ttftMs, "number", JSON.stringify(r));
    assert.ok(r.ttftMs >= 0 && r.ttftMs <= r.totalMs, JSON.stringify(r));
    assert.ok(r.tokensPerSecond > 0, JSON.stringify(r));
    assert.equal(r.client, "127.0.0.1");
    assert.equal(r.error, null);
  }
  assert.ok(slow.totalMs >= 350, `10 tokens of 40 ms took ${slow.totalMs} ms`);
  assert.equal(broken.completionTokens, null, "a broken stream has no final counts");
  assert.match(broken.error, /upstream failed/);
  assert.match(unknown.error, /no model named 'no-such-model'/);
  assert.match(pathLike.error, /not a path/);
});

test("requests:list filters by model and outcome, sorts by totalMs, and pages", async () => {
  const a = await rows(ctx.socket, { model: "fake-a" });
  assert.equal(a.total, 4);
  assert.ok(a.requests.every((r) => r.model === "fake-a"));
  const okRows = await rows(ctx.socket, { outcome: "ok" });
  assert.equal(okRows.total, 4);
  assert.deepEqual([...new Set(okRows.requests.map((r) => r.model))].sort(), ["fake-a", "fake-b"]);
  const rejected = await rows(ctx.socket, { outcome: "rejected" });
  assert.deepEqual(rejected.requests.map((r) => r.model).sort(), ["../../etc/passwd", "no-such-model"]);
  assert.equal((await rows(ctx.socket, { model: "fake-a", outcome: "error" })).total, 1);
  assert.equal((await rows(ctx.socket, { model: "fake-b", outcome: "error" })).total, 0);

  const byTime = await rows(ctx.socket, { model: "fake-a", outcome: "ok", sort: "totalMs", order: "asc" });
  const times = byTime.requests.map((r) => r.totalMs);
  assert.deepEqual(times, [...times].sort((x, y) => x - y), `ascending: ${times}`);
  assert.equal(byTime.requests.at(-1).completionTokens, 10, "the slow request is the longest");
  const all = (await rows(ctx.socket, { sort: "totalMs", order: "asc" })).requests.map((r) => r.totalMs);
  assert.deepEqual(all, [...all].sort((x, y) => x - y));
  const mostTokens = await rows(ctx.socket, { sort: "completionTokens" });
  assert.equal(mostTokens.requests[0].completionTokens, 10, "desc is the default order");

  const first = await rows(ctx.socket, { limit: 4 });
  const second = await rows(ctx.socket, { limit: 4, offset: 4 });
  assert.deepEqual([first.total, first.requests.length, second.requests.length], [7, 4, 3]);
  assert.equal(new Set([...first.requests, ...second.requests].map((r) => r.id)).size, 7);
  assert.ok(first.requests[0].timestamp >= first.requests[3].timestamp, "newest first by default");
  assert.equal((await rows(ctx.socket, { since: Date.now() + 60_000 })).total, 0);

  assertBadRequest(await request(ctx.socket, "requests:list", { outcome: "fine" }), "requests:list", "outcome");
  assertBadRequest(await request(ctx.socket, "requests:list", { sort: "model_id; DROP TABLE requests" }), "requests:list", "sort");
  assertBadRequest(await request(ctx.socket, "requests:list", { limit: 0 }), "requests:list", "limit");
  assertBadRequest(await request(ctx.socket, "requests:list", { since: 10, until: 5 }), "requests:list", "since");
});

test("requests:stats totals the stored requests and shows the idle queues", async () => {
  const stats = await ok(ctx.socket, "requests:stats", {});
  assert.equal(stats.totals.requests, 7);
  assert.equal(stats.totals.errors, 3, "error and rejected count as errors");
  assert.equal(stats.totals.completionTokens, 3 + 10 + 4 + 2);
  assert.equal(stats.totals.promptTokens, 2 + 2 + 2 + 4);
  const a = stats.models.find((m) => m.model === "fake-a");
  assert.deepEqual([a.requests, a.errors, a.completionTokens], [4, 1, 17]);
  assert.equal(typeof a.avgTotalMs, "number");
  assert.equal(typeof a.avgTtftMs, "number");
  const b = stats.models.find((m) => m.model === "fake-b");
  assert.deepEqual([b.requests, b.errors], [1, 0]);
  assert.deepEqual([stats.active, stats.queued], [0, 0]);
  const q = stats.queues.find((x) => x.model === "fake-a");
  assert.deepEqual([q.active, q.queued, q.limit], [0, 0, 1]);
  assert.equal(typeof q.avgWaitMs, "number");
  const later = await ok(ctx.socket, "requests:stats", { since: Date.now() + 60_000 });
  assert.equal(later.totals.requests, 0);
});

test("/metrics counts requests by model and status with duration histograms; unknown names are (unknown)", async () => {
  const text = await (await fetch(`${ctx.server.url}/metrics`)).text();
  const value = (series) => {
    const line = text.split("\n").find((l) => l.startsWith(`${series} `));
    assert.ok(line, `no ${series} in /metrics:\n${text.split("\n").filter((l) => l.includes("requests_total")).join("\n")}`);
    return Number(line.slice(series.length + 1));
  };
  assert.equal(value('llama_dashboard_requests_total{model="fake-a",code="200"}'), 4);
  assert.equal(value('llama_dashboard_requests_total{model="fake-b",code="200"}'), 1);
  assert.equal(value('llama_dashboard_requests_total{model="(unknown)",code="404"}'), 1);
  assert.equal(value('llama_dashboard_requests_total{model="(unknown)",code="400"}'), 1);
  assert.ok(!text.includes("no-such-model") && !text.includes("etc/passwd"), "client-chosen names never become labels");
  assert.match(text, /^# TYPE llama_dashboard_request_duration_seconds histogram$/m);
  assert.equal(value('llama_dashboard_request_duration_seconds_bucket{model="fake-a",le="+Inf"}'), 4);
  assert.equal(value('llama_dashboard_request_duration_seconds_count{model="fake-a"}'), 4);
  assert.ok(value('llama_dashboard_request_duration_seconds_sum{model="fake-a"}') >= 0.35);
  assert.ok(value('llama_dashboard_request_duration_seconds_bucket{model="fake-a",le="120"}') === 4);
  assert.ok(value('llama_dashboard_time_to_first_token_seconds_count{model="fake-a"}') >= 3);
  assert.equal(value('llama_dashboard_generated_tokens_total{model="fake-a"}'), 17);
  assert.equal(value('llama_dashboard_requests_in_flight{model="fake-a"}'), 0);
  assert.equal(value('llama_dashboard_queue_depth{model="fake-a"}'), 0);
});
