// The Configuration page in a real browser against the real server (no llama-server: the router is
// not started), with an admin token set (entered in the page's prompt), so every key and the presets
// are editable. The init file is shown as a form and as JSON; a bad value is flagged at its field as
// you type and Save is held back (or, when sent anyway, refused with the error at that field); the
// llama-server command line follows the edits; Save writes the file with a .json.bak backup and keeps
// the API key shown as its placeholder; JSON syntax errors and unknown keys are reported; Revert reloads
// the file; a save over a file that changed after the page loaded it is refused (CONFLICT) and loses
// nothing. Normal operation logs no console error. Screenshots land in tests/js/artifacts/.
// Without a token (read-only keys and presets): dashboard-shows-protected-keys-read-only-without-an-admin-token.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startServer } from "./lib/server.mjs";
import { connect, ok } from "./lib/socket.mjs";
import { launchBrowser, openPage, screenshot, waitForText, byTestId, PHONE, LAPTOP, assertNoOverflow, withBrowserPage } from "./lib/browser.mjs";

const API_KEY = "sk-config-page-secret";
const ADMIN_TOKEN = "config-page-admin-token";
/** A secret as the server shows it: "***" and 12 hex digits. */
const PLACEHOLDER = /^\*\*\*[0-9a-f]{12}$/;
const field = (p) => byTestId(`field-${p}`);
const fieldError = (p) => byTestId(`error-${p}`);
let server, browser, modelsDir, file;

before(async () => {
  modelsDir = mkdtempSync(path.join(tmpdir(), "lldash-cfg-models-"));
  server = await startServer({
    config: {
      models: { directory: modelsDir, maxLoaded: 3, presetsFile: path.join(modelsDir, "presets.ini") },
      performance: { contextSize: 4096 },
      startup: { autoStart: false },
      security: { apiKeys: [API_KEY], adminToken: ADMIN_TOKEN },
    },
  });
  file = path.join(server.work, "llama-router.init.json");
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (modelsDir) rmSync(modelsDir, { recursive: true, force: true });
});

const withPage = (body, opts) => withBrowserPage(browser, body, opts);

/** Opens the page and answers its admin-token prompt, as a user does. */
async function openConfiguration(page) {
  await page.goto(`${server.url}/configuration`);
  await waitForText(page, "connection", "Unauthorized");
  await page.fill("#token-input", ADMIN_TOKEN);
  await page.click(`${byTestId("token-prompt")} button[type=submit]`);
  await waitForText(page, "connection", "Connected");
  assert.equal(await page.title(), "Configuration · llama-dashboard");
  await page.waitForFunction((sel) => document.querySelector(sel)?.value !== "", field("performance.contextSize"));
  await waitForText(page, "validation-status", /^Valid\. No changes\.$/);
}

const readFile = () => JSON.parse(readFileSync(file, "utf8"));
const visible = (page, sel) => page.isVisible(sel);

test("the form shows the file, flags a bad value at its field, previews the argv and saves with a backup", async () => {
  const original = readFileSync(file, "utf8");
  await withPage(async (page) => {
    await openConfiguration(page);
    assert.equal(await page.textContent(byTestId("config-path")), file, "where the file lives");
    assert.ok(await page.isVisible("nav a[href='/configuration'][aria-current='page']"), "the nav link is current");
    assert.equal(await page.inputValue(field("performance.contextSize")), "4096");
    assert.equal(await page.inputValue(field("models.maxLoaded")), "3");
    assert.equal(await page.inputValue(field("models.directory")), modelsDir);
    assert.equal(await page.isChecked(field("startup.autoStart")), false);
    assert.equal(await page.inputValue(field("logging.level")), "info");
    const apiKey = await page.inputValue(field("security.apiKeys"));
    assert.match(apiKey, PLACEHOLDER, "the API key is shown as its placeholder");
    assert.match(await page.inputValue(field("security.adminToken")), PLACEHOLDER, "so is the admin token");
    assert.notEqual(await page.inputValue(field("security.adminToken")), apiKey, "one placeholder per secret");
    // The newer keys are in the form, with their defaults.
    assert.equal(await page.inputValue(field("server.maxConnections")), "2048");
    assert.equal(await page.inputValue(field("server.headerTimeoutMs")), "15000");
    assert.equal(await page.inputValue(field("server.sendTimeoutMs")), "60000");
    assert.equal(await page.inputValue(field("proxy.bodyTimeoutMs")), "60000");
    assert.equal(await page.isChecked(field("router.allowNonLoopback")), false);
    assert.equal(await page.inputValue(field("security.allowedHosts")), "");
    assert.match(await page.textContent("#cfg-security-corsOrigins-hint"), /"\*" opens \/v1 only/);
    // With the admin token, the keys naming programs and files are editable like the others.
    assert.equal(await page.isEditable(field("router.serverPath")), true);
    assert.equal(await page.isEditable(field("models.presetsFile")), true);
    assert.equal(await visible(page, byTestId("locked-router.serverPath")), false);
    assert.equal(await page.getAttribute(field("performance.contextSize"), "type"), "number");
    assert.match(await page.textContent(byTestId("argv-preview")), /^llama-server --models-dir \S+ --models-max 3 --models-preset \S+presets\.ini -c 4096 -b 512 -ngl 999 -np 1 --host 127\.0\.0\.1 --port 8134$/);
    assert.equal(await page.textContent(`label[for='cfg-performance-contextSize']`), "Context size (tokens)", "the field is labelled");

    // Too small: the problem shows at the field while typing, and Save waits for a fix.
    await page.fill(field("performance.contextSize"), "64");
    await page.waitForSelector(`${fieldError("performance.contextSize")}:not([hidden])`);
    assert.match(await page.textContent(fieldError("performance.contextSize")), />= 128/);
    assert.equal(await page.getAttribute(field("performance.contextSize"), "aria-invalid"), "true");
    const describedBy = await page.getAttribute(field("performance.contextSize"), "aria-describedby");
    const errorId = await page.getAttribute(fieldError("performance.contextSize"), "id");
    assert.ok(describedBy.split(" ").includes(errorId), `aria-describedby names the message: ${describedBy}`);
    assert.ok(await page.isDisabled(byTestId("config-save")), "Save is disabled while the config is invalid");
    assert.match(await page.textContent(byTestId("problems-list")), /performance\.contextSize.*>= 128/);
    assert.match(await page.textContent(byTestId("validation-status")), /1 problem to fix before saving\. Unsaved changes\./);
    assert.match(await page.textContent(byTestId("argv-preview")), /-c 4096/, "the preview keeps the last valid argv");
    await screenshot(page, "configuration-invalid");
    await assertNoOverflow(page, "configuration-phone-invalid");

    // Fixed: the message goes, the command line follows.
    await page.fill(field("performance.contextSize"), "2048");
    await page.waitForSelector(`${fieldError("performance.contextSize")}[hidden]`, { state: "attached" });
    await waitForText(page, "argv-preview", /-c 2048 /);
    assert.equal(await page.getAttribute(field("performance.contextSize"), "aria-invalid"), null);
    assert.equal(await page.isEnabled(byTestId("config-save")), true);
    assert.equal(await visible(page, byTestId("problems-list")), false);

    await page.click(byTestId("config-save"));
    await waitForText(page, "save-result", /^Saved to /);
    assert.equal(await page.textContent(byTestId("saved-path")), file);
    assert.equal(await page.textContent(byTestId("backup-path")), `${file}.bak`);
    assert.match(await page.textContent(byTestId("router-restarted")), /not running/);
    assert.equal(await visible(page, byTestId("restart-notice")), false, "nothing needs llama-dashboard restarted");
    const saved = readFile();
    assert.equal(saved.performance.contextSize, 2048);
    assert.deepEqual(saved.security.apiKeys, [API_KEY], "the API key's placeholder kept its value");
    assert.equal(saved.security.adminToken, ADMIN_TOKEN);
    assert.ok(existsSync(`${file}.bak`), "a .json.bak exists");
    assert.equal(readFileSync(`${file}.bak`, "utf8"), original, "the backup is the previous file");
    assert.equal(await page.inputValue(field("security.apiKeys")), apiKey, "the same placeholder: the same key");
    await waitForText(page, "validation-status", /^Valid\. No changes\.$/);
    await screenshot(page, "configuration-saved");
  });
});

test("a save sent before the check answers is refused by the server with the error at the field", async () => {
  await withPage(async (page) => {
    await openConfiguration(page);
    const before = readFileSync(file, "utf8");
    // Type and press Save in one go: the debounced check has not run yet.
    await page.evaluate(() => {
      const input = document.querySelector('[data-testid="field-performance.batchSize"]');
      input.value = "0";
      input.dispatchEvent(new Event("input", { bubbles: true }));
      document.querySelector('[data-testid="config-save"]').click();
    });
    await waitForText(page, "save-error", /^Not saved: .*performance\.batchSize/);
    await page.waitForSelector(`${fieldError("performance.batchSize")}:not([hidden])`);
    assert.match(await page.textContent(fieldError("performance.batchSize")), />= 1/);
    assert.equal(await page.getAttribute(field("performance.batchSize"), "aria-invalid"), "true");
    await page.waitForFunction(() => document.activeElement?.dataset.path === "performance.batchSize");
    assert.equal(readFileSync(file, "utf8"), before, "nothing was written");
    assert.equal(existsSync(`${file}.bak`), true);

    // A list field, and a change that only a restart of llama-dashboard applies.
    await page.fill(field("performance.batchSize"), "256");
    await page.fill(field("security.corsOrigins"), "http://example.test\n\n");
    await waitForText(page, "argv-preview", /-b 256 /);
    await page.click(byTestId("config-save"));
    await waitForText(page, "restart-notice", "Restart llama-dashboard for: security.corsOrigins");
    assert.deepEqual(readFile().security.corsOrigins, ["http://example.test"]);
    assert.equal(readFile().performance.batchSize, 256);
    assert.equal(await page.inputValue(field("security.corsOrigins")), "http://example.test");
  });
});

test("the JSON view mirrors the form, reports syntax errors and unknown keys, and Revert reloads", async () => {
  await withPage(async (page) => {
    await openConfiguration(page);
    await page.click(byTestId("view-json"));
    assert.equal(await page.getAttribute(byTestId("view-json"), "aria-selected"), "true");
    assert.equal(await visible(page, byTestId("config-form")), false);
    const json = JSON.parse(await page.inputValue(byTestId("config-json")));
    assert.equal(json.performance.contextSize, 2048);
    assert.equal(json.security.apiKeys.length, 1);
    assert.match(json.security.apiKeys[0], PLACEHOLDER);

    // JSON -> form.
    json.models.maxLoaded = 5;
    await page.fill(byTestId("config-json"), JSON.stringify(json, null, 2));
    await waitForText(page, "argv-preview", /--models-max 5 /);
    await page.click(byTestId("view-form"));
    assert.equal(await page.inputValue(field("models.maxLoaded")), "5");
    // Form -> JSON.
    await page.check(field("logging.enableDebugOutput"));
    await waitForText(page, "argv-preview", /--verbose$/);
    await page.click(byTestId("view-json"));
    assert.equal(JSON.parse(await page.inputValue(byTestId("config-json"))).logging.enableDebugOutput, true);

    // A syntax error: shown at once, Save held back, and the form cannot show it.
    const good = await page.inputValue(byTestId("config-json"));
    await page.fill(byTestId("config-json"), good.replace(/\}\s*$/, ""));
    await waitForText(page, "json-parse-error", /^JSON syntax error: /);
    assert.equal(await page.getAttribute(byTestId("config-json"), "aria-invalid"), "true");
    assert.ok(await page.isDisabled(byTestId("config-save")));
    assert.match(await page.textContent(byTestId("validation-status")), /does not parse/);
    await page.click(byTestId("view-form"));
    await waitForText(page, "switch-notice", /Fix the JSON syntax error first/);
    assert.equal(await page.getAttribute(byTestId("view-json"), "aria-selected"), "true");
    await screenshot(page, "configuration-json-syntax-error");

    // Unknown keys: named by the check, Save held back.
    const withUnknown = JSON.parse(good);
    withUnknown.bogusKey = 1;
    withUnknown.performance.turbo = true;
    await page.fill(byTestId("config-json"), JSON.stringify(withUnknown, null, 2));
    await page.waitForSelector(`${byTestId("json-parse-error")}[hidden]`, { state: "attached" });
    await waitForText(page, "problems-list", /bogusKey/);
    const problems = await page.textContent(byTestId("problems-list"));
    assert.match(problems, /bogusKey.*unknown key/);
    assert.match(problems, /performance\.turbo/);
    assert.ok(await page.isDisabled(byTestId("config-save")));
    await page.click(`${byTestId("problems-list")} button[data-problem="bogusKey"]`);
    assert.equal(await page.evaluate(() => {
      const t = document.activeElement;
      return t.value.slice(t.selectionStart, t.selectionEnd);
    }), '"bogusKey"', "a problem selects its key in the JSON");
    await screenshot(page, "configuration-json-unknown-key");
    await assertNoOverflow(page, "configuration-phone-json");

    // In the form, an unknown key shows under its section.
    await page.click(byTestId("view-form"));
    await waitForText(page, "section-errors-performance", /performance\.turbo/);

    // Revert: the saved file again, in both views.
    await page.click(byTestId("config-revert"));
    await waitForText(page, "save-result", /Reverted/);
    await waitForText(page, "validation-status", /^Valid\. No changes\.$/);
    assert.equal(await page.inputValue(field("models.maxLoaded")), "3");
    assert.equal(await page.isChecked(field("logging.enableDebugOutput")), false);
    assert.equal(await visible(page, byTestId("section-errors-performance")), false);
    await page.click(byTestId("view-json"));
    assert.equal(JSON.parse(await page.inputValue(byTestId("config-json"))).bogusKey, undefined);
  });
});

test("the page reads well at phone width and in the light theme", async () => {
  await withPage(async (page) => {
    await openConfiguration(page);
    // Keyboard: arrows move between the two views.
    await page.focus(byTestId("view-form"));
    await page.keyboard.press("ArrowRight");
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), "view-json");
    assert.equal(await page.getAttribute(byTestId("view-json"), "aria-selected"), "true");
    await page.keyboard.press("ArrowLeft");
    assert.equal(await page.getAttribute(byTestId("view-form"), "aria-selected"), "true");
    await assertNoOverflow(page, "configuration-phone");

    await page.evaluate(() => window.llamaDashboard.state.request("settings:update", { settings: { theme: "light" } }));
    await page.waitForFunction(() => document.documentElement.dataset.theme === "light");
    await screenshot(page, "configuration-light");
    await page.evaluate(() => window.llamaDashboard.state.request("settings:update", { settings: { theme: "dark" } }));
    await page.waitForFunction(() => document.documentElement.dataset.theme === "dark");
  });
});

test("the presets card saves the INI, refusing a malformed one at its line", async () => {
  await withPage(async (page) => {
    await openConfiguration(page);
    const text = byTestId("presets-text");
    await page.waitForSelector(`${text}:not([hidden])`);
    assert.equal(await page.inputValue(text), "", "no presets file yet");
    assert.equal(await page.isEditable(text), true, "editable with the admin token");
    assert.equal(await visible(page, byTestId("presets-locked")), false);
    await page.fill(text, "[smol-long]\nctx-size 8192\n");
    await page.click(byTestId("presets-save"));
    await waitForText(page, "presets-status", /^Not saved: content: line 2:/);
    assert.equal(await page.getAttribute(text, "aria-invalid"), "true");
    await page.waitForFunction(() => document.activeElement?.id === "cfg-presets", null, { timeout: 5000 });
    assert.equal(existsSync(path.join(modelsDir, "presets.ini")), false, "nothing written");

    await page.fill(text, "[smol-long]\nctx-size = 8192\n");
    await page.click(byTestId("presets-save"));
    await waitForText(page, "presets-status", /^Saved \(presets: smol-long\)/);
    assert.equal(readFileSync(path.join(modelsDir, "presets.ini"), "utf8"), "[smol-long]\nctx-size = 8192\n");
  });
});

test("a save over a file another editor changed after the page loaded it is refused; Revert shows the change", async () => {
  await withPage(async (page) => {
    await openConfiguration(page);
    const maxLoaded = readFile().models.maxLoaded;
    await page.fill(field("models.maxLoaded"), String(maxLoaded + 2));
    await waitForText(page, "validation-status", /Unsaved changes/);
    const other = await connect(server.url, { auth: { token: ADMIN_TOKEN } });
    try {
      const { fileConfig, revision } = await ok(other.socket, "router:init:load", {});
      await ok(other.socket, "router:init:save", { config: { ...fileConfig, performance: { ...fileConfig.performance, batchSize: 384 } }, revision });
    } finally {
      other.close();
    }
    await page.click(byTestId("config-save"));
    await waitForText(page, "save-error", /^Not saved: .*changed since it was loaded.*Revert loads the file as it is now\.$/);
    assert.equal(readFile().performance.batchSize, 384, "the other editor's save stays");
    assert.equal(readFile().models.maxLoaded, maxLoaded, "nothing of the refused save was written");
    await screenshot(page, "configuration-conflict");

    await page.click(byTestId("config-revert"));
    await page.waitForFunction((sel) => document.querySelector(sel)?.value === "384", field("performance.batchSize"));
    await page.fill(field("models.maxLoaded"), String(maxLoaded + 2));
    await waitForText(page, "validation-status", /Unsaved changes/);
    await page.click(byTestId("config-save"));
    await waitForText(page, "save-result", /^Saved to /);
    assert.equal(readFile().models.maxLoaded, maxLoaded + 2);
    assert.equal(readFile().performance.batchSize, 384);
  });
});
