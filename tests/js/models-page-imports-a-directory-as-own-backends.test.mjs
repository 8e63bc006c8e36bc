// The Models page's import form: a directory inside the configured roots adds its GGUF files as own
// backends (listed at once, with their kind and group); one outside is refused with the server's reason.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { startServer } from "./lib/server.mjs";
import { tempDir } from "./lib/socket.mjs";
import { launchBrowser, openPage, screenshot, waitForText, byTestId } from "./lib/browser.mjs";

let server, browser, root, outside;

before(async () => {
  root = tempDir("lldash-import-root-");
  outside = tempDir("lldash-import-outside-");
  writeFileSync(path.join(root.dir, "tiny-q4.gguf"), "GGUF");
  writeFileSync(path.join(outside.dir, "other.gguf"), "GGUF");
  server = await startServer({ config: { startup: { autoStart: false }, backends: { importRoots: [root.dir] } } });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  root?.cleanup();
  outside?.cleanup();
});

test("importing from the Models page lists the new backend; a directory outside the roots is refused", async () => {
  const { context, page, problems } = await openPage(browser, {});
  try {
    await page.goto(`${server.url}/models`);
    await waitForText(page, "connection", "Connected");
    await page.fill(byTestId("import-dir"), outside.dir);
    await page.click(byTestId("import-submit"));
    await waitForText(page, "import-status", /Not imported: .*must be inside/);
    assert.equal(await page.getAttribute(byTestId("import-dir"), "aria-invalid"), "true");

    await page.fill(byTestId("import-dir"), root.dir);
    await page.click(byTestId("import-submit"));
    await waitForText(page, "import-status", "Added 1: tiny-q4");
    await page.waitForSelector(byTestId("model-tiny-q4"));
    assert.match(await page.textContent(byTestId("model-tiny-q4")), /own backend · group tiny-q4/);
    await screenshot(page, "models-import");
  } finally {
    await context.close();
  }
  assert.deepEqual(problems, [], "the page logged errors or warnings");
});
