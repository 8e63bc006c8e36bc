// Real llama-server and real model for tests: scripts/test.sh exports LLAMA_SERVER_BIN and
// LLAMA_DASHBOARD_TEST_GGUF. Outside CI a missing one skips; in CI it fails.
import { existsSync, linkSync, copyFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { tempDir } from "./socket.mjs";

export const llamaServer = process.env.LLAMA_SERVER_BIN;
export const realModel = process.env.LLAMA_DASHBOARD_TEST_GGUF;

/** A skip reason for node:test, or false; throws in CI so a missing part cannot pass silently. */
export function needReal({ model = true } = {}) {
  const missing = [];
  if (!llamaServer || !existsSync(llamaServer)) missing.push("LLAMA_SERVER_BIN");
  if (model && (!realModel || !existsSync(realModel))) missing.push("LLAMA_DASHBOARD_TEST_GGUF");
  if (!missing.length) return false;
  if (process.env.CI) throw new Error(`CI must provide ${missing.join(" and ")} (scripts/test.sh sets them)`);
  return `${missing.join(" and ")} not set (scripts/test.sh sets them)`;
}

/** A temp models dir holding the real model under `id`.gguf (hard link when possible), plus extra files. */
export function modelsDir(id, extra = {}) {
  const dir = tempDir("lldash-models-");
  const dest = path.join(dir.dir, `${id}.gguf`);
  if (realModel && existsSync(realModel)) {
    try { linkSync(realModel, dest); } catch { copyFileSync(realModel, dest); }
  }
  for (const [name, content] of Object.entries(extra)) writeFileSync(path.join(dir.dir, name), content);
  return dir;
}
