// Stopping llama-dashboard (SIGTERM) is orderly: the dashboard's sockets close and new connections are
// refused at once, but a /v1 stream already running ends whole (every token, finish_reason, [DONE]) with
// the real llama-server and model; its request row is stored (a restart on the same data dir lists it);
// the router and the model instance it started are stopped; the exit status is 0. A second SIGTERM
// during that exits at once with 130 and takes every llama-server with it. server.shutdownTimeoutSec
// bounds the wait for a stream that would run much longer.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import net from "node:net";
import { startServer } from "./lib/server.mjs";
import { connect, ok, freePort, until, waitFor } from "./lib/socket.mjs";
import { needReal, llamaServer, modelsDir } from "./lib/real.mjs";
import { readSse, startWithFake, chat as fakeChat } from "./lib/fake-router.mjs";

const skip = needReal();
const ID = "smol";
const SHUTDOWN_STARTED = "shutdown requested";
const STOPPED_ACCEPTING = "stopped accepting";

/** State and parent of every process: pid -> {ppid, state}. */
function processTable() {
  const table = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat;
    try { stat = readFileSync(`/proc/${entry}/stat`, "utf8"); } catch { continue; }
    const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    table.set(Number(entry), { ppid: Number(ppid), state });
  }
  return table;
}

/** Every process below `root` now (children, grandchildren...), with its argv. */
function descendants(root) {
  const table = processTable();
  const found = [];
  const queue = [root];
  while (queue.length) {
    const parent = queue.shift();
    for (const [pid, p] of table) {
      if (p.ppid !== parent) continue;
      let argv = [];
      try { argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean); } catch {}
      found.push({ pid, argv });
      queue.push(pid);
    }
  }
  return found;
}

/** True while `pid` runs (an exited process not yet reaped, a zombie, does not run). */
function running(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** Resolves {code, signal, at} when the process exits. */
const exitOf = (proc) => new Promise((resolve) => proc.once("exit", (code, signal) => resolve({ code, signal, at: Date.now() })));

/** Resolves the error of a TCP connection attempt to `port`, or null when it was accepted. */
function connectError(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => { socket.destroy(); resolve(null); });
    socket.once("error", (err) => resolve(err));
  });
}

/** Waits until the server wrote `text` to its log on stderr. */
const logged = (server, text, timeoutMs = 10000) =>
  until(() => server.output().includes(text), { timeoutMs, intervalMs: 20, what: `the server to log '${text}'` });

/** llama-dashboard with the real router, the real model loaded, and a socket client. */
async function startLoaded(t, { dataDir } = {}) {
  const models = modelsDir(ID);
  t.after(models.cleanup);
  const server = await startServer({
    dataDir,
    config: {
      router: { port: await freePort() },
      models: { directory: models.dir, maxLoaded: 1, idleTimeoutSec: 0 },
      performance: { contextSize: 2048, parallelSlots: 1 },
      startup: { autoStart: true, timeout: 30000 },
    },
    env: { LLAMA_SERVER_BIN: llamaServer },
  });
  const client = await connect(server.url);
  t.after(() => client.close());
  const router = await until(async () => { const s = await ok(client.socket, "router:status", {}); return s.running && s; },
    { timeoutMs: 30000, what: "router running" });
  const loaded = waitFor(client.socket, "models:status", { timeoutMs: 60000, filter: (m) => m.data.id === ID && m.data.status === "loaded" });
  await ok(client.socket, "models:load", { id: ID });
  await loaded;
  return { server, client, router };
}

const streamChat = (url, body) => fetch(`${url}/v1/chat/completions`, {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({
    model: ID,
    messages: [{ role: "user", content: "Count from one to one hundred" }],
    stream: true,
    stream_options: { include_usage: true },
    ignore_eos: true,
    ...body,
  }),
});

const MAX_TOKENS = 48;
let first; // the first server of the SIGTERM test: its data dir is read again by the restart test
after(async () => { await first?.stop(); });

test("SIGTERM: the stream in flight ends whole, new connections are refused, every llama-server stops, exit 0", { skip, timeout: 120000 }, async (t) => {
  const { server, client, router } = await startLoaded(t);
  first = server;
  const dashboardClosed = new Promise((resolve) => client.socket.once("disconnect", resolve));
  const exited = exitOf(server.proc);

  const res = await streamChat(server.url, { max_tokens: MAX_TOKENS });
  assert.equal(res.status, 200);
  let children = [];
  let signalledAt = 0;
  let afterShutdownStarted = 0; // chunks that arrived once the server had logged the start of its shutdown
  let routerStoppedBeforeDone;
  const { events } = await readSse(res, (event, index) => {
    if (event === "[DONE]") routerStoppedBeforeDone = server.output().includes("router stopped");
    if (index === 0) {
      children = descendants(server.proc.pid);
      signalledAt = Date.now();
      server.proc.kill("SIGTERM");
    } else if (server.output().includes(SHUTDOWN_STARTED)) {
      afterShutdownStarted += 1;
    }
  });

  // What the client of the stream notices: nothing. Every token, the finish reason and [DONE].
  assert.equal(events.at(-1), "[DONE]", `the stream ends with [DONE]: ${JSON.stringify(events.slice(-3))}`);
  assert.ok(!events.some((e) => e?.error), `no error event: ${JSON.stringify(events.filter((e) => e?.error))}`);
  assert.ok(events.some((e) => e?.choices?.[0]?.finish_reason === "length"), `a finish_reason "length": ${JSON.stringify(events.slice(-3))}`);
  const usage = events.find((e) => e?.usage)?.usage;
  assert.equal(usage?.completion_tokens, MAX_TOKENS, `every token was generated: ${JSON.stringify(usage)}`);
  const contentChunks = events.filter((e) => typeof e?.choices?.[0]?.delta?.content === "string" && e.choices[0].delta.content.length > 0);
  assert.ok(contentChunks.length >= MAX_TOKENS / 2, `the tokens reached the client: ${contentChunks.length} content chunks`);
  assert.ok(afterShutdownStarted > 0, "chunks kept coming after the server had started its shutdown");
  assert.equal(routerStoppedBeforeDone, false, "the router was not stopped before the stream ended");

  // The dashboard's own socket was closed, and no new connection is taken while the stream drains.
  await dashboardClosed;
  await logged(server, STOPPED_ACCEPTING);
  const refused = await connectError(server.port);
  assert.ok(refused, "a new connection after SIGTERM is not accepted");
  assert.equal(refused.code, "ECONNREFUSED", String(refused));

  const { code, signal, at } = await exited;
  assert.equal(signal, null, `exited by itself, not killed: ${server.output().slice(-2000)}`);
  assert.equal(code, 0, server.output().slice(-2000));
  assert.ok(at >= signalledAt);

  // The router was stopped before llama-dashboard exited, and nothing it started is left.
  const llamas = children.filter((c) => c.argv.some((a) => a.includes("llama-server")));
  assert.ok(llamas.some((c) => c.pid === router.pid), `the router ${router.pid} is among the children: ${JSON.stringify(children)}`);
  assert.ok(llamas.length >= 2, `the router and its model instance were running: ${JSON.stringify(children)}`);
  assert.equal(running(router.pid), false, "the router was stopped before llama-dashboard exited");
  await until(() => children.every((c) => !running(c.pid)), { timeoutMs: 10000, intervalMs: 100, what: `every process llama-dashboard started (${children.map((c) => c.pid)}) to be gone` });
  // In order: no more connections taken, then the router stopped, then llama-dashboard's last line.
  const log = server.output();
  const order = [/stopped accepting/, /router stopped/, /llama_dashboard::app: stopped$/m].map((line) => log.search(line));
  assert.ok(order.every((i) => i >= 0) && order[0] < order[1] && order[1] < order[2], `shutdown steps in order: ${order}`);
});

test("after a restart on the same data dir the request that streamed through the shutdown is listed as ok", { skip, timeout: 60000 }, async (t) => {
  assert.ok(first, "the SIGTERM test ran");
  const again = await startServer({ dataDir: first.dataDir, config: { startup: { autoStart: false } } });
  t.after(() => again.stop());
  const client = await connect(again.url);
  t.after(() => client.close());
  const { requests, total } = await ok(client.socket, "requests:list", { model: ID });
  assert.equal(total, 1, `one stored row for ${ID}: ${JSON.stringify(requests)}`);
  const [row] = requests;
  assert.equal(row.outcome, "ok", JSON.stringify(row));
  assert.equal(row.statusCode, 200);
  assert.equal(row.stream, true);
  assert.equal(row.endpoint, "/v1/chat/completions");
  assert.equal(typeof row.completionTokens, "number", JSON.stringify(row));
  assert.equal(row.completionTokens, MAX_TOKENS, "the tokens the client got");
  assert.equal(row.error, null);
});

test("a second SIGTERM while a stream runs exits at once with 130, and no llama-server is left", { skip, timeout: 120000 }, async (t) => {
  const { server, router } = await startLoaded(t);
  t.after(() => server.stop());
  const exited = exitOf(server.proc);
  // A long answer: still being generated when both signals have come.
  const res = await streamChat(server.url, { max_tokens: 1500 });
  assert.equal(res.status, 200);
  let children = [];
  let secondAt = 0;
  const got = [];
  const read = readSse(res, async (event, index) => {
    got.push(event);
    if (index !== 0) return;
    children = descendants(server.proc.pid);
    server.proc.kill("SIGTERM");
    // The second signal only once the first one is being handled (two at once would count as one).
    await logged(server, SHUTDOWN_STARTED);
    secondAt = Date.now();
    server.proc.kill("SIGTERM");
  }).catch((err) => ({ err }));
  const { code, signal, at } = await exited;
  assert.equal(signal, null, server.output().slice(-2000));
  assert.equal(code, 130, server.output().slice(-2000));
  assert.ok(secondAt > 0 && at - secondAt < 10000, `exited ${at - secondAt} ms after the second signal`);
  assert.match(server.output(), /second signal, exiting now/);
  await read;
  assert.ok(got.length > 0 && !got.includes("[DONE]"), `the stream was cut, not finished: ${JSON.stringify(got.slice(-2))}`);

  const llamas = children.filter((c) => c.argv.some((a) => a.includes("llama-server")));
  assert.ok(llamas.some((c) => c.pid === router.pid) && llamas.length >= 2, `the router and its model instance were running: ${JSON.stringify(children)}`);
  await until(() => children.every((c) => !running(c.pid)), {
    timeoutMs: 10000, intervalMs: 100,
    what: `every process llama-dashboard started to die with it: ${JSON.stringify(children.filter((c) => running(c.pid)))}`,
  });
});

test("server.shutdownTimeoutSec 1: SIGTERM ends a stream that would run a minute, within seconds and with exit 0", { timeout: 60000 }, async (t) => {
  const ctx = await startWithFake({ config: { server: { shutdownTimeoutSec: 1 } } });
  t.after(() => ctx.stop());
  const { server } = ctx;
  const routerPid = (await ok(ctx.socket, "router:status", {})).pid;
  assert.ok(running(routerPid), "the (fake) router runs");
  const exited = exitOf(server.proc);
  // 1200 tokens, 50 ms each: a minute of streaming.
  const res = await fakeChat(ctx.v1, { stream: true, fake: { tokens: 1200, tokenMs: 50 } });
  assert.equal(res.status, 200);
  let signalledAt = 0;
  let afterShutdownStarted = 0;
  const got = [];
  const read = readSse(res, (event, index) => {
    got.push(event);
    if (index === 0) {
      signalledAt = Date.now();
      server.proc.kill("SIGTERM");
    } else if (server.output().includes(SHUTDOWN_STARTED)) {
      afterShutdownStarted += 1;
    }
  }).catch((err) => ({ err }));
  const { code, signal, at } = await exited;
  assert.equal(signal, null, server.output().slice(-2000));
  assert.equal(code, 0, server.output().slice(-2000));
  assert.ok(at - signalledAt < 10000, `exited ${at - signalledAt} ms after SIGTERM, not after the minute the stream needed`);
  assert.match(server.output(), /requests still running after 1s/, "the log says the deadline cut requests off");
  await read;
  assert.ok(afterShutdownStarted > 0, "the stream went on for a while after SIGTERM (the deadline, not an instant cut)");
  assert.ok(!got.includes("[DONE]"), `the stream was cut at the deadline: ${JSON.stringify(got.slice(-2))}`);
  await until(() => !running(routerPid), { timeoutMs: 5000, intervalMs: 100, what: "the router to be stopped" });
});
