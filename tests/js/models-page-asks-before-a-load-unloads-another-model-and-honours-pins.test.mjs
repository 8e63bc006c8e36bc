// Load on the Models page asks the server's planner (models:plan) first, with two own backends of different
// groups on the real llama-server: a load that unloads nothing starts at once; one that would unload the
// running model opens a dialog naming it and the requests it serves, and nothing happens until it is
// confirmed (Cancel changes nothing); a pinned model is never unloaded, so a load that needs it gone is
// refused with the planner's reason and nothing is loaded. A pinned model shows no idle countdown, and a
// loaded model's file cannot be deleted (the button says why).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startBackends, needReal } from "./lib/backends.mjs";
import { ok, until } from "./lib/socket.mjs";
import { launchBrowser, withBrowserPage, waitForText, byTestId, screenshot } from "./lib/browser.mjs";

const skip = needReal();
let ctx, browser;

before(async () => {
  if (skip) return;
  ctx = await startBackends({ models: [{ name: "a", group: "one" }, { name: "b", group: "two" }], backends: { idleTimeoutSec: 600 } });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await ctx?.stop();
});

async function waitForState(page, id, state, timeout = 60000) {
  await page.waitForFunction(({ sel, state }) => document.querySelector(sel)?.dataset.state === state,
    { sel: byTestId(`status-${id}`), state }, { timeout });
}

test("Load asks first when it would unload another model, refuses past a pin, and loads at once otherwise", { skip, timeout: 180000 }, async () => {
  await withBrowserPage(browser, async (page) => {
    await page.goto(`${ctx.server.url}/models`);
    await waitForState(page, "a", "unloaded", 10000);

    // Nothing to unload: no dialog, it loads.
    await page.click(byTestId("load-a"));
    await waitForState(page, "a", "loaded");
    assert.equal(await page.$(byTestId("plan-dialog")), null, "no dialog when nothing is unloaded");
    await page.waitForSelector(`${byTestId("unload-in-a")}:visible`);

    // A loaded model's file cannot be deleted; the button says why.
    await page.click(byTestId("details-a"));
    assert.equal(await page.isDisabled(byTestId("delete-a")), true);
    await waitForText(page, "delete-hint-a", "Unload a first: a loaded model's file cannot be deleted.");

    // Pinned: no countdown, and loading b (which needs a gone) is refused with the planner's reason.
    await page.click(byTestId("pin-a"));
    await page.waitForSelector(`${byTestId("pinned-a")}:visible`);
    await page.waitForSelector(byTestId("unload-in-a"), { state: "hidden" });
    await waitForText(page, "ttl-a", "pinned: no idle unload");
    const refused = await ok(ctx.socket, "models:plan", { id: "b" });
    assert.equal(refused.fits, false, JSON.stringify(refused));
    assert.deepEqual(refused.blockedBy, ["a"]);
    await page.click(byTestId("load-b"));
    await waitForText(page, "action-error-b", refused.refused);
    assert.match(refused.refused, /\ba\b/, "the reason names the pinned model");
    assert.equal(await page.$(byTestId("plan-dialog")), null, "a refused plan asks nothing");
    assert.equal((await ctx.model("b")).status, "unloaded");
    assert.deepEqual(ctx.running(), ["a"]);
    await screenshot(page, "models-load-refused-by-a-pin");

    // Unpinned: loading b asks first, naming a and what it serves.
    await page.click(byTestId("pin-a"));
    await page.waitForSelector(byTestId("pinned-a"), { state: "hidden" });
    await until(async () => (await ctx.model("a")).pinned === false, { what: "a unpinned" });
    await page.click(byTestId("load-b"));
    await page.waitForSelector(`${byTestId("plan-dialog")}[open]`);
    const lines = await page.$$eval(`${byTestId("plan-evicts")} li`, (els) => els.map((el) => [el.dataset.model, el.textContent]));
    assert.equal(lines.length, 1, JSON.stringify(lines));
    assert.equal(lines[0][0], "a");
    assert.match(lines[0][1], /^Loading b will unload a, which is serving 0 requests \(0 queued\)\./);
    assert.match(await page.textContent(byTestId("plan-summary")), /\bb\b.*\ba\b/);
    await screenshot(page, "models-load-asks-before-unloading");
    await page.click(byTestId("confirm-cancel"));
    await page.waitForSelector(byTestId("plan-dialog"), { state: "detached" });
    await page.waitForFunction((sel) => !document.querySelector(sel).disabled, byTestId("load-b"));
    assert.equal((await ctx.model("a")).status, "loaded", "Cancel changes nothing");
    assert.equal((await ctx.model("b")).status, "unloaded");

    // Confirmed: a unloads, then b loads.
    await page.click(byTestId("load-b"));
    await page.waitForSelector(`${byTestId("plan-dialog")}[open]`);
    await page.click(`${byTestId("plan-dialog")} ${byTestId("confirm-ok")}`);
    await waitForState(page, "b", "loaded");
    await waitForState(page, "a", "unloaded");
    assert.equal((await ctx.model("a")).reason, "group swap");
    assert.deepEqual(ctx.running(), ["b"]);
    assert.ok(await page.isEnabled(byTestId("delete-a")), "an unloaded model's file may be deleted");
  });
});
