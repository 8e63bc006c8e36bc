// Own backends are added, edited and removed on the Models page through a form, never JSON: each field is
// checked as it is typed (plain names, a path, whole seconds) and nothing invalid is sent; what the server
// refuses (a file outside the roots, a command change without the admin token) shows at its field. Adding
// and removing rewrite backends.models in the init file; editing sends models:update with what changed.
// Deleting the file of a model outside models.directory and the Hugging Face cache is refused inline, and
// the JSON of backends.models stays one click away. A real browser against the real server (no router).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { startServer } from "./lib/server.mjs";
import { connect, ok, tempDir, until } from "./lib/socket.mjs";
import { launchBrowser, withBrowserPage, waitForText, byTestId, screenshot, assertNoOverflow } from "./lib/browser.mjs";

let server, client, browser, root, outside;
const entries = async () => (await ok(client.socket, "router:init:load", {})).fileConfig.backends.models;
const entry = async (name) => (await entries()).find((m) => m.name === name);
const listed = async (id) => (await ok(client.socket, "models:list", {})).models.find((m) => m.id === id);
const hiddenOrEmpty = (page, id) => page.$eval(byTestId(id), (el) => el.hidden || el.textContent.trim() === "");

before(async () => {
  root = tempDir("lldash-own-root-");
  outside = tempDir("lldash-own-outside-");
  for (const name of ["alpha", "beta"]) writeFileSync(path.join(root.dir, `${name}.gguf`), "GGUF");
  writeFileSync(path.join(outside.dir, "other.gguf"), "GGUF");
  server = await startServer({
    config: {
      router: { enabled: false }, startup: { autoStart: false },
      backends: { importRoots: [root.dir], models: [{ name: "alpha", path: path.join(root.dir, "alpha.gguf") }] },
    },
  });
  client = await connect(server.url);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  client?.close();
  await server?.stop();
  root?.cleanup();
  outside?.cleanup();
});

test("the add form checks each field as it is typed, sends nothing invalid, and adds a valid backend", async () => {
  await withBrowserPage(browser, async (page) => {
    await page.goto(`${server.url}/models`);
    await page.waitForSelector(byTestId("model-alpha"));
    await page.click(byTestId("add-backend"));
    await page.waitForSelector(`${byTestId("backend-form-add")}:visible`);

    await page.fill(byTestId("bf-name-add"), "bad/name");
    await waitForText(page, "bf-name-error-add", /plain name/);
    assert.equal(await page.getAttribute(byTestId("bf-name-add"), "aria-invalid"), "true");
    await page.fill(byTestId("bf-name-add"), "..");
    await waitForText(page, "bf-name-error-add", /plain name/);
    await page.fill(byTestId("bf-name-add"), "alpha");
    await waitForText(page, "bf-name-error-add", /already the name/);
    await page.fill(byTestId("bf-ttl-add"), "-1");
    await waitForText(page, "bf-ttl-error-add", /Whole seconds/);
    await page.fill(byTestId("bf-spawn-add"), "llama-server --port 9999");
    await waitForText(page, "bf-spawn-error-add", /--port/);
    assert.ok(await hiddenOrEmpty(page, "bf-path-error-add"), "an untouched field shows no problem yet");

    await page.click(byTestId("bf-submit-add"));
    await waitForText(page, "bf-path-error-add", /Required/);
    await waitForText(page, "bf-status-add", /Not saved/);
    assert.deepEqual((await entries()).map((m) => m.name), ["alpha"], "nothing was sent");

    await page.fill(byTestId("bf-name-add"), "beta");
    await page.fill(byTestId("bf-path-add"), path.join(root.dir, "beta.gguf"));
    await page.fill(byTestId("bf-aliases-add"), "b1, b2");
    await page.fill(byTestId("bf-group-add"), "g1");
    await page.fill(byTestId("bf-ttl-add"), "60");
    await page.fill(byTestId("bf-spawn-add"), "");
    for (const field of ["name", "path", "ttl", "spawn"]) assert.ok(await hiddenOrEmpty(page, `bf-${field}-error-add`), `${field} is fine now`);
    await screenshot(page, "models-backend-form-add");
    await page.click(byTestId("bf-submit-add"));
    await waitForText(page, "bf-status-add", "Added beta.", 20000);
    await page.waitForSelector(byTestId("model-beta"));
    assert.match(await page.textContent(byTestId("model-beta")), /own backend · group g1/);
    const saved = await entry("beta");
    assert.deepEqual(
      { name: saved.name, path: saved.path, state: saved.state, group: saved.group, aliases: saved.aliases, ttl: saved.ttl, spawn: saved.spawn ?? null },
      { name: "beta", path: path.join(root.dir, "beta.gguf"), state: "manual", group: "g1", aliases: ["b1", "b2"], ttl: 60, spawn: null },
    );
    assert.equal(await page.inputValue(byTestId("bf-name-add")), "", "the form is empty for the next one");

    // What only the server knows shows at its field: a file outside the roots, a command without the admin token.
    await page.fill(byTestId("bf-name-add"), "gamma");
    await page.fill(byTestId("bf-path-add"), path.join(outside.dir, "other.gguf"));
    await page.click(byTestId("bf-submit-add"));
    await waitForText(page, "bf-path-error-add", /outside models\.directory/, 20000);
    await page.fill(byTestId("bf-path-add"), path.join(root.dir, "alpha.gguf"));
    await page.fill(byTestId("bf-spawn-add"), "llama-server -c 512");
    await page.click(byTestId("bf-submit-add"));
    await waitForText(page, "bf-spawn-error-add", /cannot change: read-only without security\.adminToken/, 20000);
    assert.equal(await entry("gamma"), undefined);
    await assertNoOverflow(page, "models-backend-form-phone");
  });
});

test("a backend's details hold its settings: edited with models:update, the path read-only, refusals at their field", async () => {
  await withBrowserPage(browser, async (page) => {
    await page.goto(`${server.url}/models`);
    await page.click(byTestId("details-beta"));
    await page.waitForFunction((sel) => document.querySelector(sel)?.value === "b1, b2", byTestId("bf-aliases-beta"));
    assert.equal(await page.inputValue(byTestId("bf-group-beta")), "g1");
    assert.equal(await page.inputValue(byTestId("bf-ttl-beta")), "60");
    assert.equal(await page.getAttribute(byTestId("bf-name-beta"), "readonly"), null, "the name can change here");
    assert.equal(await page.getAttribute(byTestId("bf-path-beta"), "readonly"), "", "the file cannot: a new file is a new backend");

    await page.fill(byTestId("bf-ttl-beta"), "1.5");
    await waitForText(page, "bf-ttl-error-beta", /Whole seconds/);
    await page.fill(byTestId("bf-aliases-beta"), "b1, alpha");
    await waitForText(page, "bf-aliases-error-beta", /'alpha' is used/);
    await page.fill(byTestId("bf-aliases-beta"), "b1, b3");
    await page.fill(byTestId("bf-ttl-beta"), "120");
    await page.fill(byTestId("bf-group-beta"), "g2");
    await page.click(byTestId("bf-submit-beta"));
    await waitForText(page, "bf-status-beta", /^Saved: group, aliases, ttl\./, 20000);
    const edited = await listed("beta");
    assert.equal(edited.group, "g2");
    assert.deepEqual(edited.aliases, ["b1", "b3"]);
    assert.equal(edited.ttlSec, 120);
    assert.match(await page.textContent(byTestId("model-beta")), /own backend · group g2/);

    await page.click(byTestId("bf-submit-beta"));
    await waitForText(page, "bf-status-beta", "Nothing changed.");

    await page.fill(byTestId("bf-spawn-beta"), "llama-server\n-c\n2048");
    await page.click(byTestId("bf-submit-beta"));
    await waitForText(page, "bf-spawn-error-beta", /cannot change: read-only without security\.adminToken/, 20000);
    assert.equal((await entry("beta")).spawn ?? null, null);
    await page.fill(byTestId("bf-spawn-beta"), "");

    // Pinning from the form: the row shows it at once.
    await page.check(byTestId("bf-pinned-beta"));
    await page.click(byTestId("bf-submit-beta"));
    await waitForText(page, "bf-status-beta", /^Saved: pinned\./, 20000);
    await page.waitForSelector(`${byTestId("pinned-beta")}:visible`);
    assert.equal(await page.getAttribute(byTestId("pin-beta"), "aria-pressed"), "true");
    assert.equal((await entry("beta")).pinned, true);
    await page.click(byTestId("pin-beta"));
    await page.waitForSelector(byTestId("pinned-beta"), { state: "hidden" });
    await until(async () => (await listed("beta")).pinned === false, { what: "beta unpinned" });
    assert.equal(await page.isChecked(byTestId("bf-pinned-beta")), false, "the form follows the row's pin");
    await screenshot(page, "models-backend-details");
  });
});

test("a backend is renamed and given a projector from its form; a projector outside the roots is refused at its field", async () => {
  await withBrowserPage(browser, async (page) => {
    await page.goto(`${server.url}/models`);
    await page.click(byTestId("details-alpha"));
    await page.waitForFunction((sel) => document.querySelector(sel)?.value === "alpha", byTestId("bf-name-alpha"));
    await page.fill(byTestId("bf-mmproj-alpha"), path.join(outside.dir, "other.gguf"));
    await page.click(byTestId("bf-submit-alpha"));
    await waitForText(page, "bf-mmproj-error-alpha", /read-only without security\.adminToken/, 20000);
    assert.equal((await entry("alpha")).mmproj, undefined, "nothing saved");

    writeFileSync(path.join(root.dir, "mmproj-alpha.gguf"), "GGUF");
    await page.fill(byTestId("bf-mmproj-alpha"), path.join(root.dir, "mmproj-alpha.gguf"));
    await page.fill(byTestId("bf-name-alpha"), "alpha-2");
    await page.click(byTestId("bf-submit-alpha"));
    await page.waitForSelector(byTestId("model-alpha-2"), { timeout: 20000 });
    await page.waitForSelector(byTestId("model-alpha"), { state: "detached" });
    const saved = await entry("alpha-2");
    assert.equal(saved.mmproj, path.join(root.dir, "mmproj-alpha.gguf"));
    assert.equal(saved.path, path.join(root.dir, "alpha.gguf"), "the same file under its new name");
    assert.equal(await entry("alpha"), undefined);
    const { model } = await ok(client.socket, "models:update", { id: "alpha-2", changes: { name: "alpha" } });
    assert.equal(model.id, "alpha", "and back over the socket");
  });
});

test("deleting a file outside the models directory and the cache is refused inline; removing a backend keeps its file", async () => {
  await withBrowserPage(browser, async (page) => {
    await page.goto(`${server.url}/models`);
    await page.click(byTestId("details-alpha"));
    await page.click(byTestId("delete-alpha"));
    await page.waitForSelector(`${byTestId("delete-dialog")}[open]`);
    assert.equal(await page.textContent(byTestId("delete-path")), path.join(root.dir, "alpha.gguf"));
    assert.equal(await page.textContent(byTestId("delete-size")), "4 B");
    await page.click(`${byTestId("delete-dialog")} ${byTestId("confirm-ok")}`);
    await waitForText(page, "manage-error-alpha", /^Not deleted: .*not inside models\.directory or the Hugging Face cache/, 20000);
    assert.ok(existsSync(path.join(root.dir, "alpha.gguf")));

    await page.click(byTestId("details-beta"));
    await page.click(byTestId("remove-beta"));
    await page.waitForSelector(`${byTestId("remove-dialog")}[open]`);
    await page.click(`${byTestId("remove-dialog")} ${byTestId("confirm-cancel")}`);
    await page.waitForSelector(byTestId("remove-dialog"), { state: "detached" });
    assert.ok(await entry("beta"), "cancel removes nothing");
    await page.click(byTestId("remove-beta"));
    await page.click(`${byTestId("remove-dialog")} ${byTestId("confirm-ok")}`);
    await waitForText(page, "models-notice", "Removed beta from the own backends.", 20000);
    await page.waitForSelector(byTestId("model-beta"), { state: "detached" });
    assert.equal(await entry("beta"), undefined);
    assert.ok(existsSync(path.join(root.dir, "beta.gguf")), "the file stays");

    await page.click(byTestId("backends-json"));
    await page.waitForFunction(() => document.title.startsWith("Configuration ·"));
    await page.waitForSelector(`#cfg-backends-models`);
  });
});
