// llama.cpp's router API on our port, for both kinds of model at once (a router-mode model on the real
// llama-server router, and an own backend), sent the way Open WebUI's llama.cpp connection sends it
// (aiohttp: `Accept: */*`, `Content-Type: application/json`, unload with `instance_id`): the list with
// llama.cpp's `status.value`, load and unload answering at once and the state following, llama.cpp's
// refusals, `/models/sse` telling each change, and the dashboard's Models page still at /models for a browser.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startBothKinds, chatOk, needReal, readSse } from "./lib/backends.mjs";
import { until } from "./lib/socket.mjs";

const skip = needReal();
const ROUTER_MODEL = "smol";
const OWN = "own";
// What Open WebUI's backend (aiohttp) sends on every call of this connection type.
const OPEN_WEBUI = { accept: "*/*", "content-type": "application/json", "user-agent": "Python/3.11 aiohttp/3.12" };
let ctx, base, sse;

before(async () => {
  if (skip) return;
  ctx = await startBothKinds({ routerModel: ROUTER_MODEL, own: OWN });
  base = ctx.base;
  const stream = await fetch(`${base}/models/sse`, { headers: OPEN_WEBUI });
  assert.equal(stream.status, 200);
  assert.match(stream.headers.get("content-type"), /^text\/event-stream/);
  sse = { events: [], done: null };
  sse.done = readSse(stream, (e) => { sse.events.push(e); }).catch(() => {});
});
after(() => ctx?.stop());

const get = (path, headers = OPEN_WEBUI) => fetch(`${base}${path}`, { headers });
const post = (path, body) => fetch(`${base}${path}`, { method: "POST", headers: OPEN_WEBUI, body: JSON.stringify(body) });
async function listed(id) {
  const res = await get("/models");
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.object, "list");
  return body.data.find((m) => m.id === id);
}
const untilValue = (id, value) => until(async () => (await listed(id))?.status?.value === value, {
  timeoutMs: 60000, intervalMs: 100, what: `${id}'s status.value to be ${value} in GET /models`,
});
const statusEvents = (id) => sse.events.filter((e) => e.model === id && e.event === "model_status").map((e) => e.data.status);

test("GET /models lists both kinds with llama.cpp's status object; /v1/models is the same list; a browser gets the page", { skip }, async () => {
  await until(async () => Boolean(await listed(ROUTER_MODEL)), { timeoutMs: 30000, what: "the router's model to be listed" });
  for (const id of [ROUTER_MODEL, OWN]) {
    const m = await listed(id);
    assert.deepEqual(m.status, { value: "unloaded" }, `${id}: ${JSON.stringify(m)}`);
    assert.equal(m.object, "model");
    assert.ok("ttl_sec" in m && "unload_at" in m && m.meta.architecture === "llama", JSON.stringify(m));
  }
  const v1 = await (await get("/v1/models")).json();
  assert.deepEqual(v1.data.map((m) => [m.id, m.status.value]).sort(), [[OWN, "unloaded"], [ROUTER_MODEL, "unloaded"]]);
  const page = await get("/models", { accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8" });
  assert.equal(page.status, 200);
  assert.match(page.headers.get("content-type"), /^text\/html/);
  assert.match(await page.text(), /<html/i, "the dashboard's Models page");
});

test("POST /models/load answers at once and each kind becomes loaded, told on /models/sse; a second load is refused", { skip }, async () => {
  for (const id of [OWN, ROUTER_MODEL]) {
    const started = Date.now();
    const res = await post("/models/load", { model: id });
    assert.equal(res.status, 200, await res.clone().text());
    assert.deepEqual(await res.json(), { success: true });
    assert.ok(Date.now() - started < 5000, `load answered after ${Date.now() - started} ms: it must not wait for the model`);
    await untilValue(id, "loaded");
    const again = await post("/models/load", { model: id });
    assert.equal(again.status, 400);
    assert.match((await again.json()).error.message, /model is already running/);
    await until(() => statusEvents(id).includes("loaded"), { timeoutMs: 5000, what: `${id}'s loaded event on /models/sse` });
    assert.ok(statusEvents(id).indexOf("loading") < statusEvents(id).indexOf("loaded"), `${id}: ${statusEvents(id)}`);
  }
  assert.equal((await chatOk(ctx.v1, OWN)).model, OWN);
  await chatOk(ctx.v1, ROUTER_MODEL);
});

test("POST /models/unload (with Open WebUI's instance_id) unloads each kind; unloading again, or a model that is not there, is refused", { skip }, async () => {
  for (const id of [ROUTER_MODEL, OWN]) {
    const res = await post("/models/unload", { model: id, instance_id: id });
    assert.equal(res.status, 200, await res.clone().text());
    assert.deepEqual(await res.json(), { success: true });
    await untilValue(id, "unloaded");
    await until(() => statusEvents(id).at(-1) === "unloaded", { timeoutMs: 5000, what: `${id}'s unloaded event on /models/sse` });
    const again = await post("/models/unload", { model: id });
    assert.equal(again.status, 400);
    assert.match((await again.json()).error.message, /model is not running/);
  }
  const unknownLoad = await post("/models/load", { model: "no-such-model" });
  assert.equal(unknownLoad.status, 404);
  assert.match((await unknownLoad.json()).error.message, /model is not found/);
  const unknownUnload = await post("/models/unload", { model: "no-such-model" });
  assert.equal(unknownUnload.status, 400);
  assert.match((await unknownUnload.json()).error.message, /model is not found/);
  for (const [body, field] of [[{}, "model"], [{ model: 7 }, "model"], ["{not json", "body"]]) {
    const res = await fetch(`${base}/models/load`, { method: "POST", headers: OPEN_WEBUI, body: typeof body === "string" ? body : JSON.stringify(body) });
    assert.equal(res.status, 400, JSON.stringify(body));
    assert.equal((await res.json()).error.param, field, JSON.stringify(body));
  }
});
