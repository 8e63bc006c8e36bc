// The llama-servers we start are not a side door: the real router and the model process it spawns, and
// an own backend, each get a random key through their environment (not argv) and answer 401 to anyone
// who does not send it, while everything keeps working through our own port, which adds the key.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { startServer } from "./lib/server.mjs";
import { fakeBin } from "./lib/fake-router.mjs";
import { connect, ok, freePort, until } from "./lib/socket.mjs";
import { needReal, llamaServer, modelsDir } from "./lib/real.mjs";

const skip = needReal();
const cleanups = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

/** Processes whose argv holds `--alias <name>`, with their argv and environment. */
function processesAliased(name) {
  const found = [];
  for (const entry of readdirSync("/proc").filter((e) => /^\d+$/.test(e))) {
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      const at = argv.indexOf("--alias");
      if (at >= 0 && argv[at + 1] === name) {
        const environ = readFileSync(`/proc/${entry}/environ`, "utf8").split("\0");
        found.push({ pid: Number(entry), argv, environ, port: Number(argv[argv.indexOf("--port") + 1]) });
      }
    } catch { /* gone meanwhile */ }
  }
  return found;
}

const keyOf = (environ) => environ.find((e) => e.startsWith("LLAMA_API_KEY="))?.slice("LLAMA_API_KEY=".length);

test("the real router and its model process answer 401 without our key, and our /v1 serves through them", { skip }, async () => {
  const models = modelsDir("smol");
  cleanups.push(() => models.cleanup());
  const routerPort = await freePort();
  const server = await startServer({
    config: {
      router: { port: routerPort },
      models: { directory: models.dir },
      performance: { contextSize: 1024 },
      startup: { autoStart: true, timeout: 20000 },
    },
    env: { LLAMA_SERVER_BIN: llamaServer },
  });
  cleanups.push(() => server.stop());
  const client = await connect(server.url);
  cleanups.push(() => client.close());
  await until(async () => (await ok(client.socket, "router:status", {})).running, { timeoutMs: 30000, what: "router running" });
  const router = `http://127.0.0.1:${routerPort}`;
  assert.equal((await fetch(`${router}/health`)).status, 200, "health stays public, as llama-server has it");
  for (const [method, path] of [["GET", "/models"], ["GET", "/v1/models"], ["POST", "/models/load"], ["POST", "/v1/chat/completions"]]) {
    const res = await fetch(`${router}${path}`, { method, body: method === "POST" ? JSON.stringify({ model: "smol" }) : undefined });
    assert.equal(res.status, 401, `${method} ${path} on the router's own port`);
  }

  const chat = await fetch(`${server.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "smol", max_tokens: 4, messages: [{ role: "user", content: "Hello" }] }),
  });
  assert.equal(chat.status, 200, await chat.clone().text());
  assert.ok((await chat.json()).usage.completion_tokens > 0, "the model generated through our port");

  const [child] = await until(() => processesAliased("smol").length && processesAliased("smol"), { what: "the model's process" });
  for (const path of ["/v1/models", "/slots", "/v1/chat/completions"]) {
    assert.equal((await fetch(`http://127.0.0.1:${child.port}${path}`)).status, 401, `the model process's ${path}`);
  }
  const key = keyOf(child.environ);
  assert.match(key ?? "", /^[0-9a-f]{64}$/, "the key came through the environment");
  assert.ok(!child.argv.some((a) => a.includes(key) || a.startsWith("--api-key")), "and is not in argv, which other users can read");
  const { data } = await (await fetch(`${server.url}/v1/models`)).json();
  assert.equal(data.find((m) => m.id === "smol")?.status?.value, "loaded", "our model list still sees the router's truth");
});

test("an own backend answers 401 without its key, which changes with every start", async () => {
  const server = await startServer({
    config: {
      router: { enabled: false, port: await freePort() },
      startup: { autoStart: false },
      backends: { basePort: await freePort(), models: [{ name: "fake-a", path: "/models/fake-a.gguf", spawn: { command: [fakeBin] } }] },
    },
    env: { FAKE_TOKENS: "2", FAKE_TOKEN_MS: "1" },
  });
  cleanups.push(() => server.stop());
  const client = await connect(server.url);
  cleanups.push(() => client.close());
  const ask = () => fetch(`${server.url}/v1/chat/completions`, {
    method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "fake-a", messages: [{ role: "user", content: "hi" }] }),
  });
  assert.equal((await ask()).status, 200);
  const backend = (await ok(client.socket, "models:list", {})).models.find((m) => m.id === "fake-a");
  const port = backend.port;
  assert.ok(port > 0, JSON.stringify(backend));
  assert.equal((await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, { method: "POST", body: "{}" })).status, 401);
  assert.equal((await fetch(`http://127.0.0.1:${port}/health`)).status, 200);
  const first = keyOf(processesAliased("fake-a")[0].environ);
  await ok(client.socket, "models:unload", { id: "fake-a" });
  await until(async () => processesAliased("fake-a").length === 0, { what: "the backend to stop" });
  assert.equal((await ask()).status, 200);
  const second = keyOf(processesAliased("fake-a")[0].environ);
  assert.ok(first && second && first !== second, "a new process, a new key");
});
