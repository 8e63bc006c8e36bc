// Component base class and the `h` element builder.
//
// Contract for subclasses:
// - getInitialState() -> object; setState(partial) merges into this.state, then update().
// - render() -> one Element: the component's whole subtree. Called by mount() and update().
// - update() replaces only this.el with a fresh render(); children that onMount() attached
//   inside the old subtree are the subclass's to re-attach (override onUpdate()).
// - getEventMap() -> {"<event type> <css selector>": "methodName"}; handlers are delegated from
//   this.el and called as method(event, matchedElement).
// - own(fn) registers a cleanup (an unsubscribe, an observer disconnect) that destroy() runs once.

/**
 * Builds an element. attrs: strings are set as attributes, `true` as an empty attribute,
 * null/undefined/false are skipped; `style` goes through the CSSOM (el.style.cssText), because the
 * Content-Security-Policy (style-src 'self') refuses inline style attributes. Children: nodes, strings,
 * numbers, arrays, null (skipped). Text is always inserted as text nodes, never parsed as HTML.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "style") el.style.cssText = String(value);
    else el.setAttribute(name === "className" ? "class" : name, value === true ? "" : String(value));
  }
  appendChildren(el, children);
  return el;
}

function appendChildren(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces all children of `el` (same rules as `h` children). */
export function replaceChildren(el, ...children) {
  el.replaceChildren();
  appendChildren(el, children);
}

export class Component {
  constructor(props = {}) {
    this.props = props;
    this.state = this.getInitialState();
    this.el = null;
    this._cleanups = [];
    this._listeners = [];
  }

  getInitialState() {
    return {};
  }

  render() {
    throw new Error(`${this.constructor.name}.render() is not implemented`);
  }

  getEventMap() {
    return {};
  }

  /** Called once after the first render is in the document. */
  onMount() {}

  /** Called after update() swapped in a new subtree. */
  onUpdate() {}

  mount(parent) {
    this.el = this.render();
    this._bindEvents();
    parent.append(this.el);
    this.onMount();
    return this;
  }

  setState(partial) {
    this.state = { ...this.state, ...partial };
    this.update();
  }

  update() {
    if (!this.el) return;
    const next = this.render();
    this._unbindEvents();
    this.el.replaceWith(next);
    this.el = next;
    this._bindEvents();
    this.onUpdate();
  }

  /** Elements of the current subtree carrying data-ref="name", keyed by name. */
  refs() {
    const out = {};
    if (!this.el) return out;
    for (const node of [this.el, ...this.el.querySelectorAll("[data-ref]")]) {
      if (node.dataset.ref) out[node.dataset.ref] = node;
    }
    return out;
  }

  own(cleanup) {
    this._cleanups.push(cleanup);
    return cleanup;
  }

  destroy() {
    this._unbindEvents();
    for (const cleanup of this._cleanups.splice(0).reverse()) cleanup();
    this.el?.remove();
    this.el = null;
  }

  _bindEvents() {
    for (const [key, method] of Object.entries(this.getEventMap())) {
      const space = key.indexOf(" ");
      const type = space < 0 ? key : key.slice(0, space);
      const selector = space < 0 ? null : key.slice(space + 1).trim();
      const listener = (event) => {
        const match = selector ? event.target.closest?.(selector) : this.el;
        if (match && this.el?.contains(match)) this[method](event, match);
      };
      this.el.addEventListener(type, listener);
      this._listeners.push([type, listener]);
    }
  }

  _unbindEvents() {
    for (const [type, listener] of this._listeners.splice(0)) this.el?.removeEventListener(type, listener);
  }
}
