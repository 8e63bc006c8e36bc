// Socket.IO transport for the dashboard (see docs/socket-events.md).
//
// Contract:
// - request(event, data, {timeoutMs}) resolves with the reply envelope's `data`, or rejects with a
//   RequestError {code, field?} when success:false, or code "TIMEOUT" after timeoutMs
//   (default REQUEST_TIMEOUT_MS; router:start waits for llama-server's /health, so it needs more).
//   Every request carries a fresh `requestId`. Requests made while disconnected are queued
//   and sent, in order, on the next connect.
// - Status callbacks: "connecting" | "connected" | "disconnected" | "unauthorized".
// - Broadcast callbacks get (event, data, envelope) for each event in BROADCAST_EVENTS.

export const SOCKET_PATH = "/llamaproxws";
export const REQUEST_TIMEOUT_MS = 10000;
export const BROADCAST_EVENTS = [
  "snapshot", "metrics:update", "logs:entry", "settings:updated", "router:status", "models:status", "models:updated",
  "requests:completed", "requests:stats", "models:pull:progress", "models:pull:done", "models:pull:error",
  "nodes:status",
];

export class RequestError extends Error {
  constructor(code, message, field) {
    super(message);
    this.name = "RequestError";
    this.code = code;
    this.field = field;
  }
}

export class SocketClient {
  constructor({ token, onStatus, onBroadcast, onConnect }) {
    this.token = token;
    this.onStatus = onStatus;
    this.onBroadcast = onBroadcast;
    this.onConnect = onConnect;
    this.queue = [];
    this.seq = 0;
    this.socket = null;
  }

  connect() {
    const socket = window.io({
      path: SOCKET_PATH,
      transports: ["websocket", "polling"],
      auth: this.token ? { token: this.token } : undefined,
    });
    this.socket = socket;
    socket.on("connect", () => this._connected());
    socket.on("disconnect", (reason) => this._disconnected(reason));
    socket.on("connect_error", (err) => this._connectError(err));
    socket.io.on("reconnect_attempt", () => this.onStatus("connecting"));
    for (const event of BROADCAST_EVENTS) {
      socket.on(event, (envelope) => this.onBroadcast(event, envelope?.data ?? {}, envelope));
    }
    this.onStatus("connecting");
  }

  /** Replaces the admin token and reconnects with it. */
  setToken(token) {
    this.token = token;
    this.socket.auth = token ? { token } : {};
    this.socket.disconnect();
    this.onStatus("connecting");
    this.socket.connect();
  }

  request(event, data = {}, { timeoutMs = REQUEST_TIMEOUT_MS } = {}) {
    return new Promise((resolve, reject) => {
      const job = { event, data, timeoutMs, resolve, reject };
      if (this.socket?.connected) this._send(job);
      else this.queue.push(job);
    });
  }

  _send({ event, data, timeoutMs, resolve, reject }) {
    const requestId = `r-${++this.seq}`;
    this.socket.timeout(timeoutMs).emit(event, { ...data, requestId }, (err, reply) => {
      if (err) {
        reject(new RequestError("TIMEOUT", `${event}: no reply within ${timeoutMs / 1000} s`));
      } else if (reply?.success === true) {
        resolve(reply.data ?? {});
      } else {
        const error = reply?.error || {};
        reject(new RequestError(error.code || "INTERNAL", error.message || `${event} failed`, error.field));
      }
    });
  }

  _connected() {
    this.onStatus("connected");
    for (const job of this.queue.splice(0)) this._send(job);
    this.onConnect();
  }

  _disconnected(reason) {
    this.onStatus("disconnected");
    // The client does not retry on its own after a server-side disconnect.
    if (reason === "io server disconnect") this.socket.connect();
  }

  _connectError(err) {
    const unauthorized = /^unauthorized/i.test(err?.message || "");
    this.onStatus(unauthorized ? "unauthorized" : "disconnected");
  }
}
