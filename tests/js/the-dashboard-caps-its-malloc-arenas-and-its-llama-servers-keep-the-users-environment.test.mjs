// glibc keeps freed memory in one arena per thread, which let RSS stay several MiB higher after each
// hostile storm (docs/reliability.md). llama-dashboard runs itself with MALLOC_ARENA_MAX=2 (one re-exec at
// startup, same pid) unless the user chose a value; the llama-servers it starts see the user's environment.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { startServer } from "./lib/server.mjs";
import { fakeBin } from "./lib/fake-router.mjs";
import { freePort, until } from "./lib/socket.mjs";

const cleanups = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

const environOf = (pid) => readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
const valueIn = (environ, name) => environ.find((e) => e.startsWith(`${name}=`))?.slice(name.length + 1);

/** The environment of the process whose argv holds `--alias <name>`. */
function backendEnviron(name) {
  for (const entry of readdirSync("/proc").filter((e) => /^\d+$/.test(e))) {
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      const at = argv.indexOf("--alias");
      if (at >= 0 && argv[at + 1] === name) return environOf(entry);
    } catch { /* gone meanwhile */ }
  }
  return null;
}

/** Starts a server with an own backend `name` (one name per test: the other test's may still run; the fake serves fake-a and fake-b) and serves it once. */
async function startWithBackend(name, env) {
  const server = await startServer({
    config: {
      router: { enabled: false, port: await freePort() },
      startup: { autoStart: false },
      backends: { basePort: await freePort(), models: [{ name, path: `/models/${name}.gguf`, spawn: { command: [fakeBin] } }] },
    },
    env: { FAKE_TOKENS: "2", FAKE_TOKEN_MS: "1", ...env },
  });
  cleanups.push(() => server.stop());
  const reply = await fetch(`${server.url}/v1/chat/completions`, {
    method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: name, messages: [{ role: "user", content: "hi" }] }),
  });
  assert.equal(reply.status, 200, `the server serves after re-executing itself: ${await reply.text()}`);
  const backend = await until(() => backendEnviron(name), { what: "the own backend's process" });
  return { server, own: environOf(server.proc.pid), backend };
}

test("without MALLOC_ARENA_MAX the dashboard runs with 2 arenas under the same pid, and its backend does not inherit them", { skip: process.env.MALLOC_ARENA_MAX !== undefined && "MALLOC_ARENA_MAX is set for the tests" }, async () => {
  const { own, backend } = await startWithBackend("fake-a", {});
  assert.equal(valueIn(own, "MALLOC_ARENA_MAX"), "2", "the pid we started runs with two arenas");
  assert.equal(valueIn(backend, "MALLOC_ARENA_MAX"), undefined, "the backend gets glibc's default, as the user left it");
  assert.ok(!backend.some((e) => e.startsWith("LLAMA_DASHBOARD_SET_MALLOC_ARENA_MAX=")), "nor our marker");
});

test("a MALLOC_ARENA_MAX the user set is kept, for the dashboard and for its backend", async () => {
  const { own, backend } = await startWithBackend("fake-b", { MALLOC_ARENA_MAX: "4" });
  assert.equal(valueIn(own, "MALLOC_ARENA_MAX"), "4");
  assert.equal(valueIn(own, "LLAMA_DASHBOARD_SET_MALLOC_ARENA_MAX"), undefined, "no re-exec happened");
  assert.equal(valueIn(backend, "MALLOC_ARENA_MAX"), "4");
});
