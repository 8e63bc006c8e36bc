// The Models page downloads a model from a server laid out like the Hugging Face hub (this machine has no
// internet), in a real browser against the real server: search (explained when the hub has none), the
// repository's GGUF files with their header facts and whether they fit, the default file preselected and
// the mmproj offered beside it; a gated repository says to set HF_TOKEN (the page never asks for it);
// Download shows a live progress bar with percentage, speed and time left; Cancel stops it, Resume goes on
// from where it stopped (a Range request), and a page opened meanwhile shows it running; done names the
// model, which is listed by itself; and its file can then be deleted from its details after a dialog
// naming the path and size.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { readFileSync, existsSync } from "node:fs";
import path from "node:path";
import { startServer } from "./lib/server.mjs";
import { connect, ok, tempDir } from "./lib/socket.mjs";
import { needReal, realModel } from "./lib/real.mjs";
import { launchBrowser, withBrowserPage, waitForText, byTestId, screenshot } from "./lib/browser.mjs";
import { formatBytes } from "../../web/js/core/format.js";

const skip = needReal({ model: true });
const SHA = "89abcdef0123456789abcdef0123456789abcdef";
const REAL = "smol-Q4_K_M.gguf";
let hub, cache, server, client, browser, files;
let searchOn = false;
let paused = false; // holds every download where it is (no bytes: no progress broadcasts)
const gets = []; // {file, range} of each download GET (not the header reads)

/** Sends `body` slowly (256 KiB every 20 ms, about 12 MiB/s) so the page shows the bar moving; stops if the client leaves. */
function trickle(res, body) {
  let at = 0;
  const next = () => {
    if (res.destroyed) return;
    if (paused) return setTimeout(next, 50);
    if (at >= body.length) return res.end();
    const chunk = body.subarray(at, at + 256 * 1024);
    at += chunk.length;
    res.write(chunk, () => setTimeout(next, 20));
  };
  next();
}

function serve(req, res) {
  const url = new URL(req.url, "http://hub");
  const json = (status, value) => { res.writeHead(status, { "content-type": "application/json" }); res.end(JSON.stringify(value)); };
  if (url.pathname.includes("/gated-GGUF")) return json(401, { error: "Access to model org/gated-GGUF is restricted." });
  if (url.pathname === "/api/models") {
    if (!searchOn) return json(404, { error: "Not found" });
    return json(200, [{ id: "org/smol-GGUF", downloads: 1234, likes: 5, lastModified: "2025-01-01T00:00:00.000Z" }]);
  }
  if (url.pathname === "/api/models/org/smol-GGUF/revision/main") {
    return json(200, { sha: SHA, siblings: [{ rfilename: "README.md" }, ...Object.keys(files).map((f) => ({ rfilename: f, size: files[f].body.length }))] });
  }
  const m = url.pathname.match(/^\/org\/smol-GGUF\/resolve\/([0-9a-f]+)\/(.+)$/);
  const entry = m && m[1] === SHA && files[m[2]];
  if (!entry) return json(404, { error: "Entry not found" });
  const headers = { "x-linked-etag": `"${entry.etag}"`, "x-linked-size": String(entry.body.length), "accept-ranges": "bytes" };
  if (req.method === "HEAD") { res.writeHead(200, { ...headers, "content-length": entry.body.length }); return res.end(); }
  const range = (req.headers.range || "").match(/^bytes=(\d+)-(\d*)$/);
  const from = range ? Number(range[1]) : 0;
  const to = range && range[2] ? Math.min(Number(range[2]), entry.body.length - 1) : entry.body.length - 1;
  const body = entry.body.subarray(from, to + 1);
  res.writeHead(range ? 206 : 200, { ...headers, "content-length": body.length,
    ...(range ? { "content-range": `bytes ${from}-${to}/${entry.body.length}` } : {}) });
  if (range && range[2]) return res.end(body); // a header read: at once
  gets.push({ file: m[2], range: req.headers.range || null });
  trickle(res, body);
}

before(async () => {
  if (skip) return;
  const real = readFileSync(realModel);
  files = {
    [REAL]: { body: real, etag: "5m0l4km" },
    "smol-Q8_0.gguf": { body: Buffer.alloc(64 * 1024, 7), etag: "5m0l80" },
    "mmproj-smol-f16.gguf": { body: Buffer.alloc(32 * 1024, 3), etag: "mm9r0j" },
  };
  cache = tempDir("lldash-ui-hfcache-");
  hub = http.createServer(serve);
  await new Promise((r) => hub.listen(0, "127.0.0.1", r));
  server = await startServer({
    config: { router: { enabled: false }, startup: { autoStart: false }, backends: { defaultSpawn: { command: ["llama-server", "-c", "1024"] } } },
    env: { HF_ENDPOINT: `http://127.0.0.1:${hub.address().port}`, HF_HUB_CACHE: cache.dir, HF_TOKEN: "" },
  });
  client = await connect(server.url);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  client?.close();
  await server?.stop();
  hub?.closeAllConnections();
  await new Promise((r) => (hub ? hub.close(r) : r()));
  cache?.cleanup();
});

const bytesShown = (page) => page.$eval(`${byTestId("download")} ${byTestId("download-progress")}`, (el) => Number(el.dataset.bytes));

test("search, files with facts and fit, download with progress, cancel, resume, done, then delete the file", { skip, timeout: 180000 }, async () => {
  await withBrowserPage(browser, async (page) => {
    await page.goto(`${server.url}/models`);
    await waitForText(page, "connection", "Connected");
    const note = await page.textContent(byTestId("pull-token-note"));
    assert.match(note, /HF_TOKEN/);
    assert.equal(await page.$$eval(`${byTestId("pull-panel")} input`, (els) => els.filter((el) => el.type === "password" || /token/i.test(el.name)).length), 0,
      "the page never asks for the token");

    // A hub without search: said so, and the repository can still be typed.
    await page.fill(byTestId("pull-query"), "smol");
    await page.click(byTestId("pull-search-submit"));
    await waitForText(page, "pull-search-status", /^Search is not available from this hub .*Type the repository as user\/repo/);
    assert.equal(await page.isHidden(byTestId("pull-results")), true);
    searchOn = true;
    await page.click(byTestId("pull-search-submit"));
    await waitForText(page, "pull-search-status", "1 repository with GGUF files");

    // A gated repository: what to do, at the field.
    await page.fill(byTestId("pull-repo"), "org/gated-GGUF");
    await page.click(byTestId("pull-list-files"));
    await waitForText(page, "pull-repo-error", /set HF_TOKEN/, 20000);
    await page.fill(byTestId("pull-repo"), "not a repo");
    await waitForText(page, "pull-repo-error", /user\/repo/);

    // Picking the search result lists its files.
    await page.click(byTestId("pull-result-org/smol-GGUF"));
    await page.waitForSelector(byTestId(`pull-file-${REAL}`), { timeout: 30000 });
    const listing = await ok(client.socket, "models:pull:files", { repo: "org/smol-GGUF" });
    assert.equal(listing.default, REAL);
    assert.equal(await page.isChecked(byTestId(`pull-pick-${REAL}`)), true, "the default file is preselected");
    const row = await page.textContent(byTestId(`pull-file-${REAL}`));
    const real = listing.files.find((f) => f.file === REAL);
    assert.ok(real.header, JSON.stringify(real));
    for (const fact of [formatBytes(real.sizeBytes), "Q4_K_M", real.header.architecture, real.header.contextLength.toLocaleString("en-US")]) {
      assert.ok(row.includes(fact), `${fact} in ${row}`);
    }
    const verdict = await page.getAttribute(byTestId(`fit-${REAL}`), "data-verdict");
    assert.ok(["fits", "evict", "no", "unknown"].includes(verdict), verdict);
    const badge = await page.textContent(byTestId(`fit-${REAL}`));
    assert.match(badge, { fits: /^fits$/, evict: /^fits after unloading /, no: /^does not fit: needs .* free$/, unknown: /^unknown$/ }[verdict]);
    assert.match(await page.textContent(byTestId("pull-file-smol-Q8_0.gguf")), /Header unreadable/);
    await page.waitForSelector(byTestId("pull-sidecar-mmproj-smol-f16.gguf"));
    assert.equal(await page.isChecked(byTestId("pull-sidecar-mmproj-smol-f16.gguf")), false);
    await screenshot(page, "models-pull-files");

    // Download: the bar moves; Cancel stops it with Resume offered.
    await page.click(byTestId("pull-download"));
    await page.waitForSelector(`${byTestId("download")}[data-file="${REAL}"][data-state=running]`);
    await page.waitForFunction((sel) => Number(document.querySelector(sel)?.dataset.bytes) > 0, `${byTestId("download")} ${byTestId("download-progress")}`, { timeout: 20000 });
    await waitForText(page, "download-text", /^\d+ % · .* of .* · .*\/s · .* left/, 20000);
    assert.equal(await page.getAttribute(`${byTestId("download")} ${byTestId("download-progress")}`, "max"), String(real.sizeBytes));
    await screenshot(page, "models-pull-progress");
    await page.click(byTestId("download-cancel"));
    await page.waitForSelector(`${byTestId("download")}[data-state=error]`, { timeout: 20000 });
    await waitForText(page, "download-text", /^Cancelled at \d+ % .*Resume continues where it stopped\.$/);
    const stoppedAt = await bytesShown(page);
    assert.ok(stoppedAt > 0 && stoppedAt < real.sizeBytes, `stopped at ${stoppedAt}`);

    // Resume: one download, from where it stopped; a page opened meanwhile shows it too (models:pull:list).
    await page.click(byTestId("download-resume"));
    await page.waitForSelector(`${byTestId("download")}[data-state=running]`);
    assert.equal(await page.$$eval(byTestId("download"), (els) => els.length), 1, "the resumed pull replaced the cancelled one");
    await page.waitForFunction(({ sel, at }) => Number(document.querySelector(sel)?.dataset.bytes) > at,
      { sel: `${byTestId("download")} ${byTestId("download-progress")}`, at: stoppedAt }, { timeout: 20000 });
    paused = true; // no more bytes, so no more broadcasts: what a fresh page shows comes from models:pull:list
    await new Promise((r) => setTimeout(r, 600));
    await page.reload();
    await page.waitForSelector(`${byTestId("download")}[data-file="${REAL}"][data-state=running]`, { timeout: 10000 });
    assert.ok(await bytesShown(page) > stoppedAt, "listed with the bytes it has, the resumed ones included");
    paused = false;
    await page.waitForSelector(`${byTestId("download")}[data-state=done]`, { timeout: 60000 });
    const resumed = gets.filter((g) => g.file === REAL);
    assert.equal(resumed.length, 2, JSON.stringify(gets));
    assert.match(resumed[1].range || "", /^bytes=[1-9]\d*-$/, "the second download asked for the rest only");
    const done = client.received.find((e) => e.event === "models:pull:done")?.payload?.data;
    assert.ok(done?.modelId, JSON.stringify(done));
    await waitForText(page, "download-text", new RegExp(`^Downloaded: listed as model ${done.modelId}\\b`));
    assert.ok(readFileSync(done.path).equals(files[REAL].body), "the file is byte for byte the hub's");
    await page.waitForSelector(byTestId(`model-${done.modelId}`));
    await screenshot(page, "models-pull-done");

    // Its file can be deleted again, after a dialog naming it.
    await page.click(byTestId(`details-${done.modelId}`));
    await page.click(byTestId(`delete-${done.modelId}`));
    await page.waitForSelector(`${byTestId("delete-dialog")}[open]`);
    assert.equal(await page.textContent(byTestId("delete-path")), done.path);
    assert.equal(await page.textContent(byTestId("delete-size")), formatBytes(real.sizeBytes));
    await page.click(`${byTestId("delete-dialog")} ${byTestId("confirm-ok")}`);
    await waitForText(page, "models-notice", /^Deleted /, 20000);
    await page.waitForSelector(byTestId(`model-${done.modelId}`), { state: "detached" });
    assert.equal(existsSync(done.path), false);
  });
});
