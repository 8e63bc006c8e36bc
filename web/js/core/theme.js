// Theme: the `theme` setting ("dark" | "light" | "system") is written to <html data-theme>;
// CSS resolves "system" with prefers-color-scheme. The last value is cached in localStorage
// only to avoid a flash before the server's snapshot arrives; the server stays authoritative.
export const THEME_KEY = "llamaDashboard.theme";
const THEMES = new Set(["dark", "light", "system"]);

export function applyTheme(theme) {
  if (!THEMES.has(theme)) return;
  document.documentElement.dataset.theme = theme;
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
