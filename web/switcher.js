// The mailbox switcher in the header: every mailbox this user may see with
// its unread count, "All mailboxes" (the server's root), and making and
// deleting mailboxes. Switching loads the mailbox's own root,
// /mailbox/NAME/, so every link and API call of the page is scoped to it.

import { $, h } from "./dom.js";
import { api } from "./api.js";
import { mailbox as current, webroot } from "./base.js";
import { confirmAction, toast } from "./feedback.js";
import { formatCount } from "./format.js";

const ALL = "";
const NEW = "\u0000new";

export class MailboxSwitcher {
  constructor(select, deleteButton) {
    this.select = select;
    this.deleteButton = deleteButton;
    select.addEventListener("change", () => this.#chosen());
    deleteButton.hidden = !current || current === "default";
    deleteButton.addEventListener("click", () => this.#deleteCurrent());
    this.refresh();
  }

  /** Reloads the list and its counts (after live changes). */
  async refresh() {
    let mailboxes;
    try {
      mailboxes = await api.mailboxes();
    } catch {
      return; // a server without mailboxes, or no right to list them
    }
    const options = [h("option", { value: ALL }, "All mailboxes")];
    for (const box of mailboxes) {
      const unread = box.Unread ? ` (${formatCount(box.Unread)})` : "";
      options.push(h("option", { value: box.Name }, `${box.Private ? "🔒 " : ""}${box.Name}${unread}`));
    }
    if (current && !mailboxes.some((box) => box.Name === current)) {
      options.push(h("option", { value: current }, current));
    }
    options.push(h("option", { value: NEW }, "New mailbox…"));
    this.select.replaceChildren(...options);
    this.select.value = current ?? ALL;
    this.select.hidden = false;
  }

  #chosen() {
    const value = this.select.value;
    if (value === NEW) {
      this.select.value = current ?? ALL;
      this.#create();
      return;
    }
    location.assign(webroot + (value === ALL ? "/" : `/mailbox/${encodeURIComponent(value)}/`));
  }

  async #create() {
    const name = prompt("Name of the new mailbox (a-z 0-9 . _ -), or empty for a random one:");
    if (name === null) return;
    try {
      const created = await api.createMailbox(name.trim() ? { Name: name.trim() } : {});
      showCreated(created);
      this.refresh();
    } catch (error) {
      toast(`Could not create the mailbox: ${error.message}`, "error", 6000);
    }
  }

  async #deleteCurrent() {
    const ok = await confirmAction({
      title: `Delete mailbox ${current}?`,
      text: "The mailbox and all its messages will be deleted. This cannot be undone.",
      confirm: "Delete mailbox",
    });
    if (!ok) return;
    try {
      await api.deleteMailbox(current);
      location.assign("/");
    } catch (error) {
      toast(`Delete failed: ${error.message}`, "error");
    }
  }
}

/** The new mailbox's secrets, shown once, with a link to it. */
function showCreated(created) {
  const dialog = $("#mailbox-dialog");
  const row = (name, value) => [h("dt", {}, name), h("dd", {}, h("code", {}, value ?? "never"))];
  $("#mailbox-details").replaceChildren(
    ...row("Name", created.Name),
    ...row("SMTP username", created.SMTPUsername),
    ...row("SMTP password", created.SMTPPassword),
    ...row("API token", created.Token),
    ...row("Expires", created.Expires),
  );
  $("#mailbox-open").href = created.URL;
  dialog.showModal();
}
