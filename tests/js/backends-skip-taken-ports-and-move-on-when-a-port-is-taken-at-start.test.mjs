// Own backends, ports (`backends.basePort`): ports from basePort up that something else listens on are
// skipped, and a port taken between being picked and being bound is retried on the next one. The ports
// are taken by impostors in this test; the backend is the real llama-server.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import { startBackends, chatOk, needReal } from "./lib/backends.mjs";
import { llamaServer } from "./lib/real.mjs";
import { freePort, until } from "./lib/socket.mjs";

const skip = needReal();
const cleanups = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

/** Listens on 127.0.0.1:port; `handler` makes it an HTTP server. Resolves the server, or null if taken. */
function occupy(port, handler) {
  const srv = handler ? http.createServer(handler) : net.createServer((s) => s.destroy());
  return new Promise((resolve) => {
    srv.once("error", () => resolve(null));
    srv.listen(port, "127.0.0.1", () => { cleanups.push(() => new Promise((r) => srv.close(r))); resolve(srv); });
  });
}

const flag = (argv, name) => Number(argv[argv.indexOf(name) + 1]);

test("basePort and basePort+1 taken: the backend serves on a free port after them, the impostors see nothing", { skip, timeout: 60000 }, async () => {
  // Impostors that would answer a health poll with 200, and record every request they get.
  const hits = [];
  const impostor = (req, res) => { hits.push(req.url); res.writeHead(200, { "content-type": "application/json" }); res.end('{"status":"ok"}'); };
  let base;
  for (let i = 0; i < 20 && !base; i++) {
    const p = await freePort();
    const first = await occupy(p, impostor);
    if (first && (await occupy(p + 1, impostor))) base = p;
  }
  assert.ok(base, "two adjacent ports to take");
  const ctx = await startBackends({ backends: { basePort: base }, models: [{ name: "a" }] });
  cleanups.push(() => ctx.stop());
  assert.equal((await chatOk(ctx.v1, "a")).model, "a");
  const a = await ctx.model("a");
  assert.equal(typeof a.port, "number");
  assert.ok(a.port > base + 1, `port ${a.port} comes after the taken ${base} and ${base + 1}`);
  const [proc] = ctx.pids();
  assert.equal(flag(proc.argv, "--port"), a.port, "llama-server was started on that port");
  assert.deepEqual(hits, [], "no health poll or request went to a port that was taken");
});

test("a port taken after it was picked: llama-server cannot bind it, the next port is tried and serves", { skip, timeout: 60000 }, async () => {
  // The command waits 2 s before exec'ing llama-server (like a wrapper script), time to take its port.
  const wrapped = { command: ["/bin/sh", "-c", 'sleep 2; exec "$0" "$@"', llamaServer, "-c", "1024"] };
  const ctx = await startBackends({ models: [{ name: "a", spawn: wrapped }] });
  cleanups.push(() => ctx.stop());
  const answer = chatOk(ctx.v1, "a");
  answer.catch(() => {});
  const first = await until(() => ctx.pids()[0], { intervalMs: 20, what: "the wrapper to start" });
  const picked = flag(first.argv, "--port");
  assert.ok(await occupy(picked), `port ${picked} taken before llama-server binds it`);
  assert.equal((await answer).model, "a");
  const a = await ctx.model("a");
  assert.equal(a.status, "loaded");
  assert.notEqual(a.port, picked);
  assert.ok(a.port > picked, `moved on to a later port: ${a.port}`);
  assert.equal(flag(ctx.pids()[0].argv, "--port"), a.port);
});
