// Helpers for config tests: run `llama-dashboard --check` (or a real start) against a given init file.
import { writeFileSync, mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { runToExit } from "./server.mjs";

const escape = (s) => String(s).replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * Writes `config` (object, or raw text) to a temp llama-router.init.json and runs the binary with
 * `--config <file>` plus `args` in a fresh temp cwd. Resolves {code, output, file, dir}.
 */
export async function runWithConfig(config, { args = ["--check"], env = {}, write = true } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), "lldash-cfg-"));
  const file = path.join(dir, "conf", "llama-router.init.json");
  try {
    if (write && config !== undefined) {
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, typeof config === "string" ? config : JSON.stringify(config, null, 2));
    }
    const fullArgs = config === undefined ? args : [...args, "--config", file];
    const res = await runToExit(fullArgs, { env: { ...clearEnv(), ...env }, cwd: dir, timeoutMs: 15000 });
    return { ...res, file, dir };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The LLAMA_* overrides unset, so the developer's environment does not leak into config tests. */
export function clearEnv() {
  const env = {};
  for (const k of ["LLAMA_ROUTER_PORT", "LLAMA_MODELS_DIR", "LLAMA_MODELS_MAX", "LLAMA_CONTEXT_SIZE", "LLAMA_GPU_LAYERS", "LLAMA_AUTO_START"]) {
    env[k] = undefined;
  }
  return env;
}

/** True if `output` shows `flag` immediately followed by `value` (space/=/comma/quote separated). */
export function hasArg(output, flag, value) {
  const re = new RegExp(`(^|[\\s"'\\[,])${escape(flag)}["']?(?:[\\s,=]|["'],\\s*["']?)+${escape(value)}($|[\\s"',\\]])`, "m");
  return re.test(output);
}

/** True if `output` has a line with `<path>: <message…>` (the path starting the problem text). */
export function hasProblem(output, keyPath, message = "") {
  const re = new RegExp(`(^|[\\s"'\`])${escape(keyPath)}: ${escape(message)}`, "m");
  return re.test(output);
}

/** True if args (an argv array) holds `flag` immediately followed by `value`. */
export function argPair(args, flag, value) {
  return args.some((a, i) => a === flag && args[i + 1] === String(value));
}
