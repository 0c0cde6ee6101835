// MailHog's clients against a live mailcatch: the npm `mailhog` client
// (blueimp/mailhog-node) called unchanged, and the requests of
// `cypress-mailhog` 2.5.0 replayed with plain fetch (its commands are thin
// `cy.request` wrappers; each replay below reads the same fields the
// command reads). Mail goes in over SMTP so the envelope is real. Prints one
// line per check and `compat-mailhog: N passed, M failed`.
//
// Environment: MAILCATCH_URL (http://127.0.0.1:8025), MAILCATCH_SMTP_PORT.
// mailcatch must run with --enable-chaos (Jim).

import assert from "node:assert/strict";
import net from "node:net";
import mailhog from "mailhog";
import WebSocket from "ws";

const base = process.env.MAILCATCH_URL;
const smtpPort = Number(process.env.MAILCATCH_SMTP_PORT);
if (!base || !smtpPort) {
  console.error("MAILCATCH_URL and MAILCATCH_SMTP_PORT must be set");
  process.exit(2);
}
const url = new URL(base);
const api = mailhog({ host: url.hostname, port: Number(url.port) });
let passed = 0;
let failed = 0;

async function check(name, body) {
  try {
    await body();
    passed += 1;
    console.log(`ok   ${name}`);
  } catch (error) {
    failed += 1;
    console.log(`FAIL ${name}: ${error?.stack ?? error}`);
  }
}

/** One SMTP transaction on a fresh connection; every reply within 5 s. */
function smtpSend({ from, to, data }) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(smtpPort, "127.0.0.1");
    socket.setTimeout(5000, () => socket.destroy(new Error("SMTP timeout")));
    const commands = [
      "EHLO compat.example",
      `MAIL FROM:<${from}>`,
      ...to.map((rcpt) => `RCPT TO:<${rcpt}>`),
      "DATA",
      data.replace(/^\./gm, "..") + "\r\n.",
      "QUIT",
    ];
    let buffer = "";
    socket.on("data", (chunk) => {
      buffer += chunk.toString();
      // A complete reply ends with a line `NNN text`.
      const match = /(^|\r\n)(\d{3}) [^\r\n]*\r\n$/.exec(buffer);
      if (!match) return;
      buffer = "";
      if (match[2][0] === "4" || match[2][0] === "5") {
        socket.destroy(new Error(`SMTP refused: ${match[0].trim()}`));
        return;
      }
      const next = commands.shift();
      if (next === undefined) socket.end();
      else socket.write(next + "\r\n");
    });
    socket.on("error", reject);
    socket.on("close", () => (commands.length === 0 ? resolve() : reject(new Error("SMTP closed early"))));
  });
}

const rich = [
  "From: Compat Sender <sender@example.test>",
  "To: Rcpt <rcpt@example.test>",
  "Cc: cc@example.test",
  "Reply-To: replies@example.test",
  // The client decodes encoded words but not `_` for space: `=20` it is.
  "Subject: =?utf-8?Q?Caf=C3=A9=20report?=",
  "Date: Tue, 01 Jul 2025 10:00:00 +0200",
  "Message-ID: <rich@example.test>",
  "MIME-Version: 1.0",
  'Content-Type: multipart/mixed; boundary="mix"',
  "",
  "--mix",
  "Content-Type: text/plain; charset=utf-8",
  "Content-Transfer-Encoding: quoted-printable",
  "",
  "Gr=C3=BC=C3=9Fe aus dem Test",
  "--mix",
  "Content-Type: text/html; charset=utf-8",
  "Content-Transfer-Encoding: base64",
  "",
  Buffer.from("<p>Grüße <b>HTML</b></p>").toString("base64"),
  "--mix",
  'Content-Type: text/plain; charset=utf-8; name="notes.txt"',
  'Content-Disposition: attachment; filename="notes.txt"',
  "Content-Transfer-Encoding: base64",
  "",
  Buffer.from("attached notes").toString("base64"),
  "--mix--",
].join("\r\n");

const plain = [
  "From: other@example.test",
  "To: someone@example.test",
  "Subject: Plain ASCII subject",
  "Message-ID: <plain@example.test>",
  "Content-Type: text/plain; charset=utf-8",
  "",
  "Just text.",
].join("\r\n");

async function sendBoth() {
  await smtpSend({
    from: "sender@example.test",
    to: ["rcpt@example.test", "cc@example.test", "bcc@example.test"],
    data: rich,
  });
  await smtpSend({ from: "other@example.test", to: ["someone@example.test"], data: plain });
}

// ── npm `mailhog`, called unchanged ──────────────────────────────────────

let richID;
let plainID;

await check("mailhog: deleteAll resolves (empty answer, not `ok`)", async () => {
  await api.deleteAll();
  const result = await api.messages();
  assert.equal(result.total, 0);
  assert.equal(result.count, 0);
});

await sendBoth();

await check("mailhog: messages() with decoded getters", async () => {
  const result = await api.messages();
  assert.equal(result.total, 2);
  assert.equal(result.count, 2);
  assert.equal(result.items[0].subject, "Plain ASCII subject", "newest first");
  const mail = result.items[1];
  richID = mail.ID;
  plainID = result.items[0].ID;
  assert.equal(mail.subject, "Café report");
  assert.equal(mail.from, "Compat Sender <sender@example.test>");
  assert.equal(mail.to, "Rcpt <rcpt@example.test>");
  assert.equal(mail.cc, "cc@example.test");
  assert.equal(mail.replyTo, "replies@example.test");
  assert.equal(mail.date.toISOString(), "2025-07-01T08:00:00.000Z");
  assert.ok(!Number.isNaN(mail.deliveryDate.getTime()), "Created parses");
  assert.equal(mail.text, "Grüße aus dem Test");
  assert.equal(mail.html, "<p>Grüße <b>HTML</b></p>");
  assert.equal(mail.attachments.length, 1);
  assert.equal(mail.attachments[0].name, "notes.txt");
  assert.equal(mail.attachments[0].encoding, "base64");
  assert.equal(api.decode(mail.attachments[0].Body, "base64"), "attached notes");
  assert.equal(result.items[0].text, "Just text.", "a single-part body");
});

await check("mailhog: messages(start, limit)", async () => {
  const page = await api.messages(1, 1);
  assert.equal(page.start, 1);
  assert.equal(page.count, 1);
  assert.equal(page.total, 2);
  assert.equal(page.items[0].ID, richID);
});

await check("mailhog: search and latestFrom/To/Containing", async () => {
  const to = await api.search("rcpt@example.test", "to");
  assert.equal(to.count, 1);
  assert.equal(to.items[0].ID, richID);
  assert.equal((await api.latestFrom("sender@example.test")).ID, richID);
  assert.equal((await api.latestTo("bcc@example.test")).ID, richID, "envelope-only recipient");
  assert.equal((await api.latestTo("someone@example.test")).ID, plainID);
  assert.equal((await api.latestContaining("Just text")).ID, plainID);
  assert.equal(await api.latestContaining("nothing like this anywhere"), 0);
  const all = await api.search("example.test", "from", 0, 1);
  assert.equal(all.total, 2);
  assert.equal(all.count, 1);
});

await check("mailhog: releaseMessage without a relay is refused in JSON", async () => {
  const answer = await api.releaseMessage(richID, { host: "127.0.0.1", port: "1", email: "x@example.test" });
  assert.match(answer.Error, /not configured/);
});

await check("mailhog: deleteMessage", async () => {
  await api.deleteMessage(plainID);
  const result = await api.messages();
  assert.equal(result.total, 1);
  assert.equal(result.items[0].ID, richID);
});

await check("mailhog: deleteAll", async () => {
  await api.deleteAll();
  assert.equal((await api.messages()).count, 0);
});

// ── cypress-mailhog 2.5.0, its requests replayed ─────────────────────────

const mhApiUrl = (path) => new URL(`api${path}`, base + "/").href;

/** What `cy.request` does with these options: fail on non-2xx unless told
 * not to, and hand over JSON bodies parsed. */
async function cyRequest(method, target, { failOnStatusCode = true } = {}) {
  const response = await fetch(target, { method });
  const text = await response.text();
  if (failOnStatusCode && (response.status < 200 || response.status > 299)) {
    throw new Error(`cy.request ${method} ${target}: ${response.status} ${text}`);
  }
  const json = (response.headers.get("content-type") ?? "").includes("json") && text;
  return { status: response.status, body: json ? JSON.parse(text) : text };
}

const parsed = ({ body }) => (typeof body === "string" ? JSON.parse(body) : body);
const getMessages = async (limit) =>
  parsed(await cyRequest("GET", mhApiUrl(`/v2/messages?limit=${encodeURIComponent(limit)}`))).items;
const searchMessages = async (kind, query, limit) =>
  parsed(
    await cyRequest(
      "GET",
      mhApiUrl(`/v2/search?kind=${encodeURIComponent(kind)}&query=${encodeURIComponent(query)}&limit=${encodeURIComponent(limit)}`),
    ),
  ).items;
const recipients = (mail) => mail.To.map((r) => `${r.Mailbox}@${r.Domain}`);
const mhGetJimMode = async () => (await cyRequest("GET", mhApiUrl("/v2/jim"), { failOnStatusCode: false })).status === 200;
const mhSetJimMode = (enabled) =>
  cyRequest(enabled ? "POST" : "DELETE", mhApiUrl("/v2/jim"), { failOnStatusCode: false });
const mhGetAttachments = (mail) => {
  const names = [];
  for (const part of Array.isArray(mail.MIME?.Parts) ? mail.MIME.Parts : []) {
    const disposition = part.Headers?.["Content-Disposition"]?.[0];
    if (!disposition) continue;
    const tokens = disposition.split(";").map((t) => t.trim());
    if (tokens.includes("attachment")) names.push(tokens.find((t) => t.startsWith("filename=")).replace("filename=", ""));
  }
  return names;
};

await check("cypress-mailhog: mhDeleteAll, then mhGetAllMails", async () => {
  await sendBoth();
  await cyRequest("DELETE", mhApiUrl("/v1/messages"));
  assert.deepEqual(await getMessages(50), []);
  await sendBoth();
  assert.equal((await getMessages(50)).length, 2);
  assert.equal((await getMessages(1)).length, 1);
});

await check("cypress-mailhog: mhGetMailsBySubject / ByRecipient / BySender", async () => {
  const mails = await getMessages(50);
  const bySubject = mails.filter((mail) => mail.Content.Headers.Subject[0] === "Plain ASCII subject");
  assert.equal(bySubject.length, 1);
  const byRecipient = mails.filter((mail) => recipients(mail).includes("bcc@example.test"));
  assert.equal(byRecipient.length, 1);
  const bySender = mails.filter((mail) => mail.Raw.From === "other@example.test");
  assert.equal(bySender.length, 1);
  assert.equal(bySender[0].ID, bySubject[0].ID);
});

await check("cypress-mailhog: mhSearchMails and the single-mail commands", async () => {
  const [mail] = await searchMessages("from", "sender@example.test", 50);
  assert.ok(mail, "found by from");
  assert.equal(mail.Content.Headers.Subject[0], "=?utf-8?Q?Caf=C3=A9=20report?=", "mhGetSubject: raw, as MailHog");
  assert.match(mail.Content.Body, /Gr=C3=BC=C3=9Fe/, "mhGetBody: still encoded, as MailHog");
  assert.equal(mail.Raw.From, "sender@example.test", "mhGetSender");
  assert.deepEqual(recipients(mail), ["rcpt@example.test", "cc@example.test", "bcc@example.test"]);
  assert.deepEqual(mhGetAttachments(mail), ['"notes.txt"']);
  assert.equal((await searchMessages("to", "someone@example.test", 50)).length, 1);
  assert.equal((await searchMessages("containing", "Just text", 50)).length, 1);
  assert.equal((await searchMessages("containing", "nothing like this anywhere", 50)).length, 0);
});

await check("cypress-mailhog: mhGetJimMode / mhSetJimMode", async () => {
  try {
    assert.equal(await mhGetJimMode(), false);
    assert.equal((await mhSetJimMode(true)).status, 201);
    assert.equal(await mhGetJimMode(), true);
    assert.equal((await mhSetJimMode(true)).status, 400, "already on");
  } finally {
    await mhSetJimMode(false);
  }
  assert.equal(await mhGetJimMode(), false);
});

// ── MailHog's WebSocket feed ─────────────────────────────────────────────

await check("websocket /api/v2/websocket pushes each new message", async () => {
  const socket = new WebSocket(base.replace(/^http/, "ws") + "/api/v2/websocket");
  try {
    await new Promise((resolve, reject) => {
      socket.once("open", resolve);
      socket.once("error", reject);
    });
    const frame = new Promise((resolve, reject) => {
      socket.once("message", (data) => resolve(JSON.parse(data.toString())));
      setTimeout(() => reject(new Error("no frame within 3 s")), 3000);
    });
    await smtpSend({ from: "ws@example.test", to: ["someone@example.test"], data: plain });
    const message = await frame;
    assert.equal(message.Raw.From, "ws@example.test");
    assert.equal(message.Content.Headers.Subject[0], "Plain ASCII subject");
  } finally {
    socket.close();
  }
});

await cyRequest("DELETE", mhApiUrl("/v1/messages"));
console.log(`compat-mailhog: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
