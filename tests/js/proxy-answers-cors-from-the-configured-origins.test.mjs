// security.corsOrigins applies to /v1 as well: a browser app on a listed origin may call the API
// (preflight included, Authorization allowed for API keys); any other origin gets no CORS grant.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "./lib/server.mjs";

const APP = "http://app.example:8080";
let server;

before(async () => {
  server = await startServer({ config: { security: { corsOrigins: [APP], apiKeys: ["sk-cors-1"] } } });
});

after(async () => {
  await server?.stop();
});

test("a preflight from a listed origin is granted, Authorization included", async () => {
  const res = await fetch(`${server.url}/v1/chat/completions`, {
    method: "OPTIONS",
    headers: { origin: APP, "access-control-request-method": "POST", "access-control-request-headers": "authorization,content-type" },
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("access-control-allow-origin"), APP);
  assert.match(res.headers.get("access-control-allow-headers") ?? "", /authorization|\*/i);
});

test("a request from a listed origin carries the grant; another origin gets none", async () => {
  const listed = await fetch(`${server.url}/v1/models`, { headers: { origin: APP, authorization: "Bearer sk-cors-1" } });
  assert.equal(listed.status, 200);
  assert.equal(listed.headers.get("access-control-allow-origin"), APP);
  assert.equal((await listed.json()).object, "list");

  const other = await fetch(`${server.url}/v1/models`, { headers: { origin: "http://evil.example", authorization: "Bearer sk-cors-1" } });
  assert.equal(other.headers.get("access-control-allow-origin"), null);
});

test("the key is still required from a listed origin", async () => {
  const res = await fetch(`${server.url}/v1/models`, { headers: { origin: APP } });
  assert.equal(res.status, 401);
  assert.equal((await res.json()).error.code, "invalid_api_key");
});
