// Shown by the router for any path without a registered page.
import { Component, h } from "../core/component.js";

export class NotFoundPage extends Component {
  render() {
    return h(
      "section",
      { class: "page not-found", "aria-labelledby": "page-title" },
      h("h1", { id: "page-title" }, "Page not found"),
      h("p", { class: "muted" }, "Nothing lives at ", h("code", {}, this.props.path), "."),
      h("p", {}, h("a", { href: "/", "data-link": true }, "Back to the dashboard")),
    );
  }
}
