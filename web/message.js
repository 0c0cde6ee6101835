// The message pane: a header with the addresses and actions, then tabs.
// Tab panels are built on first use and kept while the message stays open,
// so switching back to the preview does not reload it.

import { h, icon, note } from "./dom.js";
import { api, urls } from "./api.js";
import { addressList, exactTime, formatAddress, formatSize, relativeTime } from "./format.js";
import { renderPreview } from "./tab-preview.js";
import { renderText } from "./tab-text.js";
import { renderSource } from "./tab-source.js";
import { renderHeaders } from "./tab-headers.js";
import { renderRaw } from "./tab-raw.js";
import { renderEnvelope } from "./tab-envelope.js";
import { renderAttachments } from "./tab-attachments.js";
import { renderHtmlCheck } from "./tab-html-check.js";
import { renderLinkCheck, renderSpamCheck, spamAssassin } from "./tab-checks.js";
import { releaseButton } from "./release.js";

export const TABS = [
  { id: "html", label: "HTML", render: renderPreview, when: (m) => Boolean(m.HTML) },
  { id: "text", label: "Text", render: renderText },
  { id: "source", label: "HTML source", render: renderSource, when: (m) => Boolean(m.HTML) },
  { id: "html-check", label: "HTML check", render: renderHtmlCheck, when: (m) => Boolean(m.HTML) },
  { id: "headers", label: "Headers", render: renderHeaders },
  { id: "raw", label: "Raw", render: renderRaw },
  { id: "envelope", label: "Envelope & SMTP", render: renderEnvelope },
  {
    id: "attachments",
    label: (m) => `Attachments (${(m.Attachments?.length ?? 0) + (m.Inline?.length ?? 0)})`,
    render: renderAttachments,
  },
  { id: "links", label: "Link check", render: renderLinkCheck },
  { id: "spam", label: "SpamAssassin", render: renderSpamCheck, when: () => spamAssassin.enabled },
];

export class MessageView {
  id = null;
  message = null;
  tab = "";
  #panels = new Map();
  #tabButtons = [];
  #body = null;
  #loadToken = 0;

  /**
   * @param {HTMLElement} pane
   * @param {{onClose: () => void, onDelete: (id: string) => void, onMarkUnread: (id: string) => void,
   *          onTab: (tab: string) => void, onStep: (delta: number) => void, onTag: (tag: string) => void}} actions
   */
  constructor(pane, actions) {
    this.pane = pane;
    this.actions = actions;
    this.showEmpty();
  }

  showEmpty(message = "Select a message to read it.") {
    this.id = null;
    this.message = null;
    this.#panels.clear();
    this.pane.replaceChildren(
      h("div", { class: "empty-state" },
        icon("inbox", "empty-icon"),
        h("p", { class: "empty-title" }, message),
        h("p", { class: "muted" }, "Press ", h("kbd", {}, "?"), " for keyboard shortcuts.")),
    );
  }

  /** Shows message `id` on tab `tab` (or the best default tab). */
  async show(id, tab) {
    if (id === this.id && this.message) {
      this.#selectTab(this.#validTab(tab));
      return;
    }
    const token = ++this.#loadToken;
    this.id = id;
    this.message = null;
    this.#panels.clear();
    this.pane.replaceChildren(h("div", { class: "pad muted", "aria-busy": "true" }, "Loading…"));
    let message;
    try {
      message = await api.message(id);
    } catch (error) {
      if (token !== this.#loadToken) return;
      this.message = null;
      this.pane.replaceChildren(this.#backBar(), h("div", { class: "pad" },
        note("error", error.status === 404 ? "This message no longer exists." : `Could not load the message: ${error.message}`)));
      return;
    }
    if (token !== this.#loadToken) return;
    this.id = message.ID; // resolves "latest"
    this.message = message;
    this.#build(message);
    this.#selectTab(this.#validTab(tab));
  }

  /** The open message was deleted elsewhere. */
  markGone() {
    this.pane.replaceChildren(this.#backBar(), h("div", { class: "pad" }, note("info", "This message was deleted.")));
    this.message = null;
  }

  get availableTabs() {
    return this.message ? TABS.filter((t) => !t.when || t.when(this.message)) : [];
  }

  /** Switches to the next/previous tab (keyboard). */
  cycleTab(delta) {
    const tabs = this.availableTabs;
    const index = tabs.findIndex((t) => t.id === this.tab);
    const next = tabs[(index + delta + tabs.length) % tabs.length];
    if (next) this.actions.onTab(next.id);
  }

  #validTab(tab) {
    const tabs = this.availableTabs;
    return tabs.some((t) => t.id === tab) ? tab : tabs[0].id;
  }

  #backBar() {
    return h("div", { class: "message-topline" },
      h("button", { type: "button", class: "icon-button back-button", "aria-label": "Back to the list", title: "Back to the list (Esc)", onclick: () => this.actions.onClose() }, icon("arrow-left")));
  }

  #build(m) {
    // The list summary knows when mailcatch received it; the Date header
    // says when the sender claims it was written.
    const received = this.actions.receivedAt?.(m.ID);
    const recipients = [
      ["To", m.To],
      ["Cc", m.Cc],
      ["Bcc", m.Bcc],
      ["Reply-To", m.ReplyTo],
    ].filter(([, list]) => list?.length);

    const header = h("header", { class: "message-header" },
      h("div", { class: "message-topline" },
        h("button", { type: "button", class: "icon-button back-button", "aria-label": "Back to the list", title: "Back to the list (Esc)", onclick: () => this.actions.onClose() }, icon("arrow-left")),
        h("div", { class: "message-actions" },
          h("button", { type: "button", class: "icon-button", "aria-label": "Previous message (k)", title: "Newer message (k)", onclick: () => this.actions.onStep(-1) }, icon("chevron-up")),
          h("button", { type: "button", class: "icon-button", "aria-label": "Next message (j)", title: "Older message (j)", onclick: () => this.actions.onStep(1) }, icon("chevron-down")),
          h("span", { class: "action-divider", "aria-hidden": "true" }),
          h("button", { type: "button", class: "tool-button", title: "Mark unread (u)", onclick: () => this.actions.onMarkUnread(m.ID) }, icon("mail"), h("span", {}, "Mark unread")),
          releaseButton(m),
          h("a", { class: "tool-button", href: urls.rawDownload(m.ID), download: `${m.ID}.eml`, title: "Download .eml" }, icon("download"), h("span", {}, ".eml")),
          h("button", { type: "button", class: "tool-button danger", title: "Delete (Delete)", onclick: () => this.actions.onDelete(m.ID) }, icon("trash"), h("span", {}, "Delete")),
        ),
      ),
      h("h1", { class: m.Subject ? "message-subject" : "message-subject empty", id: "message-subject" }, m.Subject || "(no subject)"),
      h("dl", { class: "message-addresses" },
        h("div", {}, h("dt", {}, "From"), h("dd", { class: "from" }, formatAddress(m.From) || "(no sender)")),
        recipients.map(([label, list]) => h("div", {}, h("dt", {}, label), h("dd", {}, addressList(list)))),
        h("div", {}, h("dt", {}, "Date"), h("dd", {},
          h("time", { datetime: m.Date }, exactTime(m.Date)),
          received && h("span", { class: "muted" }, " · received ",
            h("time", { datetime: received, title: exactTime(received) }, relativeTime(received))),
          h("span", { class: "muted" }, ` · ${formatSize(m.Size)}`))),
      ),
      h("div", { class: "message-tags" }, this.#tagButtons(m.Tags)),
    );

    this.#tabButtons = this.availableTabs.map((tab) =>
      h("button", {
        type: "button",
        role: "tab",
        class: "tab",
        id: `tab-${tab.id}`,
        "aria-controls": "message-tabpanel",
        dataset: { tab: tab.id },
        onclick: () => this.actions.onTab(tab.id),
      }, typeof tab.label === "function" ? tab.label(m) : tab.label));
    const tabList = h("div", { class: "tabs", role: "tablist", "aria-label": "Message views", onkeydown: (event) => this.#onTabKey(event) }, this.#tabButtons);
    this.#body = h("div", { class: "tab-panel", id: "message-tabpanel", role: "tabpanel", tabindex: "0" });
    this.pane.replaceChildren(h("article", { class: "message", "aria-labelledby": "message-subject" }, header, tabList, this.#body));
  }

  /** Tags changed live (set through the API). */
  setTags(tags) {
    if (!this.message) return;
    this.message.Tags = tags;
    this.pane.querySelector(".message-tags")?.replaceChildren(...this.#tagButtons(tags));
  }

  #tagButtons(tags) {
    return (tags ?? []).map((tag) =>
      h("button", { type: "button", class: "tag", onclick: () => this.actions.onTag(tag), title: `Show messages tagged “${tag}”` }, tag));
  }

  #selectTab(id) {
    this.tab = id;
    for (const button of this.#tabButtons) {
      const selected = button.dataset.tab === id;
      button.setAttribute("aria-selected", String(selected));
      button.tabIndex = selected ? 0 : -1;
    }
    this.#body.setAttribute("aria-labelledby", `tab-${id}`);
    let panel = this.#panels.get(id);
    if (!panel) {
      const tab = TABS.find((t) => t.id === id);
      panel = h("div", { class: `panel panel-${id}` }, tab.render({ message: this.message }));
      this.#panels.set(id, panel);
      this.#body.append(panel);
    }
    for (const [tabId, other] of this.#panels) other.hidden = tabId !== id;
  }

  /** Arrow keys move along the tab list (the ARIA tabs pattern). */
  #onTabKey(event) {
    const delta = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (!delta) return;
    event.preventDefault();
    this.cycleTab(delta);
    this.#tabButtons.find((b) => b.dataset.tab === this.tab)?.focus();
  }
}
