// Admin-token prompt, visible only while `connection` is "unauthorized": the server wants a token and
// this browser sent none, or one it no longer accepts (security.adminToken was changed, and the server
// disconnected every dashboard admitted under the old one). Submitting stores the token
// (StateManager.setToken) and reconnects with it.
import { Component, h } from "../core/component.js";

export class TokenPrompt extends Component {
  getInitialState() {
    return { visible: false, retried: false, hadToken: false };
  }

  onMount() {
    this.own(
      this.props.state.subscribe("connection", (status) => {
        const visible = status === "unauthorized";
        const hadToken = visible ? this.props.state.hasToken() : this.state.hadToken;
        // Once a token is accepted, a later refusal is about a changed token, not about the one typed.
        const retried = status === "connected" ? false : this.state.retried;
        if (visible !== this.state.visible || hadToken !== this.state.hadToken) this.setState({ visible, hadToken, retried });
        else this.state = { ...this.state, retried };
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
          : this.state.hadToken
            ? "The server no longer accepts the admin token this browser used: it may have been changed. Enter the current one."
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
