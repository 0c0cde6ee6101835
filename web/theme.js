// Light, dark, or following the system (the default). theme-init.js applies
// a saved choice before first paint; this module switches it later.

import { setIcon } from "./dom.js";

const KEY = "mailcatch.theme";
const ORDER = ["auto", "light", "dark"];
const LABEL = { auto: "Theme: follows system", light: "Theme: light", dark: "Theme: dark" };

export function currentTheme() {
  try {
    const saved = localStorage.getItem(KEY);
    return ORDER.includes(saved) ? saved : "auto";
  } catch {
    return "auto";
  }
}

const systemDark = matchMedia("(prefers-color-scheme: dark)");

/** Sets data-scheme, the one attribute the CSS follows. */
function applyScheme(theme) {
  const dark = theme === "dark" || (theme === "auto" && systemDark.matches);
  document.documentElement.dataset.scheme = dark ? "dark" : "light";
}

export function applyTheme(theme, button) {
  if (theme === "auto") delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
  applyScheme(theme);
  try {
    localStorage.setItem(KEY, theme);
  } catch { /* private mode: the choice lasts for this page */ }
  if (button) {
    setIcon(button.querySelector("svg"), `theme-${theme}`);
    button.setAttribute("aria-label", `${LABEL[theme]} (click to change)`);
    button.title = LABEL[theme];
  }
}

export function installThemeToggle(button) {
  applyTheme(currentTheme(), button);
  // On "auto", follow the system when it switches.
  systemDark.addEventListener("change", () => applyScheme(currentTheme()));
  button.addEventListener("click", () => {
    const next = ORDER[(ORDER.indexOf(currentTheme()) + 1) % ORDER.length];
    applyTheme(next, button);
  });
}
