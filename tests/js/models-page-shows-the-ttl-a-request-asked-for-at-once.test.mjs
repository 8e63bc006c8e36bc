// The TTL a request asks for (a /v1 `ttl`, Ollama's `keep_alive`) shows on the Models page at once, in a real
// browser against the real server with the fake llama-server as its router, and the page's countdown follows
// the new deadline; after the model unloads, the model's own TTL is back on the page.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWithFake, chat } from "./lib/fake-router.mjs";
import { launchBrowser, withBrowserPage, waitForText, byTestId } from "./lib/browser.mjs";
import { describeTtl } from "../../web/js/components/model-ttl.js";

let ctx, browser;

before(async () => {
  ctx = await startWithFake({ env: { FAKE_TOKENS: "2", FAKE_TOKEN_MS: "1" } });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await ctx?.stop();
});

test("a request's ttl and keep_alive show on the Models page as they arrive", async () => {
  await withBrowserPage(browser, async (page) => {
    await page.goto(`${ctx.server.url}/models`);
    await waitForText(page, "ttl-fake-a", describeTtl(0)); // startWithFake: models.idleTimeoutSec 0
    const res = await chat(ctx.v1, { model: "fake-a", ttl: 7200 });
    assert.equal(res.status, 200, await res.text());
    await waitForText(page, "ttl-fake-a", describeTtl(7200));
    await page.waitForFunction((sel) => /unloads in (1h 59m|2h)/.test(document.querySelector(sel)?.textContent || ""), byTestId("unload-in-fake-a"));

    const ollama = await fetch(`${ctx.server.url}/api/chat`, {
      method: "POST", body: JSON.stringify({ model: "fake-a", stream: false, keep_alive: "90s", messages: [{ role: "user", content: "hi" }] }),
    });
    assert.equal(ollama.status, 200, await ollama.text());
    await waitForText(page, "ttl-fake-a", describeTtl(90));

    const unloaded = await fetch(`${ctx.server.url}/models/unload`, { method: "POST", body: JSON.stringify({ model: "fake-a" }) });
    assert.equal(unloaded.status, 200, await unloaded.text());
    await waitForText(page, "ttl-fake-a", describeTtl(0), 15000);
  });
});
