// The authorization matrix: every socket event and every HTTP route, read from the sources (the EVENTS
// array of src/live/handlers.rs, every `.route(...)` / `.fallback(...)` in src/), asked with every
// credential (none, wrong, the other kind's, right) from every place (our own origin, an allowed host
// name, localhost, a listed CORS origin, no Origin, a foreign origin, our host on another port, a
// cross-site request without Origin, a DNS-rebinding Host), on a server without a token and on one with
// an admin token and an API key. A new event or route without a recipe here fails the first test.
//
// Expected, in this order: a Host that is neither an IP, localhost nor in security.allowedHosts -> 403
// (param security.allowedHosts) everywhere, static files included; a foreign Origin (or Sec-Fetch-Site
// cross-site) -> 403 (param security.corsOrigins) on the API (socket, /v1, /admin, pass-through,
// /health, /metrics), before any credential is looked at; then, on the token server, the socket needs
// the admin token (connect_error "unauthorized: ..."), /admin and the pass-through the admin token
// (401 unauthorized), /v1 an API key (401 invalid_api_key); /health, /metrics and static files need none.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { io } from "socket.io-client";
import { startServer } from "./lib/server.mjs";
import { tempDir, request, until } from "./lib/socket.mjs";
import { fakeBackendConfig } from "./lib/fake-router.mjs";
import {
  parseEvents, parseHandledEvents, parseRoutes, parseSocketPath, topLevelCalls, rawRequest, wsUpgrade, assertForbidden, closeAgent,
} from "./lib/matrix.mjs";

const ADMIN_TOKEN = "matrix-admin-token-7c1e";
const API_KEY = "sk-matrix-api-key-42";
const WRONG = "matrix-wrong-credential";
const LISTED_ORIGIN = "http://app.example:8080";
const HOST_PATTERN = "*.dash.test";
const MODEL = "fake-a";
const SOCKET_PATH = parseSocketPath();

// ---- what the sources declare, and the recipe for each --------------------------------------------------

/**
 * Each event's harmless payload and what an admitted socket must get: "ok" (success), an error code,
 * or "any" (some reply envelope for that event, not UNAUTHORIZED or FORBIDDEN); `{open, locked}` when
 * it differs between the server without a token and the one with it.
 */
const EVENT_RECIPES = {
  "models:list": [{}, "ok"],
  "models:get": [{ id: MODEL }, "ok"],
  "models:scan": [{}, "ok"],
  "models:load": [{}, "BAD_REQUEST"],
  "models:unload": [{}, "BAD_REQUEST"],
  "models:update": [{}, "BAD_REQUEST"],
  "models:import": [{}, "BAD_REQUEST"],
  "models:reset": [{}, "BAD_REQUEST"],
  "models:plan": [{ id: MODEL }, "ok"],
  "models:delete": [{}, "BAD_REQUEST"],
  "models:pull:search": [{}, "BAD_REQUEST"],
  "models:pull:files": [{}, "BAD_REQUEST"],
  "models:pull": [{}, "BAD_REQUEST"],
  "models:pull:cancel": [{}, "BAD_REQUEST"],
  "models:pull:list": [{}, "ok"],
  "router:init:load": [{}, "ok"],
  "router:init:validate": [{ config: {} }, "ok"],
  "router:init:save": [{}, "BAD_REQUEST"],
  "router:init:status": [{}, "ok"],
  "router:status": [{}, "ok"],
  "router:start": [{}, "any"], // no llama-server here: ROUTER_ERROR, the cell only proves auth let it run
  "router:stop": [{}, "any"],
  "router:restart": [{}, "any"],
  "metrics:get": [{}, "ok"],
  "metrics:history": [{ limit: 1 }, "ok"],
  "logs:get": [{ limit: 1 }, "ok"],
  "settings:get": [{}, "ok"],
  "settings:update": [{}, "BAD_REQUEST"],
  "requests:list": [{ limit: 1 }, "ok"],
  "requests:stats": [{}, "ok"],
  "requests:history": [{}, "ok"],
  "presets:get": [{}, "any"],
  // Presets are command lines (files to read and write): read-only without an admin token, whatever the payload.
  "presets:save": [{}, { open: "FORBIDDEN", locked: "BAD_REQUEST" }],
  "nodes:list": [{}, "ok"],
  "nodes:load": [{}, "BAD_REQUEST"],
  "nodes:unload": [{}, "BAD_REQUEST"],
};

const chatBody = { model: MODEL, messages: [{ role: "user", content: "hi" }], max_tokens: 1 };

/**
 * Each route's concrete requests. `cred`: which credential it takes ("admin", "apiKey", "none");
 * `api`: whether the Origin rule applies (everything but the dashboard's static files);
 * `ok`: the statuses an admitted request may get; `shape: "ollama"`: errors in Ollama's `{"error": message}`. A request may carry its own `headers`, and its own
 * `cred` and `api` where they differ from the route's (a page of the dashboard on an API path).
 */
const ROUTE_RECIPES = {
  "/health": { cred: "none", api: true, requests: [{ method: "GET", path: "/health", ok: [200] }] },
  "/metrics": { cred: "none", api: true, requests: [{ method: "GET", path: "/metrics", ok: [200] }] },
  "/v1/models": { cred: "apiKey", api: true, requests: [{ method: "GET", path: "/v1/models", ok: [200] }] },
  "/v1/models/{id}": { cred: "apiKey", api: true, requests: [{ method: "GET", path: `/v1/models/${MODEL}`, ok: [200] }] },
  "/v1/{*rest}": {
    cred: "apiKey", api: true,
    requests: [{ method: "POST", path: "/v1/chat/completions", body: chatBody, ok: [200] }],
  },
  // llama.cpp's router API: the /v1 key; a browser asking /models for a page gets the dashboard's, like any page.
  "/models": {
    cred: "apiKey", api: true,
    requests: [
      { method: "GET", path: "/models", ok: [200] },
      { method: "GET", path: "/models", headers: { accept: "text/html,application/xhtml+xml" }, cred: "none", api: false, ok: [200] },
    ],
  },
  "/models/load": { cred: "apiKey", api: true, requests: [{ method: "POST", path: "/models/load", body: { model: "no-such-model" }, ok: [404] }] },
  "/models/unload": { cred: "apiKey", api: true, requests: [{ method: "POST", path: "/models/unload", body: { model: MODEL }, ok: [400] }] },
  "/models/sse": { cred: "apiKey", api: true, requests: [{ method: "GET", path: "/models/sse", ok: [200] }] },
  // Ollama's API: the /v1 key (its version needs none); every call goes through the /v1 proxy.
  "/api/version": { cred: "none", api: true, requests: [{ method: "GET", path: "/api/version", ok: [200] }] },
  "/api/tags": { cred: "apiKey", api: true, shape: "ollama", requests: [{ method: "GET", path: "/api/tags", ok: [200] }] },
  "/api/ps": { cred: "apiKey", api: true, shape: "ollama", requests: [{ method: "GET", path: "/api/ps", ok: [200] }] },
  "/api/show": { cred: "apiKey", api: true, shape: "ollama", requests: [{ method: "POST", path: "/api/show", body: { model: MODEL }, ok: [200] }] },
  "/api/chat": { cred: "apiKey", api: true, shape: "ollama", requests: [{ method: "POST", path: "/api/chat", body: { ...chatBody, stream: false }, ok: [200] }] },
  "/api/generate": { cred: "apiKey", api: true, shape: "ollama", requests: [{ method: "POST", path: "/api/generate", body: { model: MODEL, prompt: "hi", stream: false }, ok: [200] }] },
  // The fake llama-server serves no embeddings: its 404 comes back in Ollama's shape.
  "/api/embed": { cred: "apiKey", api: true, shape: "ollama", requests: [{ method: "POST", path: "/api/embed", body: { model: MODEL, input: "hi" }, ok: [200, 404] }] },
  "/api/embeddings": { cred: "apiKey", api: true, shape: "ollama", requests: [{ method: "POST", path: "/api/embeddings", body: { model: MODEL, prompt: "hi" }, ok: [200, 404] }] },
  "/admin/reload": { cred: "admin", api: true, requests: [{ method: "POST", path: "/admin/reload", ok: [200] }] },
  "/admin/rescan": { cred: "admin", api: true, requests: [{ method: "POST", path: "/admin/rescan", ok: [200] }] },
  // A running backend answers 200, a stopped one 503 (never started by asking).
  "/{model}/health": { cred: "admin", api: true, requests: [{ method: "GET", path: `/${MODEL}/health`, ok: [200, 503] }] },
  "/{model}/props": { cred: "admin", api: true, requests: [{ method: "GET", path: `/${MODEL}/props`, ok: [200, 503] }] },
  "/{model}/slots": { cred: "admin", api: true, requests: [{ method: "GET", path: `/${MODEL}/slots`, ok: [200, 503] }] },
  "(fallback)": {
    cred: "none", api: false,
    requests: [
      { method: "GET", path: "/", ok: [200] },
      { method: "GET", path: "/requests", ok: [200] },
      { method: "GET", path: "/js/app.js", ok: [200] },
    ],
  },
};

// ---- the matrix's axes -------------------------------------------------------------------------------------

/**
 * Where a request comes from. `host`: the Host header's name (port: the server's); `origin(port)`: the
 * Origin header or null; `refusedBy`: which rule must refuse it ("host", "origin", or null).
 */
const PLACES = [
  { name: "same", host: "127.0.0.1", origin: (p) => `http://127.0.0.1:${p}`, refusedBy: null },
  { name: "localhost", host: "localhost", origin: (p) => `http://localhost:${p}`, refusedBy: null },
  { name: "named", host: "ui.dash.test", origin: (p) => `http://ui.dash.test:${p}`, refusedBy: null },
  { name: "listed", host: "127.0.0.1", origin: () => LISTED_ORIGIN, refusedBy: null },
  { name: "none", host: "127.0.0.1", origin: () => null, refusedBy: null },
  { name: "foreign", host: "127.0.0.1", origin: (p) => `http://evil.test:${p}`, refusedBy: "origin" },
  { name: "port", host: "127.0.0.1", origin: (p) => `http://127.0.0.1:${p + 1}`, refusedBy: "origin" },
  { name: "xsite", host: "127.0.0.1", origin: () => null, fetchSite: "cross-site", refusedBy: "origin" },
  { name: "rebind", host: "rebind.test", origin: (p) => `http://rebind.test:${p}`, refusedBy: "host" },
];

/** HTTP credentials per kind of route. */
const HTTP_CREDS = {
  none: () => ({}),
  wrong: (kind) => (kind === "apiKey" ? { "x-api-key": WRONG } : { "x-admin-token": WRONG }),
  swapped: (kind) => ({ authorization: `Bearer ${kind === "apiKey" ? ADMIN_TOKEN : API_KEY}` }),
  right: (kind) => ({ authorization: `Bearer ${kind === "apiKey" ? API_KEY : ADMIN_TOKEN}` }),
  rightHeader: (kind) => (kind === "apiKey" ? { "x-api-key": API_KEY } : { "x-admin-token": ADMIN_TOKEN }),
};
const RIGHT = new Set(["right", "rightHeader"]);

/** Socket credentials (the handshake's `auth`). */
const SOCKET_CREDS = {
  none: undefined,
  wrong: { token: WRONG },
  swapped: { token: API_KEY },
  right: { token: ADMIN_TOKEN },
};

const placeHeaders = (place, port) => {
  const h = { host: `${place.host}:${port}` };
  const origin = place.origin(port);
  if (origin) h.origin = origin;
  if (place.fetchSite) h["sec-fetch-site"] = place.fetchSite;
  return h;
};

// ---- servers -------------------------------------------------------------------------------------------------

const SERVERS = {
  open: { security: { corsOrigins: [LISTED_ORIGIN], allowedHosts: [HOST_PATTERN] } },
  locked: {
    security: { adminToken: ADMIN_TOKEN, apiKeys: [API_KEY], corsOrigins: [LISTED_ORIGIN], allowedHosts: [HOST_PATTERN] },
  },
};
const running = {};
const dirs = [];
const summary = [];

async function start(name) {
  const models = tempDir("lldash-matrix-");
  dirs.push(models);
  const server = await startServer({
    config: await fakeBackendConfig(models.dir, SERVERS[name]),
    env: { FAKE_TOKENS: "1", FAKE_TOKEN_MS: "1" },
  });
  running[name] = server;
}

before(async () => {
  await Promise.all(Object.keys(SERVERS).map(start));
});

after(async () => {
  closeAgent();
  await Promise.all(Object.values(running).map((s) => s.stop()));
  for (const d of dirs) d.cleanup();
  if (summary.length) console.log(summary.join("\n"));
});

// ---- 1: the lists --------------------------------------------------------------------------------------------

test("the events and routes parsed from the sources are plausible and each has a recipe here", () => {
  const events = parseEvents();
  assert.ok(events.length >= 20, `only ${events.length} events parsed from src/live/handlers.rs: ${events}`);
  assert.equal(new Set(events).size, events.length, "EVENTS has duplicates");
  for (const handled of parseHandledEvents()) {
    assert.ok(events.includes(handled), `handle() answers '${handled}', which is missing from EVENTS (and so from this matrix)`);
  }
  const noRecipe = events.filter((e) => !(e in EVENT_RECIPES));
  assert.deepEqual(noRecipe, [], "socket events without a recipe in this matrix: add them to EVENT_RECIPES");
  const stale = Object.keys(EVENT_RECIPES).filter((e) => !events.includes(e));
  assert.deepEqual(stale, [], "recipes for events the server no longer has");

  // The route parser itself: chained method routers count, calls inside a handler do not.
  assert.deepEqual(topLevelCalls(' get(list).post(create)'), ["GET", "POST"]);
  assert.deepEqual(topLevelCalls(' axum::routing::any(|s: S| async move { s.get("x").post(1) })'), ["ANY"]);
  assert.deepEqual(topLevelCalls(' delete_service(svc).patch(h)'), ["DELETE", "PATCH"]);
  const routes = parseRoutes();
  assert.ok(routes.length >= 8, `only ${routes.length} routes parsed from src/: ${JSON.stringify(routes)}`);
  for (const r of routes) {
    const recipe = ROUTE_RECIPES[r.path];
    assert.ok(recipe, `route ${r.kind} ${JSON.stringify(r.path)} (${r.file}) has no recipe in this matrix: add it to ROUTE_RECIPES`);
    assert.ok(r.methods.length > 0 && r.methods.every((m) => !m.startsWith("?")),
      `route ${r.path} (${r.file}): unrecognised method router(s) ${JSON.stringify(r.methods)}`);
    for (const req of recipe.requests) {
      assert.ok(r.methods.includes("ANY") || r.methods.includes("*") || r.methods.includes(req.method),
        `recipe for ${r.path} uses ${req.method} but the route takes ${r.methods}`);
    }
  }
  const stalePaths = Object.keys(ROUTE_RECIPES).filter((p) => !routes.some((r) => r.path === p));
  assert.deepEqual(stalePaths, [], "recipes for routes the server no longer has");
});

// ---- 2: HTTP -------------------------------------------------------------------------------------------------

/** What a request must get: {refused: "host"|"origin"|"credential", ...} or {refused: null}. */
function expectHttp(serverName, recipe, place, cred) {
  if (place.refusedBy === "host") return { refused: "host" };
  if (place.refusedBy === "origin" && recipe.api) return { refused: "origin" };
  if (serverName === "locked" && recipe.cred !== "none" && !RIGHT.has(cred)) return { refused: "credential" };
  return { refused: null };
}

const SYMBOL = { null: ".", host: "H", origin: "O", credential: "K" };

async function httpMatrix(serverName) {
  const server = running[serverName];
  const routes = parseRoutes();
  const rows = [];
  let cells = 0;
  const counts = { ".": 0, H: 0, O: 0, K: 0 };
  for (const route of routes) {
    for (const req of ROUTE_RECIPES[route.path].requests) {
      const recipe = { ...ROUTE_RECIPES[route.path], ...("cred" in req ? { cred: req.cred } : {}), ...("api" in req ? { api: req.api } : {}) };
      const row = [`${req.method} ${req.path}${req.headers?.accept ? " (page)" : ""}`.padEnd(26)];
      for (const place of PLACES) {
        let symbols = "";
        for (const cred of Object.keys(HTTP_CREDS)) {
          const what = `[${serverName}] ${req.method} ${req.path} from ${place.name} with ${cred} credential`;
          const headers = { ...placeHeaders(place, server.port), ...HTTP_CREDS[cred](recipe.cred), ...req.headers };
          if (req.body) headers["content-type"] = "application/json";
          const res = await rawRequest(server.port, { method: req.method, path: req.path, headers, body: req.body });
          const expected = expectHttp(serverName, recipe, place, cred);
          if (expected.refused === "host") assertForbidden(res, "security.allowedHosts", what);
          else if (expected.refused === "origin") {
            assertForbidden(res, "security.corsOrigins", what);
            const allow = res.headers["access-control-allow-origin"];
            assert.ok(!allow || allow === LISTED_ORIGIN, `${what}: a refused origin must not be allowed by CORS: ${allow}`);
          } else if (expected.refused === "credential") {
            assert.equal(res.status, 401, `${what}: expected 401, got ${res.status}: ${res.text.slice(0, 300)}`);
            if (recipe.shape === "ollama") {
              assert.match(String(res.json?.error), /API key/, `${what}: Ollama's {"error": message}: ${res.text.slice(0, 300)}`);
            } else {
              const code = recipe.cred === "apiKey" ? "invalid_api_key" : "unauthorized";
              assert.equal(res.json?.error?.code, code, `${what}: error.code: ${res.text.slice(0, 300)}`);
            }
          } else {
            assert.ok(req.ok.includes(res.status), `${what}: expected one of ${req.ok}, got ${res.status}: ${res.text.slice(0, 300)}`);
            if (place.name === "listed" && recipe.api) {
              assert.equal(res.headers["access-control-allow-origin"], LISTED_ORIGIN, `${what}: CORS allows the listed origin`);
            }
          }
          const s = SYMBOL[expected.refused];
          counts[s]++;
          cells++;
          symbols += s;
        }
        row.push(symbols);
      }
      rows.push(row.join(" "));
    }
  }
  const credNames = Object.keys(HTTP_CREDS).join(",");
  summary.push(
    `\nHTTP matrix, server '${serverName}' (${cells} requests; per place one symbol per credential ${credNames}; ` +
      `. admitted, K 401 credential, O 403 origin, H 403 host):`,
    `${"".padEnd(26)} ${PLACES.map((p) => p.name.padEnd(Object.keys(HTTP_CREDS).length)).join(" ")}`,
    ...rows,
    `counts: admitted ${counts["."]}, 401 ${counts.K}, 403 origin ${counts.O}, 403 host ${counts.H}`,
  );
  return counts;
}

test("every HTTP route answers each credential, origin and host name as the rules say, with and without a token", async () => {
  const [open, locked] = await Promise.all([httpMatrix("open"), httpMatrix("locked")]);
  assert.equal(open.K, 0, "the server without a token asks for no credential");
  assert.ok(locked.K > 0 && locked["."] > 0 && locked.O > 0 && locked.H > 0, JSON.stringify(locked));
});

test("state-changing routes refuse other methods: a page cannot trigger them with a GET", async () => {
  const server = running.locked;
  const checked = [];
  for (const route of parseRoutes()) {
    if (route.kind !== "route" || route.methods.includes("ANY")) continue;
    const recipe = ROUTE_RECIPES[route.path];
    for (const req of recipe.requests) {
      const other = route.methods.includes("GET") ? "POST" : "GET";
      const headers = { ...placeHeaders(PLACES[0], server.port), ...HTTP_CREDS.right(recipe.cred) };
      const res = await rawRequest(server.port, { method: other, path: req.path, headers });
      assert.equal(res.status, 405, `${other} ${req.path} (the route takes ${route.methods}): ${res.status} ${res.text.slice(0, 200)}`);
      checked.push(`${other} ${req.path}`);
    }
  }
  assert.ok(checked.includes("GET /admin/reload") && checked.includes("GET /admin/rescan"), JSON.stringify(checked));
});

// ---- 3: the socket -------------------------------------------------------------------------------------------

/** Connects socket.io-client over websocket with the place's headers; resolves {socket} or {error}. */
function trySocket(port, place, auth) {
  const headers = placeHeaders(place, port);
  const socket = io(`http://127.0.0.1:${port}`, {
    path: SOCKET_PATH, transports: ["websocket"], forceNew: true, reconnection: false, timeout: 5000, auth,
    extraHeaders: headers,
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { socket.close(); reject(new Error("neither connect nor connect_error in 8s")); }, 8000);
    socket.once("connect", () => { clearTimeout(timer); resolve({ socket }); });
    socket.once("connect_error", (error) => { clearTimeout(timer); socket.close(); resolve({ error }); });
  });
}

async function socketMatrix(serverName) {
  const server = running[serverName];
  const events = parseEvents();
  const row = [];
  const counts = { ".": 0, H: 0, O: 0, U: 0 };
  let replies = 0;
  const codes = {};
  for (const place of PLACES) {
    const where = `[${serverName}] socket from ${place.name}`;
    const headers = placeHeaders(place, server.port);
    // The handshake at the HTTP level, on both transports.
    const polling = await rawRequest(server.port, { path: `${SOCKET_PATH}/?EIO=4&transport=polling`, headers });
    const upgrade = await wsUpgrade(server.port, `${SOCKET_PATH}/?EIO=4&transport=websocket`, headers);
    if (place.refusedBy) {
      const param = place.refusedBy === "host" ? "security.allowedHosts" : "security.corsOrigins";
      assertForbidden(polling, param, `${where}: polling handshake`);
      assertForbidden(upgrade, param, `${where}: websocket upgrade`);
    } else {
      assert.equal(polling.status, 200, `${where}: polling handshake: ${polling.status} ${polling.text.slice(0, 200)}`);
      assert.match(polling.text, /^0\{"sid":/, `${where}: an engine.io open packet`);
      assert.equal(upgrade.status, 101, `${where}: websocket upgrade: ${upgrade.status} ${upgrade.text.slice(0, 200)}`);
    }
    let symbols = "";
    for (const [cred, auth] of Object.entries(SOCKET_CREDS)) {
      const what = `${where} with ${cred} credential`;
      const { socket, error } = await trySocket(server.port, place, auth);
      if (place.refusedBy) {
        assert.ok(error, `${what}: the client connected`);
        assert.doesNotMatch(error.message, /^unauthorized/, `${what}: refused at the handshake, not by the token: ${error.message}`);
        symbols += place.refusedBy === "host" ? "H" : "O";
        counts[place.refusedBy === "host" ? "H" : "O"]++;
        continue;
      }
      if (serverName === "locked" && cred !== "right") {
        assert.ok(error, `${what}: the client connected`);
        assert.match(error.message, /^unauthorized: /, `${what}: connect_error: ${error.message}`);
        symbols += "U";
        counts.U++;
        continue;
      }
      assert.ok(socket, `${what}: connect_error ${error?.message}`);
      try {
        for (const event of events) {
          const [payload, expectFor] = EVENT_RECIPES[event];
          const expect = typeof expectFor === "object" ? expectFor[serverName] : expectFor;
          const reply = await request(socket, event, { ...payload }, { timeoutMs: 15000 });
          const label = `${what}: ${event}: ${JSON.stringify(reply).slice(0, 300)}`;
          assert.equal(reply?.type, "response", label);
          assert.equal(reply.event, event, label);
          const code = reply.success ? "ok" : reply.error?.code;
          assert.ok(code === "ok" || typeof code === "string", label);
          assert.notEqual(code, "UNAUTHORIZED", `${label}: an admitted socket was refused`);
          if (expect === "any") assert.notEqual(code, "FORBIDDEN", `${label}: an admitted socket was refused`);
          else assert.equal(code, expect, label);
          codes[event] = code;
          replies++;
        }
      } finally {
        socket.close();
      }
      symbols += ".";
      counts["."]++;
    }
    row.push(symbols);
  }
  const width = Math.max(Object.keys(SOCKET_CREDS).length, ...PLACES.map((p) => p.name.length));
  summary.push(
    `\nSocket matrix, server '${serverName}' (${events.length} events per admitted connection, ${replies} replies; ` +
      `per place one symbol per credential ${Object.keys(SOCKET_CREDS).join(",")}; . admitted and every event answered, ` +
      `U connect_error unauthorized, O 403 origin, H 403 host, both transports' handshakes checked):`,
    PLACES.map((p) => p.name.padEnd(width)).join(" "),
    row.map((s) => s.padEnd(width)).join(" "),
    `counts: admitted ${counts["."]}, unauthorized ${counts.U}, 403 origin ${counts.O}, 403 host ${counts.H}; ` +
      `reply codes: ${Object.entries(codes).map(([e, c]) => `${e}=${c}`).join(" ")}`,
  );
  return counts;
}

test("every socket event answers each credential, origin and host name as the rules say, with and without a token", async () => {
  const [open, locked] = await Promise.all([socketMatrix("open"), socketMatrix("locked")]);
  assert.equal(open.U, 0, "the server without a token refuses no credential");
  assert.ok(locked.U > 0 && locked["."] > 0, JSON.stringify(locked));
  // No refused attempt left a client behind: only what the matrix closed was ever connected.
  for (const name of ["open", "locked"]) {
    const server = running[name];
    await until(async () => {
      const res = await rawRequest(server.port, { path: "/metrics", headers: { host: `127.0.0.1:${server.port}` } });
      return /^llama_dashboard_socket_clients 0$/m.test(res.text);
    }, { timeoutMs: 5000, what: `${name}: socket_clients back to 0` });
  }
});

// ---- 4: program and file keys ----------------------------------------------------------------------------

test("without an admin token the socket may not change program keys; with the token it may", async () => {
  const newPath = process.execPath;
  for (const name of ["open", "locked"]) {
    const server = running[name];
    const place = PLACES[0];
    const { socket, error } = await trySocket(server.port, place, name === "locked" ? { token: ADMIN_TOKEN } : undefined);
    assert.ok(socket, `[${name}] connect: ${error?.message}`);
    try {
      const loaded = await request(socket, "router:init:load", {});
      assert.equal(loaded.success, true, JSON.stringify(loaded));
      const file = loaded.data.configPath;
      const before = readFileSync(file, "utf8");
      const config = { ...loaded.data.fileConfig, router: { ...loaded.data.fileConfig.router, serverPath: newPath } };
      const saved = await request(socket, "router:init:save", { config }, { timeoutMs: 15000 });
      if (name === "open") {
        assert.equal(saved.success, false, `[open] saving router.serverPath must be refused: ${JSON.stringify(saved)}`);
        assert.equal(saved.error.code, "FORBIDDEN", JSON.stringify(saved));
        assert.equal(saved.error.field, "config.router.serverPath", JSON.stringify(saved));
        assert.equal(readFileSync(file, "utf8"), before, "[open] the init file is unchanged");
      } else {
        assert.equal(saved.success, true, `[locked] saving router.serverPath with the admin token: ${JSON.stringify(saved)}`);
        assert.equal(JSON.parse(readFileSync(file, "utf8")).router.serverPath, newPath, "[locked] the init file has the new path");
      }
    } finally {
      socket.close();
    }
  }
});

// ---- 5: "*" ------------------------------------------------------------------------------------------------------

test("a star in corsOrigins opens /v1 to every origin but never the socket, llama.cpp's router API, Ollama's API, /admin, /health or /metrics", async () => {
  const models = tempDir("lldash-matrix-star-");
  const server = await startServer({
    config: { router: { enabled: false }, startup: { autoStart: false }, models: { directory: models.dir }, security: { corsOrigins: ["*"] } },
  });
  try {
    const headers = { host: `127.0.0.1:${server.port}`, origin: "https://chat.example" };
    const v1 = await rawRequest(server.port, { path: "/v1/models", headers });
    assert.equal(v1.status, 200, v1.text);
    assert.equal(v1.headers["access-control-allow-origin"], "*");
    for (const [method, path] of [["POST", "/admin/rescan"], ["POST", "/admin/reload"], ["GET", "/health"], ["GET", "/metrics"],
      ["GET", "/models"], ["POST", "/models/load"], ["POST", "/models/unload"], ["GET", "/models/sse"], ["GET", "/api/tags"], ["POST", "/api/chat"],
      ["GET", `${SOCKET_PATH}/?EIO=4&transport=polling`]]) {
      assertForbidden(await rawRequest(server.port, { method, path, headers }), "security.corsOrigins", `* and ${method} ${path}`);
    }
    assertForbidden(await wsUpgrade(server.port, `${SOCKET_PATH}/?EIO=4&transport=websocket`, headers), "security.corsOrigins", "* and the websocket");
    const rebind = await rawRequest(server.port, { path: "/v1/models", headers: { host: `rebind.test:${server.port}`, origin: "https://chat.example" } });
    assertForbidden(rebind, "security.allowedHosts", "* does not open the Host rule");
  } finally {
    await server.stop();
    models.cleanup();
  }
});

// ---- 6: a server on the scheme's default port ------------------------------------------------------------

// Behind port 80 a browser sends `Host: 127.0.0.1` (no port) and a page of another port on the same host
// sends `Origin: http://127.0.0.1:9999`: another origin (another port), to be refused like any foreign
// one; so is an HTTPS page of the same name (port 443: another server, since we serve no TLS).
test("with a Host without a port (a server on port 80), a page of another port on the same host is refused", async () => {
  const server = running.open;
  for (const [host, origin] of [["127.0.0.1", "http://127.0.0.1:9999"], ["localhost", "http://localhost:5173"], ["127.0.0.1", "https://127.0.0.1"]]) {
    const headers = { host, origin };
    assertForbidden(await rawRequest(server.port, { method: "POST", path: "/admin/rescan", headers }), "security.corsOrigins", `POST /admin/rescan ${JSON.stringify(headers)}`);
    assertForbidden(await wsUpgrade(server.port, `${SOCKET_PATH}/?EIO=4&transport=websocket`, headers), "security.corsOrigins", `websocket ${JSON.stringify(headers)}`);
  }
  // The same host on its default port is ours.
  const own = await rawRequest(server.port, { method: "POST", path: "/admin/rescan", headers: { host: "127.0.0.1", origin: "http://127.0.0.1" } });
  assert.equal(own.status, 200, own.text);
});
