// Socket.IO client helpers for the end-to-end suite: a real socket.io-client v4 against the real server.
import { io } from "socket.io-client";
import assert from "node:assert/strict";
import { readFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import net from "node:net";
import path from "node:path";
import { repoRoot } from "./server.mjs";

export const SOCKET_PATH = "/llamaproxws";

/**
 * Opens a socket and resolves once connected. Broadcasts that arrive are recorded from the first moment
 * (the snapshot is pushed right on connect), so listeners attached later do not miss them.
 * @returns {Promise<{socket, snapshot: Promise<object>, received: Array<{event, payload, at}>, close()}>}
 */
export function connect(url, { auth, transports = ["websocket"], timeoutMs = 5000 } = {}) {
  const socket = io(url, {
    path: SOCKET_PATH,
    transports,
    auth,
    forceNew: true,
    reconnection: false,
    timeout: timeoutMs,
  });
  const received = [];
  socket.onAny((event, payload) => received.push({ event, payload, at: Date.now() }));
  const snapshot = new Promise((resolve) => socket.once("snapshot", resolve));
  snapshot.catch(() => {});
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { socket.close(); reject(new Error(`socket did not connect to ${url} in ${timeoutMs}ms`)); }, timeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      const snap = withTimeout(snapshot, timeoutMs, "no snapshot on connect");
      snap.catch(() => {}); // only a failure for tests that await it
      resolve({ socket, snapshot: snap, received, close: () => socket.close() });
    });
    socket.once("connect_error", (err) => { clearTimeout(timer); socket.close(); reject(err); });
  });
}

/** Like connect() but resolves with the connect_error (or rejects if the connection is accepted). */
export function connectExpectingError(url, { auth, transports = ["websocket"], timeoutMs = 5000 } = {}) {
  const socket = io(url, { path: SOCKET_PATH, transports, auth, forceNew: true, reconnection: false, timeout: timeoutMs });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { socket.close(); reject(new Error("neither connect nor connect_error")); }, timeoutMs);
    socket.once("connect", () => { clearTimeout(timer); socket.close(); reject(new Error("connection was accepted")); });
    socket.once("connect_error", (err) => { clearTimeout(timer); socket.close(); resolve(err); });
  });
}

export function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timeout after ${ms}ms: ${what}`)), ms); timer.unref?.(); }),
  ]);
}

/** Emits with an acknowledgement callback and resolves with the reply. `payload === undefined` sends no payload. */
export function request(socket, event, payload, { timeoutMs = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const ack = (err, reply) => (err ? reject(new Error(`no ack for ${event} in ${timeoutMs}ms`)) : resolve(reply));
    if (payload === undefined) socket.timeout(timeoutMs).emit(event, ack);
    else socket.timeout(timeoutMs).emit(event, payload, ack);
  });
}

/** Requests and asserts success; returns `data`. */
export async function ok(socket, event, payload = {}) {
  const reply = await request(socket, event, payload);
  assert.equal(reply?.success, true, `${event} failed: ${JSON.stringify(reply)}`);
  return reply.data;
}

/** Waits for the next `event` on `socket` that satisfies `filter`. */
export function waitFor(socket, event, { timeoutMs = 5000, filter = () => true } = {}) {
  return new Promise((resolve, reject) => {
    const handler = (payload) => {
      if (!filter(payload)) return;
      clearTimeout(timer);
      socket.off(event, handler);
      resolve(payload);
    };
    const timer = setTimeout(() => { socket.off(event, handler); reject(new Error(`no '${event}' within ${timeoutMs}ms`)); }, timeoutMs);
    socket.on(event, handler);
  });
}

/** Collects every `event` for `ms` milliseconds; items are {payload, at}. */
export function collect(socket, event, ms) {
  const items = [];
  const handler = (payload) => items.push({ payload, at: Date.now() });
  socket.on(event, handler);
  return new Promise((resolve) => setTimeout(() => { socket.off(event, handler); resolve(items); }, ms));
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a truthy value; returns that value or throws with `what`. */
export async function until(fn, { timeoutMs = 10000, intervalMs = 200, what = "condition" } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last) return last;
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}; last value: ${JSON.stringify(last)}`);
}

/** Asserts the common reply envelope. */
export function assertResponse(reply, event, { success, requestId, now = Date.now() } = {}) {
  assert.equal(typeof reply, "object", `${event}: reply is not an object: ${JSON.stringify(reply)}`);
  assert.notEqual(reply, null, `${event}: reply is null`);
  assert.equal(reply.type, "response", `${event}: type: ${JSON.stringify(reply)}`);
  assert.equal(reply.event, event, `${event}: event: ${JSON.stringify(reply)}`);
  assert.equal(typeof reply.success, "boolean", `${event}: success: ${JSON.stringify(reply)}`);
  if (success !== undefined) assert.equal(reply.success, success, `${event}: ${JSON.stringify(reply)}`);
  if (reply.success) {
    assert.ok(reply.data && typeof reply.data === "object", `${event}: data must be an object: ${JSON.stringify(reply)}`);
  } else {
    assert.ok(reply.error && typeof reply.error.code === "string" && typeof reply.error.message === "string",
      `${event}: error {code,message} expected: ${JSON.stringify(reply)}`);
  }
  assertMsTimestamp(reply.timestamp, `${event}.timestamp`, now);
  if (requestId !== undefined) assert.equal(reply.requestId, requestId, `${event}: requestId not echoed: ${JSON.stringify(reply)}`);
}

/** Asserts a broadcast envelope. */
export function assertBroadcast(msg, event, now = Date.now()) {
  assert.equal(msg?.type, "broadcast", `${event}: type: ${JSON.stringify(msg)}`);
  assert.equal(msg.event, event, `${event}: event: ${JSON.stringify(msg)}`);
  assert.ok(msg.data && typeof msg.data === "object", `${event}: data: ${JSON.stringify(msg)}`);
  assertMsTimestamp(msg.timestamp, `${event}.timestamp`, now);
}

export function assertMsTimestamp(ts, what, now = Date.now(), toleranceMs = 1000) {
  assert.ok(Number.isInteger(ts), `${what} must be an integer (ms since epoch), got ${JSON.stringify(ts)}`);
  assert.ok(Math.abs(ts - now) <= toleranceMs, `${what} ${ts} is not within ${toleranceMs}ms of now (${now}); seconds or µs?`);
}

export function assertBadRequest(reply, event, field) {
  assertResponse(reply, event, { success: false });
  assert.equal(reply.error.code, "BAD_REQUEST", `${event}: ${JSON.stringify(reply)}`);
  if (field !== undefined) {
    assert.equal(reply.error.field, field, `${event}: error.field should name '${field}': ${JSON.stringify(reply)}`);
  }
}

/** Asserts the Sample shape of docs/socket-events.md. */
export function assertSample(s, what = "sample") {
  assert.ok(s && typeof s === "object", `${what}: ${JSON.stringify(s)}`);
  assert.ok(Number.isInteger(s.timestamp) && Math.abs(s.timestamp - Date.now()) < 24 * 3600e3, `${what}.timestamp in ms: ${s.timestamp}`);
  const num = (v, p) => assert.equal(typeof v, "number", `${what}.${p} must be a number: ${JSON.stringify(v)}`);
  num(s.cpu?.usagePercent, "cpu.usagePercent");
  num(s.cpu?.cores, "cpu.cores");
  assert.ok(s.cpu.cores >= 1, `${what}.cpu.cores >= 1`);
  for (const k of ["totalBytes", "usedBytes", "availableBytes", "usagePercent"]) num(s.memory?.[k], `memory.${k}`);
  assert.ok(s.memory.totalBytes > 0 && s.memory.usedBytes > 0, `${what}.memory looks empty: ${JSON.stringify(s.memory)}`);
  for (const k of ["totalBytes", "usedBytes"]) num(s.swap?.[k], `swap.${k}`);
  assert.ok(s.disk && typeof s.disk === "object", `${what}.disk`);
  for (const k of ["totalBytes", "usedBytes", "availableBytes", "usagePercent"]) num(s.disk[k], `disk.${k}`);
  for (const k of ["one", "five", "fifteen"]) num(s.load?.[k], `load.${k}`);
  for (const k of ["rssBytes", "cpuPercent", "uptimeSec"]) num(s.process?.[k], `process.${k}`);
  assert.ok(s.process.rssBytes > 0, `${what}.process.rssBytes > 0`);
  num(s.system?.uptimeSec, "system.uptimeSec");
  assert.ok(Array.isArray(s.gpus), `${what}.gpus must be an array`);
}

/** Request events listed in the "Requests" table of docs/socket-events.md. */
export function documentedRequestEvents() {
  const doc = readFileSync(path.join(repoRoot, "docs/socket-events.md"), "utf8");
  const section = doc.split(/^## Requests/m)[1].split(/^## /m)[0];
  return [...section.matchAll(/^\|\s*`([a-z][\w:]*)`\s*\|/gm)].map((m) => m[1]);
}

/**
 * A free TCP port on 127.0.0.1 (released before returning), picked below Linux's ephemeral range
 * (32768-60999): a port from that range can be taken meanwhile as the local end of any outgoing
 * connection, which made "port already in use" flakes. Ports are also handed out in turn, so two
 * calls in one run never return the same one.
 */
export async function freePort() {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20000 + ((nextPort++ + process.pid * 7) % 12000);
    if (await canBind(port)) return port;
  }
  throw new Error("no free port between 20000 and 32000");
}

let nextPort = Math.floor(Math.random() * 12000);

function canBind(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

/** A temp dir removed by the returned cleanup function. */
export function tempDir(prefix = "lldash-t-") {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
