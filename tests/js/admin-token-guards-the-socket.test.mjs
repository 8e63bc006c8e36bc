// With security.adminToken set, a socket without the token or with a wrong one is refused
// (connect_error "unauthorized: ..."); the right token gets the snapshot and answers.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "./lib/server.mjs";
import { connect, connectExpectingError, request, assertResponse } from "./lib/socket.mjs";

const TOKEN = "tok-3f9a-admin";
let server;
before(async () => { server = await startServer({ config: { security: { adminToken: TOKEN } } }); });
after(async () => { await server?.stop(); });

for (const [label, auth] of [["no auth", undefined], ["auth without token", {}], ["a wrong token", { token: "tok-wrong" }],
  ["a token prefix", { token: TOKEN.slice(0, -1) }], ["a non-string token", { token: 12345 }]]) {
  test(`refused with ${label}`, async () => {
    const err = await connectExpectingError(server.url, { auth });
    assert.match(err.message, /^unauthorized/, `connect_error message: ${err.message}`);
  });
}

test("accepted with the right token: snapshot and replies", async () => {
  const c = await connect(server.url, { auth: { token: TOKEN } });
  try {
    assert.equal((await c.snapshot).event, "snapshot");
    assertResponse(await request(c.socket, "models:list", { requestId: 1 }), "models:list", { success: true, requestId: 1 });
  } finally {
    c.close();
  }
});

test("a refused client received nothing before being refused", async () => {
  const { io } = await import("socket.io-client");
  const s = io(server.url, { path: "/llamaproxws", transports: ["websocket"], forceNew: true, reconnection: false });
  const got = [];
  s.onAny((e) => got.push(e));
  await new Promise((r) => {
    const timer = setTimeout(r, 3000);
    const done = () => { clearTimeout(timer); r(); };
    s.once("connect_error", done);
    s.once("connect", done);
  });
  await new Promise((r) => setTimeout(r, 300));
  s.close();
  assert.deepEqual(got, [], "no snapshot or broadcast may reach an unauthorized socket");
});
