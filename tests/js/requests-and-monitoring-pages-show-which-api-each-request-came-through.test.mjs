// Which API a request came in through, in a real browser against the real server (fake llama-server as its
// router): one request each through OpenAI's `/v1/chat/completions`, Ollama's `/api/chat` and Anthropic's
// `/v1/messages` (which the fake does not serve: recorded as an error, still under its API). The Requests page
// names the API on each row; the Monitoring page counts the requests per API with their share.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWithFake, chat, waitRows } from "./lib/fake-router.mjs";
import { launchBrowser, withBrowserPage, byTestId } from "./lib/browser.mjs";

let ctx, browser, base;

before(async () => {
  ctx = await startWithFake({ env: { FAKE_TOKENS: "3", FAKE_TOKEN_MS: "1" } });
  base = ctx.server.url;
  browser = await launchBrowser();
  const openai = await chat(ctx.v1, { model: "fake-a" });
  assert.equal(openai.status, 200, await openai.text());
  const ollama = await fetch(`${base}/api/chat`, {
    method: "POST", body: JSON.stringify({ model: "fake-a", stream: false, messages: [{ role: "user", content: "hi" }] }),
  });
  assert.equal(ollama.status, 200, await ollama.text());
  const anthropic = await fetch(`${ctx.v1}/messages`, {
    method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "fake-b", max_tokens: 4, messages: [{ role: "user", content: "hi" }] }),
  });
  await anthropic.text();
  const rows = await waitRows(ctx.socket, {}, 3);
  assert.deepEqual(rows.map((r) => [r.endpoint, r.api]).sort(), [["/api/chat", "ollama"], ["/v1/chat/completions", "openai"], ["/v1/messages", "anthropic"]]);
});

after(async () => {
  await browser?.close();
  await ctx?.stop();
});

test("the Requests page names each request's API beside its endpoint", async () => {
  await withBrowserPage(browser, async (page) => {
    await page.goto(`${base}/requests`);
    await page.waitForFunction((sel) => document.querySelectorAll(sel).length >= 3, byTestId("request-api"));
    const shown = await page.$$eval(byTestId("request-api"), (els) => els.map((e) => [e.dataset.api, e.parentElement.textContent.trim()]));
    const byApi = Object.fromEntries(shown);
    assert.match(byApi.openai, /^OpenAI · \/v1\/chat\/completions/);
    assert.match(byApi.ollama, /^Ollama · \/api\/chat/);
    assert.match(byApi.anthropic, /^Anthropic · \/v1\/messages/);
  });
});

test("the Monitoring page counts the requests per API with their share", async () => {
  await withBrowserPage(browser, async (page) => {
    await page.goto(`${base}/monitoring`);
    await page.waitForSelector(`${byTestId("mon-apis-table")} tbody tr`);
    const rows = await page.$$eval(`${byTestId("mon-apis-table")} tbody tr`, (trs) => trs.map((tr) => ({
      api: tr.dataset.api,
      cells: [...tr.children].map((c) => c.textContent.trim()),
      share: Number(tr.querySelector("meter")?.value),
    })));
    assert.deepEqual(rows.map((r) => r.api).sort(), ["anthropic", "ollama", "openai"]);
    for (const r of rows) {
      assert.equal(r.cells[1], "1", JSON.stringify(r));
      assert.equal(r.share, 33, JSON.stringify(r));
    }
    assert.equal(rows.find((r) => r.api === "anthropic").cells[2], "1", "the fake does not serve it: one error");
    assert.equal(rows.find((r) => r.api === "ollama").cells[0], "Ollama");
  });
});
