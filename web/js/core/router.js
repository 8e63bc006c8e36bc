// History-API router.
//
// Contract:
// - register(path, factory, {title}) maps an exact pathname (trailing slash ignored) to
//   factory() -> Component. The router mounts it into `root` and destroys it on the next route.
// - navigate(path) pushes a history entry and renders; popstate renders without pushing.
// - Clicks on same-origin `a[data-link]` (no modifier keys, no target) are routed in-page.
// - Unknown paths render notFound(path); nav links matching the path get aria-current="page".
// - document.title becomes "<title> · <appName>".

export class Router {
  constructor({ root, appName, notFound }) {
    this.root = root;
    this.appName = appName;
    this.notFound = notFound;
    this.routes = new Map();
    this.current = null;
    this._onPopState = () => this._render(false);
    this._onClick = (event) => this._interceptLink(event);
  }

  register(path, factory, { title } = {}) {
    this.routes.set(normalize(path), { factory, title: title || path });
    return this;
  }

  start() {
    window.addEventListener("popstate", this._onPopState);
    document.addEventListener("click", this._onClick);
    this._render(false);
  }

  navigate(path) {
    const url = new URL(path, window.location.origin);
    if (url.pathname + url.search === window.location.pathname + window.location.search) return;
    window.history.pushState({}, "", url.pathname + url.search + url.hash);
    this._render(true);
  }

  _interceptLink(event) {
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const link = event.target.closest?.("a[data-link]");
    if (!link || link.target || link.hasAttribute("download")) return;
    const url = new URL(link.href, window.location.href);
    if (url.origin !== window.location.origin) return;
    event.preventDefault();
    this.navigate(url.pathname + url.search + url.hash);
  }

  _render(moveFocus) {
    const path = normalize(window.location.pathname);
    const route = this.routes.get(path);
    this.current?.destroy();
    this.root.replaceChildren();
    this.current = route ? route.factory() : this.notFound(path);
    this.current.mount(this.root);
    document.title = `${route ? route.title : "Not found"} · ${this.appName}`;
    this._markActive(path);
    if (moveFocus) this.root.focus({ preventScroll: true });
  }

  _markActive(path) {
    for (const link of document.querySelectorAll("nav a[data-link]")) {
      const active = normalize(new URL(link.href).pathname) === path;
      link.classList.toggle("active", active);
      if (active) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
  }
}

function normalize(path) {
  const trimmed = path.replace(/\/+$/, "");
  return trimmed === "" ? "/" : trimmed;
}
