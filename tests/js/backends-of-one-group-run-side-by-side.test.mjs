// Own backends, groups: models of one group run together; a request for one does not stop the other,
// each has its own llama-server on its own port, and each answers under its own name.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startBackends, chatOk, needReal } from "./lib/backends.mjs";

const skip = needReal();
let ctx;
before(async () => {
  if (skip) return;
  ctx = await startBackends({ models: [{ name: "a", group: "g" }, { name: "b", group: "g", aliases: ["bee"] }] });
});
after(() => ctx?.stop());

test("two models of one group both run, each on its own port, and both keep answering", { skip }, async () => {
  assert.equal((await chatOk(ctx.v1, "a")).model, "a");
  assert.equal((await chatOk(ctx.v1, "bee")).model, "b", "an alias routes to its model");
  const [a, b] = [await ctx.model("a"), await ctx.model("b")];
  assert.equal(a.status, "loaded");
  assert.equal(b.status, "loaded");
  assert.equal(a.group, "g");
  assert.equal(b.group, "g");
  assert.notEqual(a.port, b.port);
  assert.deepEqual(ctx.running(), ["a", "b"]);
  const ports = ctx.pids().map(({ argv }) => Number(argv[argv.indexOf("--port") + 1])).sort();
  assert.deepEqual(ports, [a.port, b.port].sort());
  // Each again, in turn: neither is stopped for the other, and each answers as itself.
  assert.equal((await chatOk(ctx.v1, "b")).model, "b");
  assert.equal((await chatOk(ctx.v1, "a")).model, "a");
  for (const id of ["a", "b"]) {
    assert.ok(!(await ctx.events(id)).some((e) => e.event.startsWith("unload")), `${id} was never stopped`);
  }
  assert.deepEqual(ctx.running(), ["a", "b"]);
});
