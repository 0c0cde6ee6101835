// Runs before first paint (a classic, blocking script) so a saved light or
// dark choice never flashes the other theme. "auto" leaves it to the CSS.
try {
  const saved = localStorage.getItem("mailcatch.theme");
  if (saved === "light" || saved === "dark") document.documentElement.dataset.theme = saved;
} catch (_) { /* storage may be disabled; auto then */ }
