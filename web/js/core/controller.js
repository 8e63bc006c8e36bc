// Base class of the page controllers: a page's state and behaviour without its DOM.
//
// Contract:
// - on(event, cb) calls cb(...args) for each emit(event, ...args) and returns the unsubscribe function.
//   Listeners run synchronously: when emit() returns, the page shows the change.
// - own(cleanup) registers a cleanup (an unsubscribe, a clearTimeout) that destroy() runs once.
// - destroy() sets `destroyed` and drops every listener; replies that arrive afterwards must be ignored
//   (subclasses check `destroyed` after each await).

export class Controller {
  constructor() {
    this.destroyed = false;
    this._listeners = new Map();
    this._cleanups = [];
  }

  on(event, cb) {
    if (!this._listeners.has(event)) this._listeners.set(event, new Set());
    this._listeners.get(event).add(cb);
    return () => this._listeners.get(event)?.delete(cb);
  }

  emit(event, ...args) {
    for (const cb of [...(this._listeners.get(event) || [])]) cb(...args);
  }

  own(cleanup) {
    this._cleanups.push(cleanup);
    return cleanup;
  }

  destroy() {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const cleanup of this._cleanups.splice(0).reverse()) cleanup();
    this._listeners.clear();
  }
}
