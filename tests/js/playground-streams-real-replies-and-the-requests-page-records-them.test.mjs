// The Playground, Requests, Dashboard requests card and the Models page's idle unload in a real
// browser, against the real server driving a real llama-server with a real model: a streamed chat
// reply with its speed, Stop, the request history (filters, live rows, sorting, totals, queue), a
// rejected request for an unknown model, the TTL countdown and its form, and how the Playground
// shows failures (a stubbed /v1 answer, since the real one does not fail on demand). Normal
// operation logs no console error. Screenshots land in tests/js/artifacts/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { needReal, modelsDir, startWithRealRouter } from "./lib/real.mjs";
import path from "node:path";
import { launchBrowser, openPage, screenshot, waitForText, byTestId, artifactsDir, PHONE, LAPTOP, assertNoOverflow, withBrowserPage } from "./lib/browser.mjs";

const skip = needReal();
const ID = "smol";
const ROWS = `${byTestId("requests-table")} tbody tr`;
let server, browser, models;

before(async () => {
  if (skip) return;
  models = modelsDir(ID);
  server = await startWithRealRouter({
    models: { directory: models.dir, maxLoaded: 1 },
    performance: { contextSize: 1024, parallelSlots: 1 },
    startup: { autoStart: true, timeout: 20000 },
    metrics: { intervalMs: 2000 },
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  models?.cleanup();
});

const withPage = (body, opts) => withBrowserPage(browser, body, opts);

async function openPlayground(page) {
  await page.goto(`${server.url}/playground`);
  await waitForText(page, "connection", "Connected");
  assert.equal(await page.title(), "Playground · llama-dashboard");
  await page.waitForSelector(`${byTestId("pg-model")} option[value="${ID}"]`, { state: "attached" });
  await page.selectOption(byTestId("pg-model"), ID);
}

async function send(page, prompt) {
  await page.fill(byTestId("pg-input"), prompt);
  await page.click(byTestId("pg-send"));
}

/** The visible history rows: id, model, outcome, token counts, total time (ms) and error text. */
function rows(page) {
  return page.$$eval(ROWS, (trs) => trs.map((tr) => {
    const text = (id) => tr.querySelector(`[data-testid="${id}"]`)?.textContent.trim() ?? null;
    const count = (id) => Number((text(id) || "").replace(/,/g, "")) || 0;
    const ms = (t) => (/ ms$/.test(t) ? parseFloat(t) : / s$/.test(t) ? parseFloat(t) * 1000 : NaN);
    return {
      id: tr.dataset.requestId, model: text("request-model"), outcome: tr.dataset.outcome,
      prompt: count("request-prompt"), completion: count("request-completion"),
      totalMs: ms(text("request-total")), error: text("request-error"),
    };
  }));
}

/** Waits until check(rows) holds for the visible rows (and no load is in flight); returns the rows. */
async function waitForRows(page, check, what, timeout = 10000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const busy = await page.getAttribute(byTestId("requests-table"), "aria-busy");
    const list = await rows(page);
    if (busy !== "true" && check(list)) return list;
    if (Date.now() > deadline) throw new Error(`history rows never ${what}: ${JSON.stringify(list)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function waitForRow(page, predicate, what, timeout) {
  return (await waitForRows(page, (list) => list.some(predicate), `had a row ${what}`, timeout)).find(predicate);
}

test("the Playground streams a reply from the real model and shows its speed and token counts", { skip }, async () => {
  await withPage(async (page) => {
    await openPlayground(page);
    const bodies = [];
    page.on("request", (req) => req.url().endsWith("/v1/chat/completions") && bodies.push(req.postDataJSON()));
    await page.fill(byTestId("pg-system"), "You are a friendly assistant.");
    await page.fill(byTestId("pg-max-tokens"), "16");
    await page.fill(byTestId("pg-temperature"), "0");
    await page.fill(byTestId("pg-input"), "Say hello in three words.");
    await page.keyboard.press("Enter"); // Enter sends from the message box

    const assistant = `${byTestId("pg-msg-assistant")} ${byTestId("pg-msg-text")}`;
    await page.waitForFunction((sel) => document.querySelector(sel)?.textContent.trim().length > 0, assistant, { timeout: 120000 });
    const stats = await waitForText(page, "pg-stats", /tok\/s/, 120000);
    assert.match(stats, /^\d+ tokens? · \d+(\.\d)? tok\/s · first token \d/, stats);
    assert.match(stats, /prompt \d+ tokens/, "prompt tokens from usage");
    const generated = Number(stats.match(/^(\d+)/)[1]);
    assert.ok(generated > 0 && generated <= 16, `at most max_tokens generated: ${stats}`);
    assert.ok((await page.textContent(assistant)).trim().length > 0, "streamed text is shown");
    assert.equal(await page.isVisible(byTestId("pg-error")), false);
    assert.ok(await page.isDisabled(byTestId("pg-stop")), "Stop is disabled once the reply ended");
    assert.match(await page.textContent(byTestId("pg-status")), /Reply finished/);

    assert.equal(bodies.length, 1);
    const body = bodies[0];
    assert.equal(body.model, ID);
    assert.equal(body.stream, true);
    assert.deepEqual(body.stream_options, { include_usage: true });
    assert.equal(body.max_tokens, 16);
    assert.equal(body.temperature, 0);
    assert.deepEqual(body.messages.map((m) => m.role), ["system", "user"]);
    await screenshot(page, "playground-reply");
    await assertNoOverflow(page, "playground-phone");
  });
});

test("Stop aborts a long reply, and the request is recorded as cancelled", { skip }, async () => {
  await withPage(async (page) => {
    await openPlayground(page);
    await page.fill(byTestId("pg-max-tokens"), "900");
    await send(page, "Write a very long story about a dragon who learns to bake bread. Use many chapters.");
    const text = `${byTestId("pg-msg-assistant")} ${byTestId("pg-msg-text")}`;
    await page.waitForFunction((sel) => document.querySelector(sel)?.textContent.trim().length > 0, text, { timeout: 120000 });
    await page.click(byTestId("pg-stop"));
    await page.waitForSelector(`${byTestId("pg-stopped")}:visible`);
    assert.equal(await page.isVisible(byTestId("pg-error")), false, "a stop is not an error");
    assert.ok(!(await page.isDisabled(byTestId("pg-send"))), "Send works again");

    await page.goto(`${server.url}/requests?outcome=cancelled`);
    await waitForText(page, "connection", "Connected");
    await waitForRow(page, (r) => r.model === ID && r.outcome === "cancelled", "cancelled for the stopped reply");
  });
});

test("the Requests page lists the real request, filters, sorts, follows live rows and shows the queue", { skip }, async () => {
  await withPage(async (page) => {
    await page.goto(server.url);
    await waitForText(page, "connection", "Connected");
    await waitForText(page, "requests-value", /^[1-9]\d*$/);
    assert.match(await page.textContent(byTestId("requests-queue")), /^0 active · 0 queued$/);
    await page.locator(byTestId("requests-card")).screenshot({ path: path.join(artifactsDir, "dashboard-requests-card.png") });

    await page.click("nav a[href='/requests']");
    await page.waitForSelector("h1:text('Requests')");
    assert.equal(await page.title(), "Requests · llama-dashboard");
    const okRow = await waitForRow(page, (r) => r.model === ID && r.outcome === "ok", "ok for the Playground's request");
    assert.ok(okRow.prompt > 0, `prompt tokens: ${JSON.stringify(okRow)}`);
    assert.ok(okRow.completion > 0, `generated tokens: ${JSON.stringify(okRow)}`);
    assert.equal(okRow.error, null, "no error shown for an ok request");
    assert.match(await page.textContent(byTestId("totals-requests")), /^[1-9]/);
    assert.match(await page.textContent(byTestId("totals-completionTokens")), /^[1-9]/);
    assert.match(await page.textContent(byTestId("totals-avgTokensPerSecond")), /tok\/s$/);
    await page.waitForSelector(byTestId(`queue-${ID}`));
    assert.equal((await page.textContent(`${byTestId(`queue-${ID}`)} ${byTestId("queue-active")}`)).trim(), "0 / 1");

    await page.selectOption(byTestId("filter-outcome"), "error");
    await page.waitForSelector(`${byTestId("requests-empty")}:visible`);
    assert.equal((await rows(page)).length, 0, "no ok row under outcome=error");
    assert.equal(new URL(page.url()).searchParams.get("outcome"), "error", "filters are in the URL");

    // A request for a model nobody serves is refused before reaching a model, and arrives live.
    await page.selectOption(byTestId("filter-outcome"), "rejected");
    await page.waitForSelector(`${byTestId("requests-empty")}:visible`);
    const refused = await fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ model: "no-such-model", messages: [{ role: "user", content: "hi" }] }),
    });
    assert.equal(refused.status, 404);
    const rejected = await waitForRow(page, (r) => r.model === "no-such-model", "for the unknown model (live)");
    assert.equal(rejected.outcome, "rejected");
    assert.match(rejected.error, /no-such-model/);
    await page.click(`${ROWS}[data-outcome=rejected] ${byTestId("request-error")} summary`);
    assert.ok(await page.isVisible(`${ROWS}[data-outcome=rejected] ${byTestId("request-error")} p`), "the error expands");
    assert.ok((await rows(page)).every((r) => r.outcome === "rejected"));

    await page.selectOption(byTestId("filter-outcome"), "");
    await page.selectOption(byTestId("filter-model"), ID);
    await waitForRows(page, (list) => list.length >= 2 && list.every((r) => r.model === ID), "showed only the chosen model");
    await page.selectOption(byTestId("filter-model"), "");
    await waitForRows(page, (list) => list.length >= 3, "showed every model again");

    await page.click(byTestId("sort-totalMs"));
    await page.waitForSelector("th[aria-sort=descending] [data-testid=sort-totalMs]");
    const desc = (await rows(page)).map((r) => r.totalMs);
    assert.deepEqual(desc, [...desc].sort((a, b) => b - a), `longest first: ${desc}`);
    await page.keyboard.press("Enter"); // focus stays on the header button: the keyboard flips the order
    await page.waitForSelector("th[aria-sort=ascending] [data-testid=sort-totalMs]");
    const asc = (await rows(page)).map((r) => r.totalMs);
    assert.deepEqual(asc, [...asc].sort((a, b) => a - b), `shortest first: ${asc}`);
    assert.match(await page.textContent(byTestId("pager-text")), /^Showing 1–\d+ of \d+$/);
    assert.ok(await page.isDisabled(byTestId("page-newer")));
    await screenshot(page, "requests-laptop");
    await assertNoOverflow(page, "requests-phone");
  });
});

test("the Models page counts down to the idle unload and changes the model's TTL", { skip }, async () => {
  await withPage(async (page) => {
    await page.goto(`${server.url}/models`);
    await waitForText(page, "connection", "Connected");
    await page.waitForSelector(`${byTestId(`status-${ID}`)}[data-state=loaded]`);
    await waitForText(page, `ttl-${ID}`, "TTL 5m 00s"); // models.idleTimeoutSec's default
    const first = await waitForText(page, `unload-in-${ID}`, /^unloads in [1-5]m \d\ds$/);
    await page.waitForFunction(({ sel, first }) => document.querySelector(sel).textContent !== first,
      { sel: byTestId(`unload-in-${ID}`), first }, { timeout: 3000 });

    await page.click(byTestId(`details-${ID}`));
    await page.fill(byTestId(`ttl-input-${ID}`), "0");
    await page.click(byTestId(`ttl-save-${ID}`));
    await waitForText(page, `ttl-status-${ID}`, "Saved");
    await waitForText(page, `ttl-${ID}`, "TTL off");
    await waitForText(page, `unload-in-${ID}`, "never");

    await page.fill(byTestId(`ttl-input-${ID}`), "120");
    await page.press(byTestId(`ttl-input-${ID}`), "Enter");
    await waitForText(page, `ttl-${ID}`, "TTL 2m 00s");
    await waitForText(page, `unload-in-${ID}`, /^unloads in (2m 00s|1m \d\ds)$/);
    await screenshot(page, "models-ttl");

    await page.fill(byTestId(`ttl-input-${ID}`), "-5");
    await page.click(byTestId(`ttl-save-${ID}`));
    await waitForText(page, `ttl-status-${ID}`, /whole seconds/);
    assert.equal(await page.getAttribute(byTestId(`ttl-input-${ID}`), "aria-invalid"), "true");

    await page.fill(byTestId(`ttl-input-${ID}`), "");
    await page.click(byTestId(`ttl-save-${ID}`));
    await waitForText(page, `ttl-status-${ID}`, /default/);
    await waitForText(page, `ttl-${ID}`, "TTL 5m 00s");
  });
});

test("the Playground shows streamed and HTTP errors in the transcript, as text, and sends the API key", { skip }, async () => {
  const seen = [];
  const replies = [
    { status: 200, contentType: "text/event-stream",
      body: 'data: {"choices":[{"delta":{"content":"<img src=x onerror=window.pwned=1>partial"}}]}\n\n'
        + 'data: {"error":{"message":"the model\'s upstream failed mid-response: boom","type":"server_error"}}\n\n' },
    { status: 401, contentType: "application/json", body: '{"error":{"message":"invalid API key","type":"authentication_error"}}' },
  ];
  await withPage(async (page) => {
    await page.route("**/v1/chat/completions", (route) => {
      seen.push(route.request().headers().authorization);
      route.fulfill(replies[seen.length - 1]);
    });
    await openPlayground(page);
    await page.fill(byTestId("pg-api-key"), "sk-test-key");
    await page.press(byTestId("pg-api-key"), "Tab");
    await send(page, "hello");
    const error = await waitForText(page, "pg-error", /boom/);
    assert.match(error, /upstream failed mid-response: boom/);
    const text = await page.textContent(`${byTestId("pg-msg-assistant")} ${byTestId("pg-msg-text")}`);
    assert.equal(text, "<img src=x onerror=window.pwned=1>partial", "model output is shown as text");
    assert.equal(await page.locator(`${byTestId("pg-transcript")} img`).count(), 0);
    assert.equal(await page.evaluate(() => window.pwned), undefined);

    await send(page, "again");
    await page.waitForFunction((sel) => document.querySelectorAll(sel).length === 2, byTestId("pg-error"));
    const second = (await page.locator(byTestId("pg-error")).nth(1).textContent()).trim();
    assert.equal(second, "HTTP 401: invalid API key");
    assert.deepEqual(seen, ["Bearer sk-test-key", "Bearer sk-test-key"]);
    await screenshot(page, "playground-errors");

    await page.reload();
    await waitForText(page, "connection", "Connected");
    assert.equal(await page.inputValue(byTestId("pg-api-key")), "sk-test-key", "the key is kept in this browser");
  }, { allowed: [/HTTP 401: .*\/v1\/chat\/completions/, /Failed to load resource.*401/] });
});
