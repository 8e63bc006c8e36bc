// Rotating the admin token from the Configuration page, with two dashboards open in separate browser
// profiles (each with its own stored token). The one that saves a new token keeps working: it stores the
// token it typed and reconnects with it, and shows the token as a placeholder, never as typed. The other
// one is disconnected by the server and ends up on the token prompt, saying its token is no longer
// accepted; with the new token it connects again. The old token no longer opens a socket. Removing the
// token while the server listens on a non-loopback address is refused (FORBIDDEN) at the token's field.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { startServer } from "./lib/server.mjs";
import { connect, connectExpectingError } from "./lib/socket.mjs";
import { launchBrowser, openPage, screenshot, waitForText, byTestId } from "./lib/browser.mjs";

const OLD_TOKEN = "rotation-old-admin-token";
const NEW_TOKEN = "rotation-new-admin-token";
const TOKEN_KEY = "llamaDashboard.adminToken"; // web/js/core/state.js
const PLACEHOLDER = /^\*\*\*[0-9a-f]{12}$/;
const tokenField = byTestId("field-security.adminToken");
let server, browser, file;

before(async () => {
  server = await startServer({ config: { startup: { autoStart: false }, security: { adminToken: OLD_TOKEN } } });
  file = path.join(server.work, "llama-router.init.json");
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Opens `route` and answers the token prompt with `token`. */
async function signIn(page, route, token) {
  await page.goto(`${server.url}${route}`);
  await waitForText(page, "connection", "Unauthorized");
  await page.fill("#token-input", token);
  await page.click(`${byTestId("token-prompt")} button[type=submit]`);
  await waitForText(page, "connection", "Connected");
}

test("the page that saves a new admin token stays connected with it; the other page is asked for it", async () => {
  const saver = await openPage(browser);
  const other = await openPage(browser);
  try {
    await signIn(saver.page, "/configuration", OLD_TOKEN);
    await signIn(other.page, "/", OLD_TOKEN);
    await waitForText(other.page, "cpu-value", /%$/);
    const { page } = saver;
    await page.waitForFunction((sel) => document.querySelector(sel)?.value !== "", tokenField);
    await waitForText(page, "validation-status", /^Valid\. No changes\.$/);
    const oldPlaceholder = await page.inputValue(tokenField);
    assert.match(oldPlaceholder, PLACEHOLDER, "the stored token shows as a placeholder");

    await page.fill(tokenField, NEW_TOKEN);
    await waitForText(page, "validation-status", /^Valid\. Unsaved changes\.$/);
    await page.click(byTestId("config-save"));
    await waitForText(page, "save-result", /^Saved to /);
    await waitForText(page, "token-changed", /this browser now uses the new one/);
    assert.equal(JSON.parse(readFileSync(file, "utf8")).security.adminToken, NEW_TOKEN);

    // The other page: disconnected by the server, refused with its old token, asked for the new one.
    await waitForText(other.page, "connection", "Unauthorized");
    await other.page.waitForSelector(`${byTestId("token-prompt")} input[type=password]`);
    assert.match(await other.page.textContent(byTestId("token-prompt")), /no longer accepts the admin token/);
    await screenshot(other.page, "token-prompt-after-rotation");

    // The saving page: connected with the token it typed (stored for the next visit), never asking.
    await waitForText(page, "connection", "Connected");
    assert.equal(await page.evaluate((key) => localStorage.getItem(key), TOKEN_KEY), NEW_TOKEN);
    assert.equal(await page.locator(byTestId("token-prompt")).count(), 0, "no prompt on the saving page");
    const settings = await page.evaluate(() => window.llamaDashboard.state.request("settings:get", {}));
    assert.ok(settings.settings, "requests work over the new connection");
    // The form shows the new token as a (new) placeholder, and the page is back to a clean state.
    await page.waitForFunction(({ sel, old }) => {
      const v = document.querySelector(sel)?.value;
      return /^\*\*\*[0-9a-f]{12}$/.test(v || "") && v !== old;
    }, { sel: tokenField, old: oldPlaceholder });
    await waitForText(page, "validation-status", /^Valid\. No changes\.$/);
    const shown = await page.evaluate(() =>
      [document.body.innerText, ...[...document.querySelectorAll("input, textarea")].map((c) => c.value)].join("\n"));
    assert.ok(!shown.includes(NEW_TOKEN), "the typed token is not shown back");
    await page.reload();
    await waitForText(page, "connection", "Connected");

    // The old token opens nothing any more; the new one does, also on the other page.
    const refused = await connectExpectingError(server.url, { auth: { token: OLD_TOKEN } });
    assert.equal(refused.message, "unauthorized: wrong admin token");
    const client = await connect(server.url, { auth: { token: NEW_TOKEN } });
    client.close();
    await other.page.fill("#token-input", NEW_TOKEN);
    await other.page.click(`${byTestId("token-prompt")} button[type=submit]`);
    await waitForText(other.page, "connection", "Connected");
    assert.equal(await other.page.locator(byTestId("token-prompt")).count(), 0);
  } finally {
    await saver.context.close();
    await other.context.close();
  }
  assert.deepEqual(saver.problems, [], "the saving page logged errors or warnings");
  assert.deepEqual(other.problems, [], "the other page logged errors or warnings");
});

test("removing the admin token while listening on a non-loopback address is refused at its field", async () => {
  const open = await startServer({ host: "0.0.0.0", config: { startup: { autoStart: false }, security: { adminToken: OLD_TOKEN } } });
  const openFile = path.join(open.work, "llama-router.init.json");
  const before = readFileSync(openFile, "utf8");
  const { context, page, problems } = await openPage(browser);
  try {
    await page.goto(`http://127.0.0.1:${open.port}/configuration`);
    await waitForText(page, "connection", "Unauthorized");
    await page.fill("#token-input", OLD_TOKEN);
    await page.click(`${byTestId("token-prompt")} button[type=submit]`);
    await waitForText(page, "connection", "Connected");
    await page.waitForFunction((sel) => /^\*\*\*/.test(document.querySelector(sel)?.value || ""), tokenField);
    await waitForText(page, "validation-status", /^Valid\. No changes\.$/);
    await page.fill(tokenField, "");
    await waitForText(page, "validation-status", /^Valid\. Unsaved changes\.$/);
    await page.click(byTestId("config-save"));
    await waitForText(page, "save-error", /^Not saved: config\.security\.adminToken: cannot be removed while llama-dashboard listens on 0\.0\.0\.0/);
    await waitForText(page, "error-security.adminToken", /cannot be removed/);
    assert.equal(await page.getAttribute(tokenField, "aria-invalid"), "true");
    await page.waitForFunction(() => document.activeElement?.dataset.path === "security.adminToken");
    assert.equal(readFileSync(openFile, "utf8"), before, "nothing was written");
    assert.equal(await page.evaluate((key) => localStorage.getItem(key), TOKEN_KEY), OLD_TOKEN, "the stored token stays");
    assert.equal(await page.textContent(byTestId("connection")), "Connected");
  } finally {
    await context.close();
    await open.stop();
  }
  assert.deepEqual(problems, [], "the page logged errors or warnings");
});
