// Optional desktop notifications for new mail, shown only while the tab is in
// the background (in front, the list itself shows the mail arriving).

import { setIcon } from "./dom.js";
import { shortAddress } from "./format.js";

const KEY = "mailcatch.notify";

export class Notifier {
  enabled = false;

  constructor(button, { onOpen }) {
    this.button = button;
    this.onOpen = onOpen;
    if (!("Notification" in window)) {
      button.hidden = true;
      return;
    }
    try {
      this.enabled = localStorage.getItem(KEY) === "on" && Notification.permission === "granted";
    } catch { /* no storage: off */ }
    button.addEventListener("click", () => this.toggle());
    this.#render();
  }

  async toggle() {
    if (!this.enabled && Notification.permission !== "granted") {
      const permission = await Notification.requestPermission();
      if (permission !== "granted") return;
    }
    this.enabled = !this.enabled;
    try {
      localStorage.setItem(KEY, this.enabled ? "on" : "off");
    } catch { /* lasts for this page */ }
    this.#render();
  }

  /** Called for every new message summary. */
  newMessage(summary) {
    if (!this.enabled || !document.hidden) return;
    const notification = new Notification(summary.Subject || "(no subject)", {
      body: `From ${shortAddress(summary.From) || "unknown sender"}`,
      tag: "mailcatch-new", // replaces the previous one: a burst is one popup
      icon: new URL("./favicon.svg", import.meta.url).pathname,
    });
    notification.onclick = () => {
      window.focus();
      this.onOpen(summary.ID);
      notification.close();
    };
  }

  #render() {
    this.button.setAttribute("aria-pressed", String(this.enabled));
    const label = this.enabled ? "Desktop notifications on" : "Desktop notifications off";
    this.button.setAttribute("aria-label", label);
    this.button.title = label;
    setIcon(this.button.querySelector("svg"), this.enabled ? "bell" : "bell-off");
  }
}
