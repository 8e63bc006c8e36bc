// Own backends, forwarding deadlines: `backends.readTimeoutSec` bounds the wait for the next bytes of an
// answer (not the whole answer), and `backends.connectionTimeoutSec` bounds connecting to the backend.
// Past either, the client gets an upstream_error (an SSE error event mid-stream, a 502 before the
// answer started) and the request is stored as an error. The fake llama-server stalls on demand; for
// the connection, it freezes with a one-connection accept queue that this test fills, so that on
// loopback a new connection gets no answer to its SYN (as with an overloaded or hung backend).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { startBackends, fakeBin, chat, readSse } from "./lib/backends.mjs";
import { tokensOf, waitRows, assertOpenAiError } from "./lib/fake-router.mjs";
import { ok } from "./lib/socket.mjs";

let ctx;
before(async () => {
  ctx = await startBackends({
    link: false,
    backends: { readTimeoutSec: 3, connectionTimeoutSec: 1, defaultSpawn: { command: ["node", fakeBin] } },
    models: [
      { name: "fake-a", group: "g" },
      { name: "fake-b", group: "g", spawn: { command: ["node", fakeBin, "--fake-backlog", "1"] } },
    ],
  });
});
after(() => ctx?.stop());

const seen = async (port) => (await (await fetch(`http://127.0.0.1:${port}/fake/requests`)).json()).requests;

test("a stream that stops sending for longer than readTimeoutSec ends with an upstream_error event", { timeout: 20000 }, async () => {
  const started = Date.now();
  const res = await chat(ctx.v1, "fake-a", { stream: true, fake: { tokens: 6, tokenMs: 10, stallAfter: 2, stallMs: 10000 } });
  assert.equal(res.status, 200);
  const { events } = await readSse(res);
  const took = Date.now() - started;
  assert.deepEqual(tokensOf(events), ["t0 ", "t1 "], JSON.stringify(events));
  const last = events.at(-1);
  assert.equal(last.error?.code, "upstream_error", JSON.stringify(events));
  assert.match(last.error.message, /upstream failed mid-response/);
  assert.ok(!events.includes("[DONE]"));
  assert.ok(took >= 2900 && took < 7000, `cut after about readTimeoutSec (3 s), not at the stall's end (10 s): ${took} ms`);

  const [row] = await waitRows(ctx.socket, { model: "fake-a", outcome: "error" });
  assert.equal(row.stream, true);
  assert.match(row.error, /upstream failed mid-response/);
  const { port } = await ctx.model("fake-a");
  const record = (await seen(port)).find((r) => r.path === "/v1/chat/completions");
  assert.equal(record.closedEarly, true, "the stalled generation was cancelled upstream");
  assert.equal(record.tokensSent, 2);
});

test("a stream longer than readTimeoutSec in all, with short gaps, completes", { timeout: 20000 }, async () => {
  const started = Date.now();
  const res = await chat(ctx.v1, "fake-a", { stream: true, fake: { tokens: 5, tokenMs: 900 } });
  const { events } = await readSse(res);
  assert.ok(Date.now() - started >= 4000, "the stream lasted longer than 3 s");
  assert.equal(tokensOf(events).length, 5);
  assert.equal(events.at(-1), "[DONE]", JSON.stringify(events.slice(-2)));
});

test("a backend that accepts no connection within connectionTimeoutSec gets a 502 upstream_error", { timeout: 30000 }, async () => {
  const since = Date.now();
  await ok(ctx.socket, "models:load", { id: "fake-b" });
  await ctx.waitStatus("fake-b", "loaded", { since });
  const { port } = await ctx.model("fake-b");
  // Freeze it (nothing accepted for 10 s), then fill its accept queue until a connect gets no answer.
  await (await fetch(`http://127.0.0.1:${port}/fake/freeze`, { method: "POST", body: '{"ms":10000}' })).json();
  const fillers = [];
  let full = false;
  for (let i = 0; i < 16 && !full; i++) {
    const socket = net.connect(port, "127.0.0.1");
    socket.on("error", () => {});
    fillers.push(socket);
    full = !(await new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), 300);
      socket.once("connect", () => { clearTimeout(timer); resolve(true); });
    }));
  }
  try {
    assert.ok(full, "the frozen backend's accept queue is full");
    const started = Date.now();
    const res = await chat(ctx.v1, "fake-b");
    const took = Date.now() - started;
    const error = await assertOpenAiError(res, 502, "upstream_error");
    assert.match(error.message, /model 'fake-b' did not answer/);
    // 1 s: connectionTimeoutSec; an accepted connection would have waited readTimeoutSec (3 s), the freeze 10 s.
    assert.ok(took >= 900 && took < 2500, `gave up after about connectionTimeoutSec (1 s): ${took} ms`);
    const [row] = await waitRows(ctx.socket, { model: "fake-b", outcome: "error" });
    assert.equal(row.statusCode, 502);
  } finally {
    for (const s of fillers) s.destroy();
  }
});
