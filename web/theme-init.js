// Runs before first paint (a classic, blocking script) so the page never
// flashes the wrong theme. data-theme is the saved choice (absent for
// "auto"); data-scheme is what the CSS follows: that choice, or the system's.
try {
  const saved = localStorage.getItem("mailcatch.theme");
  if (saved === "light" || saved === "dark") document.documentElement.dataset.theme = saved;
} catch (_) { /* storage may be disabled; auto then */ }
document.documentElement.dataset.scheme =
  document.documentElement.dataset.theme ??
  (matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light");
