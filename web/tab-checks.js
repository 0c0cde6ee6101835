// On-demand checks of a message (Mailpit's link-check and sa-check). Nothing
// runs until its button is pressed: a link check makes the mailcatch server
// request every link, which a reader opening a message did not ask for.

import { h, note } from "./dom.js";
import { api } from "./api.js";

/** Whether the server has SpamAssassin (set from /api/v1/webui at start). */
export const spamAssassin = { enabled: false };

/** The Links tab: each link's HTTP status. */
export function renderLinkCheck({ message }) {
  const follow = h("input", { type: "checkbox", id: "link-check-follow" });
  return checkPanel({
    className: "link-check",
    label: "Check links",
    options: h("label", { class: "small check-option", for: "link-check-follow" }, follow, " Follow redirects"),
    intro: "Requests each http(s) link, image and style sheet of this message from the mailcatch server and shows the answer. Internal addresses are not requested unless the server allows them.",
    run: () => api.linkCheck(message.ID, follow.checked),
    show: linkReport,
  });
}

/** The SpamAssassin tab: the score and the rules that hit. */
export function renderSpamCheck({ message }) {
  return checkPanel({
    className: "spam-check",
    label: "Check with SpamAssassin",
    intro: "Sends this message to the server's SpamAssassin (spamd) and shows its score and the rules that hit.",
    run: () => api.spamCheck(message.ID),
    show: spamReport,
  });
}

/** A button that runs `run` and shows its answer with `show`. */
function checkPanel({ className, label, options = null, intro, run, show }) {
  const results = h("div", { class: "check-results", "aria-live": "polite" }, h("p", { class: "muted" }, intro));
  const button = h("button", { type: "button", class: "button primary", onclick: start }, label);
  async function start() {
    button.disabled = true;
    results.setAttribute("aria-busy", "true");
    results.replaceChildren(h("p", { class: "muted" }, "Checking…"));
    try {
      results.replaceChildren(show(await run()));
    } catch (error) {
      results.replaceChildren(note("error", `The check failed: ${error.message}`));
    } finally {
      button.disabled = false;
      results.removeAttribute("aria-busy");
    }
  }
  return h("div", { class: className }, h("div", { class: "panel-toolbar" }, button, options), results);
}

function linkReport(report) {
  const links = report.Links ?? [];
  if (!links.length) return note("info", "This message has no http(s) links, images or style sheets.");
  const rows = links.map((link) => h("tr", { dataset: { status: String(link.StatusCode) } },
    h("td", { class: "check-status" }, statusBadge(link)),
    h("td", { class: "check-url" }, /^https?:\/\//i.test(link.URL)
      ? h("a", { href: link.URL, target: "_blank", rel: "noopener noreferrer" }, link.URL)
      : link.URL)));
  return h("div", {},
    h("p", { class: report.Errors ? "check-summary" : "check-summary all-clear" },
      `${links.length} checked, ${report.Errors} ${report.Errors === 1 ? "error" : "errors"}`),
    h("table", { class: "headers-table check-table" },
      h("caption", { class: "visually-hidden" }, "Link statuses"),
      h("tbody", {}, rows)));
}

function statusBadge({ StatusCode: code, Status: status }) {
  const kind = code >= 200 && code < 300 ? "badge-ok" : code >= 300 && code < 400 ? "badge-muted" : "badge-warn";
  return h("span", { class: `badge ${kind}`, title: status }, code ? `${code} ${status}` : status || "no answer");
}

function spamReport(report) {
  if (report.Error) return note("error", `SpamAssassin: ${report.Error}`);
  const rules = report.Rules ?? [];
  return h("div", {},
    h("p", { class: "check-summary" },
      h("span", { class: `badge ${report.IsSpam ? "badge-warn" : "badge-ok"}` }, report.IsSpam ? "Spam" : "Not spam"),
      ` Score ${report.Score} (spam from 5)`),
    rules.length
      ? h("table", { class: "headers-table check-table" },
        h("caption", { class: "visually-hidden" }, "SpamAssassin rules that hit"),
        h("tbody", {}, rules.map((rule) => h("tr", {},
          h("td", { class: "check-score" }, String(rule.Score)),
          h("th", { scope: "row", class: "header-name" }, rule.Name),
          h("td", { class: "header-value" }, rule.Description)))))
      : h("p", { class: "muted" }, "No rule hit."));
}
