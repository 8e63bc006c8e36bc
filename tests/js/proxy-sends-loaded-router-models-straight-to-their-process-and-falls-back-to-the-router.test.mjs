// Requests for a loaded router-mode model skip the router's hop: they go to the port of the model's own
// process, which the router reports in `/models` (status.args). Loading still goes through the router. When
// that process is gone, a request that got nothing back is sent once more through the router; a stream that
// already reached the client is never sent twice. Fault injection with the fake router (FAKE_CHILD=1 gives
// its loaded models a second port); the real router is tested in
// router-mode-models-answer-from-their-own-process-while-the-router-is-busy.test.mjs.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { startWithFake, chat, readSse, tokensOf, waitRows } from "./lib/fake-router.mjs";
import { ok, until, sleep } from "./lib/socket.mjs";

const contexts = [];
after(async () => { for (const ctx of contexts) await ctx.stop(); });

async function start(config = {}) {
  const ctx = await startWithFake({ config, env: { FAKE_CHILD: "1" } });
  contexts.push(ctx);
  ctx.routerPort = Number(new URL(ctx.fakeUrl).port);
  ctx.childPort = (await (await fetch(`${ctx.fakeUrl}/fake/child`, { method: "POST", body: "{}" })).json()).childPort;
  return ctx;
}

/** The fake's records of chat requests whose first message says `marker`. */
async function seenWith(ctx, marker) {
  return (await ctx.seen()).filter((r) => r.path === "/v1/chat/completions" && r.body?.messages?.[0]?.content === marker);
}

async function chatOk(ctx, marker, extra = {}) {
  const res = await chat(ctx.v1, { messages: [{ role: "user", content: marker }], ...extra });
  assert.equal(res.status, 200, await res.clone().text());
  return res;
}

/** Sends requests until one lands on the model's own port (the dashboard polls the fake's /models). */
async function untilDirect(ctx) {
  let n = 0;
  await until(async () => {
    const marker = `probe ${n++}`;
    await (await chatOk(ctx, marker)).json();
    return (await seenWith(ctx, marker))[0]?.port === ctx.childPort;
  }, { timeoutMs: 8000, intervalMs: 100, what: "a request to reach the model's own port" });
}

let ctx;

test("the first request loads the model through the router; the next ones go to the model's own port", async () => {
  ctx = await start();
  assert.notEqual(ctx.childPort, ctx.routerPort);
  await (await chatOk(ctx, "first")).json();
  const [first] = await seenWith(ctx, "first");
  assert.equal(first.port, ctx.routerPort, "an unloaded model is loaded by the router (autoload)");

  await untilDirect(ctx);
  for (const marker of ["direct 1", "direct 2"]) {
    const body = await (await chatOk(ctx, marker)).json();
    assert.equal(body.choices[0].message.content, "t0 t1 t2 t3 t4 ", "the answer arrives whole");
    const records = await seenWith(ctx, marker);
    assert.equal(records.length, 1, `sent once: ${JSON.stringify(records)}`);
    assert.equal(records[0].port, ctx.childPort, "straight to the model's process");
    assert.match(records[0].headers.authorization ?? "", /^Bearer [0-9a-f]{64}$/, "with the key the router's processes require");
  }
  const streamed = await readSse(await chatOk(ctx, "direct stream", { stream: true }));
  assert.deepEqual(tokensOf(streamed.events), ["t0 ", "t1 ", "t2 ", "t3 ", "t4 "]);
  assert.equal(streamed.events.at(-1), "[DONE]");
  assert.equal((await seenWith(ctx, "direct stream"))[0].port, ctx.childPort);
  const [row] = await waitRows(ctx.socket, { model: "fake-a", status: "ok" }, 5);
  assert.equal(row.model, "fake-a", "recorded like any other request");

  await ok(ctx.socket, "models:unload", { id: "fake-a" });
  const unload = (await ctx.seen()).filter((r) => r.path === "/models/unload");
  assert.equal(unload.at(-1)?.port, ctx.routerPort, "unloading goes through the router");
});

test("a request whose model process is gone is sent once more through the router and succeeds", async () => {
  await until(async () => (await ok(ctx.socket, "models:get", { id: "fake-a" })).model.status === "unloaded", { what: "fake-a unloaded" });
  await (await chatOk(ctx, "reload")).json();
  await untilDirect(ctx);
  await fetch(`${ctx.fakeUrl}/fake/child`, { method: "POST", body: JSON.stringify({ up: false }) });
  for (const marker of ["after the process left 1", "after the process left 2"]) {
    const body = await (await chatOk(ctx, marker)).json();
    assert.equal(body.choices[0].message.content, "t0 t1 t2 t3 t4 ");
    const records = await seenWith(ctx, marker);
    assert.deepEqual(records.map((r) => r.port), [ctx.routerPort], "answered once, by the router");
  }
  await fetch(`${ctx.fakeUrl}/fake/child`, { method: "POST", body: JSON.stringify({ up: true }) });
  await untilDirect(ctx);
});

test("a stream that breaks after its first tokens is not sent again", async () => {
  const res = await chatOk(ctx, "breaks", { stream: true, fake: { dieAfter: 2 } });
  const streamed = await readSse(res).catch((err) => ({ events: [], error: err }));
  assert.ok(!streamed.events.includes("[DONE]"), "the client sees the stream end early");
  await sleep(300);
  const records = await seenWith(ctx, "breaks");
  assert.deepEqual(records.map((r) => r.port), [ctx.childPort], "sent once, to the model's process");
});

test("with proxy.directToChild false, or when the router may evict a model to load another, everything goes through the router", async () => {
  for (const config of [{ proxy: { directToChild: false } }, { models: { maxLoaded: 1 } }]) {
    const other = await start(config);
    await (await chatOk(other, "load")).json();
    await sleep(1200); // past two polls of the fake's /models, where the model's port is reported
    for (const marker of ["via router 1", "via router 2"]) {
      await (await chatOk(other, marker)).json();
      assert.deepEqual((await seenWith(other, marker)).map((r) => r.port), [other.routerPort], JSON.stringify(config));
    }
  }
});
