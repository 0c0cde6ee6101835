// The HTML check: how well email clients support the HTML and CSS this
// message uses (caniemail.com's data, answered by /api/v1/.../html-check).
// An overall score first, then each feature used, worst first, opening to
// its support per client.

import { asyncPanel, h } from "./dom.js";
import { api } from "./api.js";

const CANIEMAIL = "https://www.caniemail.com";

export function renderHtmlCheck({ message }) {
  return asyncPanel("html-check", async () => {
    const check = await api.htmlCheck(message.ID);
    return h("div", { class: "html-check-body" },
      summary(check.Total, check.Warnings.length),
      check.Warnings.length
        ? h("ul", { class: "check-list" }, check.Warnings.map((w) => warning(w, check.Platforms)))
        : h("p", { class: "all-clear" }, "No HTML or CSS with limited support was found."),
      h("p", { class: "muted small" }, "Support data from ",
        h("a", { href: CANIEMAIL, target: "_blank", rel: "noopener noreferrer" }, "caniemail.com"), "."),
    );
  });
}

const pct = (n) => `${Math.round(n * 10) / 10}%`;

function summary(total, count) {
  return h("section", { class: "check-summary", "aria-label": "Overall support" },
    h("div", { class: "check-score" },
      h("span", { class: "check-score-value" }, pct(total.Supported)),
      h("span", { class: "muted" }, "supported")),
    h("div", { class: "check-summary-side" },
      bar(total),
      h("div", { class: "check-legend" },
        legend("yes", "Supported", total.Supported),
        legend("partial", "Partial", total.Partial),
        legend("no", "Not supported", total.Unsupported)),
      h("div", { class: "muted small" },
        `${count} ${count === 1 ? "feature" : "features"} to review · ${total.Nodes} elements · ${total.Tests} features checked`)),
  );
}

function bar(score) {
  // Widths through the CSSOM: the app's policy allows no inline style attributes.
  const segment = (kind, value) => {
    if (!(value > 0)) return null;
    const span = h("span", { class: `check-bar-${kind}` });
    span.style.width = `${value}%`;
    return span;
  };
  return h("div", { class: "check-bar", role: "img", "aria-label": `${pct(score.Supported)} supported, ${pct(score.Partial)} partial, ${pct(score.Unsupported)} not supported` },
    segment("yes", score.Supported), segment("partial", score.Partial), segment("no", score.Unsupported));
}

function legend(kind, label, value) {
  return h("span", { class: "check-legend-item" }, h("span", { class: `check-dot check-dot-${kind}` }), `${label} ${pct(value)}`);
}

function warning(w, platforms) {
  const score = w.Score;
  return h("li", { class: "check-item", dataset: { slug: w.Slug } },
    h("details", {},
      h("summary", { class: "check-item-head" },
        h("span", { class: "check-title" }, w.Title),
        h("span", { class: "badge badge-muted" }, w.Category.toUpperCase()),
        h("span", { class: "muted small" }, `used ${score.Found}×`),
        h("span", { class: "check-item-score" },
          score.Unsupported > 0 && h("span", { class: "badge badge-no" }, `${pct(score.Unsupported)} no`),
          score.Partial > 0 && h("span", { class: "badge badge-warn" }, `${pct(score.Partial)} partial`),
          h("span", { class: "badge badge-ok" }, `${pct(score.Supported)} yes`))),
      h("div", { class: "check-detail" },
        w.Description && h("p", { class: "check-description" }, richText(w.Description)),
        w.URL && h("p", {}, h("a", { href: w.URL, target: "_blank", rel: "noopener noreferrer" }, "Read more on caniemail.com")),
        w.Results.length > 0 && clients(w.Results, platforms),
        notes(w.NotesByNumber))));
}

/** One row per client and platform, its tested versions as badges. */
function clients(results, platforms) {
  const rows = new Map();
  for (const r of results) {
    const client = r.Name.replace(/ \([^)]*\)$/, "");
    if (!rows.has(client)) rows.set(client, { platform: r.Platform, results: [] });
    rows.get(client).results.push(r);
  }
  const order = Object.keys(platforms ?? {});
  const sorted = [...rows.entries()].sort(([a, x], [b, y]) =>
    a.localeCompare(b) || order.indexOf(x.platform) - order.indexOf(y.platform));
  return h("table", { class: "check-clients" },
    h("tbody", {}, sorted.map(([client, row]) =>
      h("tr", {},
        h("th", { scope: "row" }, client),
        h("td", {}, h("div", { class: "check-versions" }, row.results.map((r) =>
          h("span", { class: `check-support check-support-${r.Support}`, title: `${r.Name}: ${r.Support}` },
            r.Version, r.NoteNumber && h("sup", { title: `Note ${r.NoteNumber}` }, `#${r.NoteNumber}`)))))))));
}

function notes(byNumber) {
  const entries = Object.entries(byNumber ?? {});
  if (!entries.length) return null;
  return h("ol", { class: "check-notes" }, entries.map(([n, text]) =>
    h("li", { value: n }, richText(text))));
}

/**
 * The data's descriptions and notes carry a little HTML (`<code>`, links).
 * They are parsed inertly and rebuilt from text nodes, code and http(s)
 * links only, so nothing in them can become script or markup of ours.
 */
function richText(html) {
  const doc = new DOMParser().parseFromString(`<body>${html}</body>`, "text/html");
  const rebuild = (node) => [...node.childNodes].map((child) => {
    if (child.nodeType === Node.TEXT_NODE) return child.textContent;
    const tag = child.nodeName.toLowerCase();
    if (tag === "code") return h("code", {}, child.textContent);
    if (tag === "a") {
      const href = child.getAttribute("href") ?? "";
      const url = href.startsWith("/") ? CANIEMAIL + href : href;
      return /^https?:\/\//i.test(url)
        ? h("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, rebuild(child))
        : rebuild(child);
    }
    return rebuild(child);
  });
  return rebuild(doc.body);
}
