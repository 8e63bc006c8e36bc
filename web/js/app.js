// Entry point: one StateManager (owning the socket), the header widgets, and the router.
import { StateManager } from "./core/state.js";
import { Router } from "./core/router.js";
import { applyCachedTheme, applyTheme } from "./core/theme.js";
import { ConnectionIndicator } from "./components/connection-indicator.js";
import { TokenPrompt } from "./components/token-prompt.js";
import { DashboardPage } from "./pages/dashboard.js";
import { ModelsPage } from "./pages/models.js";
import { SettingsPage } from "./pages/settings.js";
import { RequestsPage } from "./pages/requests.js";
import { MonitoringPage } from "./pages/monitoring.js";
import { PlaygroundPage } from "./pages/playground.js";
import { ConfigurationPage } from "./pages/configuration.js";
import { LogsPage } from "./pages/logs.js";
import { NotFoundPage } from "./pages/not-found.js";

const APP_NAME = "llama-dashboard";

applyCachedTheme();

const state = new StateManager();
state.subscribe("settings", (settings) => applyTheme(settings?.theme));

new ConnectionIndicator({ state }).mount(document.getElementById("connection-slot"));
new TokenPrompt({ state }).mount(document.getElementById("prompt-slot"));

const router = new Router({
  root: document.getElementById("app"),
  appName: APP_NAME,
  notFound: (path) => new NotFoundPage({ path }),
});
router
  .register("/", () => new DashboardPage({ state }), { title: "Dashboard" })
  .register("/models", () => new ModelsPage({ state }), { title: "Models" })
  .register("/requests", () => new RequestsPage({ state }), { title: "Requests" })
  .register("/monitoring", () => new MonitoringPage({ state }), { title: "Monitoring" })
  .register("/playground", () => new PlaygroundPage({ state }), { title: "Playground" })
  .register("/configuration", () => new ConfigurationPage({ state }), { title: "Configuration" })
  .register("/logs", () => new LogsPage({ state }), { title: "Logs" })
  .register("/settings", () => new SettingsPage({ state }), { title: "Settings" });

state.connect();
router.start();

// Exposed for debugging from the browser console and for end-to-end tests.
window.llamaDashboard = { state, router };
