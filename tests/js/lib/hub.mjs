// A local server laid out like the Hugging Face hub (this machine has no internet), for `pull` tests:
//   GET  /api/models?search=Q&filter=gguf&limit=N     search (404 with `search: false`)
//   GET  /api/models/{repo}/revision/main             {sha, siblings:[{rfilename}]} (sizes only with `sizes: "siblings"`)
//   GET  /api/models/{repo}/tree/{sha}?recursive=...  [{type:"file", path, size, lfs:{size}}] (404 with `sizes: "siblings"`)
//   HEAD/GET /{repo}/resolve/{sha}/{file}             X-Linked-Etag / X-Linked-Size, Range `bytes=a-b` and `bytes=a-`
// A repository may be gated (401 without `Authorization: Bearer <token>`); a file may claim another size in
// the listings than it has (`claimedSize`); the next download of a file may be cut after N bytes
// (`cutNext`) or sent slowly (`slow`). Every request is recorded in `seen`.
import http from "node:http";
import { createReadStream, statSync } from "node:fs";

export const SHA = "0123456789abcdef0123456789abcdef01234567";

/**
 * @param {object} opts
 * @param {object} opts.repos  "org/name" -> {files: {name: {body?: Buffer, path?: string, etag, claimedSize?}},
 *                             gated?, sizes?: "tree"|"siblings", downloads?, likes?}
 * @param {string} [opts.token] the HF_TOKEN a gated repository accepts
 * @param {boolean} [opts.search] whether search is offered (default true; `hub.search` may change it)
 */
export async function startHub({ repos, token = "hf_test_token", search = true }) {
  const hub = {
    repos, token, search, seen: [], cuts: new Map(), slows: new Map(),
    /** The next GET of `file` (in any repo) sends `bytes` bytes, then drops the connection. */
    cutNext(file, bytes) { hub.cuts.set(file, bytes); },
    /** GETs of `file` are sent at about `bytesPerSec` until `fast(file)`. */
    slow(file, bytesPerSec) { hub.slows.set(file, bytesPerSec); },
    fast(file) { hub.slows.delete(file); },
    /** Requests for `file` seen so far. */
    requestsFor(file) { return hub.seen.filter((s) => s.path.endsWith(`/${file}`)); },
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
  const server = http.createServer((req, res) => serve(hub, req, res));
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  hub.url = `http://127.0.0.1:${server.address().port}`;
  return hub;
}

const json = (res, status, body) => { res.writeHead(status, { "content-type": "application/json" }); res.end(JSON.stringify(body)); };
const sizeOf = (f) => (f.body ? f.body.length : statSync(f.path).size);

function serve(hub, req, res) {
  const url = new URL(req.url, "http://hub");
  hub.seen.push({ method: req.method, path: url.pathname, query: url.search, range: req.headers.range, auth: req.headers.authorization });
  if (url.pathname === "/api/models") {
    if (!hub.search) return json(res, 404, { error: "Not found" });
    const q = (url.searchParams.get("search") || "").toLowerCase();
    const hits = Object.entries(hub.repos).filter(([id]) => id.toLowerCase().includes(q))
      .map(([id, r]) => ({ id, downloads: r.downloads ?? 0, likes: r.likes ?? 0, lastModified: "2026-11-01T00:00:00.000Z" }));
    return json(res, 200, hits.slice(0, Number(url.searchParams.get("limit") || 20)));
  }
  const api = url.pathname.match(/^\/api\/models\/([^/]+\/[^/]+)\/(revision\/main|tree\/([0-9a-f]+))$/);
  const file = url.pathname.match(/^\/([^/]+\/[^/]+)\/resolve\/([0-9a-f]+)\/(.+)$/);
  const repoId = api?.[1] || file?.[1];
  const repo = hub.repos[repoId];
  if (!repo) return json(res, 404, { error: "Repository not found" });
  if (repo.gated && req.headers.authorization !== `Bearer ${hub.token}`) {
    return json(res, 401, { error: `Access to model ${repoId} is restricted.` });
  }
  const names = Object.keys(repo.files);
  const claimed = (name) => repo.files[name].claimedSize ?? sizeOf(repo.files[name]);
  if (api && api[2] === "revision/main") {
    const siblings = [{ rfilename: "README.md" }, ...names.map((n) => ({ rfilename: n, ...(repo.sizes === "siblings" ? { size: claimed(n) } : {}) }))];
    return json(res, 200, { id: repoId, sha: SHA, siblings });
  }
  if (api) {
    if (repo.sizes === "siblings" || api[3] !== SHA) return json(res, 404, { error: "Not found" });
    const tree = [{ type: "file", path: "README.md", size: 12 }, ...names.map((n) => ({ type: "file", path: n, size: claimed(n), lfs: { oid: "x", size: claimed(n), pointerSize: 130 } }))];
    return json(res, 200, tree);
  }
  const entry = file && file[2] === SHA && repo.files[file[3]];
  if (!entry) { res.writeHead(404); return res.end("Entry not found"); }
  const size = sizeOf(entry);
  const headers = { "x-linked-etag": `"${entry.etag}"`, "x-linked-size": String(size), "accept-ranges": "bytes" };
  if (req.method === "HEAD") { res.writeHead(200, { ...headers, "content-length": size }); return res.end(); }
  const range = (req.headers.range || "").match(/^bytes=(\d+)-(\d*)$/);
  const from = Number(range?.[1] ?? 0);
  const to = Math.min(range?.[2] ? Number(range[2]) : size - 1, size - 1);
  const length = to - from + 1;
  res.writeHead(range ? 206 : 200, { ...headers, "content-length": length, ...(range ? { "content-range": `bytes ${from}-${to}/${size}` } : {}) });
  const stream = entry.body ? null : createReadStream(entry.path, { start: from, end: to });
  const cut = hub.cuts.get(file[3]);
  if (cut !== undefined) hub.cuts.delete(file[3]);
  const name = file[3];
  send(res, entry.body ? entry.body.subarray(from, to + 1) : stream, { cut, rate: () => hub.slows.get(name) });
}

/** Writes `source` (a Buffer or a stream) to `res`, cut after `cut` bytes, or paced at `rate()` bytes/s. */
async function send(res, source, { cut, rate }) {
  let sent = 0;
  const chunks = Buffer.isBuffer(source) ? chunked(source) : source;
  res.on("close", () => { if (!Buffer.isBuffer(source)) source.destroy(); });
  try {
    for await (const chunk of chunks) {
      if (res.destroyed) return;
      let piece = chunk;
      if (cut !== undefined && sent + piece.length >= cut) {
        piece = piece.subarray(0, cut - sent);
        res.write(piece, () => res.destroy());
        return;
      }
      sent += piece.length;
      const ok = res.write(piece);
      const bps = rate();
      if (bps) await new Promise((r) => setTimeout(r, (piece.length / bps) * 1000));
      else if (!ok) await new Promise((r) => res.once("drain", r));
    }
    res.end();
  } catch {
    res.destroy();
  }
}

function* chunked(buf, size = 64 * 1024) {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}
