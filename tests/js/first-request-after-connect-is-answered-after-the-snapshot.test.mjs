// A script that sends a request the instant it is connected must get its answer, and the snapshot
// first: socketioxide acknowledges the connection before the connect handler runs, so the server must
// be ready for events before that.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { io } from "socket.io-client";
import { startServer } from "./lib/server.mjs";
import { SOCKET_PATH } from "./lib/socket.mjs";

const CLIENTS = 120;
let server;
after(() => server?.stop());

function connectAndAskAtOnce(url) {
  return new Promise((resolve, reject) => {
    const order = [];
    const socket = io(url, { path: SOCKET_PATH, transports: ["websocket"], forceNew: true, reconnection: false });
    const timer = setTimeout(() => { socket.close(); reject(new Error(`no reply within 10 s; saw ${order}`)); }, 10000);
    socket.on("snapshot", () => order.push("snapshot"));
    socket.on("connect", () => {
      socket.emit("settings:get", {}, (reply) => {
        order.push("reply");
        clearTimeout(timer);
        socket.close();
        resolve({ reply, order });
      });
    });
    socket.on("connect_error", (err) => { clearTimeout(timer); reject(err); });
  });
}

test(`${CLIENTS} clients asking the moment they connect all get the snapshot, then their answer`, async () => {
  server = await startServer();
  const results = await Promise.all(Array.from({ length: CLIENTS }, () => connectAndAskAtOnce(server.url)));
  for (const { reply, order } of results) {
    assert.equal(reply.success, true);
    assert.deepEqual(order, ["snapshot", "reply"]);
  }
});
