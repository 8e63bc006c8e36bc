// The Models page and the Dashboard's router card in a real browser, against the real server driving a
// real llama-server with a real model: Load shows live status (and the progress bar while loading),
// Unload, the lifecycle history in the details, Rescan, and Stop / Start of the router with the Models
// page following. Normal operation logs no console error. Screenshots land in tests/js/artifacts/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { needReal, modelsDir, startWithRealRouter } from "./lib/real.mjs";
import { launchBrowser, openPage, screenshot, waitForText, byTestId, artifactsDir, PHONE, withBrowserPage } from "./lib/browser.mjs";

const skip = needReal();
const ID = "smol";
let server, browser, models;

before(async () => {
  if (skip) return;
  models = modelsDir(ID);
  server = await startWithRealRouter({
    models: { directory: models.dir, maxLoaded: 2 },
    performance: { contextSize: 1024, parallelSlots: 1 },
    startup: { autoStart: true, timeout: 20000 },
    metrics: { intervalMs: 1000 },
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  models?.cleanup();
});

const withPage = (body) => withBrowserPage(browser, body);

/** Waits until the badge `testid` reads `state` (its data-state and its visible text). */
async function waitForState(page, testid, state, timeout = 10000) {
  await page.waitForFunction(
    ({ sel, state }) => {
      const el = document.querySelector(sel);
      return el?.dataset.state === state && el.textContent.trim().endsWith(state);
    },
    { sel: byTestId(testid), state },
    { timeout },
  );
}

/** Records every state the row passes through: badge state and whether the progress bar shows. */
async function recordRow(page, id) {
  await page.evaluate((id) => {
    const row = document.querySelector(`[data-testid="model-${id}"]`);
    window.seen = [];
    const note = () => {
      const bar = row.querySelector(`[data-testid="progress-${id}"]`);
      window.seen.push({ state: row.querySelector(".status").dataset.state, bar: !bar.hidden, value: bar.getAttribute("value") });
    };
    new MutationObserver(note).observe(row, { subtree: true, attributes: true, childList: true, characterData: true });
  }, id);
}

async function navigate(page, href, heading) {
  await page.click(`nav a[href='${href}']`);
  await page.waitForSelector(`h1:text('${heading}')`);
}

test("the Models page loads and unloads the real model live, and the details show its history", { skip }, async () => {
  await withPage(async (page) => {
    await page.goto(`${server.url}/models`);
    await waitForText(page, "connection", "Connected");
    assert.equal(await page.title(), "Models · llama-dashboard");
    await waitForState(page, `status-${ID}`, "unloaded");
    assert.equal(await page.textContent(byTestId(`params-${ID}`)), "135M");
    assert.equal(await page.textContent(byTestId(`context-${ID}`)), "8,192");
    assert.equal(await page.textContent(byTestId("models-dir")), models.dir);
    assert.ok(await page.isDisabled(byTestId(`unload-${ID}`)), "Unload is disabled for an unloaded model");

    await page.click(byTestId("rescan"));
    await waitForText(page, "scan-status", /0 added, 0 removed, 1 total/);

    await recordRow(page, ID);
    await page.focus(byTestId(`load-${ID}`));
    await page.keyboard.press("Enter"); // keyboard users can load, and focus follows to Unload
    await waitForState(page, `status-${ID}`, "loaded", 30000);
    const seen = await page.evaluate(() => window.seen);
    assert.ok(seen.some((s) => s.state === "loading" && s.bar), `the progress bar showed while loading: ${JSON.stringify(seen)}`);
    assert.equal(await page.isVisible(byTestId(`progress-${ID}`)), false, "no progress bar once loaded");
    await page.waitForFunction((sel) => !document.querySelector(sel).disabled, byTestId(`unload-${ID}`));
    assert.ok(await page.isDisabled(byTestId(`load-${ID}`)), "Load is disabled for a loaded model");
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), `unload-${ID}`, "focus moved to Unload");
    await screenshot(page, "models-loaded");
    await page.setViewportSize(PHONE);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `no horizontal scrolling at phone width (overflow ${overflow}px)`);
    await screenshot(page, "models-phone");
    await page.setViewportSize({ width: 1280, height: 800 });

    await navigate(page, "/", "Dashboard");
    await waitForText(page, "models-value", "1 loaded");
    // The process serving the model is found under the router and its resident memory shown.
    await waitForText(page, `loaded-memory-${ID}`, /^\d+(\.\d)? (MB|MiB|GB|GiB)$/, 15000);
    await navigate(page, "/models", "Models");

    await page.click(byTestId(`unload-${ID}`));
    await waitForState(page, `status-${ID}`, "unloaded", 20000);

    await page.click(byTestId(`details-${ID}`));
    assert.equal(await page.getAttribute(byTestId(`details-${ID}`), "aria-expanded"), "true");
    const loadedRow = `${byTestId(`history-${ID}`)} tr[data-event="loaded"]`;
    await page.waitForSelector(loadedRow);
    const cells = await page.$$eval(`${loadedRow} td`, (tds) => tds.map((td) => td.textContent.trim()));
    assert.equal(cells[0], "loaded");
    assert.match(cells[2], /^\d+ ms$|^\d+\.\d s$/, `a load duration: ${cells}`);
    for (const event of ["load_requested", "unload_requested", "unloaded"]) {
      assert.ok(await page.locator(`${byTestId(`history-${ID}`)} tr[data-event="${event}"]`).count() > 0, `${event} in the history`);
    }
    const output = await page.textContent(byTestId(`logs-${ID}`));
    assert.match(output, /model loaded|listening/, "the model's own llama-server lines are shown");
    await screenshot(page, "models-details");
  });
});

test("the Dashboard's router card stops and starts the router, and the Models page follows", { skip }, async () => {
  await withPage(async (page) => {
    await page.goto(server.url);
    await waitForText(page, "connection", "Connected");
    await waitForState(page, "router-state", "running");
    assert.match(await page.textContent(byTestId("router-url")), /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(await page.textContent(byTestId("router-pid")), /^\d+$/);
    await waitForText(page, "models-value", "0 loaded");
    assert.ok(await page.isDisabled(byTestId("router-start")), "Start is disabled while running");
    await page.locator(byTestId("router-card")).screenshot({ path: path.join(artifactsDir, "router-card-running.png") });

    await page.click(byTestId("router-stop"));
    await waitForState(page, "router-state", "stopped", 15000);
    await page.waitForFunction((sel) => !document.querySelector(sel).disabled, byTestId("router-start"));
    assert.ok(await page.isDisabled(byTestId("router-stop")), "Stop is disabled while stopped");
    assert.equal(await page.textContent(byTestId("router-pid")), "—");
    await screenshot(page, "dashboard-router-stopped");

    await navigate(page, "/models", "Models");
    await waitForState(page, `status-${ID}`, "unloaded");
    assert.ok(await page.isDisabled(byTestId(`load-${ID}`)), "Load is disabled while the router is stopped");
    assert.ok(await page.isVisible(byTestId("router-notice")), "the page says why");
    // Force the request anyway: the server's refusal is shown inline on the row.
    await page.$eval(byTestId(`load-${ID}`), (button) => { button.disabled = false; });
    await page.click(byTestId(`load-${ID}`));
    await waitForText(page, `action-error-${ID}`, /not running/);
    assert.ok(await page.isDisabled(byTestId(`load-${ID}`)), "Load is disabled again after the refusal");

    await navigate(page, "/", "Dashboard");
    await page.click(byTestId("router-start"));
    await waitForState(page, "router-state", "running", 30000);
    await waitForText(page, "router-pid", /^\d+$/);
    assert.equal(await page.isVisible(byTestId("router-action-error")), false, "no error after a good start");
    await screenshot(page, "dashboard-router-running");

    await navigate(page, "/models", "Models");
    await page.waitForFunction((sel) => !document.querySelector(sel).disabled, byTestId(`load-${ID}`));
    assert.equal(await page.isVisible(byTestId("router-notice")), false);
  });
});
