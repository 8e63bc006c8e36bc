// Every page of the dashboard under the server's Content-Security-Policy (scripts, styles and connections
// from our own origin only: no inline scripts or style attributes, no eval), in a real browser against
// the real server with the fake llama-server as its router and a few stored requests, so that each page
// draws its real content (charts, tables, the chat). The policy is on every response; a page that needed
// more than it allows would log a violation (a console error) or not draw: neither may happen.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWithFake, chat, waitRows } from "./lib/fake-router.mjs";
import { launchBrowser, waitForText, byTestId, withBrowserPage } from "./lib/browser.mjs";

const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
  + "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
let ctx, browser;

before(async () => {
  ctx = await startWithFake({ config: { metrics: { intervalMs: 250 } }, env: { FAKE_TOKENS: "5", FAKE_TOKEN_MS: "5" } });
  for (const model of ["fake-a", "fake-b"]) {
    const res = await chat(ctx.v1, { model });
    assert.equal(res.status, 200, await res.text());
  }
  await waitRows(ctx.socket, {}, 2);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await ctx?.stop();
});

/** Each page (reached from the nav, as a user does) and what shows that it drew its content. */
const PAGES = [
  ["Dashboard", "/", async (page) => {
    await waitForText(page, "cpu-value", /%$/);
    await waitForText(page, "requests-value", /^[1-9]\d*$/);
  }],
  ["Models", "/models", async (page) => {
    await page.waitForSelector(byTestId("model-fake-a"));
    await page.click(byTestId("details-fake-a"));
    await page.waitForSelector(`${byTestId("details-panel-fake-a")}:visible`);
  }],
  ["Requests", "/requests", async (page) => {
    await page.waitForFunction((sel) => document.querySelectorAll(sel).length >= 2, `${byTestId("requests-table")} tbody tr`);
  }],
  ["Monitoring", "/monitoring", async (page) => {
    await page.waitForSelector(byTestId("mon-row-fake-b"));
    await page.waitForSelector(`${byTestId("chart-requests")} canvas`);
    // The series' color chips are colored (an inline style attribute would have been refused).
    const colors = await page.$$eval(".mon-swatch", (els) => els.map((el) => getComputedStyle(el).backgroundColor));
    assert.equal(colors.length, 2, "a chip per model");
    for (const color of colors) assert.notEqual(color, "rgba(0, 0, 0, 0)", "the chip has its series' color");
    assert.notEqual(colors[0], colors[1]);
  }],
  ["Logs", "/logs", async (page) => {
    await page.waitForFunction((sel) => document.querySelectorAll(sel).length >= 1, `${byTestId("logs-table")} tbody tr`);
  }],
  ["Playground", "/playground", async (page) => {
    await page.waitForSelector(`${byTestId("pg-model")} option[value="fake-a"]`, { state: "attached" });
    await page.selectOption(byTestId("pg-model"), "fake-a");
    await page.fill(byTestId("pg-input"), "Say something.");
    await page.click(byTestId("pg-send"));
    await waitForText(page, "pg-stats", /tok\/s/);
  }],
  ["Settings", "/settings", async (page) => {
    await page.waitForFunction((sel) => document.querySelector(sel)?.value !== "", byTestId("interval-input"));
  }],
  ["Configuration", "/configuration", async (page) => {
    await waitForText(page, "validation-status", /^Valid\. No changes\.$/);
    await waitForText(page, "argv-preview", /^\S*llama-server\S* /);
    await page.click(byTestId("view-json"));
    await page.waitForSelector(`${byTestId("config-json")}:visible`);
  }],
];

test("the policy is on every response", async () => {
  for (const route of ["/", "/js/app.js", "/css/app.css", "/vendor/uPlot.iife.min.js", "/favicon.svg", "/health"]) {
    const res = await fetch(`${ctx.server.url}${route}`);
    await res.arrayBuffer();
    assert.equal(res.status, 200, route);
    assert.equal(res.headers.get("content-security-policy"), CSP, route);
    assert.equal(res.headers.get("x-content-type-options"), "nosniff", route);
    assert.equal(res.headers.get("referrer-policy"), "no-referrer", route);
    assert.equal(res.headers.get("x-frame-options"), "DENY", route);
  }
});

test("every page draws its content with no policy violation and no console problem", async () => {
  await withBrowserPage(browser, async (page) => {
    // Violations are also recorded in the page, so a test failure names the directive and the source.
    await page.addInitScript(() => {
      window.cspViolations = [];
      document.addEventListener("securitypolicyviolation", (e) => {
        window.cspViolations.push(`${e.violatedDirective} ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`);
      });
    });
    const first = await page.goto(`${ctx.server.url}/`);
    assert.equal(first.headers()["content-security-policy"], CSP);
    await waitForText(page, "connection", "Connected");
    for (const [title, route, ready] of PAGES) {
      await page.click(`nav a[href='${route}']`);
      await page.waitForFunction((t) => document.title.startsWith(`${t} ·`), title);
      await ready(page);
      assert.deepEqual(await page.evaluate(() => window.cspViolations), [], `${title}: policy violations`);
    }
    // And each page loaded on its own (a fresh document per route).
    for (const [title, route, ready] of PAGES) {
      await page.goto(`${ctx.server.url}${route}`);
      await waitForText(page, "connection", "Connected");
      await page.waitForFunction((t) => document.title.startsWith(`${t} ·`), title);
      await ready(page);
      assert.deepEqual(await page.evaluate(() => window.cspViolations), [], `${title}: policy violations`);
    }
  });
});
