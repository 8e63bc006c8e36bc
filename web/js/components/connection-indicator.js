// Header badge showing the StateManager's `connection` key (data-testid="connection").
// The element is rendered once and patched, so its aria-live region announces each change.
import { Component, h } from "../core/component.js";

const LABELS = {
  connecting: "Connecting",
  connected: "Connected",
  disconnected: "Disconnected",
  unauthorized: "Unauthorized",
};

export class ConnectionIndicator extends Component {
  render() {
    return h(
      "span",
      { class: "connection connection--connecting", role: "status", "aria-live": "polite" },
      h("span", { class: "connection__dot", "aria-hidden": "true" }),
      h("span", { "data-testid": "connection", "data-ref": "label" }, LABELS.connecting),
    );
  }

  onMount() {
    const { label } = this.refs();
    this.own(
      this.props.state.subscribe("connection", (status) => {
        this.el.className = `connection connection--${status}`;
        label.textContent = LABELS[status] || status;
      }),
    );
  }
}
