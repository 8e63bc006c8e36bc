// Real Chromium against the real server in the default laptop setup (no admin token, no API keys), with
// an own backend model served by the fake llama-server, loaded. A page of another origin
// (http://evil.test:<port>, mapped to 127.0.0.1 by Chromium's host resolver) tries every way a page can
// reach us: a raw WebSocket and the Socket.IO client on both transports, fetch with and without CORS
// (JSON and text/plain bodies), a no-cors GET, and auto-submitted text/plain forms to /admin/reload and
// /v1/chat/completions. A DNS-rebinding page (http://rebind.test:<our port>: same origin as the
// requests it sends, so it could read the answers) tries the same. Every attempt is refused (403, the
// socket never opens) and nothing changes: the backend stays loaded, no request reaches it, the
// requests table and the init file stay as they were, no socket client joins. The dashboard on its own
// origin still works in the same browser. With security.allowedHosts / security.corsOrigins naming
// those pages, the same requests go through, which shows the keys work (and the refusals are the rules').
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { readFileSync } from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";
import { startServer } from "./lib/server.mjs";
import { connect, ok, freePort, tempDir, until } from "./lib/socket.mjs";
import { fakeBackendConfig } from "./lib/fake-router.mjs";
import { openPage, waitForText, byTestId } from "./lib/browser.mjs";

const MODEL = "fake-a";
const SOCKET_PATH = "/llamaproxws";

let browser;
let attacker; // {server, port, origin}
let main; // {server, client, models, fakeUrl}
const cleanups = [];

/**
 * launchBrowser()'s flags plus a host resolver that sends the attacker's names to 127.0.0.1, and without
 * Chromium's Local/Private Network Access checks: Chromium itself would stop a page it considers public
 * (the rebinding page, whose document Playwright fulfils) from reaching a loopback address, but other
 * browsers do not, and this test is about what the server refuses. The tests check that each attempt did
 * reach the server (its status as the network saw it), so a browser-side block cannot pass for the server's.
 */
function launchWithHostRules() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      "--host-resolver-rules=MAP evil.test 127.0.0.1, MAP rebind.test 127.0.0.1",
      "--disable-features=LocalNetworkAccessChecks,BlockInsecurePrivateNetworkRequests,"
        + "PrivateNetworkAccessSendPreflights,PrivateNetworkAccessRespectPreflightResults",
    ],
  });
}

/**
 * The attacker's page. `target` is where it aims ("" = its own origin, as after a DNS rebinding);
 * `vendor` the Socket.IO client script (our static file, loadable cross-origin like any script).
 * `window.attack()` resolves with the outcome of every attempt; the forms are submitted separately.
 */
function attackerHtml({ target, vendor }) {
  const chat = JSON.stringify({ model: MODEL, messages: [{ role: "user", content: "from the attacker" }], max_tokens: 1 });
  // A text/plain form body `NAME=VALUE` that is valid JSON: the classic CSRF trick for JSON APIs.
  const formName = chat.slice(0, -1) + ',"pad":"';
  const attr = (s) => s.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>attacker</title>
<script src="${attr(vendor)}"></script>
</head><body>
<h1>Nothing to see here</h1>
<iframe name="sink-reload"></iframe><iframe name="sink-chat"></iframe>
<form id="form-reload" method="post" enctype="text/plain" target="sink-reload" action="${attr(target)}/admin/reload">
  <input type="hidden" name="confirm" value="yes"></form>
<form id="form-chat" method="post" enctype="text/plain" target="sink-chat" action="${attr(target)}/v1/chat/completions">
  <input type="hidden" name="${attr(formName)}" value='"}'></form>
<script>
const T = ${JSON.stringify(target)};
const BASE = T || location.origin;
const WS = BASE.replace(/^http/, "ws");
const CHAT = ${JSON.stringify(chat)};

async function tryFetch(url, init) {
  try {
    const r = await fetch(url, init);
    let body = null;
    if (r.type !== "opaque") { try { body = await r.text(); } catch {} }
    return { settled: "response", type: r.type, status: r.status, body };
  } catch (e) {
    return { settled: "rejected", error: String(e) };
  }
}

// A raw WebSocket that, if it ever opened, would join the namespace and unload the model.
function tryWebSocket(url) {
  return new Promise((resolve) => {
    const out = { opened: false, joined: false, error: false, code: null, reply: null };
    const ws = new WebSocket(url);
    ws.onopen = () => { out.opened = true; };
    ws.onerror = () => { out.error = true; };
    ws.onmessage = (m) => {
      const d = String(m.data);
      if (d.startsWith("0")) ws.send("40");
      else if (d.startsWith("40")) { out.joined = true; ws.send('421["models:unload",{"id":"${MODEL}"}]'); }
      else if (d.startsWith("431")) { out.reply = d; ws.close(); }
      else if (d === "2") ws.send("3");
    };
    ws.onclose = (e) => { out.code = e.code; resolve(out); };
  });
}

// The real Socket.IO client: connect_error, or (if admitted) an unload attempt.
function trySocketIo(transports) {
  return new Promise((resolve) => {
    const s = io(BASE, { path: "${SOCKET_PATH}", transports, reconnection: false, forceNew: true, timeout: 10000 });
    s.on("connect", () => s.emit("models:unload", { id: "${MODEL}" }, (reply) => { s.close(); resolve({ connected: true, reply }); }));
    s.on("connect_error", (e) => { s.close(); resolve({ connected: false, error: e.message }); });
  });
}

window.attack = async () => {
  const out = {};
  out.websocket = await tryWebSocket(WS + "${SOCKET_PATH}/?EIO=4&transport=websocket");
  out.socketIoPolling = await trySocketIo(["polling"]);
  out.socketIoWebsocket = await trySocketIo(["websocket"]);
  out.pollingHandshakeCors = await tryFetch(T + "${SOCKET_PATH}/?EIO=4&transport=polling");
  out.pollingHandshakeNoCors = await tryFetch(T + "${SOCKET_PATH}/?EIO=4&transport=polling&no-cors=1", { mode: "no-cors" });
  out.healthNoCors = await tryFetch(T + "/health", { mode: "no-cors" });
  out.health = await tryFetch(T + "/health");
  out.dashboard = await tryFetch(T + "/");
  for (const [name, path, body] of [["reload", "/admin/reload", "{}"], ["chat", "/v1/chat/completions", CHAT]]) {
    out[name + "CorsJson"] = await tryFetch(T + path, { method: "POST", headers: { "content-type": "application/json" }, body });
    out[name + "CorsText"] = await tryFetch(T + path, { method: "POST", headers: { "content-type": "text/plain" }, body });
    out[name + "NoCorsText"] = await tryFetch(T + path + "?no-cors=text", { method: "POST", mode: "no-cors", headers: { "content-type": "text/plain" }, body });
    out[name + "NoCorsJson"] = await tryFetch(T + path + "?no-cors=json", { method: "POST", mode: "no-cors", headers: { "content-type": "application/json" }, body });
  }
  return out;
};
window.submitForm = (id) => document.getElementById(id).submit();
window.ready = typeof io === "function";
</script></body></html>`;
}

/** A tiny server for the attacker's origin: its page at `/`. */
async function startAttacker(html) {
  const port = await freePort();
  const server = http.createServer((req, res) => {
    if (req.url === "/" || req.url.startsWith("/?")) {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
      res.end(html());
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise((r) => server.listen(port, "127.0.0.1", r));
  return { server, port, origin: `http://evil.test:${port}` };
}

/** Starts llama-dashboard with one own backend model (the fake llama-server) and a trusted socket client. */
async function startMain(security = {}) {
  const models = tempDir("lldash-sec-browser-");
  const server = await startServer({
    config: await fakeBackendConfig(models.dir, { security }),
    env: { FAKE_TOKENS: "1", FAKE_TOKEN_MS: "1" },
  });
  let client;
  try {
    client = await connect(server.url);
  } catch (err) {
    await server.stop();
    models.cleanup();
    throw err;
  }
  return {
    server, client, models,
    async stop() { client.close(); await server.stop(); models.cleanup(); },
  };
}

async function modelEntry(socket) {
  const { models } = await ok(socket, "models:list", {});
  const m = models.find((x) => x.id === MODEL);
  assert.ok(m, `${MODEL} in models:list: ${JSON.stringify(models.map((x) => x.id))}`);
  return m;
}

async function socketClients(server) {
  const res = await fetch(`${server.url}/metrics`);
  const m = (await res.text()).match(/^llama_dashboard_socket_clients (\d+)$/m);
  assert.ok(m, "/metrics has llama_dashboard_socket_clients");
  return Number(m[1]);
}

/** What an attack could change: checked before and after. */
async function observe() {
  const { server, client } = main;
  const model = await modelEntry(client.socket);
  const fake = await (await fetch(`${main.fakeUrl}/fake/requests`)).json();
  const rows = await ok(client.socket, "requests:list", { limit: 1 });
  return {
    status: model.status,
    port: model.port,
    fakeRequests: fake.requests.map((r) => `${r.method} ${r.path}`),
    requestRows: rows.total,
    initFile: readFileSync(path.join(server.work, "llama-router.init.json"), "utf8"),
    socketClients: await socketClients(server),
    statusBroadcasts: main.client.received.filter((e) => e.event === "models:status" && e.payload?.data?.id === MODEL).length,
  };
}

before(async () => {
  browser = await launchWithHostRules();
  main = await startMain();
  attacker = await startAttacker(() => attackerHtml({ target: main.server.url, vendor: `${main.server.url}/vendor/socket.io.min.js` }));
  // Load the backend over the trusted socket; nothing afterwards may stop it.
  await ok(main.client.socket, "models:load", { id: MODEL });
  const loaded = await until(async () => { const m = await modelEntry(main.client.socket); return m.status === "loaded" && m; },
    { timeoutMs: 20000, intervalMs: 100, what: `${MODEL} to be loaded` });
  assert.ok(loaded.port, `a loaded backend has a port: ${JSON.stringify(loaded)}`);
  main.fakeUrl = `http://127.0.0.1:${loaded.port}`;
});

after(async () => {
  await browser?.close();
  await main?.stop();
  for (const c of cleanups.reverse()) await c();
  attacker?.server.closeAllConnections();
  await new Promise((r) => (attacker ? attacker.server.close(r) : r()));
});

/** A route handler that answers the page's document with `html` and lets the page's own requests go to the network. */
const documentOnly = (html) => (route) => {
  const req = route.request();
  const top = req.isNavigationRequest() && req.frame().parentFrame() === null;
  return top ? route.fulfill({ status: 200, contentType: "text/html", body: html }) : route.fallback();
};

/**
 * Records every answer from `origin` the page's network saw: Playwright's responses (frames included,
 * e.g. a form posted into an iframe) and, through the DevTools protocol, the status of requests whose
 * answer CORS then hid from the page (Playwright reports those only as failed) and of CORS preflights.
 * Items: {method, path, status, via}.
 */
async function recordResponses(context, page, origin) {
  const seen = [];
  const ours = (u) => { const url = new URL(u); return url.origin === origin ? url.pathname + url.search : null; };
  page.on("response", (r) => {
    const p = ours(r.url());
    if (p !== null) seen.push({ method: r.request().method(), path: p, status: r.status(), via: "playwright" });
  });
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  const sent = new Map();
  const statuses = new Map();
  const join = (id) => {
    const req = sent.get(id);
    const status = statuses.get(id);
    if (!req || status === undefined) return;
    sent.delete(id);
    const p = ours(req.url);
    if (p !== null) seen.push({ method: req.method, path: p, status, via: "devtools" });
  };
  cdp.on("Network.requestWillBeSent", (e) => { sent.set(e.requestId, e.request); join(e.requestId); });
  cdp.on("Network.responseReceivedExtraInfo", (e) => { statuses.set(e.requestId, e.statusCode); join(e.requestId); });
  return seen;
}

/** Waits until every [method, path] was answered (seen by the browser's network); returns their entries. */
function answered(seen, expected, what) {
  return until(() => {
    const hits = expected.map(([method, p]) => seen.find((s) => s.method === method && (p instanceof RegExp ? p.test(s.path) : s.path === p)));
    return hits.every(Boolean) && hits;
  }, { timeoutMs: 10000, intervalMs: 50, what: `${what}: answers to ${JSON.stringify(expected.map(([m, p]) => `${m} ${p}`))}; seen ${JSON.stringify(seen)}` });
}

test("a page of another origin cannot open the socket, call /admin or /v1, or post a form to them", async () => {
  const beforeState = await observe();
  assert.equal(beforeState.status, "loaded");
  assert.equal(beforeState.socketClients, 1, "only the test's own socket client");
  assert.deepEqual(beforeState.fakeRequests, [], "nothing was asked of the backend yet");
  const ours = main.server.url;

  const { context, page } = await openPage(browser);
  try {
    const seen = await recordResponses(context, page, ours);
    await page.goto(`${attacker.origin}/`);
    assert.equal(new URL(page.url()).origin, attacker.origin, "the attacker's page runs on its own origin");
    assert.equal(await page.evaluate(() => window.ready), true, "the Socket.IO client loaded from our static files");

    const out = await page.evaluate(() => window.attack());

    // The socket: never opened, never joined.
    assert.equal(out.websocket.opened, false, `raw WebSocket: ${JSON.stringify(out.websocket)}`);
    assert.equal(out.websocket.joined, false);
    assert.equal(out.websocket.code, 1006, `closed abnormally without opening: ${JSON.stringify(out.websocket)}`);
    for (const k of ["socketIoPolling", "socketIoWebsocket"]) {
      assert.equal(out[k].connected, false, `${k}: ${JSON.stringify(out[k])}`);
    }
    // CORS requests: the browser gets no readable answer.
    for (const k of ["pollingHandshakeCors", "health", "reloadCorsJson", "reloadCorsText", "chatCorsJson", "chatCorsText"]) {
      assert.equal(out[k].settled, "rejected", `${k} must fail: ${JSON.stringify(out[k])}`);
    }
    // The dashboard's static files are not secret (only the Host rule applies), but CORS still keeps them unreadable.
    assert.equal(out.dashboard.settled, "rejected", `dashboard: ${JSON.stringify(out.dashboard)}`);
    // no-cors requests are sent, their answers opaque: the server state below is the proof.
    for (const k of ["pollingHandshakeNoCors", "healthNoCors", "reloadNoCorsText", "reloadNoCorsJson", "chatNoCorsText", "chatNoCorsJson"]) {
      assert.equal(out[k].type, "opaque", `${k}: ${JSON.stringify(out[k])}`);
    }

    // The forms: the browser navigates a frame to our answer, which is a refusal.
    for (const [id, p] of [["form-reload", "/admin/reload"], ["form-chat", "/v1/chat/completions"]]) {
      const answered = page.waitForResponse((r) => new URL(r.url()).pathname === p && r.request().method() === "POST"
        && r.request().resourceType() === "document", { timeout: 10000 });
      await page.evaluate((formId) => window.submitForm(formId), id);
      const res = await answered;
      assert.equal(res.status(), 403, `${id}: the form post is refused`);
      assert.match(res.request().postData() || "", /"model":"fake-a"|confirm=yes/, `${id}: the browser sent the attacker's body`);
    }

    // Every attempt reached the server and was refused there (the CORS preflight of a JSON POST
    // included, so the POST itself was never sent); only static files were served.
    const polling = `${SOCKET_PATH}/?EIO=4&transport=polling`;
    await answered(seen, [
      ["GET", polling], ["GET", `${polling}&no-cors=1`], ["GET", new RegExp(`^${polling.replace(/\?/g, "\\?")}&t=`)],
      ["GET", "/health"], ["GET", "/"],
      ["OPTIONS", "/admin/reload"], ["POST", "/admin/reload"], ["POST", "/admin/reload?no-cors=text"], ["POST", "/admin/reload?no-cors=json"],
      ["OPTIONS", "/v1/chat/completions"], ["POST", "/v1/chat/completions"],
      ["POST", "/v1/chat/completions?no-cors=text"], ["POST", "/v1/chat/completions?no-cors=json"],
    ], "the attacker's requests");
    for (const s of seen) {
      if (s.method === "GET" && (s.path === "/vendor/socket.io.min.js" || s.path === "/")) assert.equal(s.status, 200, `${s.method} ${s.path}: a static file`);
      else assert.equal(s.status, 403, `${s.method} ${s.path} (${s.via}): ${s.status}`);
    }
  } finally {
    await context.close();
  }

  // Every attempt has settled (above): now nothing may have changed.
  const afterState = await observe();
  assert.deepEqual(afterState, beforeState, "the attacker changed server state");
});

test("a DNS-rebinding page on our own port gets 403 for everything, readable as the allowedHosts refusal", async () => {
  const beforeState = await observe();
  const port = main.server.port;
  const rebound = `http://rebind.test:${port}`;
  const { context, page } = await openPage(browser);
  try {
    // Only the document comes from the attacker; every other request goes to the network, i.e. to us.
    const html = attackerHtml({ target: "", vendor: `${main.server.url}/vendor/socket.io.min.js` });
    await page.route((url) => url.href === `${rebound}/`, documentOnly(html));
    const seen = await recordResponses(context, page, rebound);
    await page.goto(`${rebound}/`);
    assert.equal(new URL(page.url()).origin, rebound);
    assert.equal(await page.evaluate(() => window.ready), true);

    const out = await page.evaluate(() => window.attack());
    assert.equal(out.websocket.opened, false, `raw WebSocket: ${JSON.stringify(out.websocket)}`);
    assert.equal(out.websocket.joined, false);
    for (const k of ["socketIoPolling", "socketIoWebsocket"]) {
      assert.equal(out[k].connected, false, `${k}: ${JSON.stringify(out[k])}`);
    }
    // Same-origin from the browser's view: the answers are readable, and they are the Host rule's refusal.
    for (const k of ["health", "dashboard", "pollingHandshakeCors", "reloadCorsJson", "reloadCorsText", "chatCorsJson", "chatCorsText",
      "reloadNoCorsText", "chatNoCorsJson"]) {
      assert.equal(out[k].settled, "response", `${k}: ${JSON.stringify(out[k])}`);
      assert.equal(out[k].status, 403, `${k}: ${JSON.stringify(out[k])}`);
      const error = JSON.parse(out[k].body).error;
      assert.equal(error.type, "permission_error", `${k}: ${out[k].body}`);
      assert.equal(error.code, "forbidden", `${k}: ${out[k].body}`);
      assert.equal(error.param, "security.allowedHosts", `${k}: ${out[k].body}`);
      assert.match(error.message, /rebind\.test/, `${k}: the message names the host`);
    }
    await answered(seen, [["GET", new RegExp(`^${SOCKET_PATH}/\\?EIO=4&transport=polling&t=`)], ["POST", "/admin/reload"],
      ["POST", "/v1/chat/completions"], ["GET", "/health"]], "the rebinding page's requests");
    for (const s of seen) {
      // The attacker's document, fulfilled by the route (the page's own fetch of "/" is checked above: 403).
      if (s.method === "GET" && s.path === "/" && s.status === 200) continue;
      assert.equal(s.status, 403, `${s.method} ${s.path} (${s.via}): ${s.status}`);
    }
  } finally {
    await context.close();
  }
  const afterState = await observe();
  assert.deepEqual(afterState, beforeState, "the rebinding page changed server state");
});

test("the dashboard on its own origin still connects and lists the model in the same browser", async () => {
  const { context, page, problems } = await openPage(browser);
  try {
    await page.goto(`${main.server.url}/models`);
    await waitForText(page, "connection", "Connected");
    const row = page.locator(`[data-model-id="${MODEL}"]`);
    await row.first().waitFor({ timeout: 10000 });
    assert.ok(await row.count() >= 1, "the model's row is shown");
    const refused = problems.filter((p) => /HTTP 40[13]/.test(p));
    assert.deepEqual(refused, [], "the dashboard's own requests are never refused");
    assert.equal(await socketClients(main.server), 2, "the dashboard's socket joined (besides the test's)");
  } finally {
    await context.close();
  }
});

test("naming the pages in security.allowedHosts and security.corsOrigins lets the same requests through", async () => {
  const second = await startMain({ allowedHosts: ["rebind.test"], corsOrigins: [attacker.origin] });
  cleanups.push(() => second.stop());
  const port = second.server.port;

  // The evil origin, now listed: its CORS fetch of /v1/models is answered and readable, and its socket joins.
  const evilHtml = attackerHtml({ target: second.server.url, vendor: `${second.server.url}/vendor/socket.io.min.js` });
  const listed = await openPage(browser);
  try {
    await listed.page.route((url) => url.href === `${attacker.origin}/?listed`, documentOnly(evilHtml));
    await listed.page.goto(`${attacker.origin}/?listed`);
    const models = await listed.page.evaluate(async (base) => {
      const r = await fetch(`${base}/v1/models`);
      return { status: r.status, body: await r.json() };
    }, second.server.url);
    assert.equal(models.status, 200, JSON.stringify(models));
    assert.ok(models.body.data.some((m) => m.id === MODEL), JSON.stringify(models.body));
    const ws = await listed.page.evaluate(() => tryWebSocket(WS + "/llamaproxws/?EIO=4&transport=websocket"));
    assert.equal(ws.opened, true, JSON.stringify(ws));
    assert.equal(ws.joined, true, `a listed origin's socket joins: ${JSON.stringify(ws)}`);
  } finally {
    await listed.context.close();
  }

  // The rebinding name, now allowed: the same page reads /health and /v1/models on its own origin.
  const rebound = `http://rebind.test:${port}`;
  const named = await openPage(browser);
  try {
    const html = attackerHtml({ target: "", vendor: `${second.server.url}/vendor/socket.io.min.js` });
    await named.page.route((url) => url.href === `${rebound}/`, documentOnly(html));
    await named.page.goto(`${rebound}/`);
    const got = await named.page.evaluate(async () => ({
      health: await tryFetch("/health"),
      models: await tryFetch("/v1/models"),
      dashboard: await tryFetch("/"),
    }));
    for (const [k, v] of Object.entries(got)) assert.equal(v.status, 200, `${k}: ${JSON.stringify(v).slice(0, 300)}`);
    assert.equal(JSON.parse(got.health.body).status, "ok");
  } finally {
    await named.context.close();
  }
});
