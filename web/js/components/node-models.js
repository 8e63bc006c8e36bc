// Models page card: the models of the nodes that are up (`nodes` state: the snapshot's list, patched by
// each `nodes:status`), with the size, memory (while loaded), status and idle deadline each node reports (its clock, close
// enough to ours for a countdown in seconds) and Load / Unload through `nodes:load` /
// `nodes:unload {node, model}`. A request names them `node/model`; hidden while no node is up.
//
// Contract: new NodeModels({state}).mount(container). Test ids: "node-model-<node>/<model>" (the row),
// "node-model-status-…", "node-load-…", "node-unload-…", "node-models-error".
import { Component, h, replaceChildren } from "../core/component.js";
import { formatBytes, formatDuration } from "../core/format.js";

export class NodeModels extends Component {
  render() {
    return h(
      "section",
      { class: "card node-models", "aria-labelledby": "node-models-title", "data-testid": "node-models", hidden: true },
      h("h2", { id: "node-models-title" }, "Models on other nodes"),
      h("p", { class: "muted" }, "Ask for them here as node/model; a plain id goes to any place that serves it."),
      h("p", { class: "notice notice--error", role: "alert", "data-ref": "error", "data-testid": "node-models-error", hidden: true }),
      h("table", { class: "models-table" },
        h("thead", {}, h("tr", {}, ["Model", "Node", "Size", "Memory", "Status", "Idle unload", "Actions"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", { "data-ref": "rows" })),
    );
  }

  onMount() {
    const { state } = this.props;
    const refs = this.refs();
    this.rows = refs.rows;
    this.error = refs.error;
    this.own(state.subscribe("nodes", (nodes) => this._show(nodes)));
    this.el.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-action]");
      if (button) this._change(button);
    });
  }

  _show(nodes) {
    if (!this.el) return;
    const up = (nodes || []).filter((n) => n.state === "up" && n.models.length);
    this.el.hidden = !up.length;
    replaceChildren(this.rows, up.flatMap((node) => node.models.map((m) => row(node.name, m))));
  }

  async _change(button) {
    const { node, model, action } = button.dataset;
    button.disabled = true;
    this.error.hidden = true;
    try {
      await this.props.state.request(action === "load" ? "nodes:load" : "nodes:unload", { node, model });
    } catch (err) {
      this.error.hidden = false;
      this.error.textContent = `${node}/${model}: ${err.message}`;
      button.disabled = false;
    }
  }
}

function row(node, model) {
  const id = `${node}/${model.id}`;
  const status = model.status || "unknown";
  const button = (action, label, disabled) => h("button", {
    type: "button", class: "btn", "data-action": action, "data-node": node, "data-model": model.id,
    "data-testid": `node-${action}-${id}`, disabled: disabled ? true : null,
  }, label);
  return h("tr", { "data-testid": `node-model-${id}` },
    h("td", {}, h("strong", {}, model.id)),
    h("td", {}, node),
    h("td", {}, model.sizeBytes != null ? formatBytes(model.sizeBytes) : "—"),
    h("td", { "data-testid": `node-model-memory-${id}` }, model.rssBytes != null ? formatBytes(model.rssBytes) : "—"),
    h("td", { "data-testid": `node-model-status-${id}` }, status),
    h("td", { "data-testid": `node-model-ttl-${id}` }, idle(model)),
    h("td", { class: "btn-row" },
      button("load", "Load", status === "loaded" || status === "loading"),
      button("unload", "Unload", status !== "loaded")));
}

/** "unloads in 4m 59s" while loaded with a deadline, else its TTL on the node ("TTL 5m 00s", "never"). */
function idle(model) {
  if (model.unloadAt != null) return `unloads in ${formatDuration((model.unloadAt - Date.now()) / 1000)}`;
  if (model.ttlSec == null) return "—";
  return model.ttlSec === 0 ? "never" : `TTL ${formatDuration(model.ttlSec)}`;
}
