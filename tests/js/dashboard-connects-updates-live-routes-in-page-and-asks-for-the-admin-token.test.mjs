// The dashboard in a real browser (headless Chromium) against the real server: it connects,
// shows live metrics, deep links work, the theme persists server-side, the admin-token prompt
// works, and normal operation logs no console error/warning, page error or failed request.
// Screenshots land in tests/js/artifacts/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "./lib/server.mjs";
import { launchBrowser, openPage, screenshot, waitForText, byTestId, PHONE, withBrowserPage } from "./lib/browser.mjs";

const INTERVAL_MS = 500;
const BYTES = /^\d+(\.\d)? (B|KiB|MiB|GiB|TiB)$/;
let server;
let browser;

before(async () => {
  server = await startServer({ config: { metrics: { intervalMs: INTERVAL_MS } } });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const withPage = (options, body) => withBrowserPage(browser, body, options);

test("the dashboard connects and its numbers and charts update live", async () => {
  await withPage({}, async (page) => {
    await page.goto(server.url);
    await waitForText(page, "connection", "Connected");
    const cpu = await waitForText(page, "cpu-value", /^\d+(\.\d+)? %$/);
    assert.match(cpu, /%$/);
    assert.match(await page.textContent(byTestId("mem-value")), BYTES);
    assert.match(await page.textContent(byTestId("rss-value")), BYTES);
    assert.match(await page.textContent(byTestId("uptime-value")), /^\d+[smhd]/);
    assert.equal(await page.title(), "Dashboard · llama-dashboard");
    for (const chart of ["cpu-chart", "mem-chart"]) {
      assert.ok(await page.locator(`${byTestId(chart)} canvas`).count() > 0, `${chart} has a canvas`);
    }
    // Without llama-server the router's autostart fails: that shows among the recent errors, with its source.
    await page.waitForSelector(`${byTestId("recent-errors")} li[data-level]`, { timeout: 10000 });
    const problemsShown = await page.textContent(byTestId("recent-errors"));
    assert.match(problemsShown, /llama-server|router/i, problemsShown);
    const gpuText = await page.textContent(byTestId("gpu-list"));
    assert.ok(/No GPU detected|#\d/.test(gpuText), `GPU section shows GPUs or says none: ${gpuText}`);

    const first = await waitForText(page, "updated-value", /\d\d:\d\d:\d\d/);
    const pointsBefore = await chartPoints(page);
    await page.waitForFunction(
      ({ sel, first }) => document.querySelector(sel).textContent.trim() !== first,
      { sel: byTestId("updated-value"), first },
      { timeout: 5000 },
    );
    await page.waitForFunction((n) => window.llamaDashboard.state.get("metricsHistory").length > n, pointsBefore, {
      timeout: 5000,
    });
    await assertChartsFillTheirCards(page);
    await screenshot(page, "dashboard-laptop");

    await page.setViewportSize(PHONE);
    await assertChartsFillTheirCards(page);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `no horizontal scrolling at phone width (overflow ${overflow}px)`);
    await screenshot(page, "dashboard-phone");
  });
});

test("a deep link to /settings loads directly and the theme persists on the server", async () => {
  await withPage({}, async (page) => {
    await page.goto(`${server.url}/settings`);
    await page.waitForSelector("h1:text('Settings')");
    assert.equal(await page.title(), "Settings · llama-dashboard");
    assert.equal(await page.getAttribute("nav a[href='/settings']", "aria-current"), "page");
    await waitForText(page, "connection", "Connected");
    await page.waitForFunction((sel) => document.querySelector(sel).value !== "", byTestId("interval-input"));

    await page.selectOption(byTestId("theme-select"), "light");
    await page.click(byTestId("settings-save"));
    await waitForText(page, "settings-status", "Saved");
    assert.equal(await themeOf(page), "light");
    await screenshot(page, "settings-light");

    await page.fill(byTestId("interval-input"), "10");
    await page.click(byTestId("settings-save"));
    const error = await waitForText(page, "settings-error", /metricsIntervalMs/);
    assert.ok(await page.isVisible(byTestId("settings-error")), `error shown: ${error}`);
    assert.equal(await page.getAttribute(byTestId("interval-input"), "aria-invalid"), "true");

    await page.reload();
    await waitForText(page, "connection", "Connected");
    assert.equal(await themeOf(page), "light");
  });
  // A fresh browser profile has no cached theme: the value must come from the server.
  await withPage({}, async (page) => {
    await page.goto(server.url);
    await waitForText(page, "connection", "Connected");
    await page.waitForFunction(() => document.documentElement.dataset.theme === "light", null, { timeout: 5000 });
    await waitForText(page, "cpu-value", /%$/);
    await screenshot(page, "dashboard-light");
  });
});

test("nav links route in-page and unknown paths show a not-found page", async () => {
  await withPage({}, async (page) => {
    await page.goto(server.url);
    await waitForText(page, "connection", "Connected");
    await page.evaluate(() => (window.noReloadMarker = true));
    await page.click("nav a[href='/settings']");
    await page.waitForSelector("h1:text('Settings')");
    assert.equal(new URL(page.url()).pathname, "/settings");
    assert.equal(await page.evaluate(() => window.noReloadMarker), true, "no full page reload");
    await page.goBack();
    await page.waitForSelector("h1:text('Dashboard')");
    await page.goto(`${server.url}/no-such-page`);
    await page.waitForSelector("h1:text('Page not found')");
    assert.equal(await page.title(), "Not found · llama-dashboard");
  });
});

test("with an admin token configured, the dashboard asks for it and then connects", async () => {
  const token = "browser-test-token";
  const guarded = await startServer({ config: { metrics: { intervalMs: INTERVAL_MS }, security: { adminToken: token } } });
  try {
    const { context, page, problems } = await openPage(browser);
    try {
      await page.goto(guarded.url);
      await waitForText(page, "connection", "Unauthorized");
      await page.waitForSelector(`${byTestId("token-prompt")} input[type=password]`);
      await page.fill("#token-input", "wrong-token");
      await page.click(`${byTestId("token-prompt")} button[type=submit]`);
      await page.waitForSelector(`${byTestId("token-prompt")} >> text=refused`);
      await screenshot(page, "token-prompt");
      await page.fill("#token-input", token);
      await page.click(`${byTestId("token-prompt")} button[type=submit]`);
      await waitForText(page, "connection", "Connected");
      await waitForText(page, "cpu-value", /%$/);
      assert.equal(await page.locator(byTestId("token-prompt")).count(), 0, "prompt is gone");
      await page.reload();
      await waitForText(page, "connection", "Connected");
    } finally {
      await context.close();
    }
    assert.deepEqual(problems, [], "the page logged errors or warnings");
  } finally {
    await guarded.stop();
  }
});

async function themeOf(page) {
  return page.evaluate(() => document.documentElement.dataset.theme);
}

async function chartPoints(page) {
  return page.evaluate(() => window.llamaDashboard.state.get("metricsHistory").length);
}

/** Each chart's plot is as wide as its card's content box (it follows resizes). */
async function assertChartsFillTheirCards(page) {
  await page.waitForFunction(() =>
    [...document.querySelectorAll(".chart-slot")].every((slot) => {
      const plot = slot.querySelector(".uplot");
      return plot && Math.abs(plot.getBoundingClientRect().width - slot.clientWidth) <= 1;
    }),
  null, { timeout: 3000 });
}
