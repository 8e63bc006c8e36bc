// A request no handler can take still gets an OpenAI-shaped JSON error, like every other error on the port
// (found by the malformed-input storm, scripts/chaos/storm.mjs): a method a path does not take (405 with
// Allow), CONNECT or DELETE on a dashboard page (405, never the page), a path segment with an invalid
// percent-encoding (400 naming the path), and a missing file (404).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { rawHttp, startWithFake, assertOpenAiError } from "./lib/fake-router.mjs";

let ctx;
let base;
after(() => ctx?.stop());
before(async () => {
  ctx = await startWithFake();
  base = ctx.v1.replace(/\/v1$/, "");
});

const raw = (method, target) => {
  const { port } = new URL(base);
  return rawHttp(base, [`${method} ${target} HTTP/1.1`, `Host: 127.0.0.1:${port}`, "Content-Length: 0", "Connection: close", "", ""].join("\r\n"));
};
const jsonError = (answer, status, code) => {
  assert.equal(answer.status, status, JSON.stringify(answer));
  assert.match(answer.headers["content-type"] ?? "", /^application\/json/, JSON.stringify(answer));
  const { error } = JSON.parse(answer.body);
  assert.equal(error.code, code, answer.body);
  assert.equal(typeof error.message, "string");
  return error;
};

test("a method a route does not take gets 405 with Allow and a JSON error naming the method", async () => {
  for (const [method, path, allowed] of [["DELETE", "/v1/models", "GET"], ["POST", "/health", "GET"], ["PUT", "/metrics", "GET"], ["GET", "/admin/reload", "POST"]]) {
    const response = await fetch(`${base}${path}`, { method });
    assert.match(response.headers.get("allow") ?? "", new RegExp(allowed), `${method} ${path}`);
    const error = await assertOpenAiError(response, 405, "method_not_allowed");
    assert.equal(error.type, "invalid_request_error");
    assert.match(error.message, new RegExp(`${method} is not allowed on ${path.replace(/\//g, "\\/")}`));
  }
});

test("CONNECT, DELETE or POST on a dashboard page gets 405, never the page", async () => {
  for (const [method, target] of [["CONNECT", "127.0.0.1:80"], ["CONNECT", "/models"], ["DELETE", "/"], ["POST", "/logs"]]) {
    const answer = await raw(method, target);
    jsonError(answer, 405, "method_not_allowed");
    assert.equal(answer.headers.allow, "GET,HEAD", `${method} ${target}`);
    assert.doesNotMatch(answer.body, /<html/i);
  }
  const page = await fetch(`${base}/models`, { headers: { accept: "text/html" } });
  assert.equal(page.status, 200, "GET from a browser still serves the page");
  assert.match(await page.text(), /<html/i);
});

test("a path segment with an invalid percent-encoding gets 400 naming the path, not axum's text", async () => {
  for (const target of ["/v1/models/%b4%f8%7c%80", "/%ee%bc%5c%7e/health", "/%ff/props", "/v1/models/%c0%af"]) {
    const error = jsonError(await raw("GET", target), 400, "bad_request");
    assert.match(error.message, /^path: /, target);
    assert.match(error.message, /UTF-8/, target);
  }
});

test("a missing file or unrouted API path gets a JSON 404", async () => {
  for (const [target, code] of [["/no-such-file.js", "not_found"], ["/admin/nothing-here", "not_found"], ["/v1/models/..", "model_not_found"]]) {
    jsonError(await raw("GET", target), 404, code);
  }
});
