// With security.adminToken set, a socket without the token or with a wrong one is refused with a
// connect_error saying why ("unauthorized: ..."), over websocket and polling alike, and gets nothing on the
// wire, not even broadcasts; the right token gets the snapshot and answers.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import WebSocket from "ws"; // socket.io-client's own websocket library
import { startServer } from "./lib/server.mjs";
import { connect, connectExpectingError, request, assertResponse, assertBroadcast, until, SOCKET_PATH } from "./lib/socket.mjs";

const TOKEN = "tok-3f9a-admin";
const REQUIRED = "unauthorized: admin token required (auth: {token})";
const WRONG = "unauthorized: wrong admin token";
let server;
before(async () => { server = await startServer({ config: { security: { adminToken: TOKEN } } }); });
after(async () => { await server?.stop(); });

/** A raw Engine.IO websocket on the socket path: every frame the server sends is in `frames`, in order. */
async function rawConnection() {
  const ws = new WebSocket(`${server.url.replace(/^http/, "ws")}${SOCKET_PATH}/?EIO=4&transport=websocket`);
  const frames = [];
  ws.on("message", (m) => frames.push(m.toString()));
  await new Promise((resolve, reject) => { ws.once("open", resolve); ws.once("error", reject); });
  const frame = (pred, what) => until(() => frames.find(pred), { timeoutMs: 5000, intervalMs: 20, what });
  return { ws, frames, frame };
}

for (const [label, auth, message] of [
  ["no auth", undefined, REQUIRED],
  ["auth without token", {}, REQUIRED],
  ["a non-string token", { token: 12345 }, REQUIRED],
  ["a wrong token", { token: "tok-wrong" }, WRONG],
  ["a token prefix", { token: TOKEN.slice(0, -1) }, WRONG],
  ["the token with a trailing space", { token: `${TOKEN} ` }, WRONG],
]) {
  test(`refused with ${label}: connect_error "${message}"`, async () => {
    const error = await connectExpectingError(server.url, { auth });
    assert.equal(error.message, message);
  });
}

test("refused over polling too, with the same message", async () => {
  const error = await connectExpectingError(server.url, { auth: { token: "tok-wrong" }, transports: ["polling"] });
  assert.equal(error.message, WRONG);
});

test("accepted with the right token: snapshot and replies", async () => {
  const c = await connect(server.url, { auth: { token: TOKEN } });
  try {
    const snap = await c.snapshot;
    assertBroadcast(snap, "snapshot");
    assert.ok(Array.isArray(snap.data.models) && snap.data.router && snap.data.settings, JSON.stringify(snap.data));
    assertResponse(await request(c.socket, "models:list", { requestId: 1 }), "models:list", { success: true, requestId: 1 });
  } finally {
    c.close();
  }
});

test("a refused connection gets nothing, not even broadcasts, until it sends the right token", async () => {
  const raw = await rawConnection();
  const c = await connect(server.url, { auth: { token: TOKEN } });
  try {
    raw.ws.send(`40${JSON.stringify({ token: "tok-wrong" })}`);
    const refusal = await raw.frame((f) => f.startsWith("44"), "the CONNECT_ERROR packet");
    assert.deepEqual(JSON.parse(refusal.slice(2)), { message: WRONG });
    // A broadcast that every admitted client gets...
    assertResponse(await request(c.socket, "settings:update", { settings: { theme: "light" } }), "settings:update", { success: true });
    await until(() => c.received.some((e) => e.event === "settings:updated"), { timeoutMs: 5000, what: "settings:updated on the admitted client" });
    // ...then the same connection joins with the right token: its snapshot comes after anything sent to it before.
    raw.ws.send(`40${JSON.stringify({ token: TOKEN })}`);
    const snapshot = await raw.frame((f) => f.startsWith('42["snapshot"'), "the snapshot once admitted");
    const upToSnapshot = raw.frames.slice(0, raw.frames.indexOf(snapshot) + 1);
    const packets = upToSnapshot.filter((f) => f.startsWith("4")).map((f) => (f.startsWith("42") ? `42 ${JSON.parse(f.slice(2))[0]}` : f.slice(0, 2)));
    assert.deepEqual(packets, ["44", "40", "42 snapshot"], `Socket.IO packets: ${JSON.stringify(upToSnapshot)}`);
  } finally {
    c.close();
    raw.ws.close();
  }
});
