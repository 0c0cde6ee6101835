// Releasing a message to the SMTP relay (--smtp-relay-config), and the
// deliveries it made: the Release dialog asks for recipients (remembered in
// localStorage, as Mailpit's does), and the Envelope & SMTP tab lists each
// delivery of the message with its recipients, attempts and replies.

import { h, note } from "./dom.js";
import { api } from "./api.js";
import { exactTime } from "./format.js";
import { toast } from "./feedback.js";

/** Set from /api/v1/webui at start. */
export const relay = { enabled: false, server: "" };

const REMEMBER = "mailcatch.release.to";

/** The header button, when a relay is configured. */
export function releaseButton(message) {
  if (!relay.enabled) return null;
  return h("button", { type: "button", class: "tool-button", title: `Release to ${relay.server}`, onclick: () => openDialog(message) },
    h("span", {}, "Release"));
}

function openDialog(message) {
  const input = h("input", {
    type: "text", class: "input", id: "release-to", required: true, autocomplete: "email",
    value: localStorage.getItem(REMEMBER) ?? (message.To ?? []).map((a) => a.Address).join(", "),
  });
  const error = h("p", { class: "error-text", role: "alert" });
  const dialog = h("dialog", { class: "dialog", "aria-labelledby": "release-title" },
    h("h2", { id: "release-title" }, "Release message"),
    h("p", {}, "Send this message through ", h("code", {}, relay.server), " to:"),
    h("form", { method: "dialog", onsubmit: (event) => submit(event, dialog, message, input, error) },
      h("label", { for: "release-to" }, "Recipients (comma-separated)"),
      input,
      error,
      h("div", { class: "dialog-actions" },
        h("button", { class: "button", value: "cancel", type: "button", onclick: () => dialog.close() }, "Cancel"),
        h("button", { class: "button primary", value: "release", type: "submit" }, "Release"))));
  dialog.addEventListener("close", () => dialog.remove(), { once: true });
  document.body.append(dialog);
  dialog.showModal();
  input.focus();
}

async function submit(event, dialog, message, input, error) {
  event.preventDefault();
  const to = input.value.split(",").map((s) => s.trim()).filter(Boolean);
  try {
    await api.release(message.ID, to);
  } catch (failure) {
    error.textContent = failure.message;
    return;
  }
  localStorage.setItem(REMEMBER, to.join(", "));
  dialog.close();
  toast(`Queued for ${to.join(", ")}; see Envelope & SMTP for its progress.`);
}

/** Open deliveries sections by message ID, reloaded on `delivery` frames. */
const open = new Map();

/** A `delivery` frame from the live feed: refresh that message's list. */
export function deliveryChanged(data) {
  open.get(data?.MessageID)?.();
}

/** The deliveries of one message, for the Envelope & SMTP tab. */
export function deliveriesSection(messageId) {
  const box = h("section", { class: "deliveries" });
  const load = async () => {
    let list;
    try {
      list = await api.deliveries(messageId);
    } catch (failure) {
      box.replaceChildren(note("error", `Could not load deliveries: ${failure.message}`));
      return;
    }
    if (!list.Deliveries.length) {
      box.replaceChildren();
      return;
    }
    box.replaceChildren(
      h("h3", { class: "section-title" }, "Releases"),
      list.Deliveries.map((d) => delivery(d, load)));
  };
  open.set(messageId, () => (box.isConnected ? load() : open.delete(messageId)));
  load();
  return box;
}

function delivery(d, reload) {
  const act = (label, call) => h("button", { type: "button", class: "button small", onclick: async () => {
    try { await call(d.ID); } catch (failure) { toast(failure.message, "error"); }
    reload();
  } }, label);
  const waiting = d.State === "queued" || d.State === "deferred";
  return h("div", { class: `delivery delivery-${d.State}` },
    h("p", {},
      h("span", { class: "badge" }, d.State), " via ", h("code", {}, d.Server),
      " · queued ", h("time", { datetime: d.Created }, exactTime(d.Created)),
      d.NextAttempt ? [" · next attempt ", h("time", { datetime: d.NextAttempt }, exactTime(d.NextAttempt))] : null,
      waiting ? [" ", act("Retry now", api.retryDelivery), " ", act("Cancel", api.cancelDelivery)] : null,
      " ", act("Refresh", async () => {})),
    h("ul", { class: "recipients" }, d.Recipients.map((r) =>
      h("li", {}, h("code", {}, r.Address), " ", h("span", { class: "badge badge-muted" }, r.State),
        r.Reply ? h("span", { class: "muted small" }, ` ${r.Reply.Code || "—"} ${r.Reply.Text}`) : null))),
    h("details", {},
      h("summary", {}, `${d.Attempts.length} attempt${d.Attempts.length === 1 ? "" : "s"}`),
      h("ol", { class: "transcript" }, d.Attempts.map((a) =>
        h("li", {}, h("time", { datetime: a.Started }, exactTime(a.Started)), ` ${a.Server}`,
          h("ul", {}, a.Steps.map((s) => h("li", {}, h("code", {}, s.Command), ` → ${s.Code || "no reply"} ${s.Text}`))))))));
}
