// API keys on the Configuration page, in a real browser against the real server: each stored key is
// shown as its own placeholder ("***" and 12 hex digits), never as itself. Deleting one key's line and
// saving revokes exactly that key on /v1 at once, the others keep working; a key typed as plain text
// becomes a key, and is never shown back after the save; a bare "***" stands for no key and is refused.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { startServer } from "./lib/server.mjs";
import { launchBrowser, screenshot, waitForText, byTestId, withBrowserPage } from "./lib/browser.mjs";

const KEPT = "sk-kept-0123456789";
const REVOKED = "sk-revoked-9876543210";
const TYPED = "sk-typed-in-the-page-42";
const PLACEHOLDER = /^\*\*\*[0-9a-f]{12}$/;
const keysField = byTestId("field-security.apiKeys");
let server, browser, file;

before(async () => {
  server = await startServer({ config: { startup: { autoStart: false }, security: { apiKeys: [KEPT, REVOKED] } } });
  file = path.join(server.work, "llama-router.init.json");
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** GET /v1/models with `key` as a bearer token: the HTTP status. */
async function v1Status(key) {
  const res = await fetch(`${server.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
  await res.arrayBuffer();
  return res.status;
}

/** Every text the page shows or holds in a control. */
const pageText = (page) => page.evaluate(() =>
  [document.body.innerText, ...[...document.querySelectorAll("input, textarea")].map((c) => c.value)].join("\n"));

test("deleting one key's line revokes exactly that key; a typed key works and is not shown back", async () => {
  assert.equal(await v1Status(KEPT), 200);
  assert.equal(await v1Status(REVOKED), 200);
  assert.equal(await v1Status("sk-never-configured"), 401);
  await withBrowserPage(browser, async (page) => {
    await page.goto(`${server.url}/configuration`);
    await waitForText(page, "connection", "Connected");
    await page.waitForFunction((sel) => document.querySelector(sel)?.value !== "", keysField);
    await waitForText(page, "validation-status", /^Valid\. No changes\.$/);
    const lines = (await page.inputValue(keysField)).split("\n");
    assert.equal(lines.length, 2, "one line per key");
    for (const line of lines) assert.match(line, PLACEHOLDER, "each key shows as a placeholder");
    assert.notEqual(lines[0], lines[1], "a placeholder per key");
    const text = await pageText(page);
    assert.ok(!text.includes(KEPT) && !text.includes(REVOKED), "no key reaches the page");

    // A bare "***" names no stored key: refused at its line, Save held back.
    await page.fill(keysField, `${lines[0]}\n***`);
    await waitForText(page, "error-security.apiKeys", /security\.apiKeys\[1\]: stands for no stored secret/);
    assert.ok(await page.isDisabled(byTestId("config-save")));

    // Delete the second key's line and type a new key.
    await page.fill(keysField, `${lines[0]}\n${TYPED}`);
    await waitForText(page, "validation-status", /^Valid\. Unsaved changes\.$/);
    await page.click(byTestId("config-save"));
    await waitForText(page, "save-result", /^Saved to /);
    assert.deepEqual(JSON.parse(readFileSync(file, "utf8")).security.apiKeys, [KEPT, TYPED]);

    // The typed key is shown as its placeholder from now on, in both views.
    const shown = (await page.inputValue(keysField)).split("\n");
    assert.equal(shown[0], lines[0], "the kept key keeps its placeholder");
    assert.match(shown[1], PLACEHOLDER);
    assert.notEqual(shown[1], lines[1]);
    await waitForText(page, "validation-status", /^Valid\. No changes\.$/);
    await page.click(byTestId("view-json"));
    assert.deepEqual(JSON.parse(await page.inputValue(byTestId("config-json"))).security.apiKeys, shown);
    assert.ok(!(await pageText(page)).includes(TYPED), "the typed key is not shown back");
    await screenshot(page, "configuration-api-keys-saved");
  });
  // Applied at once, without a restart.
  assert.equal(await v1Status(REVOKED), 401, "the deleted key is revoked");
  assert.equal(await v1Status(KEPT), 200, "the kept key still works");
  assert.equal(await v1Status(TYPED), 200, "the typed key works");
});
