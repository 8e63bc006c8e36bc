// Dashboard card: the machines of `nodes` as last looked at (every 2 s): each node's state (up, degraded,
// unauthorized, down) and since when, its round trip, its models with the loaded ones first, and for a
// llama-dashboard node its load (CPU, memory, requests running and queued).
//
// Contract: new NodesCard({state}).mount(container) follows the `nodes` state key (the snapshot's list,
// patched by each `nodes:status`); hidden while no node is configured. Text only (textContent).
import { Component, h, replaceChildren } from "../core/component.js";
import { formatBytes, formatDuration, formatTime } from "../core/format.js";

const TICK_MS = 1000;

export class NodesCard extends Component {
  render() {
    return h(
      "section",
      { class: "card nodes-card", "aria-labelledby": "nodes-title", "data-testid": "nodes-card", hidden: true },
      h("h2", { id: "nodes-title" }, "Nodes"),
      h("ul", { class: "nodes-card__list", "data-ref": "list" }),
      h("p", { class: "muted" }, "Looked at every 2 s through their model list. Edit them under Configuration → Nodes."),
    );
  }

  onMount() {
    const { state } = this.props;
    this.list = this.refs().list;
    this.own(state.subscribe("nodes", (nodes) => this._show(nodes)));
    const timer = setInterval(() => this._show(state.get("nodes")), TICK_MS);
    this.own(() => clearInterval(timer));
  }

  _show(nodes) {
    if (!this.el) return;
    this.el.hidden = !nodes?.length;
    if (!nodes?.length) return;
    replaceChildren(this.list, nodes.map((node) => row(node, this.props.state.get("serverOffsetMs") || 0)));
  }
}

function row(node, offsetMs) {
  const forSec = (Date.now() + offsetMs - node.since) / 1000;
  const loaded = node.models.filter((m) => m.status === "loaded").map((m) => m.id);
  const others = node.models.length - loaded.length;
  const models = node.models.length
    ? `${loaded.length ? `loaded: ${loaded.join(", ")}` : "none loaded"}${others ? ` · ${others} more` : ""}`
    : "no models";
  return h(
    "li",
    { class: `nodes-card__item nodes-card__item--${node.state}`, "data-node": node.name, "data-state": node.state },
    h("strong", {}, node.name),
    h("span", { class: `node-state node-state--${node.state}`, "data-testid": `node-state-${node.name}` }, node.state),
    h("span", { class: "muted" }, ` for ${formatDuration(forSec)}`),
    node.rttMs != null ? h("span", { class: "muted" }, ` · ${node.rttMs} ms`) : null,
    h("div", { class: "nodes-card__models", "data-testid": `node-models-${node.name}` }, node.state === "up" ? models : node.error || ""),
    node.system ? h("div", { class: "muted", "data-testid": `node-system-${node.name}` }, load(node.system)) : null,
    h("div", { class: "muted nodes-card__url" }, `${node.url} · checked ${formatTime(node.checkedAt)}`),
  );
}

/** "CPU 31 % · memory 1.2 GiB / 23.6 GiB · 1 running, 0 queued". */
function load(system) {
  const parts = [];
  if (system.cpuPercent != null) parts.push(`CPU ${Math.round(system.cpuPercent)} %`);
  if (system.memoryTotalBytes) parts.push(`memory ${formatBytes(system.memoryUsedBytes)} / ${formatBytes(system.memoryTotalBytes)}`);
  parts.push(`${system.inFlight} running, ${system.queued} queued`);
  return parts.join(" · ");
}
