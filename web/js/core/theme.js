// Theme: the `theme` setting ("dark" | "light" | "system") sets <html data-theme> to "dark" or
// "light"; "system" follows prefers-color-scheme, live, so the CSS needs only the two palettes. The last value is cached in localStorage
// only to avoid a flash before the server's snapshot arrives; the server stays authoritative.
export const THEME_KEY = "llamaDashboard.theme";
const THEMES = new Set(["dark", "light", "system"]);

const prefersLight = window.matchMedia("(prefers-color-scheme: light)");
let chosen = "dark";

function resolved() {
  if (chosen !== "system") return chosen;
  return prefersLight.matches ? "light" : "dark";
}

prefersLight.addEventListener("change", () => {
  if (chosen === "system") document.documentElement.dataset.theme = resolved();
});

export function applyTheme(theme) {
  if (!THEMES.has(theme)) return;
  chosen = theme;
  document.documentElement.dataset.theme = resolved();
  try {
    localStorage.setItem(THEME_KEY, theme);
  } catch {
    // Storage may be unavailable (private mode); the server value still applies.
  }
}

export function applyCachedTheme() {
  try {
    applyTheme(localStorage.getItem(THEME_KEY));
  } catch {
    // See applyTheme.
  }
}
