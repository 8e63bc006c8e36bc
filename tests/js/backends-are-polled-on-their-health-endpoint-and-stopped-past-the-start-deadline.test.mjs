// Own backends, startup: `backends.healthEndpoint` is the path polled until it answers 200, and a backend
// not healthy within `backends.startTimeoutSec` is stopped and reported `error` with a message saying so.
// The fake llama-server stands in: `--fake-health /ready` answers 200 only on /ready (its /health says
// 503 "Loading model" forever); without it, only /health answers 200, so at /ready it never becomes healthy.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startBackends, chat, fakeBin } from "./lib/backends.mjs";

let ctx;
before(async () => {
  ctx = await startBackends({
    link: false,
    backends: { healthEndpoint: "/ready", startTimeoutSec: 2 },
    models: [
      { name: "fake-a", group: "g", spawn: { command: ["node", fakeBin, "--fake-health", "/ready"] } },
      { name: "fake-b", group: "g", spawn: { command: ["node", fakeBin] } },
    ],
    env: { FAKE_TOKENS: "2", FAKE_TOKEN_MS: "1" },
  });
});
after(() => ctx?.stop());

test("a backend healthy only at the configured endpoint becomes ready and serves", { timeout: 20000 }, async () => {
  const res = await chat(ctx.v1, "fake-a");
  const text = await res.text();
  assert.equal(res.status, 200, text);
  assert.equal(JSON.parse(text).choices[0].message.content, "t0 t1 ");
  const a = await ctx.model("fake-a");
  assert.equal(a.status, "loaded");
  assert.equal(typeof a.port, "number");
  // Its /health still says 503: only /ready can have made it ready.
  assert.equal((await fetch(`http://127.0.0.1:${a.port}/health`)).status, 503);
});

test("a backend never healthy there is stopped after startTimeoutSec and reported error", { timeout: 20000 }, async () => {
  const since = Date.now();
  const res = await chat(ctx.v1, "fake-b");
  const took = Date.now() - since;
  const { error } = await res.json();
  assert.equal(res.status, 503, JSON.stringify(error));
  assert.equal(error.code, "backend_error");
  assert.match(error.message, /backend 'fake-b' failed to start: not ready within 2 s \(backends\.startTimeoutSec\)/);
  assert.ok(took >= 1800 && took < 8000, `the request waited for the 2 s deadline: ${took} ms`);

  const failed = await ctx.waitStatus("fake-b", "error", { since });
  assert.match(failed.error, /not ready within 2 s/);
  const b = await ctx.model("fake-b");
  assert.equal(b.status, "error");
  assert.equal(b.port, null);
  const history = await ctx.events("fake-b");
  assert.ok(history.some((e) => e.event === "load_failed" && /not ready within 2 s/.test(e.detail ?? "")), JSON.stringify(history));
  assert.deepEqual(ctx.running(), ["fake-a"], "fake-b's process is gone; fake-a's still runs");
  assert.equal((await ctx.model("fake-a")).status, "loaded");
});
