// The HTML preview. The message's HTML is loaded by URL into a sandboxed
// frame that allows neither scripts nor same-origin access: whatever the
// email contains cannot run, read our cookies or reach this page. Popups are
// allowed only so that links (target=_blank, added by ?embed=1) open in a
// new, unsandboxed tab. The server adds its own CSP sandbox on top.

import { h, icon } from "./dom.js";
import { urls } from "./api.js";

const SANDBOX = "allow-popups allow-popups-to-escape-sandbox";
const WIDTHS = [
  { name: "phone", label: "Phone (375 px)", width: "375px", icon: "phone" },
  { name: "tablet", label: "Tablet (768 px)", width: "768px", icon: "tablet" },
  { name: "desktop", label: "Desktop (full width)", width: "100%", icon: "monitor" },
];
let chosenWidth = "desktop"; // kept across messages, like a reader would expect

export function renderPreview({ message }) {
  const frame = h("iframe", {
    class: "preview-frame",
    sandbox: SANDBOX,
    referrerpolicy: "no-referrer",
    title: `HTML preview of “${message.Subject || "(no subject)"}”`,
    src: urls.htmlView(message.ID),
  });
  const stage = h("div", { class: "preview-stage" }, h("div", { class: "preview-device" }, frame));
  const buttons = WIDTHS.map(({ name, label, icon: iconName }) =>
    h("button", {
      type: "button",
      class: "seg-button",
      "aria-label": label,
      title: label,
      dataset: { width: name },
      onclick: () => apply(name),
    }, icon(iconName)),
  );
  function apply(name) {
    chosenWidth = name;
    const { width } = WIDTHS.find((w) => w.name === name);
    stage.dataset.width = name;
    stage.firstChild.style.width = width;
    for (const button of buttons) button.setAttribute("aria-pressed", String(button.dataset.width === name));
  }
  apply(chosenWidth);
  return h("div", { class: "preview" },
    h("div", { class: "preview-toolbar" },
      h("div", { class: "segmented", role: "group", "aria-label": "Preview width" }, buttons),
      h("span", { class: "muted small" }, "Scripts are disabled in the preview."),
    ),
    stage,
  );
}
