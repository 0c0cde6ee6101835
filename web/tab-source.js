// The HTML source, syntax-highlighted by syntax.js (which builds DOM nodes,
// never markup). Very large sources are highlighted only in part.

import { h, note } from "./dom.js";
import { highlightHtml } from "./syntax.js";

const HIGHLIGHT_LIMIT = 400_000;

export function renderSource({ message }) {
  const html = message.HTML ?? "";
  if (!html) return note("info", "This message has no HTML part.");
  const head = html.slice(0, HIGHLIGHT_LIMIT);
  const code = h("code", { class: "code-html" }, highlightHtml(head), html.slice(HIGHLIGHT_LIMIT));
  return h("pre", { class: "code-block source" }, code);
}
