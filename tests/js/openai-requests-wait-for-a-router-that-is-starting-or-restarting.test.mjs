// A /v1 request for a router-mode model that arrives while the router is on its way up (starting at boot,
// restarting after a crash, restarting when asked, as a config save does) waits for it and is served, not
// refused with 503; one that ends failed gets the 503 once it failed; a router stopped on purpose answers
// 503 at once. The router is the fake llama-server behind a gate: its start hangs until the test opens it,
// so each request is known to arrive while the router starts (the log line of the wait says it arrived).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync, rmSync, chmodSync } from "node:fs";
import path from "node:path";
import { startServer } from "./lib/server.mjs";
import { connect, ok, request, freePort, tempDir, until, waitFor } from "./lib/socket.mjs";
import { fakeBin, chat, assertOpenAiError } from "./lib/fake-router.mjs";

const STARTUP_TIMEOUT_MS = 20000;
const WAIT_LINE = "a request waits for the router to start";
const work = tempDir("lldash-router-gate-");
const models = tempDir("lldash-router-gate-models-");
const gate = path.join(work.dir, "gate");
const fail = path.join(work.dir, "fail");
let server, client;

/** A router binary that waits (bounded) for the gate file, then exits 3 when `fail` exists, else is the fake. */
function writeGatedRouter() {
  const bin = path.join(work.dir, "llama-server");
  writeFileSync(bin, `#!/bin/sh
i=0
while [ ! -e '${gate}' ] && [ $i -lt 800 ]; do sleep 0.05; i=$((i+1)); done
if [ -e '${fail}' ]; then echo "fake failure: asked to fail" >&2; exit 3; fi
exec '${process.execPath}' '${fakeBin}' "$@"
`);
  chmodSync(bin, 0o755);
  return bin;
}

const open = () => writeFileSync(gate, "");
const close = () => rmSync(gate, { force: true });
const status = () => ok(client.socket, "router:status", {});
const waitLines = () => client.received.filter((e) => e.event === "logs:entry" && e.payload?.data?.entry?.message?.includes(WAIT_LINE));

/** Sends a chat for fake-a and waits until the server logged that it waits for the router; fails if it is
 * answered first. Resolves the pending response's promise (wrapped, so the caller awaits it). */
async function chatThatWaits() {
  const seen = waitLines().length;
  const pending = chat(`${server.url}/v1`, { model: "fake-a" });
  const logged = until(() => waitLines().length > seen, { timeoutMs: 10000, intervalMs: 20, what: "the wait to be logged" });
  logged.catch(() => {});
  const first = await Promise.race([pending.then((answered) => ({ answered })), logged.then(() => ({}))]);
  if (first.answered) {
    open(); // the next test starts from a router that runs
    assert.fail(`answered ${first.answered.status} while the router was starting: ${await first.answered.text()}`);
  }
  return { pending };
}

before(async () => {
  writeFileSync(path.join(models.dir, "fake-a.gguf"), "GGUF not really a model");
  server = await startServer({
    config: {
      router: { port: await freePort() },
      models: { directory: models.dir, idleTimeoutSec: 0 },
      startup: { autoStart: true, timeout: STARTUP_TIMEOUT_MS, retryAttempts: 1, retryDelay: 0 },
    },
    env: { LLAMA_SERVER_BIN: writeGatedRouter(), FAKE_LOAD_MS: "20", FAKE_TOKENS: "2", FAKE_TOKEN_MS: "1" },
  });
  client = await connect(server.url);
});

after(async () => {
  client?.close();
  await server?.stop();
  work.cleanup();
  models.cleanup();
});

test("a request sent while the router starts at boot is served once it runs", async () => {
  const starting = await until(async () => { const s = await status(); return s.state === "starting" && s; }, { what: "the router to be starting" });
  assert.equal(typeof starting.pid, "number");
  const { pending } = await chatThatWaits();
  open();
  const res = await pending;
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal((await res.json()).choices[0].message.content, "t0 t1 ");
  const running = await status();
  assert.equal(running.state, "running");
  assert.equal(running.pid, starting.pid, "served by the router that was starting");
});

test("a request sent while the router restarts after a crash is served by the restarted router", async () => {
  const before = await status();
  assert.equal(before.state, "running");
  close();
  const crashed = waitFor(client.socket, "router:status", { timeoutMs: 10000, filter: (m) => m.data.state === "crashed" });
  process.kill(before.pid, "SIGKILL");
  await crashed;
  const { pending } = await chatThatWaits();
  open();
  const res = await pending;
  assert.equal(res.status, 200, await res.clone().text());
  const after = await status();
  assert.equal(after.state, "running");
  assert.notEqual(after.pid, before.pid, "a new router process served it");
  assert.equal(after.restarts, 1);
});

test("a request sent while a restart is asked for (as a config save does) is served once it runs", async () => {
  const before = await status();
  close();
  const starting = waitFor(client.socket, "router:status", { timeoutMs: 10000, filter: (m) => m.data.state === "starting" });
  const restarted = request(client.socket, "router:restart", {}, { timeoutMs: STARTUP_TIMEOUT_MS + 5000 });
  await starting;
  const { pending } = await chatThatWaits();
  open();
  const res = await pending;
  assert.equal(res.status, 200, await res.clone().text());
  const reply = await restarted;
  assert.equal(reply.success, true, JSON.stringify(reply));
  assert.notEqual(reply.data.pid, before.pid);
});

test("a request waiting for a start that fails gets the 503 once it failed, not at the deadline", async () => {
  await ok(client.socket, "router:stop", {});
  close();
  writeFileSync(fail, "");
  const starting = waitFor(client.socket, "router:status", { timeoutMs: 10000, filter: (m) => m.data.state === "starting" });
  const started = request(client.socket, "router:start", {}, { timeoutMs: STARTUP_TIMEOUT_MS + 5000 });
  await starting;
  const { pending } = await chatThatWaits();
  const opened = Date.now();
  open();
  const error = await assertOpenAiError(await pending, 503, "router_error");
  assert.match(error.message, /not running/);
  assert.ok(Date.now() - opened < STARTUP_TIMEOUT_MS / 2, `answered once the start failed (${Date.now() - opened} ms)`);
  const reply = await started;
  assert.equal(reply.success, false);
  assert.match(reply.error.message, /exited during startup \(exit code 3\)/);
  assert.equal((await status()).state, "failed");
  rmSync(fail);
});

test("a router stopped on purpose answers 503 at once, without waiting", async () => {
  const up = await request(client.socket, "router:start", {}, { timeoutMs: STARTUP_TIMEOUT_MS + 5000 });
  assert.equal(up.data?.running, true, JSON.stringify(up));
  const stopped = await ok(client.socket, "router:stop", {});
  assert.equal(stopped.state, "stopped");
  const t = Date.now();
  const error = await assertOpenAiError(await chat(`${server.url}/v1`, { model: "fake-a" }), 503, "router_error");
  assert.ok(Date.now() - t < 3000, `answered at once (${Date.now() - t} ms; startup.timeout is ${STARTUP_TIMEOUT_MS} ms)`);
  assert.match(error.message, /fake-a/);
});
