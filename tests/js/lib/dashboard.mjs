// Thin wrapper over the owner's lib/server.mjs: same startServer/runToExit, but stop() waits for the exit
// without leaving a pending 10 s timer behind (server.mjs's stop() races exit against an uncleared
// setTimeout(10000), which keeps every test file's process alive 10 s after its last stop).
import { startServer as start, runToExit, repoRoot, binary } from "./server.mjs";

export { runToExit, repoRoot, binary };

export async function startServer(opts) {
  const server = await start(opts);
  const originalStop = server.stop.bind(server);
  server.stop = async (stopOpts) => {
    const { proc } = server;
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc.once("exit", r));
      proc.kill("SIGTERM");
      let timer;
      const done = await Promise.race([exited.then(() => true), new Promise((r) => { timer = setTimeout(() => r(false), 10000); })]);
      clearTimeout(timer);
      if (!done) { proc.kill("SIGKILL"); await exited; }
    }
    if (proc.exitCode !== null) return originalStop(stopOpts); // only removes the temp dir now
    if (!stopOpts?.keepData) {
      const { rmSync } = await import("node:fs");
      rmSync(server.work, { recursive: true, force: true });
    }
  };
  return server;
}
