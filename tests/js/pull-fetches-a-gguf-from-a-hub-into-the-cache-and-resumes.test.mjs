// `llama-dashboard pull user/repo[:quant]` against a local server laid out like the Hugging Face hub
// (this machine has no internet): the file lands in the cache layout, an interrupted download resumes
// with a Range request, HF_TOKEN opens a gated repo, and the dashboard then lists the model.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFileSync, readlinkSync, existsSync, statSync, readdirSync } from "node:fs";
import path from "node:path";
import { runToExit, startServer } from "./lib/server.mjs";
import { connect, ok, tempDir } from "./lib/socket.mjs";
import { startHub, SHA } from "./lib/hub.mjs";

const Q4 = randomBytes(3 * 1024 * 1024 + 123);
const Q8 = randomBytes(64 * 1024);
const FILES = { "tiny-Q4_K_M.gguf": { body: Q4, etag: "a1b2c3d4e5" }, "tiny-Q8_0.gguf": { body: Q8, etag: "f6e5d4c3b2" } };
const TOKEN = "hf_test_token";
let hub, cache;

before(async () => {
  cache = tempDir("lldash-hfcache-");
  hub = await startHub({ token: TOKEN, repos: { "org/tiny-GGUF": { files: FILES }, "org/gated-GGUF": { files: FILES, gated: true } } });
  hub.cutNext("tiny-Q4_K_M.gguf", 1024 * 1024); // the connection drops a third of the way
});

after(async () => {
  await hub?.close();
  cache?.cleanup();
});

const env = (extra = {}) => ({ HF_ENDPOINT: hub.url, HF_HUB_CACHE: cache.dir, HF_TOKEN: "", ...extra });
const pull = (args, extra) => runToExit(["pull", ...args], { env: env(extra), timeoutMs: 30000 });
const repoDir = () => path.join(cache.dir, "models--org--tiny-GGUF");

test("an interrupted download fails clearly, and the next pull resumes it with a Range request", async () => {
  const first = await pull(["org/tiny-GGUF"]);
  assert.equal(first.code, 1, first.output);
  assert.match(first.output, /llama-dashboard pull: /);
  const partial = path.join(repoDir(), "blobs", "a1b2c3d4e5.incomplete");
  assert.ok(existsSync(partial), "the partial blob is kept");
  const had = statSync(partial).size;
  assert.ok(had > 0 && had < Q4.length, `partial size ${had}`);

  hub.seen.length = 0;
  const second = await pull(["org/tiny-GGUF"]);
  assert.equal(second.code, 0, second.output);
  assert.match(second.output, /resuming at/);
  assert.match(second.output, /100\.0%/, "progress reaches 100 %");
  const get = hub.seen.find((s) => s.method === "GET" && s.path.endsWith("tiny-Q4_K_M.gguf"));
  assert.equal(get.range, `bytes=${had}-`);

  const link = path.join(repoDir(), "snapshots", SHA, "tiny-Q4_K_M.gguf");
  assert.equal(second.output.trim().split("\n").at(-1), link, "prints where the model is");
  assert.equal(readlinkSync(link), "../../blobs/a1b2c3d4e5");
  assert.ok(readFileSync(link).equals(Q4), "the resumed file is byte for byte the original");
  assert.equal(readFileSync(path.join(repoDir(), "refs", "main"), "utf8"), SHA);
  assert.ok(!readdirSync(path.join(repoDir(), "blobs")).some((f) => f.endsWith(".incomplete")));
});

test("pulling again downloads nothing; a quant picks its file", async () => {
  hub.seen.length = 0;
  const again = await pull(["org/tiny-GGUF"]);
  assert.equal(again.code, 0, again.output);
  assert.match(again.output, /already downloaded/);
  assert.ok(!hub.seen.some((s) => s.method === "GET" && s.path.includes("/resolve/")));
  const q8 = await pull(["org/tiny-GGUF:Q8_0"]);
  assert.equal(q8.code, 0, q8.output);
  assert.ok(readFileSync(path.join(repoDir(), "snapshots", SHA, "tiny-Q8_0.gguf")).equals(Q8));
  const missing = await pull(["org/tiny-GGUF:Q2_K"]);
  assert.equal(missing.code, 1);
  assert.match(missing.output, /no GGUF file matching 'Q2_K'.*tiny-Q4_K_M\.gguf/);
});

test("a gated repository needs HF_TOKEN, which is sent as a Bearer token", async () => {
  const refused = await pull(["org/gated-GGUF", "--hf-file", "tiny-Q8_0.gguf"]);
  assert.equal(refused.code, 1);
  assert.match(refused.output, /set HF_TOKEN/);
  hub.seen.length = 0;
  const allowed = await pull(["org/gated-GGUF", "--hf-file", "tiny-Q8_0.gguf"], { HF_TOKEN: TOKEN });
  assert.equal(allowed.code, 0, allowed.output);
  assert.ok(hub.seen.every((s) => s.auth === `Bearer ${TOKEN}`), JSON.stringify(hub.seen));
});

test("a repository that is not user/repo is refused before any request", async () => {
  hub.seen.length = 0;
  for (const bad of ["../../etc", "org/tiny/x", "just-a-name"]) {
    const res = await pull([bad]);
    assert.equal(res.code, 2, `${bad}: ${res.output}`);
    assert.match(res.output, /is not a repository/);
  }
  assert.equal(hub.seen.length, 0);
});

test("the dashboard lists pulled models from the cache as auto backends", async () => {
  const server = await startServer({ config: { startup: { autoStart: false } }, env: { HF_HUB_CACHE: cache.dir } });
  const client = await connect(server.url);
  try {
    const { models } = await ok(client.socket, "models:list", {});
    const backends = models.filter((m) => m.source === "backend").map((m) => [m.id, m.state]).sort();
    assert.deepEqual(backends, [["tiny-Q4_K_M", "auto"], ["tiny-Q8_0", "auto"], ["tiny-Q8_0-2", "auto"]], JSON.stringify(backends));
  } finally {
    client.close();
    await server.stop();
  }
});
