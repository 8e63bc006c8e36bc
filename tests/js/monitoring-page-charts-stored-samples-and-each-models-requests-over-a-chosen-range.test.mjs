// The Monitoring page in a real browser, against the real server with the fake llama-server as its router
// (metrics sampled every 250 ms): the system charts draw the stored samples, the per-model section lists each
// model with the requests that were sent, the range picker and the model filter live in the URL (deep links
// work) and re-query, an unknown model shows the empty state, and the page refreshes itself in place; the GPU
// charts are shown exactly when the samples report GPUs (a stand-in nvidia-smi on PATH reports one).
// SampleHistory, which thins a long range out to one sample per window, is checked on its own against an
// in-memory `metrics:history`. Normal operation logs no console error. Screenshots land in tests/js/artifacts/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { startWithFake, chat, post, waitRows } from "./lib/fake-router.mjs";
import { ok, tempDir, until } from "./lib/socket.mjs";
import { launchBrowser, openPage, screenshot, waitForText, byTestId, PHONE, LAPTOP } from "./lib/browser.mjs";
import { SampleHistory, LIMIT, SLICES } from "../../web/js/components/sample-history.js";

let ctx, browser;

before(async () => {
  ctx = await startWithFake({ config: { metrics: { intervalMs: 250 } }, env: { FAKE_TOKENS: "5", FAKE_TOKEN_MS: "5" } });
  browser = await launchBrowser();
  for (let i = 0; i < 3; i += 1) {
    const res = await chat(ctx.v1, { model: "fake-a" });
    const body = await res.text();
    assert.equal(res.status, 200, body);
  }
  const b = await post(ctx.v1, "/completions", { model: "fake-b", prompt: "once upon a time" });
  assert.equal(b.status, 200);
  await b.text();
  await waitRows(ctx.socket, {}, 4);
});

after(async () => {
  await browser?.close();
  await ctx?.stop();
});

/** Opens a page, runs `body`, closes it, then fails on anything the page complained about. */
async function withPage(body, { viewport = LAPTOP } = {}) {
  const { context, page, problems } = await openPage(browser, { viewport });
  // What the page asked ({event, data}), and the server's reply once it came back ({reply}).
  const sent = [];
  const asked = new Map();
  page.on("websocket", (ws) => {
    ws.on("framesent", (frame) => {
      const m = typeof frame.payload === "string" && frame.payload.match(/^42(\d*)\["([^"]+)",(.*)\]$/s);
      if (!m) return;
      const entry = { event: m[2], data: JSON.parse(m[3]) };
      sent.push(entry);
      if (m[1]) asked.set(m[1], entry);
    });
    ws.on("framereceived", (frame) => {
      const m = typeof frame.payload === "string" && frame.payload.match(/^43(\d+)\[(.*)\]$/s);
      if (m && asked.has(m[1])) asked.get(m[1]).reply = JSON.parse(m[2]);
    });
  });
  try {
    await body(page, sent);
  } finally {
    await context.close();
  }
  assert.deepEqual(problems, [], "the page logged errors or warnings");
}

/** Opens `path` and waits until the page finished `loads` loads. */
async function open(page, path, loads = 1, base = ctx.server.url) {
  await page.goto(`${base}${path}`);
  await waitForText(page, "connection", "Connected");
  await waitLoads(page, loads);
}

async function waitLoads(page, loads, timeout = 10000) {
  await page.waitForFunction((n) => Number(document.querySelector('[data-testid="monitoring"]')?.dataset.loads) >= n, loads, { timeout });
}

const loadsOf = async (page) => Number(await page.getAttribute(byTestId("monitoring"), "data-loads"));
const attr = (page, testid, name) => page.getAttribute(byTestId(testid), name);
const text = async (page, testid) => (await page.textContent(byTestId(testid))).trim();
const tableModels = (page) => page.$$eval(`${byTestId("mon-models-table")} tbody tr`, (trs) => trs.map((tr) => tr.dataset.model));

/** Charts follow their container on the next frame: waits for that, then asserts nothing scrolls sideways. */
async function assertNoOverflow(page) {
  const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  await page.waitForFunction(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth, null, { timeout: 5000 })
    .catch(() => {});
  const px = await overflow();
  assert.ok(px <= 0, `no horizontal scrolling (overflow ${px}px)`);
}

test("the page draws the stored system samples and each model's requests", async () => {
  await withPage(async (page, sent) => {
    await open(page, "/monitoring");
    assert.equal(await page.title(), "Monitoring · llama-dashboard");
    assert.equal(await page.getAttribute("nav a[href='/monitoring']", "aria-current"), "page");
    assert.equal(await page.isChecked(byTestId("range-hour")), true, "the last hour is the default range");
    assert.equal(await attr(page, "monitoring", "data-bucket-ms"), "60000");

    // System: CPU, memory and our RSS, drawn from metrics:history over the last hour.
    const history = sent.find((f) => f.event === "metrics:history");
    assert.ok(history, "metrics:history was asked");
    assert.equal(history.data.until - history.data.since, 3600e3);
    assert.ok(history.data.limit >= 1000, `a limit that draws a long range: ${history.data.limit}`);
    for (const id of ["chart-cpu", "chart-memory", "chart-rss"]) {
      await page.waitForSelector(`${byTestId(id)} canvas`);
      const points = Number(await attr(page, id, "data-points"));
      assert.ok(points > 0, `${id} drew ${points} points`);
    }
    assert.match(await attr(page, "chart-cpu", "aria-label"), /^CPU usage, last hour: CPU latest \d+\.\d %, average \d+\.\d %, peak \d+\.\d %$/);
    assert.match(await attr(page, "chart-memory", "aria-label"), /^Memory used, last hour: Used latest [\d.]+ [KMG]iB.*; Total latest/);
    assert.match(await attr(page, "chart-rss", "aria-label"), /RSS latest [\d.]+ [KMG]iB/);
    assert.ok(Number(await attr(page, "mon-system-summary", "data-count")) > 0);
    assert.match(await text(page, "mon-system-summary"), /^\d+ samples, \d\d:\d\d:\d\d to \d\d:\d\d:\d\d$/);
    assert.equal(await page.isVisible(byTestId("mon-system-empty")), false);
    // GPU charts exactly when the samples the server sent report GPUs (none on a machine without a GPU tool).
    const samples = history.reply?.data?.samples;
    assert.ok(Array.isArray(samples) && samples.length > 0, `the page got samples: ${JSON.stringify(history.reply)}`);
    const gpuNames = [...new Set(samples.flatMap((s) => s.gpus.map((g) => `GPU ${g.index} ${g.name}`)))].sort();
    for (const card of ["card-gpuUtil", "card-gpuMem"]) {
      assert.equal(await page.locator(byTestId(card)).count(), 1, `${card} is part of the page`);
      assert.equal(await page.isVisible(byTestId(card)), gpuNames.length > 0, `${card} shown iff the samples report GPUs: ${JSON.stringify(gpuNames)}`);
    }
    if (gpuNames.length) assert.equal(await attr(page, "chart-gpuUtil", "data-series"), gpuNames.join("\n"));

    // Per model: what was sent, from requests:history.
    assert.deepEqual(await tableModels(page), ["fake-a", "fake-b"]);
    assert.equal(await text(page, "mon-requests-fake-a"), "3");
    assert.equal(await text(page, "mon-requests-fake-b"), "1");
    assert.equal(await text(page, "mon-errors-fake-a"), "0");
    assert.equal(await text(page, "mon-tokens-fake-a"), "15");
    assert.match(await text(page, "mon-speed-fake-a"), /^\d+(\.\d)? tok\/s$/);
    assert.match(await text(page, "mon-ttft-fake-a"), /^\d+(\.\d)? m?s$/);
    assert.match(await text(page, "mon-total-fake-b"), /^\d+(\.\d)? m?s$/);
    assert.match(await text(page, "mon-models-summary"), /^4 requests · 2 models · 1 min buckets$/);
    assert.equal(await page.isVisible(byTestId("mon-models-empty")), false);
    for (const id of ["chart-requests", "chart-throughput", "chart-speed", "chart-ttft", "chart-total"]) {
      await page.waitForSelector(`${byTestId(id)} canvas`);
      assert.equal(await attr(page, id, "data-series"), "fake-a\nfake-b", `${id} has one series per model`);
      assert.ok(Number(await attr(page, id, "data-points")) >= 60, `${id} spans the hour's buckets`);
      assert.match(await attr(page, id, "aria-label"), /fake-a .*; fake-b /);
    }
    assert.match(await attr(page, "chart-requests", "aria-label"),
      /^Requests, last hour, 1 min buckets: fake-a 3 in total, peak \d+ per 1 min; fake-b 1 in total/);
    assert.match(await attr(page, "chart-speed", "aria-label"), /fake-a latest [\d.]+ tok\/s/);
    // Legends name each series.
    const legend = await page.$$eval(`${byTestId("chart-requests")} .u-legend .u-series th`, (ths) => ths.map((t) => t.textContent.trim()));
    assert.deepEqual(legend.slice(1), ["fake-a", "fake-b"]);

    await screenshot(page, "monitoring-laptop-dark");
    await page.evaluate(() => { document.documentElement.dataset.theme = "light"; });
    await screenshot(page, "monitoring-laptop-light");
    await page.setViewportSize(PHONE);
    await assertNoOverflow(page);
    await page.waitForFunction(() => {
      const chart = document.querySelector('[data-testid="chart-cpu"]');
      return Math.abs(chart.querySelector("canvas").getBoundingClientRect().width - chart.clientWidth) < 2;
    });
    await screenshot(page, "monitoring-phone-light");
  });
});

test("the range picker and the model filter live in the URL, re-query, and deep links restore them", async () => {
  await withPage(async (page, sent) => {
    await open(page, "/monitoring");
    const before = await loadsOf(page);
    sent.length = 0;
    await page.check(byTestId("range-day"));
    await waitLoads(page, before + 1);
    assert.equal(new URL(page.url()).search, "?range=day");
    assert.equal(await attr(page, "monitoring", "data-range"), "day");
    assert.equal(await attr(page, "monitoring", "data-bucket-ms"), "900000");
    const asked = sent.find((f) => f.event === "requests:history");
    assert.ok(asked, "requests:history was asked again");
    assert.equal(asked.data.until - asked.data.since, 86400e3);
    assert.equal(asked.data.bucketMs, 900000);
    const metrics = sent.find((f) => f.event === "metrics:history");
    assert.equal(metrics.data.until - metrics.data.since, 86400e3, "the system charts follow the range");
    assert.match(await attr(page, "chart-cpu", "aria-label"), /^CPU usage, last day: /);
    assert.match(await text(page, "mon-models-summary"), /^4 requests · 2 models · 15 min buckets$/);
    assert.equal(await text(page, "mon-requests-fake-a"), "3");

    // The model filter narrows the series to one model (the server filters).
    sent.length = 0;
    await page.selectOption(byTestId("mon-model"), "fake-a");
    await waitLoads(page, before + 2);
    assert.equal(new URL(page.url()).search, "?range=day&model=fake-a");
    assert.equal(sent.find((f) => f.event === "requests:history")?.data.model, "fake-a");
    assert.deepEqual(await tableModels(page), ["fake-a"]);
    for (const id of ["chart-requests", "chart-throughput", "chart-speed", "chart-ttft", "chart-total"]) {
      assert.equal(await attr(page, id, "data-series"), "fake-a", `${id} shows only fake-a`);
    }
    const legend = await page.$$eval(`${byTestId("chart-requests")} .u-legend .u-series th`, (ths) => ths.map((t) => t.textContent.trim()));
    assert.deepEqual(legend.slice(1), ["fake-a"]);
    // Both models stay offered.
    const options = await page.$$eval(`${byTestId("mon-model")} option`, (os) => os.map((o) => o.value));
    assert.ok(options.includes("fake-b"), JSON.stringify(options));

    // A deep link restores both, and a model without requests shows the empty state.
    await open(page, "/monitoring?range=week&model=fake-b");
    assert.equal(await page.isChecked(byTestId("range-week")), true);
    assert.equal(await page.inputValue(byTestId("mon-model")), "fake-b");
    assert.equal(await attr(page, "monitoring", "data-bucket-ms"), "7200000");
    assert.deepEqual(await tableModels(page), ["fake-b"]);
    assert.equal(await text(page, "mon-requests-fake-b"), "1");
    assert.match(await attr(page, "chart-requests", "aria-label"), /^Requests, last week, 2 h buckets: fake-b 1 in total/);

    await open(page, "/monitoring?model=nothing-sent");
    assert.equal(await page.isVisible(byTestId("mon-models-empty")), true);
    assert.equal(await text(page, "mon-models-empty"), "No requests in this range for nothing-sent.");
    assert.equal(await page.isVisible(byTestId("mon-models-table")), false);
    assert.equal(await page.isVisible(byTestId("chart-requests")), false);
    assert.ok(Number(await attr(page, "chart-cpu", "data-points")) > 0, "the system charts do not depend on the model");
    await page.setViewportSize(PHONE);
    await assertNoOverflow(page);
    await screenshot(page, "monitoring-phone-empty");
  });
});

test("every 30 s the page re-queries and updates its charts in place", { timeout: 60000 }, async () => {
  await withPage(async (page, sent) => {
    await open(page, "/monitoring");
    const points = Number(await attr(page, "chart-cpu", "data-points"));
    await page.evaluate(() => {
      for (const canvas of document.querySelectorAll(".monitoring canvas")) canvas.dataset.original = "yes";
    });
    const res = await chat(ctx.v1, { model: "fake-b" });
    assert.equal(res.status, 200);
    await res.text();
    sent.length = 0;
    await waitLoads(page, 2, 40000); // the 30 s timer, not a reload
    assert.equal(await text(page, "mon-requests-fake-b"), "2");
    assert.ok(Number(await attr(page, "chart-cpu", "data-points")) > points, "new samples were added");
    const asked = sent.find((f) => f.event === "metrics:history");
    assert.ok(asked.data.since > 0 && asked.data.until - asked.data.since < 3600e3, "only newer samples were asked");
    const kept = await page.$$eval(".monitoring canvas", (cs) => cs.filter((c) => c.dataset.original === "yes").length);
    const all = await page.$$eval(".monitoring canvas", (cs) => cs.length);
    assert.equal(kept, all, "the charts were updated, not rebuilt");
  });
});

test("with a GPU tool reporting a GPU, the page draws its utilization and memory", async (t) => {
  // A stand-in nvidia-smi first on PATH: the server reads GPUs from it like from the real one.
  const tools = tempDir("lldash-gpu-tool-");
  writeFileSync(path.join(tools.dir, "nvidia-smi"), "#!/bin/sh\necho '0, Test GPU 9000, 37, 81559, 1024, 41'\n", { mode: 0o755 });
  const gpu = await startWithFake({ config: { metrics: { intervalMs: 250 } }, env: { PATH: `${tools.dir}:${process.env.PATH}` } });
  t.after(async () => { await gpu.stop(); tools.cleanup(); });
  await until(async () => (await ok(gpu.socket, "metrics:get", {})).metrics?.gpus?.length, { what: "a sample with the GPU" });
  await withPage(async (page) => {
    await open(page, "/monitoring", 1, gpu.server.url);
    for (const card of ["card-gpuUtil", "card-gpuMem"]) assert.equal(await page.isVisible(byTestId(card)), true, card);
    for (const id of ["chart-gpuUtil", "chart-gpuMem"]) {
      assert.equal(await attr(page, id, "data-series"), "GPU 0 Test GPU 9000");
      assert.ok(Number(await attr(page, id, "data-points")) > 0, `${id} drew points`);
    }
    assert.match(await attr(page, "chart-gpuUtil", "aria-label"), /GPU 0 Test GPU 9000 latest 37(\.0+)? %/);
    assert.match(await attr(page, "chart-gpuMem", "aria-label"), /GPU 0 Test GPU 9000 latest 1(\.0+)? GiB/);
  });
});

/** An in-memory metrics:history: the newest `limit` samples of [since, until], oldest first. */
function fakeHistory(samples) {
  const calls = [];
  const request = async (event, { since, until, limit }) => {
    assert.equal(event, "metrics:history");
    calls.push({ since, until, limit });
    const inRange = samples.filter((s) => s.timestamp >= since && s.timestamp <= until);
    return { samples: inRange.slice(-limit) };
  };
  return { request, calls };
}

test("SampleHistory loads a small range at once and only asks for newer samples afterwards", async () => {
  const now = 1_800_000_000_000;
  const samples = Array.from({ length: 500 }, (_, i) => ({ timestamp: now - (500 - i) * 2000 }));
  const { request, calls } = fakeHistory(samples);
  const history = new SampleHistory(request);
  const first = await history.load(now - 3600e3, now);
  assert.equal(first.length, 500);
  assert.equal(calls.length, 1);
  assert.equal(calls[0].limit, LIMIT);
  samples.push({ timestamp: now + 1000 }, { timestamp: now + 3000 });
  const next = await history.load(now - 980000, now + 5000);
  assert.equal(calls.length, 2);
  assert.equal(calls[1].since, now - 2000 + 1, "asks only after the newest sample it holds");
  assert.equal(next.length, 490 + 2, "samples that left the range are dropped, new ones added");
  assert.deepEqual(next.map((s) => s.timestamp), [...next.map((s) => s.timestamp)].sort((a, b) => a - b));
});

test("SampleHistory thins a long range out to one sample per window and caches the windows that ended", async () => {
  const now = 1_800_000_000_000;
  const day = 86400e3;
  // Two days of samples every 2 s (86,400 of them) inside a week.
  const samples = Array.from({ length: 86400 }, (_, i) => ({ timestamp: now - 2 * day + i * 2000 + 1000 }));
  const { request, calls } = fakeHistory(samples);
  const history = new SampleHistory(request);
  const got = await history.load(now - 7 * day, now);
  assert.equal(history.mode, "sliced");
  assert.ok(got.length > 60 && got.length <= SLICES + 1, `${got.length} points`);
  assert.ok(got[0].timestamp < now - 2 * day + 3600e3, "the oldest stored samples are drawn, not just the newest");
  assert.equal(got.at(-1).timestamp, samples.at(-1).timestamp, "the newest sample is drawn");
  assert.deepEqual(got.map((s) => s.timestamp), [...got.map((s) => s.timestamp)].sort((a, b) => a - b));
  const asked = calls.length;
  samples.push({ timestamp: now + 10000 });
  const again = await history.load(now - 7 * day + 30000, now + 30000);
  assert.ok(calls.length - asked <= 3, `a refresh asks only the open windows (${calls.length - asked} requests)`);
  assert.equal(again.at(-1).timestamp, now + 10000);
});
