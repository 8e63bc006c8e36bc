// A client that stops reading overflows its send buffer (socketioxide's per-socket channel, 128 packets, behind
// the TCP buffers) and misses broadcasts. Instead of a silent gap it gets the broadcasts already in flight, then
// exactly one unsolicited `snapshot` of the state when it is delivered (settings and model list changes it
// missed included), then broadcasts again. A client that keeps reading meanwhile gets every broadcast.
// Large broadcasts fill the buffers fastest: each `models:scan` of a directory of a few hundred small fake
// GGUF files broadcasts a `models:updated` of ~120 KB. The stall has to end before Engine.IO's next ping
// (25 s after connecting), which cannot enter a full channel and would close the socket.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import WebSocket from "ws";
import { startServer } from "./lib/server.mjs";
import { connect, ok, until, tempDir, SOCKET_PATH } from "./lib/socket.mjs";

const BASE = 200; // fake GGUF files in the models directory at start
const MAX_SCANS = 450; // bound on the stall's broadcasts (the overflow took ~100 here, logs:entry filling the channel too)
const STALL_BUDGET_MS = 17000; // from the stalled client's connect to its resume: well before the 25 s ping
const models = tempDir("lldash-models-");
for (let i = 0; i < BASE; i++) writeFileSync(path.join(models.dir, `base-${String(i).padStart(3, "0")}-${"x".repeat(48)}.gguf`), "GGUF");
const addModel = (name) => writeFileSync(path.join(models.dir, `${name}.gguf`), "GGUF");

let server, reader;
before(async () => {
  // metrics:update off the way (60 s), and the directory watch too (autoDiscovery off: each models:scan below
  // is then the only thing that broadcasts models:updated, one per scan); the live module at debug says when a
  // client fell behind, which only ends the stall early: the assertions below are on what the clients receive.
  server = await startServer({
    config: { models: { directory: models.dir, autoDiscovery: false }, metrics: { intervalMs: 60000 } },
    env: { RUST_LOG: "info,llama_dashboard::live=debug" },
  });
  reader = await connect(server.url);
  await reader.snapshot;
});
after(async () => {
  reader?.close();
  await server?.stop();
  models.cleanup();
});

/**
 * A raw Engine.IO websocket joined to "/", answering pings; `messages` holds its Socket.IO events in order and
 * `tcp` is its TCP socket (pause() stops reading from the kernel, so the server's writes back up).
 */
async function rawClient() {
  let tcp;
  // What ws does by default (net.connect without the HTTP path), keeping hold of the socket.
  const createConnection = (options) => (tcp = net.connect({ ...options, path: options.socketPath }));
  const ws = new WebSocket(`${server.url.replace(/^http/, "ws")}${SOCKET_PATH}/?EIO=4&transport=websocket`, { createConnection });
  const messages = [];
  const state = { pings: 0, closed: false };
  ws.on("message", (m) => {
    const frame = m.toString();
    if (frame === "2") { state.pings++; ws.send("3"); }
    if (frame.startsWith("42")) {
      const [event, payload] = JSON.parse(frame.slice(2));
      messages.push({ event, payload });
    }
  });
  ws.on("close", () => { state.closed = true; });
  await new Promise((resolve, reject) => { ws.once("open", resolve); ws.once("error", reject); });
  ws.send("40");
  return { ws, tcp, messages, state };
}

const ids = (msg) => msg.payload.data.models.map((m) => m.id);
const count = (list, event) => list.filter((m) => m.event === event).length;

test("a client that stops reading misses broadcasts, then gets one fresh snapshot and broadcasts again", async (t) => {
  const raw = await rawClient();
  const connectedAt = Date.now();
  t.after(() => raw.ws.terminate());
  await until(() => raw.state.pings > 0 && raw.messages.some((m) => m.event === "snapshot"), { timeoutMs: 5000, intervalMs: 20, what: "ping and snapshot" });
  const initialTheme = raw.messages.find((m) => m.event === "snapshot").payload.data.settings.theme;
  const otherTheme = initialTheme === "light" ? "dark" : "light";

  // Stall: the raw client stops reading from its TCP socket while each scan adds one model and broadcasts.
  const seen = raw.messages.length;
  const readerSeen = reader.received.length;
  raw.tcp.pause();
  let scans = 0;
  let afterOverflow = -1;
  while (scans < MAX_SCANS && Date.now() - connectedAt < STALL_BUDGET_MS && afterOverflow < 3) {
    scans++;
    addModel(`stall-${String(scans).padStart(3, "0")}`);
    const reply = await ok(reader.socket, "models:scan", {});
    assert.equal(reply.total, BASE + scans, `scan ${scans}`);
    if (afterOverflow >= 0 || server.output().includes("fell behind")) afterOverflow++;
  }
  // A change of another kind, the last one before it reads again.
  assert.equal((await ok(reader.socket, "settings:update", { settings: { theme: otherTheme } })).settings.theme, otherTheme);
  const stallMs = Date.now() - connectedAt;
  raw.tcp.resume();

  // One more change, broadcast again until the snapshot comes (each broadcast tries it, and the first ones may
  // find the buffer still full while the client reads what was in flight); then the change itself.
  addModel("after-resume");
  let triggers = 0;
  await until(async () => {
    triggers++;
    assert.equal((await ok(reader.socket, "models:scan", {})).total, BASE + scans + 1);
    return until(() => raw.messages.slice(seen).some((m) => m.event === "snapshot"), { timeoutMs: 1000, intervalMs: 20 }).catch(() => false);
  }, { timeoutMs: 20000, intervalMs: 0, what: "the snapshot on the resumed client" });
  await until(() => raw.messages.slice(seen).some((m) => m.event === "models:updated" && ids(m).includes("after-resume")),
    { timeoutMs: 20000, intervalMs: 50, what: "models:updated with 'after-resume' on the resumed client" });
  assert.equal((await ok(reader.socket, "settings:update", { settings: { theme: initialTheme } })).settings.theme, initialTheme);
  await until(() => raw.messages.slice(seen).some((m) => m.event === "settings:updated" && m.payload.data.settings.theme === initialTheme),
    { timeoutMs: 10000, intervalMs: 50, what: "settings:updated (marker) on the resumed client" });

  const got = raw.messages.slice(seen);
  const snapshots = got.flatMap((m, i) => (m.event === "snapshot" ? [i] : []));
  assert.equal(snapshots.length, 1, `exactly one unsolicited snapshot; the last events: ${got.slice(-12).map((m) => m.event).join(",")}`);
  const [at] = snapshots;

  // Before it: the broadcasts already in flight, in order and without a gap, and fewer than were sent.
  const inFlight = got.slice(0, at).filter((m) => m.event === "models:updated").map((m) => m.payload.data.models.length);
  assert.ok(inFlight.length > 0, "the broadcasts in flight when it stopped reading still arrive");
  assert.deepEqual(inFlight, inFlight.map((_, i) => BASE + 1 + i), "in-flight models:updated in order, none skipped");
  t.diagnostic(`${scans} scans in ${stallMs} ms from connect to resume; ${inFlight.length} reached the stalled client; ${triggers} scan(s) after`);
  assert.ok(inFlight.length < scans, `the buffer overflowed: ${inFlight.length} of ${scans} models:updated reached it before the snapshot`);
  assert.equal(count(got.slice(0, at), "settings:updated"), 0, "the settings change after the overflow was not delivered on its own");

  // The snapshot: the state when it was delivered, every change it missed included.
  const snap = got[at].payload;
  assert.equal(snap.type, "broadcast");
  assert.equal(snap.data.settings.theme, otherTheme, "the snapshot carries the settings change it missed");
  const listed = ids(got[at]);
  for (let i = 1; i <= scans; i++) assert.ok(listed.includes(`stall-${String(i).padStart(3, "0")}`), `the snapshot lists stall-${i}`);

  // After it: broadcasts flow again, the resume change and the marker.
  const rest = got.slice(at + 1);
  assert.ok(rest.some((m) => m.event === "models:updated" && ids(m).includes("after-resume")), "models:updated after the snapshot");
  assert.deepEqual(rest.filter((m) => m.event === "settings:updated").map((m) => m.payload.data.settings.theme), [initialTheme]);

  // The client that kept reading got every broadcast, in order.
  const readerGot = reader.received.slice(readerSeen);
  const lengths = readerGot.filter((e) => e.event === "models:updated").map((e) => e.payload.data.models.length);
  assert.deepEqual(lengths, [...Array.from({ length: scans }, (_, i) => BASE + 1 + i), ...Array(triggers).fill(BASE + scans + 1)], "the reading client got every models:updated");
  assert.deepEqual(readerGot.filter((e) => e.event === "settings:updated").map((e) => e.payload.data.settings.theme), [otherTheme, initialTheme]);
  assert.equal(count(readerGot, "snapshot"), 0, "no snapshot for the client that kept reading");
  assert.equal(raw.state.closed, false, "the client that stalled is still connected");
});
