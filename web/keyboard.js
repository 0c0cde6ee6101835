// Keyboard shortcuts, and the help overlay that lists them (from this same
// table, so the two cannot drift apart).

export const SHORTCUTS = [
  { keys: ["j", "↓"], match: ["j", "ArrowDown"], action: "next", help: "Next (older) message" },
  { keys: ["k", "↑"], match: ["k", "ArrowUp"], action: "previous", help: "Previous (newer) message" },
  { keys: ["Enter", "o"], match: ["Enter", "o"], action: "open", help: "Open the selected message" },
  { keys: ["Esc"], match: ["Escape"], action: "escape", help: "Close the message, clear the search, or leave the search box" },
  { keys: ["/"], match: ["/"], action: "search", help: "Search" },
  { keys: ["Delete", "⌫", "#"], match: ["Delete", "Backspace", "#"], action: "delete", help: "Delete the open or checked messages" },
  { keys: ["x"], match: ["x"], action: "check", help: "Check or uncheck the selected message" },
  { keys: ["u"], match: ["u"], action: "toggleRead", help: "Mark read / unread" },
  { keys: ["[", "]"], match: ["[", "]"], action: "tab", help: "Previous / next tab" },
  { keys: ["g"], match: ["g"], action: "home", help: "Go to the inbox (clears the search)" },
  { keys: ["?"], match: ["?"], action: "help", help: "Show this help" },
];

/**
 * Calls `handlers[action](event)` for shortcut keys. Keys typed into inputs
 * are left alone, except Esc.
 */
export function installShortcuts(handlers) {
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
    const target = event.target;
    const typing = target instanceof HTMLElement &&
      (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)) &&
      !(target instanceof HTMLInputElement && target.type === "checkbox");
    if (typing && event.key !== "Escape") return;
    // A modal dialog handles its own keys (Esc closes it natively).
    if (document.querySelector("dialog[open]")) return;
    // Enter on a focused button or link must keep its normal meaning.
    if (event.key === "Enter" && target instanceof HTMLElement && target.closest("button, a, [role=tab]")) return;
    const shortcut = SHORTCUTS.find((s) => s.match.includes(event.key));
    if (!shortcut || !handlers[shortcut.action]) return;
    const handled = handlers[shortcut.action](event);
    if (handled !== false) event.preventDefault();
  });
}

/** Fills the help overlay's definition list. */
export function fillHelp(list, h) {
  list.replaceChildren(...SHORTCUTS.map((s) =>
    h("div", { class: "shortcut" },
      h("dt", {}, s.keys.map((k, i) => [i > 0 ? h("span", { class: "muted" }, " or ") : null, h("kbd", {}, k)])),
      h("dd", {}, s.help))));
}
