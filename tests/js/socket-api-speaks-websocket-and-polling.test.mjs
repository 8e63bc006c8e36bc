// The Socket.IO API at /llamaproxws works over both transports: websocket only, polling only, and the
// default (polling upgraded to websocket) that browsers use.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "./lib/server.mjs";
import { connect, request, assertResponse } from "./lib/socket.mjs";

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

for (const [label, transports] of [["websocket only", ["websocket"]], ["polling only", ["polling"]], ["polling then upgrade", ["polling", "websocket"]]]) {
  test(`${label}: snapshot and replies arrive`, async () => {
    const c = await connect(server.url, { transports });
    try {
      assert.equal((await c.snapshot).event, "snapshot");
      const reply = await request(c.socket, "models:list", { requestId: label });
      assertResponse(reply, "models:list", { success: true, requestId: label });
    } finally {
      c.close();
    }
  });
}

test("the Engine.IO handshake answers on the documented path", async () => {
  const res = await fetch(`${server.url}/llamaproxws/?EIO=4&transport=polling`);
  assert.equal(res.status, 200);
  const body = await res.text();
  assert.match(body, /^0\{.*"sid"/, `handshake body: ${body}`);
});
