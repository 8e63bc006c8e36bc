// Own backends, drain first: whatever stops a backend (models:unload, its idle TTL, eviction past
// backends.maxRunning, POST /admin/reload) waits for its requests in flight. A stream running when the
// stop is asked for ends whole (every token, then [DONE]), its process is still alive at that moment,
// and only then is it stopped. (A group swap is covered by backends-a-request-during-a-swap-...)
import { test } from "node:test";
import assert from "node:assert/strict";
import { startBackends, fakeBin, chat, readSse } from "./lib/backends.mjs";
import { ok } from "./lib/socket.mjs";

const TOKENS = 15;
const TOKEN_MS = 100; // a 1.5 s stream

const cases = [
  {
    how: "models:unload",
    models: [{ name: "fake-a" }],
    reason: "socket",
    stop: async (ctx) => assert.deepEqual(await ok(ctx.socket, "models:unload", { id: "fake-a" }), { id: "fake-a", status: "unloading" }),
  },
  {
    how: "the idle TTL (1 s, shorter than the stream)",
    models: [{ name: "fake-a", ttl: 1 }],
    reason: "idle",
    stop: async () => {},
  },
  {
    how: "eviction past maxRunning 1",
    models: [{ name: "fake-a", group: "g" }, { name: "fake-b", group: "g" }],
    backends: { maxRunning: 1 },
    reason: "evicted",
    // Asking for fake-b evicts fake-a; the request waits for the swap and is then served by fake-b.
    stop: (ctx) => { ctx.forB = chat(ctx.v1, "fake-b").then(async (res) => ({ res, body: await res.json(), at: Date.now() })); },
    after: async (ctx, endA) => {
      const b = await ctx.forB;
      assert.equal(b.res.status, 200, JSON.stringify(b.body));
      assert.equal(b.body.model, "fake-b");
      assert.ok(b.at >= endA, "fake-b answered after fake-a's stream ended");
      assert.deepEqual(ctx.running(), ["fake-b"]);
    },
  },
  {
    how: "POST /admin/reload",
    models: [{ name: "fake-a" }],
    reason: "admin reload",
    stop: async (ctx) => {
      const res = await fetch(`${ctx.server.url}/admin/reload`, { method: "POST" });
      assert.deepEqual(await res.json(), { success: true, stopping: ["fake-a"] });
    },
  },
];

for (const c of cases) {
  test(`a stream in flight completes before ${c.how} stops its backend`, { timeout: 30000 }, async () => {
    const ctx = await startBackends({
      link: false,
      backends: { defaultSpawn: { command: ["node", fakeBin] }, ...c.backends },
      models: c.models,
      env: { FAKE_TOKENS: "2", FAKE_TOKEN_MS: "1" },
    });
    try {
      const res = await chat(ctx.v1, "fake-a", { stream: true, fake: { tokens: TOKENS, tokenMs: TOKEN_MS } });
      assert.equal(res.status, 200);
      const [{ pid }] = ctx.pids();
      let asked, aliveAtDone;
      const { events } = await readSse(res, async (event) => {
        if (!asked) { asked = Date.now(); await c.stop(ctx); }
        if (event === "[DONE]") aliveAtDone = ctx.pids().some((p) => p.pid === pid);
      });
      const endA = Date.now();
      assert.equal(events.at(-1), "[DONE]", `the stream ends with [DONE]: ${JSON.stringify(events.slice(-3))}`);
      assert.ok(!events.some((e) => e?.error), JSON.stringify(events.filter((e) => e?.error)));
      assert.equal(events.filter((e) => e?.choices?.[0]?.delta?.content).length, TOKENS, "every token arrived");
      assert.equal(aliveAtDone, true, "the backend process was alive when the stream completed");
      assert.ok(endA - asked >= (TOKENS - 3) * TOKEN_MS, `the stop was asked for early in the stream (${endA - asked} ms before its end)`);

      const unloaded = await ctx.waitStatus("fake-a", "unloaded", { since: asked, timeoutMs: 15000 });
      assert.ok(unloaded.at >= endA, `stopped only after the stream ended (${unloaded.at - endA} ms)`);
      const unloading = ctx.statuses("fake-a").find((s) => s.status === "unloading" && s.at >= asked);
      if (c.reason === "idle") {
        assert.ok(unloading.at >= endA, "an idle stop is not even asked for while a stream runs");
      } else {
        assert.ok(unloading.at < endA, "the stop was asked for while the stream ran, and waited for it");
      }
      const a = await ctx.model("fake-a");
      assert.equal(a.status, "unloaded");
      assert.equal(a.reason, c.reason);
      assert.ok(!ctx.pids().some((p) => p.pid === pid), "fake-a's process is gone");
      await c.after?.(ctx, endA);
    } finally {
      await ctx.stop();
    }
  });
}
