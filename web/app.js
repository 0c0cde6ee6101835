// mailcatch's web UI: wires the model (mailbox.js), the views (list.js,
// message.js), the live feed (live.js), the URL (router.js) and the keyboard.
//
// Plain ES modules, no build step: src/http/ui.rs embeds web/ in the binary
// and serves it under a versioned prefix. One concern per module:
//   api.js       HTTP calls (Mailpit's /api/v1 and /api/mailcatch/v1)
//   live.js      the WebSocket feed, reconnect with backoff, resync signal
//   mailbox.js   the rows being listed, kept current by live events
//   list.js      the virtual list (renders only visible rows)
//   message.js   the message pane and its tabs (tab-*.js, one per tab)
//   syntax.js    the HTML/CSS highlighter for the source tab
//   router.js    URLs ⇄ views (History API); keyboard.js shortcuts + help
//   base.js      the page's root (/ or /mailbox/NAME/); switcher.js mailboxes
//   theme.js, notify.js, feedback.js, format.js, dom.js  small helpers
// Rule: text from an email is only ever set as textContent or an attribute
// value (dom.js `h`), never parsed as HTML; the HTML body itself is shown only
// inside the sandboxed preview frame.

import { $, h } from "./dom.js";
import { api } from "./api.js";
import { Mailbox } from "./mailbox.js";
import { MessageList } from "./list.js";
import { MessageView } from "./message.js";
import { spamAssassin } from "./tab-checks.js";
import { deliveryChanged, relay } from "./release.js";
import { connectLive } from "./live.js";
import { currentRoute, navigate, onRouteChange } from "./router.js";
import { fillHelp, installShortcuts } from "./keyboard.js";
import { installThemeToggle } from "./theme.js";
import { Notifier } from "./notify.js";
import { confirmAction, toast } from "./feedback.js";
import { formatCount, plural } from "./format.js";
import { MailboxSwitcher } from "./switcher.js";
import { at } from "./base.js";

const mailbox = new Mailbox();
const searchInput = $("#search-input");
let route = currentRoute();
let label = "";

const list = new MessageList($("#message-list"), $("#list-spacer"), mailbox, {
  onOpen: (id) => open(id),
  onTag: (tag) => search(`tag:"${tag}"`),
});

const view = new MessageView($("#message-pane"), {
  onClose: () => navigate({ query: route.query }),
  onDelete: (id) => deleteMessages([id]),
  onMarkUnread: (id) => setRead([id], false),
  onTab: (tab) => navigate({ ...route, tab }, { replace: true }),
  onStep: (delta) => step(delta),
  onTag: (tag) => search(`tag:"${tag}"`),
  receivedAt: (id) => mailbox.get(id)?.Created,
});

const switcher = new MailboxSwitcher($("#mailbox-switcher"), $("#mailbox-delete"));
$("#brand-link").href = at("/");

const notifier = new Notifier($("#notify-toggle"), { onOpen: (id) => open(id) });

// ---- routing ---------------------------------------------------------------

function applyRoute(next) {
  const queryChanged = next.query !== mailbox.query;
  route = next;
  if (document.activeElement !== searchInput || queryChanged) searchInput.value = next.query;
  if (queryChanged || (!mailbox.loadedOnce && !mailbox.loading)) mailbox.load(next.query);
  document.body.dataset.view = next.id ? "message" : "list";
  list.setOpen(next.id);
  if (next.id) {
    view.show(next.id, next.tab).then(() => {
      // `/view/latest` resolves to a real ID: put that in the address bar.
      if (view.message && view.message.ID !== route.id && route.id === next.id) {
        navigate({ ...route, id: view.message.ID }, { replace: true });
      }
      if (view.message) mailbox.setReadLocally([view.message.ID], true);
    });
  } else if (view.id || !view.pane.firstChild) {
    view.showEmpty();
  }
  renderChrome();
}

function open(id) {
  if (!id) return;
  navigate({ id, query: route.query, tab: route.id ? view.tab : "" });
}

function search(query) {
  navigate({ id: route.id, query: query.trim() });
}

/** Opens the message `delta` rows away from the open one. */
function step(delta) {
  const index = mailbox.indexOf(route.id);
  const next = mailbox.rows[index < 0 ? 0 : index + delta];
  if (next) navigate({ id: next.ID, query: route.query, tab: view.tab }, { replace: true });
  list.scrollIntoView(mailbox.indexOf(next?.ID));
}

onRouteChange(applyRoute);

// ---- search box --------------------------------------------------------------

let typingTimer = 0;
searchInput.addEventListener("input", () => {
  clearTimeout(typingTimer);
  // Search as you type, without a history entry per keystroke.
  typingTimer = setTimeout(() => navigate({ id: route.id, query: searchInput.value.trim() }, { replace: route.query !== "" }), 300);
});
$("#search-form").addEventListener("submit", (event) => {
  event.preventDefault();
  clearTimeout(typingTimer);
  search(searchInput.value);
});

// ---- actions -----------------------------------------------------------------

async function deleteMessages(ids) {
  if (!ids.length) return;
  const openIndex = mailbox.indexOf(route.id);
  const closing = ids.includes(route.id);
  try {
    await api.delete(ids);
  } catch (error) {
    toast(`Delete failed: ${error.message}`, "error");
    return;
  }
  mailbox.removeLocally(ids);
  toast(ids.length === 1 ? "Message deleted" : `${plural(ids.length, "message")} deleted`);
  if (closing) {
    // Like a mail client: move on to the message that took its place.
    const next = mailbox.rows[Math.min(openIndex, mailbox.rows.length - 1)];
    if (next) navigate({ id: next.ID, query: route.query, tab: view.tab }, { replace: true });
    else navigate({ query: route.query }, { replace: true });
  }
}

async function setRead(ids, read) {
  if (!ids.length) return;
  mailbox.setReadLocally(ids, read);
  try {
    await api.setRead(ids, read);
  } catch (error) {
    toast(`Could not update: ${error.message}`, "error");
  }
}

$("#select-all").addEventListener("change", (event) => mailbox.setAllChecked(event.target.checked));
$("#mark-read-selected").addEventListener("click", () => setRead([...mailbox.checked], true));
$("#mark-unread-selected").addEventListener("click", () => setRead([...mailbox.checked], false));
$("#delete-selected").addEventListener("click", () => deleteMessages([...mailbox.checked]));
$("#mark-all-read").addEventListener("click", async () => {
  mailbox.setReadLocally(mailbox.rows.map((r) => r.ID), true);
  await api.markAllRead().catch((error) => toast(`Could not update: ${error.message}`, "error"));
});
$("#delete-all").addEventListener("click", async () => {
  const ok = await confirmAction({
    title: "Delete all messages?",
    text: `All ${plural(mailbox.total, "message")} will be deleted. This cannot be undone.`,
    confirm: "Delete all",
  });
  if (!ok) return;
  try {
    await api.deleteAll();
    mailbox.apply("truncate", null);
    if (route.id) navigate({ query: route.query }, { replace: true });
  } catch (error) {
    toast(`Delete failed: ${error.message}`, "error");
  }
});
$("#brand-link").addEventListener("click", (event) => {
  event.preventDefault();
  navigate({});
});

// ---- the page around the list ----------------------------------------------

function renderChrome() {
  const count = $("#search-count");
  if (mailbox.checked.size) {
    count.textContent = `${formatCount(mailbox.checked.size)} selected`;
  } else if (mailbox.query) {
    count.textContent = mailbox.loading && !mailbox.rows.length ? "Searching…" : plural(mailbox.matched, "match", "matches");
  } else {
    count.textContent = mailbox.loadedOnce || mailbox.rows.length
      ? `${plural(mailbox.total, "message")}${mailbox.unread ? ` · ${formatCount(mailbox.unread)} unread` : ""}`
      : "Loading…";
  }
  document.title = `${mailbox.unread ? `(${formatCount(mailbox.unread)}) ` : ""}${label ? `${label} · ` : ""}mailcatch`;

  const checked = mailbox.checked.size;
  const selectAll = $("#select-all");
  selectAll.checked = checked > 0 && checked === mailbox.rows.length;
  selectAll.indeterminate = checked > 0 && checked < mailbox.rows.length;
  selectAll.disabled = mailbox.rows.length === 0;
  $("#selection-actions").hidden = checked === 0;
  $("#mailbox-actions").hidden = checked > 0;

  const empty = $("#list-empty");
  const isEmpty = mailbox.loadedOnce && !mailbox.loading && mailbox.rows.length === 0;
  empty.hidden = !isEmpty;
  if (isEmpty) {
    empty.replaceChildren(mailbox.query
      ? h("p", {}, "No messages match ", h("code", {}, mailbox.query), ".")
      : h("div", {}, h("p", { class: "empty-title" }, "No mail yet"),
          h("p", { class: "muted" }, "Messages sent to mailcatch's SMTP port appear here the moment they arrive.")));
  }
}

let scrolledToOpen = false;
mailbox.addEventListener("change", (event) => {
  renderChrome();
  // After a deep link, bring the open message's row into view once.
  if (!scrolledToOpen && route.id && mailbox.indexOf(route.id) >= 0) {
    scrolledToOpen = true;
    list.scrollIntoView(mailbox.indexOf(route.id));
  }
  if (event.detail.reset && route.id && view.id && !mailbox.loading && mailbox.rows.length === 0 && !mailbox.query) {
    view.markGone();
  }
});

// ---- live feed -----------------------------------------------------------------

const statusEl = $("#live-status");
connectLive({
  onEvent(type, data) {
    if (mailbox.apply(type, data)) notifier.newMessage(data);
    if ((type === "delete" && data?.ID === view.id) || (type === "truncate" && view.id)) view.markGone();
    if (type === "update" && data?.ID === view.id && Array.isArray(data.Tags)) view.setTags(data.Tags);
    if (type === "stats") switcher.refresh();
    if (type === "delivery") deliveryChanged(data);
    if (type === "error" && data?.Message) toast(`SMTP ${data.IP ? `${data.IP}: ` : ""}${data.Message}`, "warning", 6000);
  },
  onStatus(state, retryInMs) {
    statusEl.dataset.state = state;
    const text = { connecting: "Connecting", live: "Live", offline: "Offline" }[state];
    statusEl.querySelector(".live-text").textContent = text;
    statusEl.title = state === "live"
      ? "Connected: new mail appears instantly"
      : state === "offline" ? `Disconnected; retrying in ${Math.ceil(retryInMs / 1000)} s` : "Connecting to the live feed";
  },
  onResync() {
    mailbox.load();
    if (route.id && view.id) view.show(route.id, route.tab);
  },
});

// ---- keyboard ------------------------------------------------------------------

const helpDialog = $("#help-dialog");
fillHelp($("#shortcut-list"), h);
$("#help-button").addEventListener("click", () => helpDialog.showModal());

installShortcuts({
  next: () => (route.id ? step(1) : list.moveCursor(1)),
  previous: () => (route.id ? step(-1) : list.moveCursor(-1)),
  open: () => (list.cursorId ? open(list.cursorId) : false),
  escape: (event) => {
    if (event.target === searchInput) {
      if (!searchInput.value && route.query) search("");
      searchInput.blur();
      $("#message-list").focus();
    } else if (route.id) {
      navigate({ query: route.query });
      $("#message-list").focus();
    } else if (route.query) {
      search("");
    } else if (mailbox.checked.size) {
      mailbox.setAllChecked(false);
    } else return false;
  },
  search: () => {
    searchInput.focus();
    searchInput.select();
  },
  delete: () => {
    if (mailbox.checked.size) return void deleteMessages([...mailbox.checked]);
    const id = route.id ?? list.cursorId;
    if (!id) return false;
    deleteMessages([id]);
  },
  check: () => (list.cursorId ? mailbox.toggleChecked(list.cursorId) : false),
  toggleRead: () => {
    const id = route.id ?? list.cursorId;
    const row = mailbox.get(id);
    if (!row) return false;
    setRead([id], !row.Read);
  },
  tab: (event) => (route.id && view.message ? view.cycleTab(event.key === "]" ? 1 : -1) : false),
  home: () => navigate({}),
  help: () => helpDialog.showModal(),
});

installThemeToggle($("#theme-toggle"));

api.webui().then((config) => {
  label = config.Label || "";
  const labelEl = $("#label");
  labelEl.textContent = label;
  labelEl.hidden = !label;
  $("#delete-all").hidden = Boolean(config.HideDeleteAllButton);
  spamAssassin.enabled = Boolean(config.SpamAssassin);
  relay.enabled = Boolean(config.MessageRelay?.Enabled);
  relay.server = config.MessageRelay?.SMTPServer ?? "";
  renderChrome();
}, () => { /* older servers: defaults */ });

applyRoute(route);
