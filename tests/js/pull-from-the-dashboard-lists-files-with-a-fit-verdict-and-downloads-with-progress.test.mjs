// Pulling from the dashboard (`models:pull*`) against a local hub-shaped server that serves the real
// SmolLM2 GGUF: search, a repository's files with sizes, quant, the GGUF header read with Range requests
// (never the whole file) and a fit verdict; a pull in the background whose progress reaches every client,
// after which the model is listed without a restart; a cut download that resumes; a cancel that keeps the
// partial blob; gated repositories and HF_TOKEN; bad payloads. Then the pulled model answers a chat.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomBytes, createHash } from "node:crypto";
import { existsSync, readFileSync, readlinkSync, statSync, readdirSync, createReadStream } from "node:fs";
import path from "node:path";
import { startServer } from "./lib/server.mjs";
import { connect, ok, request, until, tempDir, freePort } from "./lib/socket.mjs";
import { startHub, SHA } from "./lib/hub.mjs";
import { needReal, realModel, llamaServer } from "./lib/real.mjs";
import { chatOk } from "./lib/backends.mjs";

const skip = needReal();
const SMOL = "SmolLM2-135M-Instruct-Q4_1.gguf";
const TINY = randomBytes(3 * 1024 * 1024 + 321);
const TINY_MMPROJ = randomBytes(96 * 1024);
const SLOW = randomBytes(16 * 1024 * 1024);
const GATED = randomBytes(200 * 1024);
const PART1 = randomBytes(300 * 1024);
const PART2 = randomBytes(200 * 1024);
const TOKEN = "hf_dashboard_test_token";
const TIB = 1024 ** 4;
let hub, cache, empty, server, client, other;

const repos = () => ({
  "org/smol-GGUF": {
    downloads: 1234, likes: 56,
    files: { [SMOL]: { path: realModel, etag: "5a015a015a01" }, "mmproj-smol-f16.gguf": { body: randomBytes(4096), etag: "5a01aaaa" } },
  },
  "org/huge-GGUF": { files: { "huge-Q4_1.gguf": { path: realModel, etag: "40960000", claimedSize: 4 * TIB } } },
  "org/tiny-GGUF": {
    sizes: "siblings",
    files: { "tiny-Q4_K_M.gguf": { body: TINY, etag: "71717171" }, "mmproj-tiny-f16.gguf": { body: TINY_MMPROJ, etag: "71710000" } },
  },
  "org/slow-GGUF": { files: { "slow-Q8_0.gguf": { body: SLOW, etag: "5105105105" } } },
  "org/split-GGUF": {
    files: { "m-Q8_0-00001-of-00002.gguf": { body: PART1, etag: "5p11700001" }, "m-Q8_0-00002-of-00002.gguf": { body: PART2, etag: "5p11700002" } },
  },
  "org/gated-GGUF": { gated: true, files: { "gated-Q8_0.gguf": { body: GATED, etag: "9a7ed9a7ed" } } },
});

const env = (extra = {}) => ({ HF_ENDPOINT: hub.url, HF_HUB_CACHE: cache.dir, HF_TOKEN: "", LLAMA_SERVER_BIN: llamaServer, ...extra });
const config = async (backends = {}) => ({
  router: { enabled: false, port: await freePort() },
  startup: { autoStart: false },
  models: { directory: empty.dir },
  metrics: { intervalMs: 500 },
  backends: { basePort: await freePort(), startTimeoutSec: 60, idleTimeoutSec: 0, defaultSpawn: { command: ["llama-server", "-c", "1024"] }, ...backends },
});
const repoDir = (repo) => path.join(cache.dir, `models--${repo.replace("/", "--")}`);
const broadcasts = (c, event, pred = () => true) => c.received.filter((e) => e.event === event && pred(e.payload?.data)).map((e) => e.payload.data);
const broadcast = (c, event, pred, timeoutMs = 30000) =>
  until(() => broadcasts(c, event, pred)[0], { timeoutMs, intervalMs: 50, what: `a '${event}' broadcast` });
const fails = async (event, payload, code, field) => {
  const reply = await request(client.socket, event, payload, { timeoutMs: 15000 });
  assert.equal(reply.success, false, `${event} ${JSON.stringify(payload)}: ${JSON.stringify(reply)}`);
  assert.equal(reply.error.code, code, JSON.stringify(reply));
  if (field) assert.equal(reply.error.field, field, JSON.stringify(reply));
  return reply.error;
};
const sha256 = (file) => new Promise((resolve, reject) => {
  const h = createHash("sha256");
  createReadStream(file).on("data", (d) => h.update(d)).on("end", () => resolve(h.digest("hex"))).on("error", reject);
});

before(async () => {
  if (skip) return;
  cache = tempDir("lldash-pull-cache-");
  empty = tempDir("lldash-pull-models-");
  hub = await startHub({ token: TOKEN, repos: repos() });
  server = await startServer({ config: await config(), env: env() });
  client = await connect(server.url);
  other = await connect(server.url);
});

after(async () => {
  client?.close();
  other?.close();
  await server?.stop();
  await hub?.close();
  cache?.cleanup();
  empty?.cleanup();
});

test("search lists the hub's GGUF repositories; a hub without search is a HUB_ERROR", { skip }, async () => {
  const found = await ok(client.socket, "models:pull:search", { query: "smol" });
  assert.equal(found.query, "smol");
  assert.deepEqual(found.models, [{ id: "org/smol-GGUF", downloads: 1234, likes: 56, lastModified: "2026-11-01T00:00:00.000Z" }]);
  const asked = hub.seen.find((s) => s.path === "/api/models");
  const params = new URLSearchParams(asked.query);
  assert.deepEqual([params.get("search"), params.get("filter"), params.get("limit")], ["smol", "gguf", "20"]);
  await fails("models:pull:search", {}, "BAD_REQUEST", "query");
  hub.search = false;
  try {
    assert.match((await fails("models:pull:search", { query: "smol" }, "HUB_ERROR")).message, /no model search/);
  } finally {
    hub.search = true;
  }
});

test("files come with sizes, quant, a header read with Range requests and a fit verdict", { skip }, async () => {
  await broadcast(client, "metrics:update", () => true, 10000); // a memory sample to fit against
  hub.seen.length = 0;
  const smol = await ok(client.socket, "models:pull:files", { repo: "org/smol-GGUF" });
  assert.equal(smol.repo, "org/smol-GGUF");
  assert.equal(smol.commit, SHA);
  assert.equal(smol.default, SMOL);
  assert.equal(smol.files.length, 1, JSON.stringify(smol.files));
  const [f] = smol.files;
  assert.equal(f.file, SMOL);
  assert.equal(f.sizeBytes, statSync(realModel).size, "size from the tree API");
  assert.equal(f.quant, "Q4_1");
  assert.equal(f.kind, "model");
  assert.equal(f.parts, 1);
  assert.equal(f.headerError, null);
  assert.equal(f.header.architecture, "llama");
  assert.ok(f.header.contextLength > 0 && f.header.blockCount > 0 && f.header.parameters > 100e6, JSON.stringify(f.header));
  assert.equal(f.fit.verdict, "fits", JSON.stringify(f.fit));
  assert.ok(f.fit.needBytes > f.sizeBytes && f.fit.freeBytes > f.fit.needBytes, JSON.stringify(f.fit));
  assert.deepEqual(smol.sidecars.map((s) => [s.file, s.kind, s.sizeBytes, s.fit]), [["mmproj-smol-f16.gguf", "mmproj", 4096, null]]);

  const reads = hub.requestsFor(SMOL);
  assert.ok(reads.length >= 1, "the header was read from the hub");
  let asked = 0;
  for (const r of reads) {
    assert.equal(r.method, "GET");
    const m = (r.range || "").match(/^bytes=(\d+)-(\d+)$/);
    assert.ok(m, `every read has a bounded Range, got ${JSON.stringify(r)}`);
    asked += Number(m[2]) - Number(m[1]) + 1;
  }
  assert.ok(asked <= 32 * 1024 * 1024 && asked < statSync(realModel).size / 2, `asked for ${asked} bytes`);

  const huge = await ok(client.socket, "models:pull:files", { repo: "org/huge-GGUF" });
  assert.equal(huge.files[0].sizeBytes, 4 * TIB);
  assert.equal(huge.files[0].header.architecture, "llama");
  assert.equal(huge.files[0].fit.verdict, "no", JSON.stringify(huge.files[0].fit));
  assert.ok(huge.files[0].fit.needBytes > 4 * TIB);

  const tiny = await ok(client.socket, "models:pull:files", { repo: "org/tiny-GGUF" });
  assert.equal(tiny.files[0].sizeBytes, TINY.length, "sizes from the listing's siblings");
  assert.equal(tiny.files[0].header, null);
  assert.match(tiny.files[0].headerError, /GGUF/);
  assert.equal(tiny.files[0].fit, null);
});

test("a pull runs in the background, its progress reaches every client, and the model is listed when done", { skip }, async () => {
  hub.slow(SMOL, 40 * 1024 * 1024);
  const size = statSync(realModel).size;
  const started = await ok(client.socket, "models:pull", { repo: "org/smol-GGUF" });
  assert.match(started.pullId, /\S/);
  assert.deepEqual({ ...started, pullId: "" }, { pullId: "", repo: "org/smol-GGUF", file: SMOL, sidecars: [], totalBytes: size });

  const { pulls } = await ok(client.socket, "models:pull:list", {});
  assert.deepEqual(pulls.map((p) => [p.pullId, p.repo, p.file, p.totalBytes]), [[started.pullId, "org/smol-GGUF", SMOL, size]]);
  assert.equal(typeof pulls[0].startedAt, "number");
  const again = await fails("models:pull", { repo: "org/smol-GGUF" }, "CONFLICT");
  assert.match(again.message, /being pulled/);

  const done = await broadcast(other, "models:pull:done", (d) => d.pullId === started.pullId, 60000);
  hub.fast(SMOL);
  const link = path.join(repoDir("org/smol-GGUF"), "snapshots", SHA, SMOL);
  assert.deepEqual(done, { pullId: started.pullId, repo: "org/smol-GGUF", file: SMOL, path: link, modelId: "SmolLM2-135M-Instruct-Q4_1" });
  const progress = broadcasts(other, "models:pull:progress", (d) => d.pullId === started.pullId);
  assert.ok(progress.length >= 3, `${progress.length} progress broadcasts`);
  for (let i = 1; i < progress.length; i++) assert.ok(progress[i].bytes >= progress[i - 1].bytes, "bytes never go back");
  assert.equal(progress.at(-1).bytes, size, "the last progress has every byte");
  assert.ok(progress.every((p) => p.totalBytes === size && p.resumedFrom === 0 && typeof p.bytesPerSec === "number"), JSON.stringify(progress[0]));
  assert.ok(progress.some((p) => p.bytes < size && p.etaSec > 0), "an ETA while it runs");

  assert.equal(readlinkSync(link), "../../blobs/5a015a015a01");
  assert.equal(await sha256(link), await sha256(realModel), "the pulled file is the hub's, byte for byte");
  const updated = broadcasts(other, "models:updated", (u) => u.models.some((m) => m.id === done.modelId));
  assert.ok(updated.length >= 1, "models:updated announced it");
  const { models } = await ok(client.socket, "models:list", {});
  const m = models.find((x) => x.id === done.modelId);
  assert.equal(m?.source, "backend", JSON.stringify(models.map((x) => x.id)));
  assert.equal(m.path, link);
  assert.deepEqual((await ok(client.socket, "models:pull:list", {})).pulls, []);
});

test("a download cut by the hub is an error, and pulling again resumes it with a Range request", { skip }, async () => {
  hub.cutNext("tiny-Q4_K_M.gguf", 1024 * 1024);
  const first = await ok(client.socket, "models:pull", { repo: "org/tiny-GGUF", sidecars: ["mmproj-tiny-f16.gguf"] });
  assert.deepEqual(first.sidecars, ["mmproj-tiny-f16.gguf"]);
  assert.equal(first.totalBytes, TINY.length + TINY_MMPROJ.length);
  const error = await broadcast(other, "models:pull:error", (d) => d.pullId === first.pullId);
  assert.equal(error.code, "HUB_ERROR", JSON.stringify(error));
  assert.equal(error.file, "tiny-Q4_K_M.gguf");
  const partial = path.join(repoDir("org/tiny-GGUF"), "blobs", "71717171.incomplete");
  assert.ok(existsSync(partial), "the partial blob is kept");
  const had = statSync(partial).size;
  assert.ok(had > 0 && had < TINY.length, `partial size ${had}`);
  assert.equal(error.bytes, had);

  hub.seen.length = 0;
  const second = await ok(client.socket, "models:pull", { repo: "org/tiny-GGUF", sidecars: ["mmproj-tiny-f16.gguf"] });
  const done = await broadcast(other, "models:pull:done", (d) => d.pullId === second.pullId);
  const get = hub.requestsFor("tiny-Q4_K_M.gguf").find((s) => s.method === "GET");
  assert.equal(get.range, `bytes=${had}-`);
  const resumed = broadcasts(other, "models:pull:progress", (d) => d.pullId === second.pullId);
  assert.equal(resumed.at(-1).resumedFrom, had);
  assert.ok(readFileSync(done.path).equals(TINY), "the resumed file is byte for byte the original");
  assert.ok(readFileSync(path.join(path.dirname(done.path), "mmproj-tiny-f16.gguf")).equals(TINY_MMPROJ));
  assert.ok(!readdirSync(path.join(repoDir("org/tiny-GGUF"), "blobs")).some((f) => f.endsWith(".incomplete")));
  const m = (await ok(client.socket, "models:list", {})).models.find((x) => x.id === done.modelId);
  assert.equal(m?.mmproj, path.join(path.dirname(done.path), "mmproj-tiny-f16.gguf"), "the sidecar is its projector");
});

test("a split model is listed once, by its first part, and pulled with all its parts", { skip }, async () => {
  const first = "m-Q8_0-00001-of-00002.gguf";
  const listed = await ok(client.socket, "models:pull:files", { repo: "org/split-GGUF" });
  assert.deepEqual(listed.files.map((f) => [f.file, f.parts, f.sizeBytes, f.quant]), [[first, 2, PART1.length + PART2.length, "Q8_0"]]);
  assert.equal(listed.default, first);
  const started = await ok(client.socket, "models:pull", { repo: "org/split-GGUF", quant: "q8_0" });
  assert.deepEqual([started.file, started.totalBytes], [first, PART1.length + PART2.length]);
  const done = await broadcast(other, "models:pull:done", (d) => d.pullId === started.pullId);
  assert.ok(readFileSync(done.path).equals(PART1));
  assert.ok(readFileSync(path.join(path.dirname(done.path), "m-Q8_0-00002-of-00002.gguf")).equals(PART2));
  assert.equal(done.modelId, "m-Q8_0-00001-of-00002");
});

test("a cancelled pull reports CANCELLED and keeps its partial blob", { skip }, async () => {
  hub.slow("slow-Q8_0.gguf", 512 * 1024);
  const started = await ok(client.socket, "models:pull", { repo: "org/slow-GGUF" });
  await broadcast(other, "models:pull:progress", (d) => d.pullId === started.pullId && d.bytes > 0);
  const cancelled = await ok(client.socket, "models:pull:cancel", { pullId: started.pullId });
  assert.equal(cancelled.pullId, started.pullId);
  assert.equal(cancelled.cancelled, true);
  const error = broadcasts(client, "models:pull:error", (d) => d.pullId === started.pullId)[0];
  assert.ok(error, "the error broadcast arrived before the reply");
  assert.equal(error.code, "CANCELLED");
  assert.equal(error.bytes, cancelled.bytes);
  const partial = path.join(repoDir("org/slow-GGUF"), "blobs", "5105105105.incomplete");
  assert.equal(statSync(partial).size, cancelled.bytes, "the partial blob holds what was downloaded");
  assert.ok(cancelled.bytes > 0 && cancelled.bytes < SLOW.length);
  assert.deepEqual((await ok(client.socket, "models:pull:list", {})).pulls, []);
  await fails("models:pull:cancel", { pullId: started.pullId }, "BAD_REQUEST", "pullId");
  hub.fast("slow-Q8_0.gguf");
});

test("bad payloads are BAD_REQUEST and unknown repositories or files a HUB_ERROR", { skip }, async () => {
  hub.seen.length = 0;
  for (const repo of ["../../etc", "org/smol/x", "just-a-name", ""]) await fails("models:pull", { repo }, "BAD_REQUEST", "repo");
  await fails("models:pull", {}, "BAD_REQUEST", "repo");
  await fails("models:pull:files", { repo: 7 }, "BAD_REQUEST", "repo");
  await fails("models:pull", { repo: "org/smol-GGUF", file: "../x.gguf" }, "BAD_REQUEST", "file");
  await fails("models:pull", { repo: "org/smol-GGUF", quant: "Q4/../" }, "BAD_REQUEST", "quant");
  await fails("models:pull", { repo: "org/smol-GGUF", sidecars: "mmproj" }, "BAD_REQUEST", "sidecars");
  await fails("models:pull:cancel", {}, "BAD_REQUEST", "pullId");
  assert.equal(hub.seen.length, 0, "refused before asking the hub");
  assert.match((await fails("models:pull", { repo: "org/smol-GGUF", quant: "Q2_K" }, "BAD_REQUEST", "quant")).message, /no GGUF file matching 'Q2_K'/);
  await fails("models:pull", { repo: "org/smol-GGUF", sidecars: ["README.md"] }, "BAD_REQUEST", "sidecars");
  assert.match((await fails("models:pull", { repo: "org/nope-GGUF" }, "HUB_ERROR")).message, /no repository org\/nope-GGUF/);
  assert.match((await fails("models:pull:files", { repo: "org/nope-GGUF" }, "HUB_ERROR")).message, /no repository/);
  assert.match((await fails("models:pull", { repo: "org/smol-GGUF", file: "other.gguf" }, "HUB_ERROR")).message, /no file other\.gguf/);
});

test("a gated repository needs HF_TOKEN from the server's environment, sent as a Bearer token", { skip }, async () => {
  const refused = await fails("models:pull", { repo: "org/gated-GGUF" }, "HUB_ERROR");
  assert.match(refused.message, /set HF_TOKEN/);
  const tokenServer = await startServer({ config: await config({ hfDiscovery: false }), env: env({ HF_TOKEN: TOKEN }) });
  const c = await connect(tokenServer.url);
  try {
    hub.seen.length = 0;
    const started = await ok(c.socket, "models:pull", { repo: "org/gated-GGUF" });
    const done = await broadcast(c, "models:pull:done", (d) => d.pullId === started.pullId);
    assert.ok(hub.seen.length >= 3 && hub.seen.every((s) => s.auth === `Bearer ${TOKEN}`), JSON.stringify(hub.seen));
    assert.ok(readFileSync(done.path).equals(GATED));
    const m = (await ok(c.socket, "models:list", {})).models.find((x) => x.id === done.modelId);
    assert.equal(m?.state, "manual", "without hfDiscovery the pulled model is added as a manual backend");
    const saved = JSON.parse(readFileSync(path.join(tokenServer.work, "llama-router.init.json"), "utf8"));
    assert.ok(saved.backends.models.some((x) => x.name === done.modelId && x.path === done.path && x.state === "manual"));
    assert.ok(!tokenServer.output().includes(TOKEN), "the token is never logged");
  } finally {
    c.close();
    await tokenServer.stop();
  }
});

test("a pull running at shutdown is cancelled: the server exits at once and keeps the partial blob", { skip }, async () => {
  hub.slow("slow-Q8_0.gguf", 256 * 1024);
  const stopping = await startServer({ config: await config(), env: env() });
  const c = await connect(stopping.url);
  const partial = path.join(repoDir("org/slow-GGUF"), "blobs", "5105105105.incomplete");
  try {
    const started = await ok(c.socket, "models:pull", { repo: "org/slow-GGUF" });
    await broadcast(c, "models:pull:progress", (d) => d.pullId === started.pullId && d.bytes > 0);
  } finally {
    c.close();
    const t = Date.now();
    await stopping.stop({ keepData: true });
    assert.ok(Date.now() - t < 5000, `stopped in ${Date.now() - t} ms`);
    hub.fast("slow-Q8_0.gguf");
  }
  assert.equal(stopping.proc.exitCode, 0, stopping.output());
  assert.match(stopping.output(), /pull ended without the model.*CANCELLED/);
  assert.ok(statSync(partial).size > 0, "the partial blob is kept for the next pull");
});

test("the pulled real model loads as an own backend and answers through /v1", { skip }, async () => {
  const body = await chatOk(`${server.url}/v1`, "SmolLM2-135M-Instruct-Q4_1", { max_tokens: 8 });
  assert.ok(body.choices[0].message.content.length > 0, JSON.stringify(body));
});
