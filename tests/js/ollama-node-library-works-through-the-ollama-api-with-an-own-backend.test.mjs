// Ollama's API with the official `ollama` npm package against one of our own backends (a real llama-server
// we start on demand): the library lists it, shows it, chats streamed and whole, generates, sees it in ps
// with its expiry after the request started it, and gets a ResponseError 404 for an unknown model.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Ollama } from "ollama";
import { startBackends, needReal } from "./lib/backends.mjs";

const skip = needReal();
const MODEL = "own";
let ctx, ollama;

before(async () => {
  if (skip) return;
  ctx = await startBackends({ models: [{ name: MODEL, ttl: 600 }] });
  ollama = new Ollama({ host: ctx.v1.replace(/\/v1$/, "") });
});
after(() => ctx?.stop());

test("list and show name the own backend before it runs; ps is empty", { skip }, async () => {
  const { models } = await ollama.list();
  const own = models.find((m) => m.model === MODEL);
  assert.ok(own, JSON.stringify(models));
  assert.equal(own.details.format, "gguf");
  assert.equal(own.details.family, "llama");
  const shown = await ollama.show({ model: `${MODEL}:latest` });
  assert.ok(shown.model_info["llama.context_length"] > 0, JSON.stringify(shown));
  assert.deepEqual((await ollama.ps()).models, []);
  assert.deepEqual(ctx.running(), [], "listing started nothing");
});

test("a streamed chat starts the backend and arrives in parts, the last one done; ps then shows it with its expiry", { skip }, async () => {
  const parts = [];
  for await (const part of await ollama.chat({ model: MODEL, stream: true, messages: [{ role: "user", content: "Say hi" }], options: { num_predict: 6 } })) {
    parts.push(part);
  }
  assert.ok(parts.length >= 2, JSON.stringify(parts));
  assert.ok(parts.slice(0, -1).every((p) => !p.done && p.message.role === "assistant"));
  const last = parts.at(-1);
  assert.equal(last.done, true);
  assert.ok(last.eval_count > 0 && last.eval_count <= 6, JSON.stringify(last));
  assert.ok(parts.map((p) => p.message.content).join("").length > 0);
  assert.deepEqual(ctx.running(), [MODEL]);

  const whole = await ollama.chat({ model: MODEL, messages: [{ role: "user", content: "Say hi" }], options: { num_predict: 4 } });
  assert.equal(whole.done, true);
  assert.ok(whole.message.content.length > 0 && whole.prompt_eval_count > 0);
  const generated = await ollama.generate({ model: MODEL, prompt: "Say hi", stream: false, options: { num_predict: 4 } });
  assert.ok(generated.response.length > 0 && generated.done, JSON.stringify(generated));

  const running = (await ollama.ps()).models.find((m) => m.model === MODEL);
  assert.ok(running, "ps lists the running backend");
  const expires = new Date(running.expires_at).getTime();
  // ttl 600 s: the deadline is about ten minutes after the last request ended.
  assert.ok(expires > Date.now() + 590_000 && expires < Date.now() + 610_000, `expires_at ${running.expires_at}`);
  const own = await ctx.model(MODEL);
  // Each view computes the deadline from the idle time so far: equal within a little clock drift.
  assert.ok(Math.abs(expires - own.unloadAt) < 1000, `the same deadline the dashboard shows: ${expires} vs ${own.unloadAt}`);
});

test("an unknown model is a ResponseError 404 with Ollama's message", { skip }, async () => {
  await assert.rejects(
    ollama.chat({ model: "no-such-model", messages: [{ role: "user", content: "hi" }] }),
    (err) => err.name === "ResponseError" && err.status_code === 404 && /no-such-model/.test(err.error),
  );
});
