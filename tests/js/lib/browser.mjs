// Headless Chromium (Debian's /usr/bin/chromium, or $CHROMIUM) driven by playwright-core.
// openPage() collects every console error/warning and uncaught page error into `problems`,
// so a test can assert that normal operation is silent.
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
export const artifactsDir = path.resolve(here, "../artifacts");

export const LAPTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
}

/** A fresh context (empty localStorage) and page; `problems` lists console errors/warnings and page errors. */
export async function openPage(browser, { viewport = LAPTOP, colorScheme = "dark" } = {}) {
  const context = await browser.newContext({ viewport, colorScheme });
  const page = await context.newPage();
  const problems = [];
  page.on("console", (msg) => {
    if (msg.type() === "error" || msg.type() === "warning") {
      problems.push(`console.${msg.type()}: ${msg.text()} (${msg.location().url || "?"})`);
    }
  });
  page.on("pageerror", (err) => problems.push(`pageerror: ${err.message}`));
  page.on("requestfailed", (req) => {
    // Navigating away aborts in-flight socket.io polls; only real failures count.
    if (!/ERR_ABORTED/.test(req.failure()?.errorText || "")) problems.push(`requestfailed: ${req.url()}`);
  });
  page.on("response", (res) => {
    if (res.status() >= 400) problems.push(`HTTP ${res.status()}: ${res.url()}`);
  });
  return { context, page, problems };
}

export async function screenshot(page, name) {
  mkdirSync(artifactsDir, { recursive: true });
  const file = path.join(artifactsDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

export const byTestId = (id) => `[data-testid="${id}"]`;

/** Waits until the element's trimmed text satisfies `predicate` (a RegExp or string). */
export async function waitForText(page, testid, expected, timeout = 10000) {
  const source = expected instanceof RegExp ? expected.source : null;
  const flags = expected instanceof RegExp ? expected.flags : null;
  await page.waitForFunction(
    ({ sel, text, source, flags }) => {
      const value = document.querySelector(sel)?.textContent.trim();
      if (value === undefined) return false;
      return source !== null ? new RegExp(source, flags).test(value) : value === text;
    },
    { sel: byTestId(testid), text: expected, source, flags },
    { timeout },
  );
  return (await page.textContent(byTestId(testid))).trim();
}

/** At phone width the page must not scroll sideways; saves a screenshot there, then goes back to laptop width. */
export async function assertNoOverflow(page, name) {
  await page.setViewportSize(PHONE);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  if (overflow > 0) throw new Error(`horizontal scrolling at phone width (overflow ${overflow}px)`);
  await screenshot(page, name);
  await page.setViewportSize(LAPTOP);
}

/**
 * Opens a page, runs `body(page)`, closes it, then fails on anything the page complained about (console
 * errors and warnings, uncaught errors) except messages matching one of `allowed`.
 */
export async function withBrowserPage(browser, body, { allowed = [], ...options } = {}) {
  const { context, page, problems } = await openPage(browser, options);
  try {
    await body(page);
  } finally {
    await context.close();
  }
  const unexpected = problems.filter((p) => !allowed.some((re) => re.test(p)));
  assert.deepEqual(unexpected, [], "the page logged errors or warnings");
}
