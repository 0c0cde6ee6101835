// The HTTP API: Mailpit's /api/v1 plus mailcatch's /api/mailcatch/v1 for what
// Mailpit does not expose (envelope, ordered headers). Same origin only.

export class ApiError extends Error {
  constructor(status, message) {
    super(message || `HTTP ${status}`);
    this.status = status;
  }
}

import { at } from "./base.js";

const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

async function request(method, path, { body, as = "json" } = {}) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  const response = await fetch(at(path), init);
  if (!response.ok) {
    const text = await response.text().catch(() => "");
    throw new ApiError(response.status, text.trim() || response.statusText);
  }
  if (as === "json") return response.json();
  return response.text();
}

const enc = encodeURIComponent;

export const api = {
  /** A page of the mailbox, newest first. */
  messages: (start, limit) => request("GET", `/api/v1/messages?start=${start}&limit=${limit}`),

  /** A page of search results, newest first; dates are read in our time zone. */
  search: (query, start, limit) =>
    request("GET", `/api/v1/search?query=${enc(query)}&start=${start}&limit=${limit}&tz=${enc(timeZone)}`),

  /** The full message. Note: the API marks it read as a side effect. */
  message: (id) => request("GET", `/api/v1/message/${enc(id)}`),
  headers: (id) => request("GET", `/api/mailcatch/v1/message/${enc(id)}/headers`),
  envelope: (id) => request("GET", `/api/mailcatch/v1/message/${enc(id)}/envelope`),
  raw: (id) => request("GET", `/api/v1/message/${enc(id)}/raw`, { as: "text" }),
  htmlCheck: (id) => request("GET", `/api/v1/message/${enc(id)}/html-check`),
  linkCheck: (id, follow) => request("GET", `/api/v1/message/${enc(id)}/link-check${follow ? "?follow=true" : ""}`),
  spamCheck: (id) => request("GET", `/api/v1/message/${enc(id)}/sa-check`),

  setRead: (ids, read) => request("PUT", "/api/v1/messages", { body: { IDs: ids, Read: read }, as: "text" }),
  markAllRead: () => request("PUT", "/api/v1/messages", { body: { Read: true }, as: "text" }),
  // Careful: an empty IDs list means "delete everything" to this API.
  delete: (ids) =>
    ids.length ? request("DELETE", "/api/v1/messages", { body: { IDs: ids }, as: "text" }) : Promise.resolve("ok"),
  deleteAll: () => request("DELETE", "/api/v1/messages", { as: "text" }),

  webui: () => request("GET", "/api/v1/webui"),

  /** Queues the message for the relay; progress is in deliveries(). */
  release: (id, to) => request("POST", `/api/v1/message/${enc(id)}/release`, { body: { To: to }, as: "text" }),
  deliveries: (messageId) => request("GET", `/api/mailcatch/v1/deliveries?message=${enc(messageId)}`),
  retryDelivery: (id) => request("POST", `/api/mailcatch/v1/deliveries/${enc(id)}/retry`, { as: "text" }),
  cancelDelivery: (id) => request("DELETE", `/api/mailcatch/v1/deliveries/${enc(id)}`, { as: "text" }),

  /** Every mailbox this user may see, with its totals (always at the server's root). */
  mailboxes: () => request("GET", "/api/mailcatch/v1/mailboxes"),
  createMailbox: (body) => request("POST", "/api/mailcatch/v1/mailboxes", { body }),
  deleteMailbox: (name) => request("DELETE", `/api/mailcatch/v1/mailboxes/${enc(name)}`, { as: "text" }),
};

/** URLs the browser loads directly (frames, images, downloads). */
export const urls = {
  htmlView: (id) => at(`/view/${enc(id)}.html?embed=1`),
  rawDownload: (id) => at(`/api/v1/message/${enc(id)}/raw?dl=1`),
  part: (id, partId) => at(`/api/v1/message/${enc(id)}/part/${enc(partId)}`),
  thumb: (id, partId) => at(`/api/v1/message/${enc(id)}/part/${enc(partId)}/thumb`),
};
