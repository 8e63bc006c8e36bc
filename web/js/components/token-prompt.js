// Admin-token prompt, visible only while `connection` is "unauthorized".
// Submitting stores the token (StateManager.setToken) and reconnects with it.
import { Component, h } from "../core/component.js";

export class TokenPrompt extends Component {
  getInitialState() {
    return { visible: false, retried: false };
  }

  onMount() {
    this.own(
      this.props.state.subscribe("connection", (status) => {
        const visible = status === "unauthorized";
        if (visible !== this.state.visible) this.setState({ visible });
        if (visible) this.el.querySelector("input")?.focus();
      }),
    );
  }

  getEventMap() {
    return { "submit form": "handleSubmit" };
  }

  handleSubmit(event, form) {
    event.preventDefault();
    const token = form.elements.token.value.trim();
    if (!token) return;
    this.state = { ...this.state, retried: true };
    this.props.state.setToken(token);
  }

  render() {
    if (!this.state.visible) return h("div", { hidden: true });
    return h(
      "section",
      { class: "token-prompt", "aria-labelledby": "token-title", "data-testid": "token-prompt" },
      h("h2", { id: "token-title" }, "Admin token required"),
      h(
        "p",
        { class: "muted" },
        this.state.retried
          ? "The server refused that token. Check security.adminToken and try again."
          : "This server requires an admin token. It is stored in this browser only.",
      ),
      h(
        "form",
        { class: "inline-form" },
        h("label", { for: "token-input" }, "Admin token"),
        h("input", { id: "token-input", name: "token", type: "password", autocomplete: "current-password", required: true }),
        h("button", { type: "submit", class: "btn btn--primary" }, "Connect"),
      ),
    );
  }
}
