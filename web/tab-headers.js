// Every header in the order it was sent, duplicates kept (from mailcatch's
// own endpoint: Mailpit's is alphabetical and merges them). The decoded value
// is shown; when the raw one differs (encoded words, folding) it is shown too.

import { asyncPanel, h } from "./dom.js";
import { api } from "./api.js";

export function renderHeaders({ message }) {
  return asyncPanel("headers-panel", async () => {
    const headers = await api.headers(message.ID);
    const rows = headers.map((header, index) => {
      const differs = header.Value.replace(/\s+/g, " ") !== header.Decoded;
      return h("tr", { dataset: { name: header.Name.toLowerCase() } },
        h("th", { scope: "row", class: "header-name" }, header.Name),
        h("td", { class: "header-value" },
          h("div", { class: "decoded" }, header.Decoded),
          differs && h("div", { class: "raw-value", title: "Raw value" }, h("span", { class: "raw-label" }, "raw"), header.Value),
        ),
        h("td", { class: "header-index muted", "aria-label": `Header ${index + 1}` }, String(index + 1)),
      );
    });
    const filter = h("input", {
      type: "search",
      class: "input",
      placeholder: "Filter headers",
      "aria-label": "Filter headers by name or value",
      oninput: () => {
        const needle = filter.value.trim().toLowerCase();
        for (const row of rows) {
          row.hidden = needle !== "" && !row.textContent.toLowerCase().includes(needle);
        }
      },
    });
    return h("div", {},
      h("div", { class: "panel-toolbar" }, filter,
        h("span", { class: "muted small" }, `${headers.length} headers, in the order received`)),
      h("table", { class: "headers-table" },
        h("caption", { class: "visually-hidden" }, "Message headers in order"),
        h("tbody", {}, rows)),
    );
  });
}
