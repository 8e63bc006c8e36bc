// With the real llama-server router: once a model is loaded, our /v1 sends its requests straight to the model's
// own llama-server (the port the router reports), so they no longer pay for, or wait on, the router's hop. The
// proof a user would notice: with the router process frozen (SIGSTOP), the loaded model still answers through
// our port, streamed and not; the router wakes up to find nothing was lost.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { connect, ok, until } from "./lib/socket.mjs";
import { needReal, modelsDir, startWithRealRouter } from "./lib/real.mjs";
import { readSse, tokensOf } from "./lib/fake-router.mjs";

const skip = needReal();
const cleanups = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

const ask = (server, body, signal) => fetch(`${server.url}/v1/chat/completions`, {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ model: "smol", max_tokens: 4, temperature: 0, messages: [{ role: "user", content: "Hello" }], ...body }),
  signal,
});

test("a loaded model answers through our port while the router is frozen", { skip }, async () => {
  const models = modelsDir("smol");
  cleanups.push(() => models.cleanup());
  const server = await startWithRealRouter({ models: { directory: models.dir }, performance: { contextSize: 1024 } });
  cleanups.push(() => server.stop());
  const client = await connect(server.url);
  cleanups.push(() => client.close());

  const first = await ask(server, {});
  assert.equal(first.status, 200, await first.clone().text());
  await first.json();
  await until(async () => (await ok(client.socket, "models:get", { id: "smol" })).model.status === "loaded", { what: "smol loaded" });
  // The router reports the model's port in /models, read right after its `loaded` event.
  await new Promise((r) => setTimeout(r, 500));

  const { pid } = await ok(client.socket, "router:status", {});
  process.kill(pid, "SIGSTOP");
  try {
    const json = await ask(server, {}, AbortSignal.timeout(10000));
    assert.equal(json.status, 200);
    const body = await json.json();
    assert.ok(body.usage.completion_tokens > 0, JSON.stringify(body));
    const streamed = await readSse(await ask(server, { stream: true }, AbortSignal.timeout(10000)));
    assert.ok(tokensOf(streamed.events).length > 0, streamed.text);
    assert.equal(streamed.events.at(-1), "[DONE]");
  } finally {
    process.kill(pid, "SIGCONT");
  }
  const status = await ok(client.socket, "router:status", {});
  assert.equal(status.pid, pid, "the router was not restarted meanwhile");
  const { requests } = await until(async () => {
    const r = await ok(client.socket, "requests:list", { model: "smol", status: "ok" });
    return r.requests.length >= 3 && r;
  }, { what: "three stored requests" });
  assert.equal(requests.length, 3, "each request recorded once");
});
