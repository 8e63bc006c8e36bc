// The malformed-input storm: socket events and HTTP requests of random and hostile shapes (wrong types,
// huge and negative numbers, deep nesting, long strings, invalid UTF-8, binary attachments, unknown
// events, truncated JSON, oversized bodies, bad Range and header values; raw sockets for what a client
// library will not send), against the release binary and, in --full, the debug build.
// Checks: no panic, /health answering throughout (polled every 200 ms), RSS back within 10 % of where
// it started, every reply a clear error (or a success where the input happened to be valid).
import { readFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import * as L from "./lib.mjs";
import { freePort, documentedRequestEvents } from "../../tests/js/lib/socket.mjs";

const PART = "storm";
const opts = L.options();
const COUNT = opts.full ? 10000 : 1000;
const MORE_ROUNDS = Number(process.env.STORM_MORE_ROUNDS || 0);
/** Which storms the further rounds send: "socket", "http", or both (the default). */
const ROUND_PARTS = process.env.STORM_ROUND_PARTS || "both";
const threads = (pid) => { try { return Number(/Threads:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]); } catch { return null; } };
const MAX_BODY = 65536;
const RSS_TOLERANCE = 0.1;
const SETTLE_MS = 15000;
const EXAMPLES = 25;
const WebSocket = L.requireTests("ws");
const EVENTS = documentedRequestEvents();
const BROADCASTS = ["snapshot", "metrics:update", "logs:entry", "models:status", "requests:completed"];
const FIELDS = ["id", "limit", "offset", "since", "until", "level", "config", "settings", "changes", "content", "dir", "sort", "order", "outcome", "model", "before", "search", "requestId", "bucketMs"];

/** Hostile values, all drawn from the run's seeded PRNG `r`. */
function makeValues(r) {
  const numbers = [-1, 0, -0, 1.5, -(2 ** 63), 2 ** 63, 2 ** 53 + 1, -(2 ** 31), 2 ** 32, 1e308, -1e308, 5e-324, Number.MAX_SAFE_INTEGER];
  const ascii = (n) => Array.from({ length: n }, () => String.fromCharCode(r.int(32, 126))).join("");
  const strings = () => r.pick([
    "", " ", "../../etc/passwd", "/dev/zero", "..", "a/b", "\u0000", "\ud800", "\udfff\ud800", "💥".repeat(r.int(1, 50)), "%00%ff",
    "'; DROP TABLE requests; --", "${jndi:x}", "<script>alert(1)</script>", "\r\n\r\nX: y", ascii(r.int(1, 64)),
    "x".repeat(r.int(256, 300)), "y".repeat(r.int(10000, 100000)), "fake-a", "smol", "***deadbeefcafe",
  ]);
  const nest = (depth, leaf) => {
    let v = leaf;
    for (let i = 0; i < depth; i++) v = r.chance(0.5) ? [v] : { [r.pick(FIELDS)]: v };
    return v;
  };
  const value = (depth = 0) => {
    const kind = r.int(0, depth > 2 ? 5 : 9);
    if (kind === 0) return r.pick(numbers);
    if (kind === 1 || kind === 2) return strings();
    if (kind === 3) return r.pick([true, false, null]);
    if (kind === 4) return r.int(-1e6, 1e6);
    if (kind === 5) return [];
    if (kind === 6) return Array.from({ length: r.int(1, 5) }, () => value(depth + 1));
    if (kind === 7) return nest(r.int(100, 1500), strings());
    return object(depth + 1);
  };
  /** An object of known and unknown fields with hostile values (never empty, never all-valid by design). */
  const object = (depth = 0) => {
    const out = {};
    for (let i = 0, n = r.int(1, 4); i < n; i++) out[r.chance(0.8) ? r.pick(FIELDS) : strings().slice(0, 40)] = value(depth);
    return out;
  };
  /** JSON text nested `depth` levels deep, built as text (JSON.stringify stops near 3,000 levels). */
  const deepText = (depth) => {
    const opens = Array.from({ length: depth }, () => (r.chance(0.5) ? "[" : `{"${r.pick(FIELDS)}":`));
    return `${opens.join("")}"x"${opens.reverse().map((o) => (o === "[" ? "]" : "}")).join("")}`;
  };
  return { value, object, strings, nest, ascii, numbers, deepText };
}

/** Starts llama-dashboard (`binary`) with one own backend, the fake llama-server `fake-a`. */
async function startTarget(binary, label) {
  const dir = L.workDir(`storm-${label}`);
  const config = {
    router: { enabled: false, port: await freePort() }, startup: { autoStart: false }, models: { directory: path.join(dir, "no-models") },
    server: { headerTimeoutMs: 1000 }, proxy: { maxBodyBytes: MAX_BODY, bodyTimeoutMs: 1000 },
    backends: {
      basePort: await freePort(), idleTimeoutSec: 0, defaultSpawn: { command: ["node", L.fakeBin] },
      models: [{ name: "fake-a", path: path.join(dir, "fake-a.gguf") }],
    },
  };
  const server = await L.startDashboard({ binary, dir, dataDir: path.join(dir, "data"), config, env: { RUST_LOG: "warn" } });
  return { ...server, dir };
}

/** Polls /health every 200 ms until stopped; counts answers that were not 200 in time. */
function healthPoller(url) {
  const stats = { polls: 0, failures: 0, examples: [] };
  let running = true;
  const loop = (async () => {
    while (running) {
      const r = await L.httpRequest(`${url}/health`, { timeoutMs: 2000 });
      stats.polls += 1;
      if (r.status !== 200) {
        stats.failures += 1;
        if (stats.examples.length < EXAMPLES) stats.examples.push(`${r.status ?? r.error} after ${r.ms} ms`);
      }
      await L.sleep(200);
    }
  })();
  return { stats, stop: async () => { running = false; await loop; } };
}

/**
 * Tallies outcomes by kind. What is not a clear answer is grouped by `key` (what was sent and what came
 * back, without the random parts) with a count and one example each.
 */
function outcomes() {
  const counts = {};
  const unclear = {};
  const slowest = [];
  return {
    counts, unclear, slowest,
    add(kind, example, ms = 0, key = example) {
      counts[kind] = (counts[kind] || 0) + 1;
      if (kind === "unclear" && (unclear[key] || Object.keys(unclear).length < EXAMPLES)) {
        unclear[key] = { count: (unclear[key]?.count || 0) + 1, example: unclear[key]?.example || example };
      }
      if (ms > 1000 && slowest.length < EXAMPLES) slowest.push(`${ms} ms: ${example}`);
    },
  };
}

/** A socket reply is clear: the envelope, and either data or an error with a code and a message. */
function judgeReply(reply, event) {
  if (!reply || typeof reply !== "object" || reply.type !== "response" || reply.event !== event) return "unclear";
  if (reply.success === true) return reply.data && typeof reply.data === "object" ? "success" : "unclear";
  if (reply.success === false) return typeof reply.error?.code === "string" && typeof reply.error?.message === "string" ? "error" : "unclear";
  return "unclear";
}

const short = (v) => { const s = typeof v === "string" ? v : JSON.stringify(v) ?? String(v); return s.length > 160 ? `${s.slice(0, 160)}…(${s.length})` : s; };

/** One Socket.IO client sending `count` hostile events in turn (with or without ack, some with binary). */
async function socketWorker(url, seed, count, tally) {
  const r = L.prng(seed);
  const V = makeValues(r);
  let closed = null;
  const open = async () => {
    const s = await L.connectSocket(url);
    s.on("disconnect", (reason) => { closed = { reason, at: Date.now() }; });
    closed = null;
    return s;
  };
  let socket = await open();
  for (let i = 0; i < count; i++) {
    if (!socket.connected) { tally.add("reconnects"); socket.close(); socket = await open(); }
    const roll = r.next();
    const event = roll < 0.12 ? r.pick([...BROADCASTS, V.strings().slice(0, 2000) || "x", `x:${V.ascii(8)}`, `models:${V.ascii(4)}`]) : r.pick(EVENTS);
    let payload = r.chance(0.25) ? V.value() : V.object();
    // A name that is not well-formed Unicode cannot be decoded: dropping the connection is the answer.
    // So is a name with a character JSON escapes: socketioxide's parser reads the name as a borrowed
    // string, which an escape cannot be, and closes that one connection (docs/reliability.md).
    let closeOk = event !== event.toWellFormed() || /["\\\u0000-\u001f]/.test(event);
    if (r.chance(0.08)) payload = { [r.pick(FIELDS)]: Buffer.from(Array.from({ length: r.int(0, 4096) }, () => r.int(0, 255))), more: r.chance(0.5) ? Buffer.alloc(r.int(1, 64)) : 1 };
    else if (r.chance(0.005)) { payload = { content: "z".repeat(2 * 1024 * 1024 + 10) }; closeOk = true; }
    else if (r.chance(0.003)) { payload = Array.from({ length: 20 }, () => Buffer.alloc(8)); closeOk = true; }
    const label = `${event.slice(0, 60)} ${short(payload)}`;
    // Grouped by what the name is, not by its random characters.
    const name = EVENTS.includes(event) || BROADCASTS.includes(event) ? event : /["\\\u0000-\u001f]/.test(event) ? "an unknown name with a character JSON escapes" : "an unknown name";
    const sentAt = Date.now();
    if (r.chance(0.15)) {
      const answer = await resultEvent(socket, event, payload);
      const kind = answer === null ? (closeOk && closed ? "closed" : "unclear") : judgeReply(answer, event);
      tally.add(kind, `no-ack ${label} -> ${short(answer)}`, Date.now() - sentAt, `${name} without ack -> ${answer === null ? "no :result" : "unclear reply"}`);
    } else {
      const reply = await L.ask(socket, event, payload, 10000);
      const why = closed ? `closed (${closed.reason}) ${closed.at - sentAt} ms after it was sent` : "still connected";
      if (reply?.timeout) tally.add(closeOk && closed ? "closed" : "unclear", `${label} -> no reply in 10 s: ${why}`, Date.now() - sentAt, `${name} -> no reply (${closed ? "connection closed" : "still connected"})`);
      else tally.add(judgeReply(reply, event), `${label} -> ${short(reply)}`, Date.now() - sentAt, `${name} -> unclear reply`);
    }
  }
  socket.close();
}

/** Emits without an ack; resolves the `<event>:result` reply, or null after 10 s. */
function resultEvent(socket, event, payload) {
  return new Promise((resolve) => {
    const name = `${event}:result`;
    const handler = (reply) => { clearTimeout(timer); resolve(reply); };
    const timer = setTimeout(() => { socket.off(name, handler); resolve(null); }, 10000);
    socket.once(name, handler);
    try { socket.emit(event, payload); } catch { clearTimeout(timer); socket.off(name, handler); resolve(null); }
  });
}

/** Raw engine.io/socket.io frames a client library will not send; each followed by a probe request. */
function rawFrames(r, V) {
  const json = (v) => JSON.stringify(v) ?? "null";
  return [
    () => `42${json([r.pick(EVENTS), V.object()]).slice(0, r.int(1, 40))}`,
    () => `4217${json([r.pick(EVENTS), V.object()]).slice(0, -1)}`,
    () => `42${"[".repeat(r.int(200, 5000))}`,
    () => `4218[${JSON.stringify(r.pick(EVENTS))},${V.deepText(r.int(200, 100000))}]`,
    () => `4${V.ascii(r.int(0, 200))}`,
    () => V.ascii(r.int(0, 200)),
    () => `451-${json(["models:get", { id: { _placeholder: true, num: r.int(-5, 50) } }])}`,
    () => `42${json([r.pick(EVENTS), { id: { _placeholder: true, num: 0 } }])}`,
    () => `4299999999999999999999${json([r.pick(EVENTS), {}])}`,
    () => `42-1${json([r.pick(EVENTS), {}])}`,
    () => `42${json([V.value(), V.value()])}`,
    () => `42${json([])}`,
    () => r.pick(["2", "3", "5", "6", "1", "49", "41", "40", "40/nope,", "44"]),
    () => Buffer.from(Array.from({ length: r.int(1, 512) }, () => r.int(0, 255))),
    () => ({ invalidUtf8: Buffer.concat([Buffer.from('42["models:get",{"id":"'), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from('"}]')]) }),
  ];
}

/**
 * Opens a raw websocket, joins the namespace, sends one hostile frame, then asks `settings:get` (ack 1).
 * Resolves "served" (the probe was answered: the frame was ignored or answered), "closed" (the server
 * dropped the connection, the protocol's answer to a frame it cannot parse) or "unclear" (neither in 5 s),
 * plus any reply to the hostile frame's own ack id (17 or 18; judged like every reply).
 */
function rawExchange(port, frame) {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/llamaproxws/?EIO=4&transport=websocket`);
    let joined = false;
    let hostileReply = null;
    const done = (kind) => { clearTimeout(timer); ws.terminate(); resolve({ kind, hostileReply }); };
    const timer = setTimeout(() => done("unclear"), 5000);
    ws.on("message", (data, isBinary) => {
      const text = isBinary ? "" : data.toString();
      if (text.startsWith("0{")) ws.send("40");
      else if (text === "2") ws.send("3");
      else if (text.startsWith("40") && !joined) {
        joined = true;
        if (frame.invalidUtf8) ws.send(frame.invalidUtf8, { binary: false });
        else ws.send(frame, { binary: Buffer.isBuffer(frame) });
        ws.send('421["settings:get",{}]');
      } else if (/^43(17|18)\[/.test(text)) {
        try { hostileReply = JSON.parse(text.slice(4))[0]; } catch { hostileReply = { unparsable: text.slice(0, 100) }; }
      } else if (text.startsWith("431[")) done("served");
    });
    ws.on("close", () => done(joined ? "closed" : "unclear"));
    ws.on("error", () => {});
  });
}

/** The socket half of the storm: `count` events over 4 clients plus raw frames (about 10 % of them). */
async function socketStorm(server, r, V, count) {
  const tally = outcomes();
  const raw = Math.round(count / 10);
  const perClient = Math.ceil((count - raw) / 4);
  const seeds = Array.from({ length: 4 }, () => r.int(0, 2 ** 31));
  await Promise.all(seeds.map((seed) => socketWorker(server.url, seed, perClient, tally)));
  const frames = rawFrames(r, V);
  for (let i = 0; i < raw; i++) {
    const frame = r.pick(frames)();
    const { kind, hostileReply } = await rawExchange(server.port, frame);
    const shown = short(frame.invalidUtf8 ? "<invalid UTF-8 text frame>" : Buffer.isBuffer(frame) ? "<binary>" : frame);
    tally.add(kind === "unclear" ? "unclear" : `raw-${kind}`, `raw frame ${shown} -> neither answered nor closed`, 0, "raw frame -> neither answered nor closed");
    if (hostileReply) {
      const verdict = hostileReply.type === "response" ? judgeReply(hostileReply, hostileReply.event) : "unclear";
      tally.add(verdict === "unclear" ? "unclear" : "raw-answered", `raw frame ${shown} -> ${short(hostileReply)}`, 0, "raw frame -> unclear reply");
    }
  }
  return { sent: perClient * 4 + raw, clients: 4, rawFrames: raw, outcomes: tally.counts, unclear: tally.unclear, slowest: tally.slowest };
}

/**
 * HTTP cases: each is {label, send(): result, expect: statuses, json: an API path whose error must be a
 * JSON body, ok: statuses that are a fine answer to this input (it happened to be valid)}.
 */
function httpCases(url, port, r, V) {
  const post = (p, body, headers = {}) => {
    const send = () => L.httpRequest(`${url}${p}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body, timeoutMs: 10000 });
    send.tooLarge = Buffer.byteLength(body) > MAX_BODY;
    return send;
  };
  const get = (p, headers = {}) => {
    const send = () => L.httpRequest(`${url}${p}`, { headers, timeoutMs: 10000 });
    send.target = `GET ${p.slice(0, 80)}`;
    return send;
  };
  const v1 = () => r.pick(["/v1/chat/completions", "/v1/completions", "/v1/embeddings", `/v1/${encodeURIComponent(V.ascii(8))}`]);
  const chatLike = (model) => ({ model, messages: [{ role: "user", content: "hi" }], max_tokens: r.pick(V.numbers), stream: r.chance(0.5) });
  const badModel = () => r.pick([r.pick(V.numbers), [], [V.strings()], { a: 1 }, true, null]);
  const randomBytes = (n) => Buffer.from(Array.from({ length: n }, () => r.int(0, 255)));
  const enc = (text) => encodeURIComponent(text.toWellFormed());
  const pct = () => Array.from({ length: r.int(1, 30) }, () => `%${r.int(0, 255).toString(16).padStart(2, "0")}`).join("");
  return [
    () => ({ label: "truncated JSON", send: post(v1(), JSON.stringify(chatLike("fake-a")).slice(0, r.int(1, 40))), expect: [400], json: true }),
    () => ({ label: "model of a wrong type", send: post(v1(), JSON.stringify({ ...chatLike(badModel()) })), expect: [400], json: true }),
    () => {
      // V.object() draws its keys from FIELDS, which holds "model": without this, one in ~20 bodies names
      // the known model "fake-a" and is rightly served.
      const { model: _drawn, ...body } = V.object();
      return { label: "no model", send: post(v1(), JSON.stringify(body)), expect: [400, 404], json: true };
    },
    () => ({ label: "unknown or hostile model name", send: post(v1(), JSON.stringify(chatLike(V.strings() + V.ascii(3)))), expect: [400, 404], json: true }),
    () => ({ label: "path-like model", send: post(v1(), JSON.stringify(chatLike(r.pick(["../x", "/etc/passwd", "a/b", "..\\x", "./fake-a"])))), expect: [400], json: true }),
    // Bytes that never occur in UTF-8, so the body is invalid however they fall.
    () => ({ label: "invalid UTF-8 body", send: post(v1(), Buffer.concat([Buffer.from('{"model":"'), Buffer.from(Array.from({ length: r.int(1, 40) }, () => r.pick([0xc0, 0xc1, 0xf5, 0xfe, 0xff]))), Buffer.from('"}')])), expect: [400], json: true }),
    () => ({ label: "deep nesting", send: post(v1(), V.deepText(r.int(200, 50000))), expect: [400], json: true }),
    () => ({ label: "binary body", send: post(v1(), randomBytes(r.int(1, 4096)), { "content-type": "application/octet-stream" }), expect: [400], json: true }),
    () => ({ label: "oversized body", send: post(v1(), "x".repeat(MAX_BODY + r.int(1, 200000))), expect: [413], json: true }),
    () => ({ label: "known model, hostile fields", send: post("/v1/chat/completions", JSON.stringify({ ...chatLike("fake-a"), ...V.object(), model: "fake-a", messages: [{ role: "user", content: "hi" }], fake: { tokens: 1, tokenMs: 0 } })), expect: [400], ok: [200], json: true }),
    () => ({ label: "model id: hostile or invalid percent-encoding", send: get(`/v1/models/${r.chance(0.5) ? pct() : enc(V.strings() || "x")}`), expect: [400, 404], ok: [200], json: true }),
    () => {
      const [p, methods] = r.pick([["/health", ["PUT", "DELETE", "POST"]], ["/metrics", ["PATCH", "POST"]], ["/v1/models", ["PUT", "DELETE"]], ["/admin/rescan", ["GET", "PUT"]], ["/admin/reload", ["GET", "DELETE"]]]);
      const method = r.pick(methods);
      return { label: "wrong method", send: () => L.httpRequest(`${url}${p}`, { method, timeoutMs: 10000 }), expect: [405], json: true };
    },
    () => ({ label: "pass-through to a hostile model name", send: get(`/${r.chance(0.3) ? pct() : enc(V.strings() || "x")}/${r.pick(["health", "props", "slots"])}`), expect: [400, 404, 503], json: true, ok: [200] }),
    () => ({ label: "admin rescan with a junk body", send: post("/admin/rescan", randomBytes(r.int(0, 512))), expect: [400], ok: [200], json: true }),
    () => ({ label: "bad Range", send: get(r.pick(["/", "/index.html", "/v1/models", "/health"]), { range: r.pick(["bytes=999999999-", "bytes=-5-7,zz", "bytes=5-1", "lines=1-2", "bytes=" + "1-2,".repeat(500), "bytes=-0"]) }), expect: [416], ok: [200, 206], json: false }),
    () => ({ label: "foreign Host or Origin", send: get("/v1/models", r.chance(0.5) ? { host: `${V.ascii(8).replace(/[^a-z]/gi, "a")}.example` } : { origin: `http://${V.ascii(6).replace(/[^a-z]/gi, "b")}.evil` }), expect: [403], json: true }),
    () => ({ label: "junk credentials and content type", send: post(v1(), JSON.stringify(chatLike("nope")), { authorization: `Bearer ${V.ascii(r.int(0, 4000))}`, "x-api-key": V.ascii(r.int(0, 100)), "content-type": V.ascii(r.int(0, 60)) }), expect: [400, 404], json: true }),
    ...rawCases(port, r, V),
  ];
}

/** Requests fetch cannot send, written on a raw socket; `parser` = refused by the HTTP parser itself. */
function rawCases(port, r, V) {
  const line = (method, p, version = "HTTP/1.1") => `${method} ${p} ${version}\r\n`;
  const host = "Host: 127.0.0.1\r\n";
  const close = "Connection: close\r\n";
  const send = (text) => () => rawHttp(port, text);
  const body = JSON.stringify({ model: "fake-a", messages: [] });
  return [
    () => ({ label: "raw: control bytes in a header value", send: send(`${line("GET", "/health")}${host}X-Bad: a${String.fromCharCode(r.int(1, 8))}b\r\n${close}\r\n`), expect: [400], json: false }),
    () => ({ label: "raw: garbage request line", send: send(`${V.ascii(r.int(1, 200)).replace(/\r|\n/g, "")}\r\n\r\n`), expect: [400, 405, 404, 505], ok: [200], json: false, closeOk: true }),
    () => ({ label: "raw: bad HTTP version", send: send(`${line("GET", "/health", r.pick(["HTTP/9.9", "HTTP/1", "HTTX/1.1"]))}${host}${close}\r\n`), expect: [400, 505], json: false, closeOk: true }),
    () => ({ label: "raw: negative or junk Content-Length", send: send(`${line("POST", "/v1/chat/completions")}${host}Content-Length: ${r.pick(["-5", "abc", "1e3", "0x10", " 5 5", "99999999999999999999999"])}\r\n${close}\r\n{}`), expect: [400, 413], json: false }),
    () => ({ label: "raw: two different Content-Lengths", send: send(`${line("POST", "/v1/chat/completions")}${host}Content-Length: 5\r\nContent-Length: 6\r\n${close}\r\nabcdef`), expect: [400], json: false }),
    () => ({ label: "raw: broken chunked body", send: send(`${line("POST", "/v1/chat/completions")}${host}Transfer-Encoding: chunked\r\n${close}\r\n${r.pick(["zz", "-1", "FFFFFFFFFFFFFFFFFF", "5;x"])}\r\nabc\r\n0\r\n\r\n`), expect: [400], json: false }),
    () => ({ label: "raw: huge declared Content-Length", send: send(`${line("POST", "/v1/chat/completions")}${host}Content-Length: ${MAX_BODY + r.int(1, 1e9)}\r\n${close}\r\n{`), expect: [413], json: true }),
    () => ({ label: "raw: body shorter than declared", send: send(`${line("POST", "/v1/chat/completions")}${host}Content-Length: ${body.length + r.int(1, 100)}\r\n${close}\r\n${body}`), expect: [400, 408], json: true }),
    () => ({ label: "raw: headers that never end", send: send(`${line("GET", "/health")}${host}X-Slow: ${V.ascii(20)}`), expect: [408], json: false, closeOk: true }),
    () => ({ label: "raw: oversized header", send: send(`${line("GET", "/health")}${host}X-Big: ${"a".repeat(r.int(500000, 2000000))}\r\n${close}\r\n`), expect: [431, 400], ok: [200], json: false, closeOk: true }),
    () => ({ label: "raw: NUL and non-ASCII in the path", send: send(`${line("GET", `/v1/models/a\u0000${"\u00ff"}b`)}${host}${close}\r\n`), expect: [400, 404], json: false }),
    () => ({ label: "raw: no Host", send: send(`${line("GET", "/v1/models")}${close}\r\n`), expect: [400], ok: [200], json: false }),
    () => ({ label: "raw: absolute-form request", send: send(`${line("GET", "http://evil.example/v1/models")}${host}${close}\r\n`), expect: [400, 403], ok: [200], json: false }),
    () => ({ label: "raw: CONNECT", send: send(`${line("CONNECT", "evil.example:443")}${host}${close}\r\n`), expect: [405], json: true }),
    () => ({ label: "raw: invalid UTF-8 in a header", send: () => rawHttp(port, Buffer.concat([Buffer.from(`${line("GET", "/v1/models")}${host}X-U: `), Buffer.from([0xff, 0xc3, 0x28]), Buffer.from(`\r\n${close}\r\n`)])), expect: [400], ok: [200], json: false }),
    () => ({ label: "raw: junk after a request (pipelined)", send: send(`${line("GET", "/health")}${host}\r\n${V.ascii(r.int(1, 300))}\r\n\r\n`), expect: [400], ok: [200], json: false, closeOk: true }),
  ];
}

/** Writes raw bytes and resolves the first response {status, headers, body}, or {closed} / {error}. */
function rawHttp(port, data, timeoutMs = 10000) {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1", () => socket.write(data));
    const chunks = [];
    const started = Date.now();
    const finish = (extra = {}) => {
      clearTimeout(timer);
      socket.destroy();
      const all = Buffer.concat(chunks).toString("latin1");
      const end = all.indexOf("\r\n\r\n");
      if (!all) return resolve({ closed: true, ms: Date.now() - started, ...extra });
      const [statusLine, ...lines] = all.slice(0, end < 0 ? all.length : end).split("\r\n");
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]));
      resolve({ status: Number(statusLine.split(" ")[1]) || null, headers, body: end < 0 ? "" : all.slice(end + 4), ms: Date.now() - started, ...extra });
    };
    const timer = setTimeout(() => finish({ error: "timeout" }), timeoutMs);
    socket.on("data", (c) => chunks.push(c));
    socket.on("error", () => finish());
    socket.on("close", () => finish());
  });
}

/** A refusal by the HTTP parser itself, before any route ran: a status, no body, and the connection closed. */
const byParser = (res) => [400, 414, 431].includes(res.status) && !res.body && !res.headers?.["content-type"] && res.headers?.connection === "close";

/** Sorts one HTTP result into error (the expected status, JSON on API paths) / success / parser / closed / unclear. */
function judgeHttp(c, res) {
  if (res.error === "timeout" || (res.status == null && !res.closed)) return "unclear";
  if (res.closed) return c.closeOk ? "closed" : "unclear";
  if ((c.ok || []).includes(res.status)) return "success";
  if (byParser(res)) return "parser";
  const expect = c.send.tooLarge ? [413] : c.expect;
  if (!expect.includes(res.status)) return "unclear";
  // Outside the API (the dashboard's files) a plain-text error is a clear one.
  if (!c.json && !res.headers?.["content-type"]?.includes("json")) return "plain-error";
  return jsonVerdict(res);
}

function jsonVerdict(res) {
  try {
    const body = JSON.parse(res.body);
    return typeof body?.error?.message === "string" || typeof body?.error === "string" ? "error" : "unclear";
  } catch {
    return "unclear";
  }
}

async function httpStorm(server, r, V, count) {
  const tally = outcomes();
  const cases = httpCases(server.url, server.port, r, V);
  const byLabel = {};
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next += 1;
      const c = r.pick(cases)();
      const res = await c.send();
      const kind = judgeHttp(c, res);
      const got = res.status ?? (res.closed ? "closed" : res.error);
      tally.add(kind, `${c.label}${c.send.target ? ` (${c.send.target})` : ""} -> ${got} ${short(res.body ?? "")}`, res.ms, `${c.label} -> ${got} ${res.headers?.["content-type"] || "(no content type)"}`);
      byLabel[c.label] = byLabel[c.label] || {};
      byLabel[c.label][res.status ?? (res.closed ? "closed" : "none")] = (byLabel[c.label][res.status ?? (res.closed ? "closed" : "none")] || 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return { sent: count, concurrency: 8, outcomes: tally.counts, unclear: tally.unclear, slowest: tally.slowest, statusesByCase: byLabel };
}

/** Valid traffic before the baseline, so lazily built state (the backend, pools, caches) is in place. */
async function warmUp(server) {
  const socket = await L.connectSocket(server.url);
  for (const event of EVENTS.filter((e) => /:(list|get|stats|history|status|load)$/.test(e))) await L.ask(socket, event, {});
  socket.close();
  for (let i = 0; i < 20; i++) {
    await L.httpRequest(`${server.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "fake-a", messages: [{ role: "user", content: "hi" }], fake: { tokens: 1, tokenMs: 0 } }) });
    await L.httpRequest(`${server.url}/v1/models`);
  }
}

/** The storm against one binary; resolves its figures. */
async function stormOne(binary, label, seed) {
  const r = L.prng(seed);
  const V = makeValues(r);
  const server = await startTarget(binary, label);
  try {
    const rssBoot = L.rssBytes(server.pid);
    // The baseline is taken after valid traffic and a storm a tenth the size (another seed): pools,
    // caches and allocator arenas have their working size, so what stays above it is what the storm kept.
    await warmUp(server);
    const warm = L.prng(seed ^ 0x5eed);
    await socketStorm(server, warm, makeValues(warm), Math.round(COUNT / 10));
    await httpStorm(server, warm, makeValues(warm), Math.round(COUNT / 10));
    await L.sleep(2000);
    const rssStart = L.rssBytes(server.pid);
    const health = healthPoller(server.url);
    const started = Date.now();
    L.log(PART, `${label}: ${COUNT} socket events`);
    const socket = await socketStorm(server, r, V, COUNT);
    L.log(PART, `${label}: ${COUNT} HTTP requests`);
    const httpFigures = await httpStorm(server, r, V, COUNT);
    await health.stop();
    const stormSec = Math.round((Date.now() - started) / 100) / 10;
    const rssAfter = L.rssBytes(server.pid);
    const settled = await L.waitFor(() => { const rss = L.rssBytes(server.pid); return rss !== null && rss <= rssStart * (1 + RSS_TOLERANCE) && rss; }, { timeoutMs: SETTLE_MS, intervalMs: 500 });
    const rssSettled = settled || L.rssBytes(server.pid);
    // STORM_MORE_ROUNDS=N: N more storms of the same size on the same process, RSS after each, to tell
    // memory that grows with every storm (a leak) from a working set that stops growing.
    const rssMoreRounds = [];
    for (let round = 1; round <= MORE_ROUNDS; round++) {
      const more = L.prng(seed + round);
      const values = makeValues(more);
      if (ROUND_PARTS !== "http") await socketStorm(server, more, values, COUNT);
      if (ROUND_PARTS !== "socket") await httpStorm(server, more, values, COUNT);
      await L.sleep(2000);
      rssMoreRounds.push(L.rssBytes(server.pid));
      L.log(PART, `${label}: round ${round + 1} (${ROUND_PARTS}) done, RSS ${Math.round(rssMoreRounds.at(-1) / 104857.6) / 10} MiB, ${threads(server.pid)} threads`);
    }
    const alive = server.proc.exitCode === null && server.proc.signalCode === null;
    const log = readFileSync(server.logFile, "utf8");
    const panics = log.split("\n").filter((l) => l.includes("panicked"));
    const mib = (b) => (b === null ? null : Math.round((b / 1048576) * 10) / 10);
    return {
      binary: label, path: binary, stormSec, alive, panics: panics.length, panicLines: panics.slice(0, EXAMPLES), health: health.stats,
      rss: { bootMiB: mib(rssBoot), startMiB: mib(rssStart), afterMiB: mib(rssAfter), settledMiB: mib(rssSettled), settleWaitMs: SETTLE_MS, withinTolerance: rssSettled !== null && rssSettled <= rssStart * (1 + RSS_TOLERANCE), afterMoreRoundsMiB: rssMoreRounds.map(mib) },
      socket, http: httpFigures,
    };
  } finally {
    await L.stopProcess(server.proc);
    for (const p of L.ourLlamaServers()) { try { process.kill(p.pid, "SIGKILL"); } catch {} }
  }
}

const unclearCount = (group) => Object.values(group).reduce((n, u) => n + u.count, 0);

function failures(run) {
  const out = [];
  if (!run.alive) out.push("the server exited during the storm");
  if (run.panics) out.push(`${run.panics} panic(s) in the server's output`);
  if (run.health.failures) out.push(`/health failed ${run.health.failures} of ${run.health.polls} polls`);
  if (!run.rss.withinTolerance) out.push(`RSS ${run.rss.settledMiB} MiB after settling, started at ${run.rss.startMiB} MiB (> ${RSS_TOLERANCE * 100} %)`);
  if (run.socket.outcomes.unclear) out.push(`${run.socket.outcomes.unclear} socket event(s) without a clear answer`);
  if (run.http.outcomes.unclear) out.push(`${run.http.outcomes.unclear} HTTP request(s) without a clear answer`);
  return out.map((f) => `${run.binary}: ${f}`);
}

async function main() {
  L.log(PART, `${opts.mode}: ${COUNT} socket events and ${COUNT} HTTP requests per binary, seed ${opts.seed}`);
  const started = Date.now();
  const binaries = [["release", L.releaseBin]];
  if (opts.full && !process.env.STORM_RELEASE_ONLY) binaries.push(["debug", path.join(L.repoRoot, "target/debug/llama-dashboard")]);
  const runs = [];
  for (const [label, binary] of binaries) runs.push(await stormOne(binary, label, opts.seed));
  const failed = runs.flatMap(failures);
  const figures = { part: PART, mode: opts.mode, seed: opts.seed, commit: L.commit(), date: new Date().toISOString(), durationSec: Math.round((Date.now() - started) / 1000), runs, failed };
  const file = L.writeFigures(PART, figures);
  console.log(`\n${PART} (${opts.mode}, seed ${opts.seed}, ${figures.durationSec} s) -> ${path.relative(L.repoRoot, file)}`);
  for (const run of runs) {
    console.log(`  ${run.binary.padEnd(8)} ${run.stormSec} s  panics ${run.panics}  /health failed ${run.health.failures}/${run.health.polls}`
      + `  RSS (MiB) boot ${run.rss.bootMiB}, start ${run.rss.startMiB}, after ${run.rss.afterMiB}, settled ${run.rss.settledMiB}`);
    console.log(`  ${"".padEnd(8)} socket ${run.socket.sent}: ${JSON.stringify(run.socket.outcomes)}`);
    console.log(`  ${"".padEnd(8)} http   ${run.http.sent}: ${JSON.stringify(run.http.outcomes)}`);
    for (const [key, u] of Object.entries({ ...run.socket.unclear, ...run.http.unclear })) console.log(`    not clear, ${u.count}x: ${key}\n      e.g. ${u.example}`);
  }
  for (const f of failed) console.log(`  FAIL ${f}`);
  process.exitCode = failed.length ? 1 : 0;
}

// Exits explicitly: a failed run may leave a poller or a socket open.
main().then(() => process.exit(), (err) => { console.error(`${PART}: ${err.stack || err}`); process.exit(2); });
