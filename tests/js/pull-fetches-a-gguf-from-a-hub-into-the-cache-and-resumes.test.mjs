// `llama-dashboard pull user/repo[:quant]` against a local server laid out like the Hugging Face hub
// (this machine has no internet): the file lands in the cache layout, an interrupted download resumes
// with a Range request, HF_TOKEN opens a gated repo, and the dashboard then lists the model.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { randomBytes } from "node:crypto";
import { readFileSync, readlinkSync, existsSync, statSync, readdirSync } from "node:fs";
import path from "node:path";
import { runToExit, startServer } from "./lib/server.mjs";
import { connect, ok, tempDir } from "./lib/socket.mjs";

const SHA = "0123456789abcdef0123456789abcdef01234567";
const Q4 = randomBytes(3 * 1024 * 1024 + 123);
const Q8 = randomBytes(64 * 1024);
const FILES = { "tiny-Q4_K_M.gguf": { body: Q4, etag: "a1b2c3d4e5" }, "tiny-Q8_0.gguf": { body: Q8, etag: "f6e5d4c3b2" } };
const TOKEN = "hf_test_token";
let hub, cache, seen = [], cutNext = true;

function serve(req, res) {
  const url = new URL(req.url, "http://hub");
  seen.push({ method: req.method, path: url.pathname, range: req.headers.range, auth: req.headers.authorization });
  const gated = url.pathname.includes("/gated-GGUF");
  if (gated && req.headers.authorization !== `Bearer ${TOKEN}`) {
    res.writeHead(401, { "content-type": "application/json" });
    return res.end(JSON.stringify({ error: "Access to model org/gated-GGUF is restricted." }));
  }
  const api = url.pathname.match(/^\/api\/models\/org\/(tiny|gated)-GGUF\/revision\/main$/);
  if (api) {
    res.writeHead(200, { "content-type": "application/json" });
    return res.end(JSON.stringify({ sha: SHA, siblings: [{ rfilename: "README.md" }, ...Object.keys(FILES).map((f) => ({ rfilename: f }))] }));
  }
  const file = url.pathname.match(/^\/org\/(?:tiny|gated)-GGUF\/resolve\/([0-9a-f]+)\/(.+)$/);
  const entry = file && file[1] === SHA && FILES[file[2]];
  if (!entry) { res.writeHead(404); return res.end("Entry not found"); }
  const headers = { "x-linked-etag": `"${entry.etag}"`, "x-linked-size": String(entry.body.length), "accept-ranges": "bytes" };
  if (req.method === "HEAD") { res.writeHead(200, { ...headers, "content-length": entry.body.length }); return res.end(); }
  const from = Number((req.headers.range || "").match(/^bytes=(\d+)-$/)?.[1] ?? 0);
  const body = entry.body.subarray(from);
  res.writeHead(from ? 206 : 200, { ...headers, "content-length": body.length, ...(from ? { "content-range": `bytes ${from}-${entry.body.length - 1}/${entry.body.length}` } : {}) });
  if (cutNext && entry === FILES["tiny-Q4_K_M.gguf"]) {
    cutNext = false;
    res.write(body.subarray(0, 1024 * 1024), () => res.destroy()); // the connection drops a third of the way
    return;
  }
  res.end(body);
}

before(async () => {
  cache = tempDir("lldash-hfcache-");
  hub = http.createServer(serve);
  await new Promise((r) => hub.listen(0, "127.0.0.1", r));
});

after(async () => {
  hub?.closeAllConnections();
  await new Promise((r) => hub?.close(r));
  cache?.cleanup();
});

const env = (extra = {}) => ({ HF_ENDPOINT: `http://127.0.0.1:${hub.address().port}`, HF_HUB_CACHE: cache.dir, HF_TOKEN: "", ...extra });
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

  seen = [];
  const second = await pull(["org/tiny-GGUF"]);
  assert.equal(second.code, 0, second.output);
  assert.match(second.output, /resuming at/);
  assert.match(second.output, /100\.0%/, "progress reaches 100 %");
  const get = seen.find((s) => s.method === "GET" && s.path.endsWith("tiny-Q4_K_M.gguf"));
  assert.equal(get.range, `bytes=${had}-`);

  const link = path.join(repoDir(), "snapshots", SHA, "tiny-Q4_K_M.gguf");
  assert.equal(second.output.trim().split("\n").at(-1), link, "prints where the model is");
  assert.equal(readlinkSync(link), "../../blobs/a1b2c3d4e5");
  assert.ok(readFileSync(link).equals(Q4), "the resumed file is byte for byte the original");
  assert.equal(readFileSync(path.join(repoDir(), "refs", "main"), "utf8"), SHA);
  assert.ok(!readdirSync(path.join(repoDir(), "blobs")).some((f) => f.endsWith(".incomplete")));
});

test("pulling again downloads nothing; a quant picks its file", async () => {
  seen = [];
  const again = await pull(["org/tiny-GGUF"]);
  assert.equal(again.code, 0, again.output);
  assert.match(again.output, /already downloaded/);
  assert.ok(!seen.some((s) => s.method === "GET" && s.path.includes("/resolve/")));
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
  seen = [];
  const allowed = await pull(["org/gated-GGUF", "--hf-file", "tiny-Q8_0.gguf"], { HF_TOKEN: TOKEN });
  assert.equal(allowed.code, 0, allowed.output);
  assert.ok(seen.every((s) => s.auth === `Bearer ${TOKEN}`), JSON.stringify(seen));
});

test("a repository that is not user/repo is refused before any request", async () => {
  seen = [];
  for (const bad of ["../../etc", "org/tiny/x", "just-a-name"]) {
    const res = await pull([bad]);
    assert.equal(res.code, 2, `${bad}: ${res.output}`);
    assert.match(res.output, /is not a repository/);
  }
  assert.equal(seen.length, 0);
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
