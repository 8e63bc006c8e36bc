// Real llama-server and real model for tests: scripts/test.sh exports LLAMA_SERVER_BIN and
// LLAMA_DASHBOARD_TEST_GGUF. Outside CI a missing one skips; in CI it fails.
import { existsSync, linkSync, copyFileSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { tempDir, connect, ok, freePort, until } from "./socket.mjs";
import { startServer } from "./server.mjs";

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

/**
 * Writes `presets.ini` into a modelsDir() giving `embedId` an embeddings-only server of `<chatId>.gguf`
 * (llama-server's --embeddings serves nothing else; SmolLM2 names no pooling and /v1/embeddings refuses "none").
 */
export function embeddingPreset(models, chatId, embedId) {
  const file = path.join(models.dir, "presets.ini");
  writeFileSync(file, `[${embedId}]\nmodel = ${path.join(models.dir, `${chatId}.gguf`)}\nembeddings = true\npooling = mean\n`);
  return file;
}

/** Starts the server with the real llama-server as its router (on a free port) and waits until it runs. */
export async function startWithRealRouter(config) {
  const server = await startServer({
    config: { ...config, router: { port: await freePort(), ...config.router } },
    env: { LLAMA_SERVER_BIN: llamaServer },
  });
  const client = await connect(server.url);
  try {
    await until(async () => (await ok(client.socket, "router:status", {})).running, { timeoutMs: 30000, what: "router running" });
  } finally {
    client.close();
  }
  return server;
}

/**
 * Headers carrying the key a llama-server we started was given (its LLAMA_API_KEY, read from /proc as the
 * same user): its own port answers 401 without it. For tests that look at the router directly.
 */
export function keyHeaders(pid) {
  const environ = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
  const key = environ.find((e) => e.startsWith("LLAMA_API_KEY="))?.slice("LLAMA_API_KEY=".length);
  if (!key) throw new Error(`process ${pid} has no LLAMA_API_KEY`);
  return { authorization: `Bearer ${key}` };
}
