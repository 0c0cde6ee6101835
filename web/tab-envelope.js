// What happened on the wire, which Mailpit does not show: the SMTP envelope
// (who the message was really from and to), the client's connection, the
// session transcript and every warning. Bcc-only recipients and a sender
// that differs from the From header are called out, because those are the
// things that surprise people.

import { asyncPanel, h, icon, note } from "./dom.js";
import { api } from "./api.js";
import { exactTime, formatAddress } from "./format.js";
import { deliveriesSection } from "./release.js";

export function renderEnvelope({ message }) {
  return asyncPanel("envelope-panel", async () => {
    const envelope = await api.envelope(message.ID);
    return h("div", { class: "envelope" },
      senderNote(envelope),
      warnings(envelope),
      h("dl", { class: "facts" },
        fact("MAIL FROM", envelope.MailFrom ? h("code", {}, `<${envelope.MailFrom}>`) : h("code", {}, "<> (null sender)"),
          envelope.MailParams?.length ? h("span", { class: "muted small params" }, envelope.MailParams.join(" ")) : null),
        fact(`RCPT TO (${envelope.RcptTo.length})`, recipients(envelope.RcptTo)),
        fact("Header From", formatAddress(envelope.HeaderFrom) || h("span", { class: "muted" }, "none")),
        fact("HELO / EHLO", envelope.Helo ? h("code", {}, envelope.Helo) : h("span", { class: "muted" }, "not given")),
        fact("Client", envelope.ClientAddr ? h("code", {}, envelope.ClientAddr) : h("span", { class: "muted" }, "unknown (not received over SMTP)")),
        fact("TLS", envelope.Tls
          ? h("span", { class: "badge badge-ok" }, icon("lock", "icon small-icon"), `${envelope.Tls.Version} · ${envelope.Tls.Cipher}`)
          : h("span", { class: "badge badge-muted" }, icon("unlock", "icon small-icon"), "none (plaintext)")),
        fact("AUTH user", envelope.AuthUser ? h("code", {}, envelope.AuthUser) : h("span", { class: "muted" }, "not authenticated")),
        fact("Received", h("time", { datetime: envelope.Created }, exactTime(envelope.Created))),
      ),
      h("h3", { class: "section-title" }, "SMTP session"),
      transcript(envelope.Transcript),
      deliveriesSection(message.ID),
    );
  });
}

function fact(term, ...values) {
  return h("div", { class: "fact" }, h("dt", {}, term), h("dd", {}, ...values));
}

function recipients(list) {
  if (!list.length) return h("span", { class: "muted" }, "none recorded");
  return h("ul", { class: "recipients" }, list.map((rcpt) =>
    h("li", {},
      h("code", {}, rcpt.Address),
      rcpt.BccOnly
        ? h("span", { class: "badge badge-accent", title: rcpt.Header ? "Listed only in the Bcc header" : "In no address header: a blind copy" }, rcpt.Header ? "Bcc" : "Bcc (envelope only)")
        : h("span", { class: "badge badge-muted" }, rcpt.Header),
    )));
}

function senderNote(envelope) {
  if (!envelope.SenderDiffers) return null;
  return note("warning",
    h("strong", {}, "Envelope sender differs from the From header. "),
    "Bounces go to ", h("code", {}, envelope.MailFrom),
    "; readers see ", h("code", {}, envelope.HeaderFrom.Address), ".");
}

function warnings(envelope) {
  const all = [
    ...(envelope.Warnings ?? []).map((text) => ["SMTP", text]),
    ...(envelope.ContentWarnings ?? []).map((text) => ["Content", text]),
  ];
  if (!all.length) return h("p", { class: "all-clear" }, "No protocol or content warnings.");
  return note("warning",
    h("strong", {}, all.length === 1 ? "1 warning" : `${all.length} warnings`),
    h("ul", { class: "warning-list" }, all.map(([kind, text]) =>
      h("li", {}, h("span", { class: "badge badge-warn" }, kind), " ", text))),
  );
}

/** Client lines, server replies and notes, each styled by who spoke. */
function transcript(lines) {
  if (!lines?.length) return h("p", { class: "muted" }, "No SMTP session recorded (the message did not arrive over SMTP).");
  return h("ol", { class: "transcript", "aria-label": "SMTP transcript" }, lines.map((line) => {
    const speaker = line.startsWith("C: ") ? "client" : line.startsWith("S: ") ? "server" : "note";
    const text = speaker === "note" ? line.replace(/^-- /, "") : line.slice(3);
    const label = { client: "C", server: "S", note: "·" }[speaker];
    return h("li", { class: `line ${speaker}` },
      h("span", { class: "speaker", "aria-label": speaker === "note" ? "note" : speaker }, label),
      h("span", { class: "said" }, text));
  }));
}
