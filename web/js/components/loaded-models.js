// Dashboard card: the models loaded now, router-mode and own backends, with the resident memory of the
// process serving each (and an own backend's estimate while that is not known yet).
//
// Contract: new LoadedModels({state}).mount(container) follows the `models` state key and redraws its
// short list only when the loaded set or their memory changed.
import { Component, h, replaceChildren } from "../core/component.js";
import { DASH, formatBytes } from "../core/format.js";

export class LoadedModels extends Component {
  render() {
    return h(
      "section",
      { class: "card loaded-models", "aria-labelledby": "loaded-models-title", "data-testid": "loaded-models" },
      h("h2", { id: "loaded-models-title" }, "Loaded models"),
      h("ul", { class: "loaded-models__list", "data-ref": "list" }),
      h("p", { class: "muted" }, h("a", { href: "/models", "data-link": true }, "All models")),
    );
  }

  onMount() {
    this.list = this.refs().list;
    this.key = null;
    this.own(this.props.state.subscribe("models", (models) => this._show(models || [])));
  }

  _show(models) {
    const loaded = models.filter((m) => m.status === "loaded" || m.status === "loading");
    const key = JSON.stringify(loaded.map((m) => [m.id, m.status, m.rssBytes]));
    if (key === this.key) return;
    this.key = key;
    if (!loaded.length) {
      replaceChildren(this.list, h("li", { class: "muted" }, "No model is loaded."));
      return;
    }
    replaceChildren(this.list, loaded.map((m) => h(
      "li",
      { class: "loaded-models__item", "data-model": m.id },
      h("span", { class: "loaded-models__id" }, m.id),
      h("span", { class: "muted" }, m.source === "backend" ? "own backend" : "router"),
      h("span", { class: "loaded-models__memory", "data-testid": `loaded-memory-${m.id}` }, memoryText(m)),
    )));
  }
}

function memoryText(m) {
  if (m.status === "loading") return "loading…";
  if (Number.isFinite(m.rssBytes)) return formatBytes(m.rssBytes);
  if (m.memory?.totalBytes) return `~${formatBytes(m.memory.totalBytes)} (estimate)`;
  return DASH;
}
