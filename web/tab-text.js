// The plain-text part, with web links made clickable. Built from text nodes
// and <a> elements only; links open in a new tab with no referrer.

import { h, note } from "./dom.js";

const LINK = /\bhttps?:\/\/[^\s<>"')\]]+/g;

export function renderText({ message }) {
  if (!message.Text) return note("info", "This message has no text part.");
  const pre = h("pre", { class: "text-body" });
  let last = 0;
  for (const match of message.Text.matchAll(LINK)) {
    pre.append(message.Text.slice(last, match.index));
    const url = match[0].replace(/[.,;:!?]+$/, "");
    pre.append(h("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, url));
    last = match.index + url.length;
  }
  pre.append(message.Text.slice(last));
  return pre;
}
