// What we log follows `logging.level`, and RUST_LOG overrides it (README: "Logs go to stderr (`RUST_LOG`
// overrides `logging.level`), to SQLite and to dashboard clients"); `logging.logFile` gets the same lines
// appended: an existing file keeps its content, a restart adds to it.
// Each run causes an info line (a settings change), a debug line (a request refused for its Host) and then
// a warning (a new unreadable GGUF listed): once the warning is stored, the lines before it were decided.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync, readFileSync } from "node:fs";
import path from "node:path";
import { startServer } from "./lib/server.mjs";
import { connect, ok, request, until, tempDir } from "./lib/socket.mjs";
import { rawHttp, startWithFake, chat } from "./lib/fake-router.mjs";

const stripAnsi = (s) => s.replace(/\x1b\[[0-9;]*m/g, "");

async function start(t, { logging, env }) {
  const models = tempDir();
  t.after(models.cleanup);
  const server = await startServer({ config: { logging, models: { directory: models.dir }, startup: { autoStart: false } }, env });
  t.after(() => server.stop());
  const client = await connect(server.url);
  t.after(() => client.close());
  return { server, client, models: models.dir };
}

/** Logs an info, a debug and a warn line in that order; resolves every stored row once the warning is in. */
async function logThree({ server, client, models }) {
  await ok(client.socket, "settings:update", { settings: { retentionDays: 9 } }); // info "settings updated"
  const refused = await rawHttp(server.url, "GET /health HTTP/1.1\r\nHost: rebind.example\r\nConnection: close\r\n\r\n");
  assert.equal(refused.status, 403); // debug "request refused"
  writeFileSync(path.join(models, "marker.gguf"), "not a GGUF file");
  // warn "model file has unreadable GGUF metadata", logged while the file is read (before the listing is stored:
  // that step can fail with "database is locked" when it races another writer, which is not this test's subject).
  await request(client.socket, "models:list", {});
  return until(async () => {
    const { logs } = await ok(client.socket, "logs:get", { level: "trace", limit: 1000 });
    return logs.some((l) => l.level === "warn" && l.model === "marker") && logs;
  }, { timeoutMs: 10000, what: "the marker warning to be stored" });
}

const cases = [
  // [logging.level, RUST_LOG (undefined = unset), debug line kept, info line kept]
  ["warn", undefined, false, false],
  ["debug", undefined, true, true],
  ["debug", "", true, true], // an empty RUST_LOG counts as unset
  ["warn", "llama_dashboard=debug", true, true],
  ["debug", "warn", false, false],
  ["debug", "llama_dashboard=info", false, true],
];
for (const [level, rustLog, debug, info] of cases) {
  test(`logging.level ${level} with RUST_LOG ${rustLog === undefined ? "unset" : JSON.stringify(rustLog)}: debug lines ${debug ? "kept" : "not logged"}, info lines ${info ? "kept" : "not logged"}`, async (t) => {
    const ctx = await start(t, { logging: { level }, env: { RUST_LOG: rustLog } });
    const logs = await logThree(ctx);
    const stderr = stripAnsi(ctx.server.output());
    const has = (lvl, text) => logs.some((l) => l.level === lvl && l.message.includes(text));
    assert.equal(has("info", "settings updated"), info, `info line stored: ${JSON.stringify(logs.map((l) => [l.level, l.message]))}`);
    assert.equal(has("debug", "request refused"), debug, `debug line stored: ${JSON.stringify(logs.map((l) => [l.level, l.message]))}`);
    assert.equal(/INFO .*settings updated/.test(stderr), info, `info line on stderr:\n${stderr}`);
    assert.equal(/DEBUG .*request refused/.test(stderr), debug, `debug line on stderr:\n${stderr}`);
    assert.match(stderr, /WARN .*unreadable GGUF metadata/, "the warning is printed at every level used here");
    if (!info) assert.deepEqual(logs.filter((l) => ["info", "debug", "trace"].includes(l.level)), [], "nothing below warn is stored");
  });
}

test("logging.logFile gets our log appended: an existing file keeps its content, a restart adds to it", async (t) => {
  const d = tempDir();
  t.after(d.cleanup);
  const file = path.join(d.dir, "ours.log");
  writeFileSync(file, "a line written before we started\n");
  const read = () => readFileSync(file, "utf8");
  const config = { logging: { logFile: file }, startup: { autoStart: false } };

  const first = await startServer({ config });
  t.after(() => first.stop());
  const client = await connect(first.url);
  await ok(client.socket, "settings:update", { settings: { retentionDays: 11 } });
  await until(() => read().includes("settings updated"), { timeoutMs: 5000, what: "the settings line in the log file" });
  const { logs } = await ok(client.socket, "logs:get", { level: "info", limit: 1000 });
  client.close();
  const text = read();
  assert.ok(text.startsWith("a line written before we started\n"), `the file was truncated:\n${text.slice(0, 500)}`);
  assert.match(text, /INFO .*configuration loaded/);
  assert.match(text, /INFO .*settings updated keys=\["retentionDays"\]/);
  assert.doesNotMatch(text, /\x1b\[/, "no terminal colours in the file");
  // Every line stored in SQLite so far was written to the file too.
  const missing = logs.filter((l) => !text.includes(l.message.split(" ").slice(0, 4).join(" ")));
  assert.deepEqual(missing.map((l) => l.message), [], "stored lines missing from the file");
  await first.stop();
  const afterFirst = read();
  assert.match(afterFirst, /INFO .*stopped/, "the shutdown is logged to the file too");

  const second = await startServer({ config });
  t.after(() => second.stop());
  await until(() => read().match(/INFO .*: ready addr=/g)?.length === 2, { timeoutMs: 5000, what: "the second run's lines in the log file" });
  const both = read();
  assert.ok(both.startsWith(afterFirst), "the second run appends after the first run's lines");
  assert.match(both.slice(afterFirst.length), /INFO .*configuration loaded/);
});

test("RUST_LOG=trace: the server keeps answering; other crates' lines go to stderr (frame dumpers capped at debug), not into the stored log", async (t) => {
  // Each stored line is broadcast over the websocket, whose crates trace every frame: storing those would loop.
  const ctx = await start(t, { logging: { level: "info" }, env: { RUST_LOG: "trace" } });
  const logs = await logThree(ctx);
  assert.ok(logs.some((l) => l.level === "debug" && l.message.includes("request refused")), "our debug lines are stored");
  const stderr = stripAnsi(ctx.server.output());
  assert.match(stderr, /DEBUG llama_dashboard::guard: request refused/, "RUST_LOG=trace reaches stderr");
  assert.doesNotMatch(stderr, /TRACE (tungstenite|tokio_tungstenite|engineioxide|socketioxide|hyper|hyper_util|h2|reqwest)/,
    "the crates that print whole frames and headers (a token, a key) stay at debug");
  const foreign = logs.filter((l) => ["debug", "trace"].includes(l.level) && /tungstenite|hyper|h2|engineioxide|socketioxide|tokio/.test(l.source));
  assert.deepEqual(foreign.slice(0, 5), [], `${foreign.length} debug/trace lines of other crates stored`);
  assert.ok(logs.length < 200, `${logs.length} lines stored for a handful of actions`);
});

test("proxied requests print no line of the HTTP crates at the default level, and their trace lines never print", async (t) => {
  for (const env of [{}, { RUST_LOG: "trace" }]) {
    const ctx = await startWithFake({ env });
    t.after(() => ctx.stop());
    for (let i = 0; i < 3; i++) assert.equal((await chat(ctx.v1, {})).status, 200);
    const lines = stripAnsi(ctx.server.output()).split("\n");
    const http = lines.filter((l) => /\b(hyper|hyper_util|reqwest|h2)(::|\b.*: )/.test(l));
    const trace = http.filter((l) => /\bTRACE\b/.test(l));
    assert.deepEqual(trace, [], `RUST_LOG ${env.RUST_LOG ?? "unset"}: no trace line of theirs`);
    if (!env.RUST_LOG) assert.deepEqual(http, [], "the default level prints none of their lines");
    else assert.ok(http.some((l) => /\bDEBUG\b/.test(l)), "their debug lines still print under RUST_LOG=trace");
  }
});
