// Own backends, ports: two models of one group started at the same moment each get a port of their own,
// and each is declared ready only when its own llama-server answers, so each request reaches its model.
// The spawn commands are the real llama-server behind a short `sleep` (like any wrapper script that
// takes a moment before exec), so that both ports are picked before either process binds.
//
// Regression: the ports of backends still starting are reserved; before, both took the same first port,
// b's health poll reached a's llama-server and b's request was answered by a.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startBackends, chat, needReal } from "./lib/backends.mjs";
import { llamaServer } from "./lib/real.mjs";

const skip = needReal();
const wrapped = (secs) => ({ command: ["/bin/sh", "-c", `sleep ${secs}; exec "$0" "$@"`, llamaServer, "-c", "1024"] });
let ctx;
before(async () => {
  if (skip) return;
  ctx = await startBackends({ models: [{ name: "a", group: "g", spawn: wrapped(1) }, { name: "b", group: "g", spawn: wrapped(3) }] });
});
after(() => ctx?.stop());

test("two backends started at once get ports of their own and each answers as itself", {
  skip,
}, async () => {
  const [ra, rb] = await Promise.all([chat(ctx.v1, "a"), chat(ctx.v1, "b")]);
  const [a, b] = [await ra.json(), await rb.json()];
  assert.equal(ra.status, 200, JSON.stringify(a));
  assert.equal(rb.status, 200, JSON.stringify(b));
  assert.equal(a.model, "a");
  assert.equal(b.model, "b", "b's request was answered by b's own llama-server");
  const [ma, mb] = [await ctx.model("a"), await ctx.model("b")];
  assert.notEqual(ma.port, mb.port);
  assert.equal(mb.status, "loaded");
});
