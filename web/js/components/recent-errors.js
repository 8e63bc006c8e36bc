// Dashboard card: the last warnings and errors from the server's log (ours and llama-server's), so a
// failed load or a crashing backend is visible without opening the Logs page.
//
// Contract: new RecentErrors({state}).mount(container) requests `logs:get {level:"warn", limit}` once,
// then prepends every `logs:entry` at warn or error; it keeps LIMIT entries. Text only (textContent).
import { Component, h, replaceChildren } from "../core/component.js";
import { formatTime } from "../core/format.js";

const LIMIT = 6;
const SHOWN = new Set(["error", "warn"]);

export class RecentErrors extends Component {
  render() {
    return h(
      "section",
      { class: "card recent-errors", "aria-labelledby": "recent-errors-title", "data-testid": "recent-errors" },
      h("h2", { id: "recent-errors-title" }, "Recent warnings and errors"),
      h("ul", { class: "recent-errors__list", "data-ref": "list" }, h("li", { class: "muted" }, "Loading…")),
      h("p", { class: "muted" }, h("a", { href: "/logs?level=warn", "data-link": true }, "All logs")),
    );
  }

  onMount() {
    const { state } = this.props;
    this.entries = [];
    this.list = this.refs().list;
    state.request("logs:get", { level: "warn", limit: LIMIT })
      .then(({ logs }) => {
        this.entries = [...(logs || []), ...this.entries].slice(0, LIMIT);
        this._show();
      })
      .catch((err) => replaceChildren(this.list, h("li", { class: "notice notice--error" }, `Could not load: ${err.message}`)));
    this.own(state.on("logs:entry", ({ entry } = {}) => {
      if (!entry || !SHOWN.has(entry.level) || this.entries.some((e) => e.id === entry.id)) return;
      this.entries = [entry, ...this.entries].slice(0, LIMIT);
      this._show();
    }));
  }

  _show() {
    if (!this.el) return;
    if (!this.entries.length) {
      replaceChildren(this.list, h("li", { class: "muted" }, "Nothing to report."));
      return;
    }
    replaceChildren(this.list, this.entries.map((e) => h(
      "li",
      { class: `recent-errors__item recent-errors__item--${e.level}`, "data-level": e.level },
      h("time", { datetime: new Date(e.timestamp).toISOString() }, formatTime(e.timestamp)),
      " ",
      h("span", { class: "recent-errors__level" }, e.level),
      " ",
      h("span", { class: "recent-errors__source muted" }, e.model ? `${e.source} · ${e.model}` : e.source),
      h("span", { class: "recent-errors__message" }, e.message),
    )));
  }
}
