// Helpers for the security tests: what the sources declare (socket events, HTTP routes), and raw HTTP
// requests whose Host, Origin and Sec-Fetch-Site headers a test chooses (fetch may not set some of them).
import assert from "node:assert/strict";
import http from "node:http";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { repoRoot } from "./server.mjs";

const srcDir = path.join(repoRoot, "src");

/** Rust sources under src/ without comment lines, each with test modules (`#[cfg(test)] mod ... {`) cut off. */
export function rustSources(dir = srcDir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...rustSources(full));
    else if (entry.name.endsWith(".rs") && entry.name !== "tests.rs") {
      // Comment lines blanked (a doc example is not a route), then test modules cut off.
      const text = readFileSync(full, "utf8").replace(/^\s*\/\/.*$/gm, "");
      const cut = text.search(/#\[cfg\(test\)\]\s*mod\s+\w+\s*\{/);
      out.push({ file: path.relative(repoRoot, full), text: cut >= 0 ? text.slice(0, cut) : text });
    }
  }
  return out;
}

/** The `EVENTS` array of src/live/handlers.rs (its declared length must match). */
export function parseEvents() {
  const text = readFileSync(path.join(srcDir, "live/handlers.rs"), "utf8");
  const m = text.match(/pub\s+const\s+EVENTS\s*:\s*\[\s*&(?:'static\s+)?str\s*;\s*(\d+)\s*\]\s*=\s*\[([\s\S]*?)\];/);
  assert.ok(m, "src/live/handlers.rs has no `pub const EVENTS: [&str; N] = [...]` any more: update this parser");
  const events = [...m[2].matchAll(/"([^"]+)"/g)].map((x) => x[1]);
  assert.equal(events.length, Number(m[1]), "EVENTS: the parsed names do not match the declared length");
  return events;
}

/** The event names the dispatcher `handle` matches on (`"x" =>` / `"x" | "y" =>` arms). */
export function parseHandledEvents() {
  const text = readFileSync(path.join(srcDir, "live/handlers.rs"), "utf8");
  const start = text.indexOf("pub async fn handle(");
  assert.ok(start >= 0, "src/live/handlers.rs has no `pub async fn handle(`");
  const body = text.slice(start, matchingBrace(text, text.indexOf("{", start)));
  const names = new Set();
  for (const arm of body.matchAll(/^\s*((?:"[^"]+"\s*\|\s*)*"[^"]+")\s*=>/gm)) {
    for (const n of arm[1].matchAll(/"([^"]+)"/g)) names.add(n[1]);
  }
  return [...names];
}

/** The Socket.IO path from src/live/mod.rs (`SOCKET_PATH`). */
export function parseSocketPath() {
  const text = readFileSync(path.join(srcDir, "live/mod.rs"), "utf8");
  const m = text.match(/pub\s+const\s+SOCKET_PATH\s*:\s*&str\s*=\s*"([^"]+)"/);
  assert.ok(m, "src/live/mod.rs has no SOCKET_PATH constant");
  return m[1];
}

/**
 * Every routing call of the sources: `.route("PATH", get(..).post(..))` with its methods, plus
 * `.fallback(`, `.nest(`, `.nest_service(`, `.route_service(` and `.fallback_service(` as entries of their
 * own kind (each needs a recipe too). Items: {kind, path, methods, file}.
 */
export function parseRoutes() {
  const routes = [];
  for (const { file, text } of rustSources()) {
    for (const m of text.matchAll(/\.(route|route_service|nest|nest_service|fallback|fallback_service)\s*\(/g)) {
      const open = m.index + m[0].length - 1;
      const inner = text.slice(open + 1, matchingParen(text, open));
      const kind = m[1];
      if (kind === "fallback" || kind === "fallback_service") {
        routes.push({ kind, path: "(fallback)", methods: ["*"], file });
        continue;
      }
      const p = inner.match(/^\s*"([^"]*)"\s*,([\s\S]*)$/);
      if (!p) {
        routes.push({ kind, path: `(not a literal: ${inner.slice(0, 60)})`, methods: [], file });
        continue;
      }
      routes.push({ kind, path: p[1], methods: kind === "route" ? topLevelCalls(p[2]) : ["*"], file });
    }
  }
  return routes;
}

/** The method routers called at the top level of a route's second argument: `get(..).post(..)`, `routing::any(..)`. */
export function topLevelCalls(expr) {
  const methods = [];
  let depth = 0;
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i];
    if (c === '"') { i = skipString(expr, i); continue; }
    if (c === "(" || c === "[" || c === "{") {
      if (depth === 0 && c === "(") {
        const name = expr.slice(0, i).match(/([A-Za-z_][A-Za-z0-9_]*)\s*$/)?.[1];
        if (name) methods.push(name);
      }
      depth++;
    } else if (c === ")" || c === "]" || c === "}") depth--;
  }
  const known = ["get", "post", "put", "patch", "delete", "head", "options", "trace", "any", "connect"];
  return methods.map((m) => m.replace(/_service$/, "")).map((m) => (known.includes(m) ? m.toUpperCase() : `?${m}`));
}

function skipString(text, i) {
  for (let j = i + 1; j < text.length; j++) {
    if (text[j] === "\\") j++;
    else if (text[j] === '"') return j;
  }
  return text.length;
}

function matchingParen(text, open) {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === '"') { i = skipString(text, i); continue; }
    if (c === "(") depth++;
    else if (c === ")" && --depth === 0) return i;
  }
  throw new Error(`unbalanced parentheses from offset ${open}`);
}

function matchingBrace(text, open) {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === "{") depth++;
    else if (text[i] === "}" && --depth === 0) return i;
  }
  return text.length;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

/**
 * One HTTP request with exactly the headers given (a `host` entry replaces the Host header).
 * Resolves {status, headers, text, json}.
 */
export function rawRequest(port, { method = "GET", path: p = "/", headers = {}, body, timeoutMs = 20000 } = {}) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(typeof body === "string" ? body : JSON.stringify(body));
    const all = { ...headers };
    if (data) all["content-length"] = String(data.length);
    const req = http.request({ host: "127.0.0.1", port, method, path: p, headers: all, agent }, (res) => {
      // An event stream never ends by itself: its head is the answer.
      if (String(res.headers["content-type"] ?? "").startsWith("text/event-stream")) {
        resolve({ status: res.statusCode, headers: res.headers, text: "", json: null });
        res.destroy();
        return;
      }
      readAnswer(res).then(resolve, reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${p}: no answer in ${timeoutMs}ms`)));
    req.on("error", reject);
    req.end(data);
  });
}

/** The whole answer: {status, headers, text, json (null when the body is not JSON)}. */
function readAnswer(res) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    res.on("data", (c) => chunks.push(c));
    res.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      let json = null;
      try { json = JSON.parse(text); } catch {}
      resolve({ status: res.statusCode, headers: res.headers, text, json });
    });
    res.on("error", reject);
  });
}

/**
 * A WebSocket upgrade request (no client library, so Host and Origin are whatever the test says).
 * Resolves {status: 101} when the server switched protocols, else {status, text, json}.
 */
export function wsUpgrade(port, p, headers = {}, { timeoutMs = 10000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: "127.0.0.1", port, path: p, agent: false,
      headers: {
        connection: "Upgrade", upgrade: "websocket", "sec-websocket-version": "13",
        "sec-websocket-key": randomBytes(16).toString("base64"), ...headers,
      },
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`upgrade ${p}: no answer in ${timeoutMs}ms`)));
    req.on("upgrade", (res, socket) => { socket.destroy(); resolve({ status: res.statusCode, text: "", json: null }); });
    req.on("response", (res) => readAnswer(res).then(resolve, reject));
    req.on("error", reject);
    req.end();
  });
}

/** Asserts a refusal by the guard: 403 with the OpenAI-shaped permission error naming `param`. */
export function assertForbidden(res, param, what) {
  assert.equal(res.status, 403, `${what}: expected 403 (${param}), got ${res.status}: ${res.text?.slice(0, 300)}`);
  const e = res.json?.error;
  assert.ok(e && typeof e.message === "string" && e.message.length > 0, `${what}: error.message: ${res.text}`);
  assert.equal(e.type, "permission_error", `${what}: error.type: ${res.text}`);
  assert.equal(e.code, "forbidden", `${what}: error.code: ${res.text}`);
  assert.equal(e.param, param, `${what}: error.param: ${res.text}`);
}

export function closeAgent() {
  agent.destroy();
}
