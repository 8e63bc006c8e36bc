// Starting on a port that is already taken exits non-zero with a message naming the port and "in use".
import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import path from "node:path";
import { runToExit } from "./lib/server.mjs";
import { tempDir } from "./lib/socket.mjs";

test("port in use -> non-zero exit naming the port", async (t) => {
  const blocker = net.createServer();
  await new Promise((r) => blocker.listen(0, "127.0.0.1", r));
  t.after(() => new Promise((r) => blocker.close(r)));
  const { port } = blocker.address();
  const d = tempDir();
  t.after(d.cleanup);
  const res = await runToExit(["--host", "127.0.0.1", "--port", String(port), "--data-dir", path.join(d.dir, "data")], { cwd: d.dir, timeoutMs: 15000 });
  assert.notEqual(res.code, 0, res.output);
  assert.ok(res.output.includes(String(port)), `the message should name port ${port}:\n${res.output}`);
  assert.match(res.output, /in use/i, res.output);
  assert.ok(!/listening on/.test(res.output), "must not claim to be listening");
});
