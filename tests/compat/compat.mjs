// Drives the npm `mailpit-api` client (and a plain `ws` WebSocket, the
// transport `mailpit-ws` uses) against a live mailcatch, checking that what
// real Mailpit clients do works unchanged. Prints one line per check and a
// closing `compat: N passed, M failed`; exits non-zero on any failure.
//
// Environment: MAILCATCH_URL (e.g. http://127.0.0.1:8025).

import assert from "node:assert/strict";
import { MailpitClient } from "mailpit-api";
import WebSocket from "ws";

const base = process.env.MAILCATCH_URL;
if (!base) {
  console.error("MAILCATCH_URL is not set");
  process.exit(2);
}
const mailpit = new MailpitClient(base);
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

function send(subject, extra = {}) {
  return mailpit.sendMessage({
    From: { Email: "compat@example.test", Name: "Compat Test" },
    To: [{ Email: "to@example.test", Name: "Recipient" }],
    Subject: subject,
    Text: `text of ${subject}`,
    HTML: `<p>html of <b>${subject}</b></p>`,
    ...extra,
  });
}

/** Collects WebSocket frames until `until(frames)` holds or time runs out. */
function openFeed() {
  const url = base.replace(/^http/, "ws") + "/api/events";
  const socket = new WebSocket(url);
  const frames = [];
  socket.on("message", (data) => frames.push(JSON.parse(data.toString())));
  const opened = new Promise((resolve, reject) => {
    socket.once("open", resolve);
    socket.once("error", reject);
  });
  async function waitFor(predicate, what, timeoutMs = 3000) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = frames.find(predicate);
      if (found) return found;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no ${what} frame within ${timeoutMs} ms; got ${JSON.stringify(frames.map((f) => f.Type))}`);
  }
  return { socket, frames, opened, waitFor };
}

const feed = openFeed();
let sentID;

await check("info and web UI configuration", async () => {
  const info = await mailpit.getInfo();
  assert.match(info.Version, /^v/);
  assert.equal(typeof info.Messages, "number");
  assert.equal(typeof info.RuntimeStats.Uptime, "number");
  const config = await mailpit.getConfiguration();
  assert.equal(typeof config.ChaosEnabled, "boolean");
  assert.equal(config.MessageRelay.Enabled, false);
});

await check("delete all (no body) empties the mailbox", async () => {
  await send("to be deleted");
  assert.equal(await mailpit.deleteMessages(), "ok");
  const list = await mailpit.listMessages();
  assert.equal(list.total, 0);
  assert.deepEqual(list.messages, []);
});

await check("websocket connects and sends stats", async () => {
  await feed.opened;
  const stats = await feed.waitFor((f) => f.Type === "stats", "stats");
  assert.equal(typeof stats.Data.Total, "number");
  assert.match(stats.Data.Version, /^v/);
});

await check("send with tags, attachment and inline image", async () => {
  const result = await send("Compat first", {
    Tags: ["Compat"],
    Headers: { "X-Compat": "yes" },
    Attachments: [
      { Content: Buffer.from("attachment body").toString("base64"), Filename: "file.txt" },
    ],
  });
  assert.equal(typeof result.ID, "string");
  assert.equal(result.ID.length, 22);
  sentID = result.ID;
  const frame = await feed.waitFor((f) => f.Type === "new" && f.Data.ID === sentID, "new");
  assert.equal(frame.Data.Subject, "Compat first");
  assert.deepEqual(frame.Data.Tags, ["Compat"]);
});

await check("list messages", async () => {
  await send("Compat second");
  const list = await mailpit.listMessages(0, 10);
  assert.equal(list.total, 2);
  assert.equal(list.messages_count, 2);
  assert.equal(list.messages[0].Subject, "Compat second", "newest first");
  assert.equal(list.messages[1].ID, sentID);
  assert.ok(Array.isArray(list.messages[0].To));
  assert.ok(!Number.isNaN(Date.parse(list.messages[0].Created)));
});

await check("get message by ID and latest", async () => {
  const message = await mailpit.getMessageSummary(sentID);
  assert.equal(message.Subject, "Compat first");
  assert.equal(message.From.Address, "compat@example.test");
  assert.equal(message.Text.trim(), "text of Compat first");
  assert.match(message.HTML, /<b>Compat first<\/b>/);
  assert.equal(message.Attachments.length, 1);
  const latest = await mailpit.getMessageSummary();
  assert.equal(latest.Subject, "Compat second");
  await feed.waitFor((f) => f.Type === "update" && f.Data.ID === sentID && f.Data.Read === true, "update");
});

await check("search and waitForMessage", async () => {
  const result = await mailpit.searchMessages({ query: "subject:first", start: 0, limit: 10, tz: "UTC" });
  assert.equal(result.messages_count, 1);
  assert.equal(result.messages[0].ID, sentID);
  const waited = await mailpit.waitForMessage({ query: "subject:second" }, { timeout: 2000, interval: 50 });
  assert.equal(waited.Subject, "Compat second");
  const counted = await mailpit.waitForMessages({ count: 2 }, { timeout: 2000, interval: 50 });
  assert.equal(counted.messages_count, 2);
});

await check("headers", async () => {
  const headers = await mailpit.getMessageHeaders(sentID);
  assert.deepEqual(headers["X-Compat"], ["yes"]);
  assert.ok(headers["Message-Id"], "canonical Message-Id key");
  assert.deepEqual(Object.keys(headers), [...Object.keys(headers)].sort());
});

await check("raw source", async () => {
  const raw = await mailpit.getMessageSource(sentID);
  assert.match(raw, /Subject: Compat first/);
});

await check("attachment part", async () => {
  const message = await mailpit.getMessageSummary(sentID);
  const blob = await mailpit.getMessageAttachment(sentID, message.Attachments[0].PartID);
  assert.equal(await blob.text(), "attachment body");
  assert.match(blob.type, /^text\/plain/);
});

await check("rendered HTML and text views", async () => {
  const html = await mailpit.renderMessageHTML(sentID);
  assert.match(html, /<b>Compat first<\/b>/);
  const text = await mailpit.renderMessageText();
  assert.equal(text.trim(), "text of Compat second");
});

await check("tags: get, set, rename, delete", async () => {
  assert.deepEqual(await mailpit.getTags(), ["Compat"]);
  assert.equal(await mailpit.setTags({ IDs: [sentID], Tags: ["One", "Two"] }), "ok");
  await feed.waitFor((f) => f.Type === "update" && Array.isArray(f.Data.Tags), "update with Tags");
  assert.deepEqual(await mailpit.getTags(), ["One", "Two"]);
  assert.equal(await mailpit.renameTag("One", "Uno"), "ok");
  assert.equal(await mailpit.deleteTag("Two"), "ok");
  assert.deepEqual(await mailpit.getTags(), ["Uno"]);
  await feed.waitFor((f) => f.Type === "prune", "prune");
  const message = await mailpit.getMessageSummary(sentID);
  assert.deepEqual(message.Tags, ["Uno"]);
});

await check("read status: by IDs, all unread, by search", async () => {
  assert.equal(await mailpit.setReadStatus({ IDs: [sentID], Read: true }), "ok");
  assert.equal(await mailpit.setReadStatus(), "ok");
  let list = await mailpit.listMessages();
  assert.equal(list.unread, 2, "setReadStatus() marks all unread");
  assert.equal(await mailpit.setReadStatus({ Search: "subject:second", Read: true }, { tz: "UTC" }), "ok");
  list = await mailpit.listMessages();
  assert.equal(list.unread, 1);
});

await check("chaos triggers", async () => {
  const info = await mailpit.getConfiguration();
  if (!info.ChaosEnabled) throw new Error("start mailcatch with --enable-chaos");
  const set = await mailpit.setChaosTriggers({ Sender: { ErrorCode: 451, Probability: 5 } });
  assert.equal(set.Sender.Probability, 5);
  const reset = await mailpit.setChaosTriggers();
  assert.equal(reset.Sender.Probability, 0);
  assert.equal((await mailpit.getChaosTriggers()).Authentication.ErrorCode, 535);
});

await check("link check (internal addresses refused)", async () => {
  const { ID: id } = await send("Compat links", { HTML: '<p><a href="http://127.0.0.1:9/private">internal</a></p>' });
  const report = await mailpit.linkCheck(id);
  assert.equal(report.Errors, 1);
  assert.deepEqual(report.Links, [
    { URL: "http://127.0.0.1:9/private", StatusCode: 451, Status: "Blocked private/reserved address" },
  ]);
  const followed = await mailpit.linkCheck("latest", true);
  assert.equal(followed.Links[0].StatusCode, 451);
  assert.equal(await mailpit.deleteMessages({ IDs: [id] }), "ok");
});

await check("SpamAssassin check (when enabled)", async () => {
  const config = await mailpit.getConfiguration();
  if (!config.SpamAssassin) {
    await assert.rejects(mailpit.spamAssassinCheck(), /404/);
    if (process.env.MAILCATCH_REQUIRE_CLIENTS === "1") throw new Error("set MAILCATCH_SPAMD in CI");
    return;
  }
  const result = await mailpit.spamAssassinCheck();
  assert.equal(result.Error, "");
  assert.equal(typeof result.IsSpam, "boolean");
  assert.equal(typeof result.Score, "number");
  assert.ok(Array.isArray(result.Rules));
});

await check("delete by IDs", async () => {
  assert.equal(await mailpit.deleteMessages({ IDs: [sentID] }), "ok");
  await feed.waitFor((f) => f.Type === "delete" && f.Data.ID === sentID, "delete");
  const list = await mailpit.listMessages();
  assert.equal(list.total, 1);
});

await check("delete by search, then delete all", async () => {
  await send("Compat third");
  assert.equal(await mailpit.deleteMessagesBySearch({ query: "subject:third" }), "ok");
  assert.equal((await mailpit.listMessages()).total, 1);
  assert.equal(await mailpit.deleteMessages(), "ok");
  await feed.waitFor((f) => f.Type === "truncate", "truncate");
  assert.equal((await mailpit.listMessages()).total, 0);
});

/** The width and height in a JPEG's start-of-frame segment. */
function jpegSize(bytes) {
  for (let at = 2; at + 9 < bytes.length; ) {
    if (bytes[at] !== 0xff) return null;
    const marker = bytes[at + 1];
    if (marker >= 0xc0 && marker <= 0xc3) {
      return [(bytes[at + 7] << 8) | bytes[at + 8], (bytes[at + 5] << 8) | bytes[at + 6]];
    }
    at += 2 + ((bytes[at + 2] << 8) | bytes[at + 3]);
  }
  return null;
}

await check("HTML check and attachment thumbnail", async () => {
  // A 16x16 PNG.
  const png = "iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAYAAAAf8/9hAAAAKElEQVR42mNk+M9Qz0AEYBxVSF+FjP8Z/hOlkHFUIX0VMo4qpK9CAKqCEhGq3lRyAAAAAElFTkSuQmCC";
  const { ID } = await send("Compat styled", {
    HTML: "<html><head><style>.row{display:flex}</style></head><body><div class=row style=\"background-image:url(a.png)\">x</div></body></html>",
    Attachments: [{ Content: png, Filename: "dot.png", ContentType: "image/png" }],
  });
  const result = await mailpit.htmlCheck(ID);
  const slugs = result.Warnings.map((w) => w.Slug);
  for (const slug of ["css-display-flex", "css-background-image", "html-style"]) {
    assert.ok(slugs.includes(slug), `${slug} in ${slugs}`);
  }
  assert.ok(result.Total.Supported < 100 && result.Total.Nodes > 0, JSON.stringify(result.Total));
  assert.ok(result.Platforms.ios.includes("Apple Mail"));
  const flex = result.Warnings.find((w) => w.Slug === "css-display-flex");
  assert.ok(flex.Results.every((r) => ["yes", "no", "partial"].includes(r.Support)));
  const message = await mailpit.getMessageSummary(ID);
  const blob = await mailpit.getAttachmentThumbnail(ID, message.Attachments[0].PartID);
  assert.equal(blob.type, "image/jpeg");
  assert.deepEqual(jpegSize(new Uint8Array(await blob.arrayBuffer())), [180, 120]);
  await assert.rejects(mailpit.htmlCheck("AAAAAAAAAAAAAAAAAAAAAA"), /404/);
  assert.equal(await mailpit.deleteMessages({ IDs: [ID] }), "ok");
});

await check("release without a relay is refused as Mailpit does", async () => {
  const { ID } = await send("Compat release");
  await assert.rejects(mailpit.releaseMessage(ID, { To: ["x@example.test"] }), /400/);
  assert.equal(await mailpit.deleteMessages({ IDs: [ID] }), "ok");
});

await check("errors surface as client errors", async () => {
  await assert.rejects(mailpit.getMessageSummary("AAAAAAAAAAAAAAAAAAAAAA"), /404/);
  await assert.rejects(mailpit.getMessageSummary(), /404/);
  await assert.rejects(mailpit.sendMessage({ From: { Email: "a@example.test" }, Subject: "x" }), /400/);
});

feed.socket.close();
console.log(`compat: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
