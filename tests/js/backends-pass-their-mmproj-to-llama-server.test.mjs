// Own backends, vision projectors: a model's `mmproj` (set in backends.models, or paired by an import with
// the `mmproj*` file beside the model) reaches the llama-server we spawn as `--mmproj PATH`, read from the
// process's own argv; a model without one gets no --mmproj.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { startBackends, fakeBin, pidsUnder } from "./lib/backends.mjs";
import { ok, tempDir } from "./lib/socket.mjs";

const projectors = tempDir("lldash-mmproj-");
const imports = tempDir("lldash-mmproj-import-");
const projector = path.join(projectors.dir, "mmproj-vision-f16.gguf");
let ctx;
before(async () => {
  writeFileSync(projector, "GGUF");
  writeFileSync(path.join(imports.dir, "llava-q4.gguf"), "GGUF");
  writeFileSync(path.join(imports.dir, "mmproj-llava-f16.gguf"), "GGUF");
  ctx = await startBackends({
    link: false,
    backends: { defaultSpawn: { command: ["node", fakeBin, "--fake-serve-alias"] }, importRoots: [imports.dir] },
    models: [{ name: "vision", group: "g", mmproj: projector }, { name: "plain", group: "g" }],
  });
});
after(async () => {
  await ctx?.stop();
  projectors.cleanup();
  imports.cleanup();
});

/** The argv of the one running process whose --model is `file`. */
const argvOf = (dir, file) => {
  const found = pidsUnder(dir).filter((p) => p.model === file);
  assert.equal(found.length, 1, `one process for ${file}: ${JSON.stringify(found)}`);
  return found[0].argv;
};
const flagValue = (argv, flag) => (argv.includes(flag) ? argv[argv.indexOf(flag) + 1] : null);

async function load(id) {
  const since = Date.now();
  await ok(ctx.socket, "models:load", { id });
  await ctx.waitStatus(id, "loaded", { since });
}

test("a model's mmproj is passed as --mmproj PATH", { timeout: 20000 }, async () => {
  await load("vision");
  const argv = argvOf(ctx.dir, ctx.file("vision"));
  assert.equal(flagValue(argv, "--mmproj"), projector, JSON.stringify(argv));
  assert.equal(argv.filter((a) => a === "--mmproj").length, 1);
});

test("a model without one gets no --mmproj", { timeout: 20000 }, async () => {
  await load("plain");
  const argv = argvOf(ctx.dir, ctx.file("plain"));
  assert.ok(!argv.includes("--mmproj"), JSON.stringify(argv));
});

test("an imported model is started with the mmproj file found beside it", { timeout: 20000 }, async () => {
  const { added } = await ok(ctx.socket, "models:import", { dir: imports.dir });
  assert.deepEqual(added, ["llava-q4"]);
  await load("llava-q4");
  const argv = argvOf(imports.dir, path.join(imports.dir, "llava-q4.gguf"));
  assert.equal(flagValue(argv, "--mmproj"), path.join(imports.dir, "mmproj-llava-f16.gguf"), JSON.stringify(argv));
});
