// Starts the real llama-dashboard binary on an ephemeral port with a temporary data dir.
// Contract with the binary: it prints "llama-dashboard listening on http://HOST:PORT" on stdout once bound.
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, "../../..");
export const binary = process.env.LLAMA_DASHBOARD_BIN || path.join(repoRoot, "target/debug/llama-dashboard");

/**
 * @param {object} [opts]
 * @param {object} [opts.config] init-file JSON written to <tmp>/llama-router.init.json and passed with --config
 * @param {string[]} [opts.args] extra CLI args
 * @param {object} [opts.env] extra environment
 * @param {string} [opts.dataDir] reuse a data dir (restart tests)
 * @param {string} [opts.host] address to listen on (default 127.0.0.1)
 * @param {boolean} [opts.flags] false: no --host/--port/--data-dir of our own (tests of their env variables)
 */
export async function startServer(opts = {}) {
  const work = mkdtempSync(path.join(tmpdir(), "lldash-"));
  const dataDir = opts.dataDir || path.join(work, "data");
  const args = opts.flags === false ? [] : ["--host", opts.host || "127.0.0.1", "--port", "0", "--data-dir", dataDir];
  if (opts.config) {
    const cfgPath = path.join(work, "llama-router.init.json");
    writeFileSync(cfgPath, JSON.stringify(opts.config, null, 2));
    args.push("--config", cfgPath);
  }
  args.push(...(opts.args || []));
  // No llama-server unless a test asks for one (opts.env.LLAMA_SERVER_BIN): the default autoStart then fails fast.
  // Nor models from this machine's Hugging Face cache unless a test points HF_HUB_CACHE somewhere.
  const noRouter = { LLAMA_SERVER_BIN: "", LLAMA_DASHBOARD_CACHE: path.join(work, "no-cache"), HF_HUB_CACHE: path.join(work, "no-hf-cache") };
  const env = { ...process.env, ...noRouter, RUST_LOG: process.env.RUST_LOG || "info", ...(opts.env || {}) };
  const proc = spawn(binary, args, { cwd: work, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => { proc.kill("SIGKILL"); reject(new Error(`server did not start in 20s:\n${output}`)); }, 20000);
    const onData = (chunk) => {
      output += chunk.toString();
      const m = output.match(/llama-dashboard listening on (http:\/\/[^\s]+)/);
      if (m) {
        clearTimeout(timer);
        proc.stdout.off("data", onData);
        proc.stderr.off("data", onData);
        resolve(m[1]);
      }
    };
    proc.stdout.on("data", onData);
    proc.stderr.on("data", onData);
    proc.on("exit", (code) => { clearTimeout(timer); reject(new Error(`server exited with ${code}:\n${output}`)); });
  });
  proc.stdout.on("data", (c) => { output += c.toString(); });
  proc.stderr.on("data", (c) => { output += c.toString(); });
  const port = Number(new URL(url).port);
  return {
    url, port, proc, dataDir, work,
    output: () => output,
    async stop({ keepData = false } = {}) {
      if (proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise((r) => proc.once("exit", r));
        proc.kill("SIGTERM");
        let timer;
        const done = await Promise.race([exited.then(() => true), new Promise((r) => { timer = setTimeout(() => r(false), 10000); })]);
        clearTimeout(timer);
        if (!done) { proc.kill("SIGKILL"); await exited; }
      }
      if (!keepData) rmSync(work, { recursive: true, force: true });
    },
  };
}

/** Runs the binary to completion (for startup-failure tests). Resolves {code, output}. */
export function runToExit(args, { env = {}, cwd, timeoutMs = 20000 } = {}) {
  return new Promise((resolve, reject) => {
    const proc = spawn(binary, args, { cwd: cwd || tmpdir(), env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    proc.stdout.on("data", (c) => { output += c.toString(); });
    proc.stderr.on("data", (c) => { output += c.toString(); });
    const timer = setTimeout(() => { proc.kill("SIGKILL"); reject(new Error(`did not exit in ${timeoutMs}ms:\n${output}`)); }, timeoutMs);
    proc.on("exit", (code) => { clearTimeout(timer); resolve({ code, output }); });
  });
}
