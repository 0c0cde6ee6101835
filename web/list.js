// The message list: a virtual list that renders only the rows in view (plus
// a few either side), so ten thousand messages scroll as smoothly as ten.
// Rows have a fixed height; each is positioned with a transform.

import { h, icon } from "./dom.js";
import { exactTime, formatSize, relativeTime, shortAddress, addressList } from "./format.js";
import { at } from "./base.js";

const ROW_HEIGHT = 84;
const OVERSCAN = 6;

export class MessageList {
  /** The keyboard cursor: the row j/k move, Enter opens. */
  cursorId = null;
  /** The message shown in the message pane. */
  openId = null;

  #rowNodes = new Map(); // id -> element, for rows currently in the DOM
  #frame = 0;

  /**
   * @param {HTMLElement} scroller  the scrolling element
   * @param {HTMLElement} spacer    sized to the full list; rows go inside
   * @param {import("./mailbox.js").Mailbox} mailbox
   * @param {{onOpen: (id: string) => void, onTag: (tag: string) => void}} actions
   */
  constructor(scroller, spacer, mailbox, actions) {
    this.scroller = scroller;
    this.spacer = spacer;
    this.mailbox = mailbox;
    this.actions = actions;
    scroller.style.setProperty("--row-height", `${ROW_HEIGHT}px`);
    scroller.addEventListener("scroll", () => this.render(), { passive: true });
    new ResizeObserver(() => this.render()).observe(scroller);
    mailbox.addEventListener("change", (event) => this.#onChange(event.detail));
    spacer.addEventListener("click", (event) => this.#onClick(event));
    spacer.addEventListener("change", (event) => this.#onCheckbox(event));
    // Relative times age; refresh the visible ones now and then.
    setInterval(() => this.#refreshTimes(), 30_000);
  }

  /** Schedules a render on the next frame (coalescing many calls). */
  render() {
    if (this.#frame) return;
    this.#frame = requestAnimationFrame(() => {
      this.#frame = 0;
      this.#renderNow();
    });
  }

  setOpen(id) {
    this.openId = id;
    if (id) this.cursorId = id;
    this.render();
  }

  /** Moves the cursor by `delta` rows; returns the new cursor ID. */
  moveCursor(delta) {
    const rows = this.mailbox.rows;
    if (!rows.length) return null;
    const current = this.mailbox.indexOf(this.cursorId);
    const next = current < 0 ? 0 : Math.min(rows.length - 1, Math.max(0, current + delta));
    this.cursorId = rows[next].ID;
    this.scrollIntoView(next);
    this.render();
    return this.cursorId;
  }

  scrollIntoView(index) {
    if (index < 0) return;
    const top = index * ROW_HEIGHT;
    const { scrollTop, clientHeight } = this.scroller;
    if (top < scrollTop) this.scroller.scrollTop = top;
    else if (top + ROW_HEIGHT > scrollTop + clientHeight) this.scroller.scrollTop = top + ROW_HEIGHT - clientHeight;
  }

  #onChange(detail) {
    // Keep what the reader looks at still when mail arrives above it.
    if (detail.added && this.scroller.scrollTop > ROW_HEIGHT / 2) {
      this.scroller.scrollTop += ROW_HEIGHT;
    }
    if (detail.removed && detail.removed === this.cursorId) this.cursorId = null;
    this.render();
  }

  #renderNow() {
    const rows = this.mailbox.rows;
    this.spacer.style.height = `${rows.length * ROW_HEIGHT}px`;
    const { scrollTop, clientHeight } = this.scroller;
    const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(rows.length, Math.ceil((scrollTop + clientHeight) / ROW_HEIGHT) + OVERSCAN);

    const keep = new Set();
    for (let index = first; index < last; index++) {
      const summary = rows[index];
      keep.add(summary.ID);
      let node = this.#rowNodes.get(summary.ID);
      if (!node) {
        node = buildRow(summary);
        this.#rowNodes.set(summary.ID, node);
        this.spacer.append(node);
      }
      this.#updateRow(node, summary, index, rows.length);
    }
    for (const [id, node] of this.#rowNodes) {
      if (!keep.has(id)) {
        node.remove();
        this.#rowNodes.delete(id);
      }
    }
  }

  /** Brings a row's changeable state up to date without rebuilding it, so a
   * focused checkbox keeps focus across live updates. */
  #updateRow(node, summary, index, count) {
    node.style.transform = `translateY(${index * ROW_HEIGHT}px)`;
    node.setAttribute("aria-posinset", index + 1);
    node.setAttribute("aria-setsize", count);
    const checked = this.mailbox.checked.has(summary.ID);
    node.classList.toggle("unread", !summary.Read);
    node.classList.toggle("checked", checked);
    node.classList.toggle("cursor", summary.ID === this.cursorId);
    node.classList.toggle("open", summary.ID === this.openId);
    const link = node.querySelector(".row-link");
    if (summary.ID === this.openId) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
    node.querySelector(".row-check").checked = checked;
    node.querySelector(".row-state").textContent = summary.Read ? "" : "Unread. ";
    const tagsKey = (summary.Tags ?? []).join("\u0000");
    if (node.dataset.tags !== tagsKey) {
      node.dataset.tags = tagsKey;
      node.querySelector(".row-tags").replaceChildren(...tagChips(summary.Tags));
    }
  }

  #refreshTimes() {
    const now = Date.now();
    for (const [id, node] of this.#rowNodes) {
      const summary = this.mailbox.get(id);
      if (summary) node.querySelector(".row-time").textContent = relativeTime(summary.Created, now);
    }
  }

  #onClick(event) {
    const tag = event.target.closest(".tag");
    if (tag) {
      event.preventDefault();
      this.actions.onTag(tag.dataset.tag);
      return;
    }
    const link = event.target.closest(".row-link");
    if (!link || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    this.actions.onOpen(link.closest(".row").dataset.id);
  }

  #onCheckbox(event) {
    const box = event.target.closest(".row-check");
    if (box) this.mailbox.toggleChecked(box.closest(".row").dataset.id, box.checked);
  }
}

function tagChips(tags) {
  return (tags ?? []).map((tag) =>
    h("button", { type: "button", class: "tag", dataset: { tag }, title: `Show messages tagged “${tag}”` }, tag),
  );
}

/** One row. Its parts that can change are updated by #updateRow. */
function buildRow(summary) {
  const from = shortAddress(summary.From) || "(no sender)";
  const to = addressList(summary.To) || addressList(summary.Cc) || addressList(summary.Bcc);
  const subject = summary.Subject || "(no subject)";
  const attachments = summary.Attachments > 0;
  return h(
    "div",
    { class: "row", role: "listitem", dataset: { id: summary.ID } },
    h("input", {
      type: "checkbox",
      class: "row-check checkbox",
      "aria-label": `Select message “${subject}” from ${from}`,
    }),
    h(
      "a",
      { class: "row-link", href: at(`/view/${summary.ID}`), draggable: "false" },
      h("span", { class: "visually-hidden row-state" }),
      h(
        "span",
        { class: "row-line row-top" },
        h("span", { class: "unread-dot", "aria-hidden": "true" }),
        h("span", { class: "row-from", title: summary.From?.Address || "" }, from),
        to && h("span", { class: "row-to" }, h("span", { class: "row-arrow", "aria-hidden": "true" }, "→ "), to),
        h("time", { class: "row-time", datetime: summary.Created, title: exactTime(summary.Created) }, relativeTime(summary.Created)),
      ),
      h(
        "span",
        { class: "row-line row-middle" },
        h("span", { class: summary.Subject ? "row-subject" : "row-subject empty" }, subject),
        attachments && h("span", { class: "row-attach", title: `${summary.Attachments} attachment(s)` }, icon("paperclip"), h("span", { class: "visually-hidden" }, "Has attachments")),
        h("span", { class: "row-size" }, formatSize(summary.Size)),
      ),
      h("span", { class: "row-line row-bottom" }, h("span", { class: "row-snippet" }, summary.Snippet || "")),
    ),
    h("span", { class: "row-tags" }),
  );
}
