// StateManager: the single owner of the socket and of server-owned state.
//
// Keys: connection ("connecting"|"connected"|"disconnected"|"unauthorized"), metrics (latest
// Sample or null), metricsHistory (Samples oldest first, at most HISTORY_LIMIT), models
// ([Model]), settings, router (RouterStatus), logs (newest first, at most LOGS_LIMIT),
// requestStats (RequestStats over the last hour: loaded on subscribe, then the `requests:stats`
// broadcast), nodes ([NodeView] from the snapshot, one replaced by each `nodes:status`), serverOffsetMs (server clock minus ours, from the snapshot's serverTime).
// - `models:status` replaces only the named model's object (status, progress, error, ttlSec,
//   unloadAt) in a new array; every other model keeps its identity, so views can skip unchanged
//   rows by `===`. `models:updated` replaces the list; `router:status` replaces `router`.
// - on(event, cb) calls cb(data) for every broadcast of that event (for events that are not
//   state, such as `requests:completed`); it returns the unsubscribe function.
// - subscribe(key, cb) calls cb(value) now when the key has a value, then on every set();
//   it returns the unsubscribe function.
// - A key with a loader is (re)fetched on each connect while it has subscribers, and on
//   subscribe when it was not fetched since the last connect. The `snapshot` broadcast
//   refreshes models, router, metrics and settings on every connect without a request.

import { SocketClient } from "./socket.js";

export const TOKEN_KEY = "llamaDashboard.adminToken";
export const HISTORY_LIMIT = 300;
export const LOGS_LIMIT = 200;

export class StateManager {
  constructor() {
    this.state = { connection: "connecting" };
    this.listeners = new Map();
    this.loaders = new Map();
    this.loaded = new Set();
    this.eventListeners = new Map();
    this.client = new SocketClient({
      token: readToken(),
      onStatus: (status) => this._setStatus(status),
      onBroadcast: (event, data) => this._onBroadcast(event, data),
      onConnect: () => this._reload(),
    });
    this.registerLoader("metricsHistory", async () => {
      const { samples = [] } = await this.request("metrics:history", { limit: HISTORY_LIMIT });
      this.set("metricsHistory", mergeSamples(this.state.metricsHistory || [], samples));
    });
    this.registerLoader("requestStats", async () => {
      this.set("requestStats", await this.request("requests:stats", {}));
    });
  }

  connect() {
    this.client.connect();
  }

  get(key) {
    return this.state[key];
  }

  set(key, value) {
    this.state[key] = value;
    for (const cb of [...(this.listeners.get(key) || [])]) cb(value);
  }

  subscribe(key, cb) {
    if (!this.listeners.has(key)) this.listeners.set(key, new Set());
    this.listeners.get(key).add(cb);
    if (this.state[key] !== undefined) cb(this.state[key]);
    if (this.state.connection === "connected" && !this.loaded.has(key)) this._load(key);
    return () => this.listeners.get(key)?.delete(cb);
  }

  /** Runs key's loader again now (when connected; otherwise the next connect does). */
  refresh(key) {
    if (this.state.connection === "connected") this._load(key);
  }

  /** cb(data) for each `event` broadcast; returns the unsubscribe function. */
  on(event, cb) {
    if (!this.eventListeners.has(event)) this.eventListeners.set(event, new Set());
    this.eventListeners.get(event).add(cb);
    return () => this.eventListeners.get(event)?.delete(cb);
  }

  /** loader() fetches and set()s the key; its failure is stored under `<key>Error`. */
  registerLoader(key, loader) {
    this.loaders.set(key, loader);
  }

  /** Resolves with the reply's data; rejects with a RequestError. opts: {timeoutMs}. */
  request(event, data, opts) {
    return this.client.request(event, data, opts);
  }

  /** Whether this browser sends an admin token (stored, or entered in the prompt). */
  hasToken() {
    return Boolean(this.client.token);
  }

  /** Stores the admin token (empty clears it) and reconnects with it. */
  setToken(token) {
    if (token) localStorage.setItem(TOKEN_KEY, token);
    else localStorage.removeItem(TOKEN_KEY);
    this.client.setToken(token);
  }

  _setStatus(status) {
    if (status !== "connected") this.loaded.clear();
    if (this.state.connection !== status) this.set("connection", status);
  }

  _reload() {
    for (const key of this.loaders.keys()) {
      if (this.listeners.get(key)?.size) this._load(key);
    }
  }

  _load(key) {
    const loader = this.loaders.get(key);
    if (!loader) return;
    this.loaded.add(key);
    loader().then(
      () => this.state[`${key}Error`] && this.set(`${key}Error`, null),
      (err) => {
        this.loaded.delete(key);
        this.set(`${key}Error`, err);
      },
    );
  }

  _onBroadcast(event, data) {
    if (event === "snapshot") {
      for (const key of ["models", "router", "metrics", "settings", "nodes"]) {
        if (data[key] !== undefined) this.set(key, data[key]);
      }
      if (Number.isFinite(data.serverTime)) this.set("serverOffsetMs", data.serverTime - Date.now());
      if (data.metrics) this._appendSample(data.metrics);
    } else if (event === "metrics:update" && data.metrics) {
      this.set("metrics", data.metrics);
      this._appendSample(data.metrics);
    } else if (event === "logs:entry" && data.entry) {
      this.set("logs", [data.entry, ...(this.state.logs || [])].slice(0, LOGS_LIMIT));
    } else if (event === "settings:updated" && data.settings) {
      this.set("settings", data.settings);
    } else if (event === "router:status" && data.state) {
      this.set("router", data);
    } else if (event === "models:updated" && Array.isArray(data.models)) {
      this.set("models", data.models);
    } else if (event === "models:status" && data.id) {
      this._patchModel(data);
    } else if (event === "requests:stats" && Array.isArray(data.queues)) {
      this.set("requestStats", data);
    } else if (event === "nodes:status" && data.node?.name) {
      const nodes = this.state.nodes || [];
      const known = nodes.some((n) => n.name === data.node.name);
      this.set("nodes", known ? nodes.map((n) => (n.name === data.node.name ? data.node : n)) : [...nodes, data.node]);
    }
    for (const cb of [...(this.eventListeners.get(event) || [])]) cb(data);
  }

  _patchModel({ id, status, progress, error, ttlSec, unloadAt }) {
    const models = this.state.models || [];
    const index = models.findIndex((m) => m.id === id);
    if (index < 0) return; // not in the catalog yet: the models:updated that follows brings it
    const next = models.slice();
    const patch = { status, progress: progress ?? null, error: error ?? null };
    if (ttlSec !== undefined) patch.ttlSec = ttlSec;
    if (unloadAt !== undefined) patch.unloadAt = unloadAt;
    next[index] = { ...models[index], ...patch };
    this.set("models", next);
  }

  _appendSample(sample) {
    this.set("metricsHistory", mergeSamples(this.state.metricsHistory || [], [sample]));
  }
}

/** Union of two sample lists by timestamp, oldest first, newest HISTORY_LIMIT kept. */
export function mergeSamples(current, incoming) {
  const byTime = new Map();
  for (const sample of [...current, ...incoming]) {
    if (sample && Number.isFinite(sample.timestamp)) byTime.set(sample.timestamp, sample);
  }
  return [...byTime.values()].sort((a, b) => a.timestamp - b.timestamp).slice(-HISTORY_LIMIT);
}

function readToken() {
  try {
    return localStorage.getItem(TOKEN_KEY) || "";
  } catch {
    return "";
  }
}
