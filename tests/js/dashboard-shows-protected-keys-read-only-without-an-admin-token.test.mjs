// The keys that name a program or a file the server runs, reads or writes, on the Configuration page in
// a real browser. Without security.adminToken they are read-only in the form with the reason beside them
// (and the presets card too); an edit made in the JSON view is refused when saved, the error shown at the
// key and the file left as it was. With an admin token the same keys are editable and a save writes them;
// a token set from the page itself unlocks them there at once (the page reconnects with the token it set).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startServer } from "./lib/server.mjs";
import { launchBrowser, screenshot, waitForText, byTestId, withBrowserPage } from "./lib/browser.mjs";

const ADMIN_TOKEN = "protected-keys-admin-token";
const field = (p) => byTestId(`field-${p}`);
const locked = (p) => byTestId(`locked-${p}`);
/** The form fields of `protected.keys` that are keys of their own (the rest live inside backends.models). */
const LOCKED_FIELDS = ["router.serverPath", "backends.defaultSpawn.command", "models.presetsFile", "logging.logFile", "backends.importRoots"];
let browser, modelsDir;

before(async () => {
  modelsDir = mkdtempSync(path.join(tmpdir(), "lldash-protected-"));
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  if (modelsDir) rmSync(modelsDir, { recursive: true, force: true });
});

/** Each test's own server: the init file names a llama-server path and a presets file. */
async function serverWith(security = {}) {
  return startServer({
    config: {
      router: { serverPath: "/opt/llama/bin/llama-server" },
      models: { directory: modelsDir, presetsFile: path.join(modelsDir, "presets.ini") },
      startup: { autoStart: false },
      security,
    },
  });
}

async function openConfiguration(page, server, token) {
  await page.goto(`${server.url}/configuration`);
  if (token) {
    await waitForText(page, "connection", "Unauthorized");
    await page.fill("#token-input", token);
    await page.click(`${byTestId("token-prompt")} button[type=submit]`);
  }
  await waitForText(page, "connection", "Connected");
  await page.waitForFunction((sel) => document.querySelector(sel)?.value !== "", field("router.serverPath"));
  await waitForText(page, "validation-status", /^Valid\. No changes\.$/);
}

/** The ids a control's aria-describedby names, and the text of each. */
const described = (page, sel) => page.$eval(sel, (el) =>
  (el.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean).map((id) => document.getElementById(id)?.textContent ?? `(no #${id})`));

test("without an admin token the program and file keys are read-only, and a JSON edit of one is refused at its key", async () => {
  const server = await serverWith();
  const file = path.join(server.work, "llama-router.init.json");
  const original = readFileSync(file, "utf8");
  try {
    await withBrowserPage(browser, async (page) => {
      await openConfiguration(page, server);
      assert.equal(await page.inputValue(field("router.serverPath")), "/opt/llama/bin/llama-server");
      for (const key of LOCKED_FIELDS) {
        assert.equal(await page.isEditable(field(key)), false, `${key} is read-only`);
        assert.equal(await page.isVisible(locked(key)), true, `${key}: the reason is shown beside it`);
        assert.match(await page.textContent(locked(key)), /^Read-only without security\.adminToken: it names a program or file/);
        const notes = await described(page, field(key));
        assert.ok(notes.some((t) => /security\.adminToken/.test(t)), `${key}: aria-describedby names the reason: ${JSON.stringify(notes)}`);
      }
      // Typing into one changes nothing.
      await page.focus(field("router.serverPath"));
      await page.keyboard.type("/bin/sh");
      assert.equal(await page.inputValue(field("router.serverPath")), "/opt/llama/bin/llama-server");
      await waitForText(page, "validation-status", /No changes\.$/);
      // Other keys are editable as ever; the backend models' JSON too, with a note on what stays read-only.
      assert.equal(await page.isEditable(field("performance.contextSize")), true);
      assert.equal(await page.isVisible(locked("performance.contextSize")), false);
      assert.equal(await page.isEditable(field("backends.models")), true);
      assert.match(await page.textContent(locked("backends.models")), /spawn\.command.*path, mmproj.*outside models\.directory/);
      // The presets are read-only too: every preset is a llama-server command line.
      await page.waitForSelector(`${byTestId("presets-text")}:not([hidden])`);
      assert.equal(await page.isEditable(byTestId("presets-text")), false);
      assert.equal(await page.isDisabled(byTestId("presets-save")), true);
      assert.match(await page.textContent(byTestId("presets-locked")), /^Read-only without security\.adminToken: each preset/);
      assert.ok((await described(page, byTestId("presets-text"))).some((t) => /security\.adminToken/.test(t)));
      await screenshot(page, "configuration-protected-keys-read-only");

      // A model with its own spawn command, typed in the form's JSON field: flagged at that field.
      await page.fill(field("backends.models"), JSON.stringify([
        { name: "evil", path: "/etc/passwd", spawn: { command: ["/bin/sh", "-c", "id"] } },
      ]));
      await waitForText(page, "error-backends.models", /backends\.models\[0\]\.spawn\.command: .*security\.adminToken/);
      assert.match(await page.textContent(byTestId("error-backends.models")), /backends\.models\[0\]\.path: '\/etc\/passwd' is outside/);
      assert.ok(await page.isDisabled(byTestId("config-save")), "Save waits for a fix");
      await page.click(byTestId("config-revert"));
      await waitForText(page, "validation-status", /^Valid\. No changes\.$/);

      // The JSON view says which keys are read-only, and lets one be edited...
      await page.click(byTestId("view-json"));
      assert.match(await page.textContent(byTestId("json-locked")), /router\.serverPath.*backends\.importRoots/);
      const json = JSON.parse(await page.inputValue(byTestId("config-json")));
      json.router.serverPath = "/bin/sh";
      // ... but Save, pressed before the check answers, is refused: the error is at the key, selected in the text.
      await page.evaluate((text) => {
        const area = document.querySelector('[data-testid="config-json"]');
        area.value = text;
        area.dispatchEvent(new Event("input", { bubbles: true }));
        document.querySelector('[data-testid="config-save"]').click();
      }, JSON.stringify(json, null, 2));
      await waitForText(page, "save-error", /^Not saved: config\.router\.serverPath: .*security\.adminToken/);
      await waitForText(page, "problems-list", /router\.serverPath.*security\.adminToken/);
      await page.waitForFunction(() => {
        const t = document.activeElement;
        return t?.dataset.testid === "config-json" && t.value.slice(t.selectionStart, t.selectionEnd) === '"serverPath"';
      }, null, { timeout: 5000 });
      assert.ok(await page.isDisabled(byTestId("config-save")), "the check now names it too");
      await screenshot(page, "configuration-protected-key-refused");
      assert.equal(readFileSync(file, "utf8"), original, "the init file is unchanged");
      assert.equal(existsSync(`${file}.bak`), false, "nothing was written, not even a backup");

      // In the form, the changed key shows its error and can be put back (only back: it is refused otherwise).
      await page.click(byTestId("view-form"));
      assert.equal(await page.inputValue(field("router.serverPath")), "/bin/sh");
      assert.match(await page.textContent(byTestId("error-router.serverPath")), /security\.adminToken/);
      assert.equal(await page.isEditable(field("router.serverPath")), true, "editable while it differs from the file");
      await page.fill(field("router.serverPath"), "/opt/llama/bin/llama-server");
      await waitForText(page, "validation-status", /^Valid\. No changes\.$/);
      // A save of other keys still works, and the key is read-only again.
      await page.fill(field("performance.contextSize"), "2048");
      await waitForText(page, "validation-status", /^Valid\. Unsaved changes\.$/);
      await page.click(byTestId("config-save"));
      await waitForText(page, "save-result", /^Saved to /);
      const saved = JSON.parse(readFileSync(file, "utf8"));
      assert.equal(saved.performance.contextSize, 2048);
      assert.equal(saved.router.serverPath, "/opt/llama/bin/llama-server");
      assert.equal(await page.isEditable(field("router.serverPath")), false);
    });
  } finally {
    await server.stop();
  }
});

test("with an admin token the same keys are editable and a save writes them", async () => {
  const server = await serverWith({ adminToken: ADMIN_TOKEN });
  const file = path.join(server.work, "llama-router.init.json");
  try {
    await withBrowserPage(browser, async (page) => {
      await openConfiguration(page, server, ADMIN_TOKEN);
      for (const key of LOCKED_FIELDS) {
        assert.equal(await page.isEditable(field(key)), true, `${key} is editable`);
        assert.equal(await page.isVisible(locked(key)), false, `${key}: no read-only note`);
      }
      assert.equal(await page.isVisible(locked("backends.models")), false);
      await page.waitForSelector(`${byTestId("presets-text")}:not([hidden])`);
      assert.equal(await page.isEditable(byTestId("presets-text")), true);
      assert.equal(await page.isEnabled(byTestId("presets-save")), true);

      const logFile = path.join(server.work, "dashboard.log");
      await page.fill(field("router.serverPath"), "/usr/local/bin/llama-server");
      await page.fill(field("logging.logFile"), logFile);
      await page.fill(field("backends.importRoots"), modelsDir);
      await waitForText(page, "argv-preview", /^\/usr\/local\/bin\/llama-server /);
      await waitForText(page, "validation-status", /^Valid\. Unsaved changes\.$/);
      await page.click(byTestId("config-save"));
      await waitForText(page, "save-result", /^Saved to /);
      const saved = JSON.parse(readFileSync(file, "utf8"));
      assert.equal(saved.router.serverPath, "/usr/local/bin/llama-server");
      assert.equal(saved.logging.logFile, logFile);
      assert.deepEqual(saved.backends.importRoots, [modelsDir]);
      assert.equal(saved.security.adminToken, ADMIN_TOKEN, "the token's placeholder kept it");
      await waitForText(page, "validation-status", /^Valid\. No changes\.$/);

      await page.fill(byTestId("presets-text"), "[smol]\nctx-size = 1024\n");
      await page.click(byTestId("presets-save"));
      await waitForText(page, "presets-status", /^Saved \(presets: smol\)/);
      assert.equal(readFileSync(path.join(modelsDir, "presets.ini"), "utf8"), "[smol]\nctx-size = 1024\n");
    });
  } finally {
    await server.stop();
  }
});

test("an admin token set from the page makes the keys editable there at once, without asking for it", async () => {
  const server = await serverWith();
  const file = path.join(server.work, "llama-router.init.json");
  try {
    await withBrowserPage(browser, async (page) => {
      await openConfiguration(page, server);
      assert.equal(await page.isEditable(field("router.serverPath")), false);
      await page.fill(field("security.adminToken"), ADMIN_TOKEN);
      await waitForText(page, "validation-status", /^Valid\. Unsaved changes\.$/);
      await page.click(byTestId("config-save"));
      await waitForText(page, "token-changed", /this browser now uses the new one/);
      assert.equal(JSON.parse(readFileSync(file, "utf8")).security.adminToken, ADMIN_TOKEN);
      // The server dropped the connection admitted without a token; the page came back with the new one.
      await page.waitForFunction((sel) => !document.querySelector(sel)?.readOnly, field("router.serverPath"));
      await waitForText(page, "connection", "Connected");
      assert.equal(await page.locator(byTestId("token-prompt")).count(), 0, "never asked for the token it set");
      for (const key of LOCKED_FIELDS) assert.equal(await page.isVisible(locked(key)), false, key);
      await page.waitForFunction((sel) => !document.querySelector(sel)?.readOnly, byTestId("presets-text"));
      assert.equal(await page.isEnabled(byTestId("presets-save")), true);
      assert.match(await page.inputValue(field("security.adminToken")), /^\*\*\*[0-9a-f]{12}$/, "shown as its placeholder");
    });
  } finally {
    await server.stop();
  }
});
