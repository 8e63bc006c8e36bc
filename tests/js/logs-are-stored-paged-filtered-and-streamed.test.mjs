// logs:get returns the server's own log lines (startup included) from SQLite, newest first, paged with the
// `before` id cursor, filtered by minimum level / source / search; new lines arrive live as logs:entry.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "./lib/server.mjs";
import { connect, request, ok, until, waitFor, assertBroadcast, assertBadRequest } from "./lib/socket.mjs";

const LEVELS = ["trace", "debug", "info", "warn", "error"];
const rank = (l) => LEVELS.indexOf(l);
const stripAnsi = (s) => s.replace(/\x1b\[[0-9;]*m/g, "");

let server, client, all;
before(async () => {
  server = await startServer({ config: { logging: { level: "debug" } } });
  client = await connect(server.url);
  all = await until(async () => {
    const { logs } = await ok(client.socket, "logs:get", { limit: 1000 });
    return logs.length >= 3 && logs;
  }, { timeoutMs: 5000, what: "at least 3 stored log lines after startup" });
});
after(async () => {
  client?.close();
  await server?.stop();
});

function assertEntry(e, what = "log entry") {
  assert.ok(Number.isInteger(e.id), `${what}.id: ${JSON.stringify(e)}`);
  assert.ok(Number.isInteger(e.timestamp) && Math.abs(Date.now() - e.timestamp) < 120e3, `${what}.timestamp in ms: ${JSON.stringify(e)}`);
  assert.ok(LEVELS.includes(e.level), `${what}.level: ${JSON.stringify(e)}`);
  assert.equal(typeof e.source, "string", `${what}.source: ${JSON.stringify(e)}`);
  assert.ok("model" in e, `${what}.model missing: ${JSON.stringify(e)}`);
  assert.ok(typeof e.message === "string" && e.message.length > 0, `${what}.message: ${JSON.stringify(e)}`);
}

test("startup lines are stored and well-formed, newest first", () => {
  for (const e of all) assertEntry(e);
  for (let i = 1; i < all.length; i++) {
    assert.ok(all[i].id < all[i - 1].id, `ids not descending: ${all.map((e) => e.id)}`);
    assert.ok(all[i].timestamp <= all[i - 1].timestamp, "timestamps not newest first");
  }
  assert.ok(all.some((e) => e.level === "info"), "startup logs at info level");
});

test("the stored lines are the ones the server printed at startup", () => {
  const printed = stripAnsi(server.output());
  const found = all.filter((e) => printed.includes(e.message.slice(0, 40)));
  assert.ok(found.length >= 1, `none of the stored messages appear in the server's console output.\nstored: ${JSON.stringify(all.map((e) => e.message).slice(0, 10))}\nprinted:\n${printed.slice(0, 2000)}`);
});

test("paging with `before` walks back without gaps or overlap", async () => {
  const top = all[0].id + 1; // fixed cursor: lines logged meanwhile do not shift the pages
  const p1 = await ok(client.socket, "logs:get", { limit: 2, before: top });
  assert.equal(p1.logs.length, 2);
  assert.equal(p1.hasMore, true, "more lines exist beyond the first page");
  const p2 = await ok(client.socket, "logs:get", { limit: 2, before: p1.logs[1].id });
  assert.ok(p2.logs.length >= 1);
  for (const e of p2.logs) assert.ok(e.id < p1.logs[1].id, "page 2 holds only older lines");
  const both = await ok(client.socket, "logs:get", { limit: 2 + p2.logs.length, before: top });
  assert.deepEqual([...p1.logs, ...p2.logs].map((e) => e.id), both.logs.map((e) => e.id));
  const oldest = all[all.length - 1].id;
  const end = await ok(client.socket, "logs:get", { before: oldest });
  assert.deepEqual(end.logs, []);
  assert.equal(end.hasMore, false);
  const everything = await ok(client.socket, "logs:get", { limit: 1000, before: top });
  if (everything.logs.length < 1000) assert.equal(everything.hasMore, false, "the whole history fit in one page");
});

test("level is a minimum level", async () => {
  const info = await ok(client.socket, "logs:get", { level: "info", limit: 1000 });
  assert.ok(info.logs.length >= 1);
  for (const e of info.logs) assert.ok(rank(e.level) >= rank("info"), `level filter info let through ${e.level}`);
  const warn = await ok(client.socket, "logs:get", { level: "warn", limit: 1000 });
  for (const e of warn.logs) assert.ok(rank(e.level) >= rank("warn"), `level filter warn let through ${e.level}`);
  const trace = await ok(client.socket, "logs:get", { level: "trace", limit: 1000 });
  assert.ok(trace.logs.length >= info.logs.length);
});

test("source and search filter", async () => {
  const source = all[0].source;
  const bySource = await ok(client.socket, "logs:get", { source, limit: 1000 });
  assert.ok(bySource.logs.length >= 1);
  for (const e of bySource.logs) assert.equal(e.source, source);
  const word = all.map((e) => e.message.match(/[A-Za-z]{5,}/)?.[0]).find(Boolean);
  assert.ok(word, "some message has a word to search for");
  const found = await ok(client.socket, "logs:get", { search: word, limit: 1000 });
  assert.ok(found.logs.length >= 1, `search '${word}' found nothing`);
  for (const e of found.logs) assert.ok(e.message.toLowerCase().includes(word.toLowerCase()), `search '${word}' returned '${e.message}'`);
  const none = await ok(client.socket, "logs:get", { search: "zq-no-such-text-xj", limit: 1000 });
  assert.deepEqual(none.logs, []);
});

test("an unknown level is refused", async () => {
  assertBadRequest(await request(client.socket, "logs:get", { level: "verbose" }), "logs:get", "level");
});

test("new lines arrive live as logs:entry and are stored", async () => {
  const live = waitFor(client.socket, "logs:entry", { timeoutMs: 8000 });
  // Activity a server typically logs: clients connecting, settings changing, bad and unknown requests.
  const other = await connect(server.url);
  await request(other.socket, "settings:update", { settings: { theme: "light" } });
  await request(other.socket, "settings:update", { settings: { theme: "neon" } });
  await request(other.socket, "no:such-event", {});
  other.close();
  const msg = await live;
  assertBroadcast(msg, "logs:entry", Date.now());
  assertEntry(msg.data.entry, "logs:entry data.entry");
  const stored = await until(async () => {
    const { logs } = await ok(client.socket, "logs:get", { limit: 1000 });
    return logs.find((e) => e.id === msg.data.entry.id);
  }, { timeoutMs: 3000, what: "the live entry in logs:get" });
  assert.equal(stored.message, msg.data.entry.message);
});
