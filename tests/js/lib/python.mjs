// The Python the SDK checks of tests/py run with: $LLAMA_DASHBOARD_PYTHON, a venv scripts/test.sh makes with the
// pinned official client libraries (openai, anthropic, ollama).
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { repoRoot } from "./server.mjs";

export const python = process.env.LLAMA_DASHBOARD_PYTHON;

/** Like needReal(): a skip reason when the Python is missing, an error in CI (where it must be there). */
export function needPython() {
  if (python && existsSync(python)) return false;
  if (process.env.CI) throw new Error("CI must provide LLAMA_DASHBOARD_PYTHON, a Python with the client libraries (scripts/test.sh sets it)");
  return "LLAMA_DASHBOARD_PYTHON not set (scripts/test.sh sets it to a venv with the openai, anthropic and ollama packages)";
}

/** Runs tests/py/`script` with `args` from the repository root; resolves {code, signal, output} (stdout and stderr). */
export function runPython(script, args, { timeoutMs }) {
  return new Promise((resolve, reject) => {
    const proc = spawn(python, [path.join(repoRoot, "tests/py", script), ...args], {
      cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, PYTHONUNBUFFERED: "1" },
    });
    let output = "";
    proc.stdout.on("data", (c) => { output += c; });
    proc.stderr.on("data", (c) => { output += c; });
    const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
    proc.on("error", (e) => { clearTimeout(timer); reject(e); });
    proc.on("exit", (code, signal) => { clearTimeout(timer); resolve({ code, signal, output }); });
  });
}
