// Own backends are supervised children: when llama-dashboard itself is killed with SIGKILL (no chance to
// stop anything), the kernel ends every llama-server it started (setpriv --pdeathsig), none is left.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startBackends, chatOk, needReal } from "./lib/backends.mjs";
import { until } from "./lib/socket.mjs";

const skip = needReal();
let ctx;
before(async () => {
  if (skip) return;
  ctx = await startBackends({ models: [{ name: "a", group: "g" }, { name: "b", group: "g" }] });
});
after(() => ctx?.stop());

const alive = (pid) => { try { process.kill(pid, 0); return true; } catch { return false; } };

test("SIGKILL of llama-dashboard while two backends run leaves no llama-server behind", { skip }, async () => {
  await chatOk(ctx.v1, "a");
  await chatOk(ctx.v1, "b");
  const pids = ctx.pids().map((p) => p.pid);
  assert.equal(pids.length, 2, `two backends run: ${JSON.stringify(ctx.pids())}`);
  const exited = new Promise((r) => ctx.server.proc.once("exit", r));
  ctx.server.proc.kill("SIGKILL");
  await exited;
  await until(() => ctx.pids().length === 0 && !pids.some(alive), { timeoutMs: 5000, what: `llama-server ${pids} to exit after their parent was killed` });
});
