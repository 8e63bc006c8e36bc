// Nothing an unauthenticated client sends can exhaust the server: an oversized Socket.IO handshake is
// dropped unread, half-open connections neither block /health nor stay forever, a client that stops
// reading a stream releases its model slot, a request body that never arrives times out, one socket
// cannot pile up requests, and requests waiting for a cold start are capped. Every load here goes to
// loopback only and every loop is bounded.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { spawn } from "node:child_process";
import net from "node:net";
import { io } from "socket.io-client";
import { startServer } from "./lib/server.mjs";
import { startWithFake, fakeBin } from "./lib/fake-router.mjs";
import { connect, ok, request, freePort, until, withTimeout, SOCKET_PATH } from "./lib/socket.mjs";

const rssBytes = (pid) => Number(readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+) kB/)[1]) * 1024;
const MiB = 1024 * 1024;

let server;
after(() => server?.stop());

async function plainServer() {
  server ??= await startServer({
    config: {
      router: { enabled: false, port: await freePort() },
      startup: { autoStart: false },
      server: { headerTimeoutMs: 2000 },
    },
  });
  return server;
}

test("a 60 MB handshake payload is refused unread and the server's memory stays bounded", async () => {
  const s = await plainServer();
  const before = rssBytes(s.proc.pid);
  const huge = "x".repeat(60 * MiB);
  const socket = io(s.url, { path: SOCKET_PATH, transports: ["websocket"], auth: { token: huge }, reconnection: false, forceNew: true });
  const outcome = await withTimeout(new Promise((resolve) => {
    socket.once("connect", () => resolve("connected"));
    socket.once("connect_error", (err) => resolve(`refused: ${err.message}`));
    // The server drops the connection as soon as the frame header announces more than it takes.
    socket.once("disconnect", (reason) => resolve(`dropped: ${reason}`));
  }), 30000, "the huge handshake to end");
  socket.close();
  assert.match(outcome, /^(refused|dropped)/);
  const polling = await fetch(`${s.url}${SOCKET_PATH}/?EIO=4&transport=polling`);
  const sid = JSON.parse((await polling.text()).slice(1)).sid;
  const post = await fetch(`${s.url}${SOCKET_PATH}/?EIO=4&transport=polling&sid=${sid}`, {
    method: "POST", headers: { "content-type": "text/plain;charset=UTF-8" }, body: `40${JSON.stringify({ token: huge })}`,
  });
  assert.notEqual(post.status, 200, "the polling transport refuses the oversized packet too");
  const grown = rssBytes(s.proc.pid) - before;
  assert.ok(grown < 32 * MiB, `RSS grew by ${(grown / MiB).toFixed(1)} MiB for a 60 MiB payload`);
  const fine = await connect(s.url);
  fine.close();
});

test("1,000 half-open connections neither block /health nor outlive server.headerTimeoutMs", async () => {
  const s = await plainServer();
  const { port } = new URL(s.url);
  const sockets = [];
  const closed = [];
  try {
    for (let i = 0; i < 1000; i++) {
      const socket = net.connect(Number(port), "127.0.0.1");
      socket.on("error", () => {});
      closed.push(new Promise((resolve) => socket.once("close", resolve)));
      socket.write("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");
      sockets.push(socket);
    }
    await Promise.all(sockets.map((socket) => new Promise((resolve) => (socket.connecting ? socket.once("connect", resolve) : resolve()))));
    const started = Date.now();
    const health = await fetch(`${s.url}/health`, { signal: AbortSignal.timeout(5000) });
    assert.equal(health.status, 200);
    assert.ok(Date.now() - started < 2000, `/health took ${Date.now() - started} ms beside 1,000 slow clients`);
    await withTimeout(Promise.all(closed), 15000, "the server to close every half-open connection");
  } finally {
    for (const socket of sockets) socket.destroy();
  }
});

test("a request body that stops arriving gets 408 after proxy.bodyTimeoutMs", async () => {
  const ctx = await startWithFake({ config: { proxy: { bodyTimeoutMs: 1000 } } });
  try {
    const { port } = new URL(ctx.server.url);
    const socket = net.connect(Number(port), "127.0.0.1");
    let answer = "";
    socket.on("data", (chunk) => { answer += chunk; });
    const ended = new Promise((resolve) => socket.once("close", resolve));
    socket.write("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"model\":");
    const started = Date.now();
    await withTimeout(until(() => answer.includes("\r\n\r\n"), { intervalMs: 50, timeoutMs: 10000, what: "an answer" }), 11000, "408");
    assert.match(answer, /^HTTP\/1\.1 408/);
    assert.match(answer, /"code":"request_timeout"/);
    assert.ok(Date.now() - started >= 900, "not before the deadline");
    socket.destroy();
    await ended;
  } finally {
    await ctx.stop();
  }
});

test("a client that stops reading its stream releases the model's slot, and the next request is served", async () => {
  const ctx = await startWithFake({
    config: { server: { sendTimeoutMs: 1500 }, proxy: { queueSize: 4, queueTimeoutMs: 20000 } },
  });
  const python = process.env.LLAMA_DASHBOARD_PYTHON || "python3";
  const { port } = new URL(ctx.server.url);
  // A reader with a tiny receive buffer that sends a long streaming request and then reads nothing.
  const stalled = spawn(python, ["-c", `
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
s.connect(("127.0.0.1", ${port}))
body = b'{"model":"fake-a","stream":true,"messages":[{"role":"user","content":"hi"}],"fake":{"tokens":200000,"tokenMs":0,"tokenBytes":8192}}'
s.sendall(b"POST /v1/chat/completions HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nContent-Type: application/json\\r\\nContent-Length: %d\\r\\n\\r\\n" % len(body) + body)
print("sent", flush=True)
time.sleep(40)
`], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    await new Promise((resolve) => stalled.stdout.once("data", resolve));
    await until(async () => (await ok(ctx.socket, "requests:stats", {})).active === 1, { what: "the stalled stream to hold the slot" });
    const started = Date.now();
    const next = await fetch(`${ctx.v1}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "fake-a", messages: [{ role: "user", content: "next" }], fake: { tokens: 2 } }),
    });
    assert.equal(next.status, 200, await next.clone().text());
    assert.equal((await next.json()).choices[0].message.content, "t0 t1 ");
    assert.ok(Date.now() - started < 12000, `served after ${Date.now() - started} ms, well before the queue timeout`);
    const first = (await ctx.seen()).find((r) => JSON.stringify(r.body ?? "").includes("200000"));
    assert.equal(first?.closedEarly, true, "the upstream generation of the stalled client was cancelled");
    const rows = await until(async () => {
      const { requests } = await ok(ctx.socket, "requests:list", { model: "fake-a" });
      return requests.length === 2 && requests;
    }, { what: "both requests to be recorded" });
    const outcomes = rows.map((r) => r.outcome);
    assert.equal(outcomes.filter((o) => o === "ok").length, 1, `the next request succeeded, the stalled one did not: ${outcomes}`);
  } finally {
    stalled.kill("SIGKILL");
    await ctx.stop();
  }
});

test("one socket cannot pile up requests: past 16 in flight the rest are answered BUSY at once", async () => {
  // A router that never becomes healthy keeps each router:start in flight for startup.timeout.
  const s = await startServer({
    config: { router: { port: await freePort() }, startup: { autoStart: false, timeout: 5000, retryAttempts: 0 } },
    env: { LLAMA_SERVER_BIN: fakeBin, FAKE_MODE: "never-ready" },
  });
  const client = await connect(s.url);
  try {
    const quick = [];
    const replies = Array.from({ length: 20 }, () =>
      request(client.socket, "router:start", {}, { timeoutMs: 120000 }).then((r) => { quick.push(r); return r; }, () => null));
    await until(() => quick.length >= 4, { intervalMs: 50, timeoutMs: 3000, what: "the requests past the limit to be answered" });
    assert.deepEqual(quick.map((r) => r.error?.code), ["BUSY", "BUSY", "BUSY", "BUSY"], "exactly the 4 past the 16 in flight");
    assert.match(quick[0].error.message, /16 requests/);
    const other = await connect(s.url);
    assert.equal((await request(other.socket, "settings:get", {})).success, true, "other clients are served meanwhile");
    other.close();
    assert.equal(quick.length, 4, "the 16 admitted ones are still running");
    void replies;
  } finally {
    client.close();
    await s.stop();
  }
});

test("requests waiting for a backend's cold start are capped at proxy.queueSize + parallel slots", async () => {
  const s = await startServer({
    config: {
      router: { enabled: false, port: await freePort() },
      startup: { autoStart: false },
      proxy: { queueSize: 1 },
      backends: { basePort: await freePort(), startTimeoutSec: 30, models: [{ name: "slow", path: "/models/slow.gguf", spawn: { command: [fakeBin] } }] },
    },
    env: { FAKE_MODE: "never-ready" },
  });
  const client = await connect(s.url);
  const controller = new AbortController();
  const chat = () => fetch(`${s.url}/v1/chat/completions`, {
    method: "POST", signal: controller.signal, headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "slow", messages: [{ role: "user", content: "hi" }] }),
  }).catch((e) => e);
  try {
    const quick = [];
    const all = Array.from({ length: 5 }, () => chat().then((r) => { quick.push(r); return r; }));
    await until(() => quick.length >= 3, { intervalMs: 50, timeoutMs: 5000, what: "the requests past the cap to be refused" });
    assert.deepEqual(quick.map((r) => r.status), [429, 429, 429], "two wait for the start, the rest are refused at once");
    const body = await quick[0].json();
    assert.equal(body.error.code, "queue_full");
    assert.ok(quick[0].headers.get("retry-after"), "Retry-After");
    const slow = (await ok(client.socket, "models:list", {})).models.find((m) => m.id === "slow");
    assert.equal(slow.status, "loading", "the cold start is still going on");
    controller.abort();
    await Promise.all(all);
  } finally {
    client.close();
    await s.stop();
  }
});
