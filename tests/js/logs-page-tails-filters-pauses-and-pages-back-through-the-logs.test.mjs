// The Logs page in a real browser, against the real server started without llama-server (its router then
// fails to start, which logs a warning and an error): stored lines newest first, a line logged now appears
// without a reload, the level / source / model / search filters (in the URL, deep links included), pause
// and resume with the count of new lines, "Load older" paging with the `before` cursor, the cap on rows
// kept in the page, and text-only rendering. Normal operation logs no console error. Screenshots (laptop,
// phone, light theme) land in tests/js/artifacts/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { startServer, repoRoot } from "./lib/server.mjs";
import { connect, ok, sleep, until } from "./lib/socket.mjs";
import { launchBrowser, openPage, screenshot, waitForText, byTestId, PHONE, LAPTOP, assertNoOverflow, withBrowserPage } from "./lib/browser.mjs";

const ROWS = `${byTestId("logs-table")} tbody tr`;
const LEVELS = ["error", "warn", "info", "debug", "trace"];
let server, browser, client;

before(async () => {
  server = await startServer();
  client = await connect(server.url);
  // The router's failed start is logged at boot; wait until it is stored.
  await until(async () => {
    const { logs } = await ok(client.socket, "logs:get", { level: "error", limit: 10 });
    return logs.length > 0;
  }, { timeoutMs: 10000, what: "the router's start failure in the log" });
  browser = await launchBrowser();
});

after(async () => {
  client?.close();
  await browser?.close();
  await server?.stop();
});

const withPage = (body, opts) => withBrowserPage(browser, body, opts);

async function openLogs(page, query = "") {
  await page.goto(`${server.url}/logs${query}`);
  await waitForText(page, "connection", "Connected");
  await page.waitForSelector(`${byTestId("logs-table")}:not([aria-busy])`, { state: "attached" });
}

/** One line of the server's log at info level, with `key` in its message ("settings updated keys=[...]"). */
async function logLine(key = "retentionDays") {
  const values = { retentionDays: 7, logsMaxRows: 100000, metricsIntervalMs: 2000 };
  await ok(client.socket, "settings:update", { settings: { [key]: values[key] } });
}

/**
 * One line at warn level: a new unreadable GGUF in the models directory (./models in the server's cwd),
 * listed by models:list. Returns the file's id, the line's model.
 */
let badFiles = 0;
async function warnLine() {
  const id = `not-a-gguf-${++badFiles}`;
  mkdirSync(path.join(server.work, "models"), { recursive: true });
  writeFileSync(path.join(server.work, "models", `${id}.gguf`), "this is not a GGUF file");
  await ok(client.socket, "models:list", {});
  return id;
}

/** The rows shown: id, level, source, model and message. */
function rows(page) {
  return page.$$eval(ROWS, (trs) => trs.map((tr) => ({
    id: Number(tr.dataset.logId),
    level: tr.dataset.level,
    badge: tr.querySelector("[data-testid=log-level]")?.textContent.trim(),
    source: tr.querySelector(".log__source")?.textContent.trim(),
    model: tr.querySelector(".log__model")?.textContent.trim(),
    message: tr.querySelector("[data-testid=log-message]")?.textContent,
  })));
}

/** Waits until check(rows) holds (no load in flight); returns the rows. */
async function waitForRows(page, check, what, timeout = 10000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const busy = await page.getAttribute(byTestId("logs-table"), "aria-busy");
    const list = await rows(page);
    if (busy === null && check(list)) return list;
    if (Date.now() > deadline) throw new Error(`log rows never ${what}: ${JSON.stringify(list.slice(0, 20))}`);
    await sleep(100);
  }
}

function assertNewestFirst(list) {
  for (let i = 1; i < list.length; i++) assert.ok(list[i].id < list[i - 1].id, `ids not strictly descending at ${i}: ${list.map((r) => r.id)}`);
}

test("the Logs page shows the stored lines newest first, and a line logged now appears without a reload", async () => {
  await withPage(async (page) => {
    await page.goto(server.url);
    await waitForText(page, "connection", "Connected");
    await page.click("nav a[href='/logs']");
    await page.waitForSelector("h1:text('Logs')");
    assert.equal(await page.title(), "Logs · llama-dashboard");
    assert.equal(await page.getAttribute("nav a[href='/logs']", "aria-current"), "page");

    const list = await waitForRows(page, (l) => l.length >= 5, "showed the startup lines");
    assertNewestFirst(list);
    for (const r of list) {
      assert.ok(LEVELS.includes(r.level), `level: ${JSON.stringify(r)}`);
      assert.equal(r.badge, r.level, "the level is written in the badge");
      assert.ok(r.source.length > 0, `source: ${JSON.stringify(r)}`);
    }
    const failure = list.find((r) => r.level === "error");
    assert.ok(failure, "the router's start failure is shown");
    assert.match(failure.message, /llama-server/);
    assert.ok(list.some((r) => r.level === "warn"), "warnings are shown");
    assert.ok(await page.$("#logs-sources option[value='db']"), "the sources seen so far are suggested");
    assert.match(await page.textContent(byTestId("logs-summary")), /^\d+ lines shown, newest first$/);
    assert.equal(await page.textContent(byTestId("logs-pause")), "Pause");
    assert.equal(await page.isVisible(byTestId("logs-new")), false);
    assert.equal(await page.isVisible(byTestId("logs-older")), false, "no older lines beyond the first page yet");

    await page.evaluate(() => { window.sameDocument = true; });
    const top = list[0].id;
    await logLine("retentionDays");
    const live = await waitForRows(page, (l) => l[0].id > top && /settings updated/.test(l[0].message), "showed the new line live");
    assert.equal(live[0].level, "info");
    assert.equal(live[0].source, "live");
    assert.match(live[0].message, /keys=\["retentionDays"\]/);
    assert.deepEqual(live.slice(1).map((r) => r.id), list.map((r) => r.id), "the new line is prepended, the others stay");
    assert.equal(await page.evaluate(() => window.sameDocument), true, "no reload");
    // The live region tells how many lines arrived (once, not per line).
    await waitForText(page, "logs-announce", /^\d+ new log lines?$/, 10000);
    assert.equal(await page.getAttribute(byTestId("logs-announce"), "aria-live"), "polite");

    await screenshot(page, "logs-page");
    await assertNoOverflow(page, "logs-phone");
  });
});

test("the level, source, model and search filters narrow the view, live lines included, and live in the URL", async () => {
  await withPage(async (page) => {
    await openLogs(page);
    await waitForRows(page, (l) => l.length >= 5, "showed the startup lines");

    await page.selectOption(byTestId("logs-filter-level"), "error");
    let list = await waitForRows(page, (l) => l.length >= 1 && l.every((r) => r.level === "error"), "showed only errors");
    assert.equal(new URL(page.url()).searchParams.get("level"), "error", "the level is in the URL");
    const errors = list.length;
    // A filter change is announced once with the number of lines shown.
    await waitForText(page, "logs-announce", `Showing ${errors} line${errors === 1 ? "" : "s"}`);
    assert.ok(list.every((r) => r.level === "error"));

    await page.selectOption(byTestId("logs-filter-level"), "warn");
    list = await waitForRows(page, (l) => l.some((r) => r.level === "warn") && l.every((r) => ["warn", "error"].includes(r.level)), "showed warnings and errors");
    // A live info line, then a live warning (the marker): once the warning shows, the info line was passed over.
    const shown = list.length;
    await logLine("retentionDays");
    const marker = await warnLine();
    list = await waitForRows(page, (l) => l.some((r) => r.model === marker && r.level === "warn"), "showed the live warning");
    assert.equal(list.length, shown + 1, `only the warning was added under level=warn: ${JSON.stringify(list.slice(0, 3))}`);
    assert.ok(list.every((r) => ["warn", "error"].includes(r.level)), "a live info line is not shown under level=warn");

    // A deep link restores every filter.
    await openLogs(page, "?level=info&source=live&model=smol");
    assert.equal(await page.inputValue(byTestId("logs-filter-level")), "info");
    assert.equal(await page.inputValue(byTestId("logs-filter-source")), "live");
    assert.equal(await page.inputValue(byTestId("logs-filter-model")), "smol", "a model from the URL is offered even when unknown");
    await page.waitForSelector(`${byTestId("logs-empty")}:visible`);
    assert.equal(await page.textContent(byTestId("logs-empty")), "No log lines match these filters.");
    await page.selectOption(byTestId("logs-filter-model"), "");
    list = await waitForRows(page, (l) => l.length >= 1 && l.every((r) => r.source === "live"), "showed only source=live");
    assert.equal(new URL(page.url()).search, "?level=info&source=live");

    // Clicking a row's source narrows the view to it.
    await page.click(byTestId("logs-clear"));
    await waitForRows(page, (l) => l.some((r) => r.source !== "live"), "showed every source again");
    assert.equal(new URL(page.url()).search, "", "defaults leave the URL clean");
    await page.click(`${ROWS}[data-level=error] [data-testid=log-source]`);
    const source = await page.inputValue(byTestId("logs-filter-source"));
    assert.ok(source.length > 0);
    await waitForRows(page, (l) => l.length >= 1 && l.every((r) => r.source === source), `showed only source=${source}`);
    assert.equal(new URL(page.url()).searchParams.get("source"), source);

    // Enter applies a typed source at once.
    await page.click(byTestId("logs-clear"));
    await page.fill(byTestId("logs-filter-source"), "db");
    await page.press(byTestId("logs-filter-source"), "Enter");
    const migrations = readdirSync(path.join(repoRoot, "migrations")).filter((f) => f.endsWith(".sql")).length;
    await waitForRows(page, (l) => l.length === migrations && l.every((r) => r.source === "db"), `showed the ${migrations} migrations of source=db`);
    assert.equal(new URL(page.url()).searchParams.get("source"), "db");

    // Search is server-side and case-insensitive; typing applies on its own.
    await page.click(byTestId("logs-clear"));
    await page.fill(byTestId("logs-filter-search"), "RETENTIONDAYS");
    list = await waitForRows(page, (l) => l.length >= 2 && l.every((r) => /retentionDays/.test(r.message)), "showed only the searched lines");
    assert.equal(new URL(page.url()).searchParams.get("search"), "RETENTIONDAYS");
    await logLine("metricsIntervalMs"); // does not match the search
    await logLine("retentionDays"); // matches
    const top = list[0].id;
    list = await waitForRows(page, (l) => l[0].id > top, "showed the matching live line");
    assert.ok(list.every((r) => /retentionDays/.test(r.message)), "the non-matching live line is not shown");
    await page.fill(byTestId("logs-filter-search"), "no line says this zq7");
    await page.waitForSelector(`${byTestId("logs-empty")}:visible`);
  });
});

test("Pause holds new lines and counts them; Resume shows them", async () => {
  await withPage(async (page) => {
    await openLogs(page, "?search=logsMaxRows");
    await page.waitForSelector(`${byTestId("logs-table")}:not([aria-busy])`, { state: "attached" });
    const before = await rows(page);
    // Keyboard: the pause button is a real button.
    await page.focus(byTestId("logs-pause"));
    await page.keyboard.press("Enter");
    await waitForText(page, "logs-pause", "Resume");
    assert.equal(await page.getAttribute(byTestId("logs-live"), "data-state"), "paused");

    for (let i = 0; i < 3; i++) await logLine("logsMaxRows");
    await waitForText(page, "logs-new", "3 new");
    assert.equal((await rows(page)).length, before.length, "held lines are not shown while paused");
    await waitForText(page, "logs-announce", "3 new log lines while paused", 10000);

    await page.click(byTestId("logs-new")); // "3 new" resumes too
    const list = await waitForRows(page, (l) => l.length === before.length + 3, "showed the held lines");
    assertNewestFirst(list);
    assert.ok(list.slice(0, 3).every((r) => /logsMaxRows/.test(r.message)));
    assert.equal(await page.textContent(byTestId("logs-pause")), "Pause");
    assert.equal(await page.isVisible(byTestId("logs-new")), false);

    // Following again: the next line shows at once.
    await logLine("logsMaxRows");
    await waitForRows(page, (l) => l.length === before.length + 4, "showed the next line live");
  });
});

test("Load older pages back with the `before` cursor while there are more lines", async () => {
  const { logs: existing } = await ok(client.socket, "logs:get", { search: "keys=[\"metricsIntervalMs\"]", limit: 1000 });
  for (let i = existing.length; i < 130; i++) await logLine("metricsIntervalMs");
  // Lines are stored by a writer in batches: wait until the last ones are in.
  const all = await until(async () => {
    const { logs } = await ok(client.socket, "logs:get", { search: "keys=[\"metricsIntervalMs\"]", limit: 1000 });
    return logs.length >= 130 && logs;
  }, { what: "130 stored lines" });
  await withPage(async (page) => {
    await openLogs(page, `?search=${encodeURIComponent("keys=[\"metricsIntervalMs\"]")}`);
    const first = await waitForRows(page, (l) => l.length === 100, "showed the first page of 100");
    assert.deepEqual(first.map((r) => r.id), all.slice(0, 100).map((r) => r.id));
    assert.match(await page.textContent(byTestId("logs-summary")), /older lines available/);
    await page.focus(byTestId("logs-older"));
    await page.keyboard.press("Enter");
    const more = await waitForRows(page, (l) => l.length === all.length, "showed the older page");
    assert.deepEqual(more.map((r) => r.id), all.map((r) => r.id), "older lines join on without gaps or repeats");
    await waitForText(page, "logs-older", "No older lines");
    assert.equal(await page.getAttribute(byTestId("logs-older"), "aria-disabled"), "true");
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), "logs-older", "focus stays on the button");
  });
});

test("at most 1000 live rows stay in the page, and messages are shown as text", async () => {
  await withPage(async (page) => {
    await openLogs(page, "?search=settings");
    const start = await waitForRows(page, (l) => l.length > 0, "showed lines");
    // 1100 lines through the page's own broadcast path (the server logs no such bursts on demand).
    const top = await page.evaluate(({ from }) => {
      const { state } = window.llamaDashboard;
      const now = Date.now();
      let id = from;
      for (let i = 0; i < 1100; i++) {
        id += 1;
        state._onBroadcast("logs:entry", { entry: { id, timestamp: now, level: "info", source: "live", model: null, message: `settings burst ${i}` } });
      }
      id += 1;
      state._onBroadcast("logs:entry", {
        entry: { id, timestamp: now, level: "warn", source: "live", model: "m<i>x</i>", message: "settings <img src=x onerror=window.pwned=1> & <b>bold</b>\n  second line" },
      });
      return id;
    }, { from: start[0].id + 1_000_000 });
    const list = await waitForRows(page, (l) => l[0]?.id === top, "showed the burst");
    assert.equal(list.length, 1000, "the oldest rows were dropped");
    assertNewestFirst(list);
    assert.equal(list[0].message, "settings <img src=x onerror=window.pwned=1> & <b>bold</b>\n  second line");
    assert.equal(list[0].model, "m<i>x</i>");
    assert.equal(await page.$$eval(`${ROWS} img, ${ROWS} b, ${ROWS} i`, (els) => els.length), 0, "no markup from messages");
    assert.equal(await page.evaluate(() => window.pwned), undefined);
    assert.ok(await page.isVisible(byTestId("logs-older")), "the dropped rows can be loaded again");
    assert.ok(await page.$(`${byTestId("logs-filter-model")} option[value="m<i>x</i>"]`), "models seen in lines are offered");
  });
});

test("the light theme and the phone layout", async () => {
  await ok(client.socket, "settings:update", { settings: { theme: "light" } });
  try {
    await withPage(async (page) => {
      await openLogs(page, "?level=warn");
      await waitForRows(page, (l) => l.length >= 2, "showed warnings and errors");
      assert.equal(await page.getAttribute("html", "data-theme"), "light");
      await screenshot(page, "logs-light");
      await page.click(byTestId("logs-pause"));
      await assertNoOverflow(page, "logs-light-phone");
    });
  } finally {
    await ok(client.socket, "settings:update", { settings: { theme: "dark" } });
  }
});
