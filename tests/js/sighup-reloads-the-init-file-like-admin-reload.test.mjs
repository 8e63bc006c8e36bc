// SIGHUP reads the init file again, as an operator expects of a daemon: a valid file takes effect (with
// the environment and the command line still beating it) and every dashboard gets models:updated; every
// own backend is stopped like POST /admin/reload (a stream in flight first ends whole), with reason
// "reload"; an invalid file is refused with a log line naming the bad key while the old settings keep
// serving; a router whose command line changed is restarted once the stream in flight has ended.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { startBackends, fakeBin, chat, readSse } from "./lib/backends.mjs";
import { startWithFake, chat as routerChat, tokensOf } from "./lib/fake-router.mjs";
import { ok, until, waitFor } from "./lib/socket.mjs";

let ctx;
after(() => ctx?.stop());
before(async () => {
  ctx = await startBackends({
    link: false,
    backends: { defaultSpawn: { command: ["node", fakeBin] } },
    models: [{ name: "fake-a" }],
    // An environment override: it must still win over the file after a reload.
    env: { LLAMA_MODELS_MAX: "3", FAKE_TOKENS: "2", FAKE_TOKEN_MS: "1" },
  });
});

const initFile = (server) => path.join(server.work, "llama-router.init.json");
const readInit = (server) => JSON.parse(readFileSync(initFile(server), "utf8"));
const writeInit = (server, config) => writeFileSync(initFile(server), typeof config === "string" ? config : JSON.stringify(config, null, 2));
const pidOf = (id) => ctx.pids().find((p) => p.model === ctx.file(id))?.pid;

/** Asks the backend `id` for a short answer that must succeed. */
async function answered(id) {
  const res = await chat(ctx.v1, id);
  const text = await res.text();
  assert.equal(res.status, 200, `${id}: ${text}`);
  assert.equal(JSON.parse(text).model, id);
}

test("an edited init file is in effect after SIGHUP, overrides still win, and dashboards get models:updated", { timeout: 30000 }, async () => {
  const before = await ok(ctx.socket, "router:init:load", {});
  assert.equal(before.config.models.idleTimeoutSec, 300);
  assert.equal(before.config.models.maxLoaded, 3, "LLAMA_MODELS_MAX is in effect");
  assert.equal(before.config.server.port, 0, "--port 0 is in effect");
  assert.deepEqual((await ok(ctx.socket, "models:list", {})).models.map((m) => m.id), ["fake-a"]);

  const next = readInit(ctx.server);
  next.models.idleTimeoutSec = 120;
  next.models.maxLoaded = 5;
  next.backends.models.push({ name: "fake-b", path: ctx.file("fake-b") });
  writeInit(ctx.server, next);
  const updated = waitFor(ctx.socket, "models:updated", { timeoutMs: 10000, filter: (m) => m.data.models.some((x) => x.id === "fake-b") });
  ctx.server.proc.kill("SIGHUP");
  const pushed = (await updated).data.models;

  assert.deepEqual(pushed.map((m) => m.id).sort(), ["fake-a", "fake-b"], "the new backend model reaches the dashboard");
  const b = pushed.find((m) => m.id === "fake-b");
  assert.equal(b.source, "backend");
  assert.equal(b.path, ctx.file("fake-b"));
  assert.equal(b.status, "unloaded");
  const after = await ok(ctx.socket, "router:init:load", {});
  assert.equal(after.config.models.idleTimeoutSec, 120, "the edited value is in effect");
  assert.equal(after.fileConfig.models.idleTimeoutSec, 120);
  assert.equal(after.fileConfig.models.maxLoaded, 5, "the file says 5...");
  assert.equal(after.config.models.maxLoaded, 3, "...but LLAMA_MODELS_MAX still wins");
  assert.equal(after.config.server.port, 0, "and so does --port");
  assert.deepEqual((await ok(ctx.socket, "models:list", {})).models.map((m) => m.id).sort(), ["fake-a", "fake-b"]);
  await answered("fake-b");
  assert.ok(process.kill(ctx.server.proc.pid, 0), "llama-dashboard is still running");
});

test("SIGHUP stops a running backend after its stream in flight, with reason reload; the next request starts it again", { timeout: 30000 }, async () => {
  await answered("fake-a");
  const pid = pidOf("fake-a");
  assert.ok(pid, `fake-a runs: ${JSON.stringify(ctx.pids())}`);
  const TOKENS = 15;
  const TOKEN_MS = 100;
  const res = await chat(ctx.v1, "fake-a", { stream: true, fake: { tokens: TOKENS, tokenMs: TOKEN_MS } });
  assert.equal(res.status, 200);
  let asked;
  let aliveAtDone;
  const { events } = await readSse(res, (event) => {
    if (!asked) { asked = Date.now(); ctx.server.proc.kill("SIGHUP"); }
    if (event === "[DONE]") aliveAtDone = ctx.pids().some((p) => p.pid === pid);
  });
  const ended = Date.now();
  assert.equal(events.at(-1), "[DONE]", `the stream ends whole: ${JSON.stringify(events.slice(-3))}`);
  assert.ok(!events.some((e) => e?.error), JSON.stringify(events.filter((e) => e?.error)));
  assert.equal(events.filter((e) => e?.choices?.[0]?.delta?.content).length, TOKENS, "every token arrived");
  assert.equal(aliveAtDone, true, "the backend was still running when the stream completed");

  const unloaded = await ctx.waitStatus("fake-a", "unloaded", { since: asked, timeoutMs: 15000 });
  assert.ok(unloaded.at >= ended, `stopped only after the stream ended (${unloaded.at - ended} ms)`);
  const unloading = ctx.statuses("fake-a").find((s) => s.status === "unloading" && s.at >= asked);
  assert.ok(unloading && unloading.at < ended, "the stop was asked for while the stream ran, and waited for it");
  const a = await ctx.model("fake-a");
  assert.equal(a.status, "unloaded");
  assert.equal(a.reason, "reload");
  const history = await ctx.events("fake-a");
  assert.deepEqual(history.filter((e) => e.actor === "reload").map((e) => e.event), ["unload_requested", "unloaded"], JSON.stringify(history));
  await until(() => !ctx.pids().some((p) => p.pid === pid), { timeoutMs: 5000, intervalMs: 50, what: "fake-a's process to be gone" });

  await answered("fake-a");
  const again = pidOf("fake-a");
  assert.ok(again && again !== pid, `a new process serves fake-a: ${again} (was ${pid})`);
});

test("an invalid init file and SIGHUP: the error names the key, the old settings stay, everything keeps serving", { timeout: 30000 }, async () => {
  await answered("fake-a");
  const pid = pidOf("fake-a");
  assert.ok(pid, "fake-a runs");
  const valid = readInit(ctx.server);
  const broken = { ...valid, server: { ...valid.server, port: "x" }, models: { ...valid.models, idleTimeoutSec: 7 } };
  writeInit(ctx.server, broken);
  const since = Date.now();
  ctx.server.proc.kill("SIGHUP");

  const line = await until(async () => {
    const { logs } = await ok(ctx.socket, "logs:get", { level: "error", search: "not reloaded", limit: 10 });
    return logs.find((l) => l.timestamp >= since - 1000);
  }, { timeoutMs: 10000, intervalMs: 100, what: "the refused reload in the logs" });
  assert.match(line.message, /server\.port/, `the log names the bad key: ${line.message}`);
  const stderr = ctx.server.output();
  assert.match(stderr.slice(stderr.lastIndexOf("init file not reloaded")), /^init file not reloaded[\s\S]*server\.port/, "and so does stderr");

  const now = await ok(ctx.socket, "router:init:load", {});
  assert.equal(now.config.models.idleTimeoutSec, 120, "the running configuration stays");
  assert.equal(now.config.server.port, 0);
  assert.deepEqual((await ok(ctx.socket, "models:list", {})).models.map((m) => m.id).sort(), ["fake-a", "fake-b"]);
  // Nothing was stopped: the refused reload ends at the log line.
  assert.equal((await ctx.model("fake-a")).status, "loaded");
  assert.equal(pidOf("fake-a"), pid, "the same backend process serves");
  await answered("fake-a");
  assert.equal((await fetch(`${ctx.server.url}/health`)).status, 200);
  writeInit(ctx.server, valid);
});

test("SIGHUP with a changed router command line restarts the router only after its stream in flight ends", { timeout: 30000 }, async (t) => {
  const routed = await startWithFake({ env: { FAKE_TOKEN_MS: "150", FAKE_TOKENS: "12" } });
  t.after(() => routed.stop());
  const { server, socket } = routed;
  const before = await ok(socket, "router:status", {});
  assert.equal(before.running, true);
  const next = readInit(server);
  next.performance = { ...next.performance, contextSize: 2048 };
  writeInit(server, next);

  const res = await routerChat(routed.v1, { stream: true });
  assert.equal(res.status, 200);
  let asked, lastToken;
  const { events } = await readSse(res, (event) => {
    if (!asked) { asked = Date.now(); server.proc.kill("SIGHUP"); }
    if (event?.choices?.[0]?.delta?.content) lastToken = Date.now();
  });
  assert.equal(events.at(-1), "[DONE]", `the stream was not cut: ${JSON.stringify(events.slice(-3))}`);
  assert.equal(tokensOf(events).length, 12);

  const after = await until(async () => { const s = await ok(socket, "router:status", {}); return s.running && s.pid !== before.pid && s; },
    { timeoutMs: 15000, what: "the router running again as a new process" });
  const argv = readFileSync(`/proc/${after.pid}/cmdline`, "utf8").split("\0");
  assert.equal(argv[argv.indexOf("-c") + 1], "2048", `the new router runs with the new context size: ${argv.join(" ")}`);
  const stopping = routed.client.received.find((e) => e.event === "router:status" && e.at >= asked && e.payload.data.state === "stopping");
  assert.ok(stopping, "the restart was broadcast");
  // The stream's end and the broadcast travel on two connections, so the check is against the last token,
  // which the client had before the router could stop (the stream above ended whole).
  assert.ok(stopping.at >= lastToken, `the router was stopped only after the last token (${stopping.at - lastToken} ms after)`);
  assert.equal((await ok(socket, "router:init:load", {})).config.performance.contextSize, 2048);
});
