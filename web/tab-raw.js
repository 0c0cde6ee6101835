// The message source exactly as received, with a download of the .eml.

import { asyncPanel, h, icon } from "./dom.js";
import { api, urls } from "./api.js";
import { formatSize } from "./format.js";

const SHOW_LIMIT = 2_000_000;

export function renderRaw({ message }) {
  return asyncPanel("raw-panel", async () => {
    const raw = await api.raw(message.ID);
    const clipped = raw.length > SHOW_LIMIT;
    return h("div", {},
      h("div", { class: "panel-toolbar" },
        h("a", { class: "button", href: urls.rawDownload(message.ID), download: `${message.ID}.eml` },
          icon("download"), "Download .eml"),
        h("span", { class: "muted small" }, formatSize(message.Size),
          clipped ? ` — showing the first ${formatSize(SHOW_LIMIT)}` : ""),
      ),
      h("pre", { class: "code-block raw" }, clipped ? raw.slice(0, SHOW_LIMIT) : raw),
    );
  });
}
