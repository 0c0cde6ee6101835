// The client-side model of the list being shown: the mailbox or a search,
// newest first, kept current by live events. Views listen for "change".
//
// Everything matching is loaded (a first small page for a fast first paint,
// then large chunks), because the list view renders only visible rows anyway
// and ten thousand summaries are a few megabytes. Having all rows makes live
// inserts, deletes and keyboard navigation exact, with no paging edge cases.

import { api } from "./api.js";

const FIRST_PAGE = 100;
const CHUNK = 2000;
const SEARCH_REFRESH_MS = 300;

export class Mailbox extends EventTarget {
  /** @type {object[]} MessageSummary objects, newest first */
  rows = [];
  byId = new Map();
  /** Checked (multi-selected) message IDs. */
  checked = new Set();
  query = "";
  /** Whole-mailbox counts, for the title. */
  total = 0;
  unread = 0;
  /** How many match the current search (equals total without one). */
  matched = 0;
  loading = false;
  loadedOnce = false;

  #generation = 0;
  #changedWhileLoading = false;
  #refreshTimer = null;

  /** (Re)loads the rows for `query` ("" for the whole mailbox). */
  async load(query = this.query) {
    const generation = ++this.#generation;
    const fetchPage = (start, limit) =>
      query ? api.search(query, start, limit) : api.messages(start, limit);
    this.query = query;
    this.loading = true;
    this.#changedWhileLoading = false;
    this.#emit({ loading: true });
    try {
      const first = await fetchPage(0, FIRST_PAGE);
      if (generation !== this.#generation) return;
      this.#replaceRows(first.messages ?? []);
      this.#takeCounts(first);
      this.#emit({ reset: true });
      // Later pages may overlap the earlier ones if mail arrives meanwhile
      // (it shifts offsets down); duplicates are skipped by ID.
      let start = this.rows.length;
      while (start < this.matched) {
        const page = await fetchPage(start, CHUNK);
        if (generation !== this.#generation) return;
        const messages = page.messages ?? [];
        if (!messages.length) break;
        for (const summary of messages) this.#append(summary);
        start += messages.length;
        this.#takeCounts(page);
        this.#emit({});
      }
    } finally {
      if (generation === this.#generation) {
        this.loading = false;
        this.loadedOnce = true;
        this.#emit({ loading: false });
      }
    }
    // A deletion during the load may have shifted a page past a message.
    if (generation === this.#generation && this.#changedWhileLoading) return this.load(query);
  }

  indexOf(id) {
    return id ? this.rows.findIndex((row) => row.ID === id) : -1;
  }

  get(id) {
    return this.byId.get(id);
  }

  // ---- live events ------------------------------------------------------

  /** Applies one WebSocket frame. Returns true if it was a new message. */
  apply(type, data) {
    switch (type) {
      case "new":
        return this.#onNew(data);
      case "update":
        this.#onUpdate(data);
        break;
      case "delete":
        this.#remove(data?.ID);
        break;
      case "prune":
        this.load();
        break;
      case "truncate":
        this.#replaceRows([]);
        this.total = this.unread = this.matched = 0;
        this.checked.clear();
        this.#emit({ reset: true });
        break;
      case "stats":
        if (data && Number.isFinite(data.Total)) {
          this.total = data.Total;
          this.unread = data.Unread;
          if (!this.query) this.matched = this.total;
          this.#emit({ counts: true });
        }
        break;
    }
    return false;
  }

  #onNew(summary) {
    if (!summary?.ID || this.byId.has(summary.ID)) return false;
    this.total += 1;
    if (!summary.Read) this.unread += 1;
    if (this.query) {
      // Only the server can evaluate the query; ask again, debounced so a
      // burst of mail costs one search.
      clearTimeout(this.#refreshTimer);
      this.#refreshTimer = setTimeout(() => this.load(), SEARCH_REFRESH_MS);
    } else {
      this.rows.unshift(summary);
      this.byId.set(summary.ID, summary);
      this.matched += 1;
    }
    this.#emit({ added: summary.ID });
    return true;
  }

  #onUpdate(data) {
    const row = this.byId.get(data?.ID);
    if (!row) return;
    if (typeof data.Read === "boolean" && data.Read !== row.Read) {
      row.Read = data.Read;
      this.unread = Math.max(0, this.unread + (data.Read ? -1 : 1));
    }
    if (Array.isArray(data.Tags)) row.Tags = data.Tags;
    this.#emit({ updated: row.ID });
  }

  #remove(id) {
    if (this.loading) this.#changedWhileLoading = true;
    const row = this.byId.get(id);
    if (!row) return;
    this.rows.splice(this.rows.indexOf(row), 1);
    this.byId.delete(id);
    this.checked.delete(id);
    this.total = Math.max(0, this.total - 1);
    this.matched = Math.max(0, this.matched - 1);
    if (!row.Read) this.unread = Math.max(0, this.unread - 1);
    this.#emit({ removed: id });
  }

  // ---- local changes (the server confirms them with events) -------------

  /** Marks messages read or unread locally at once, ahead of the events. */
  setReadLocally(ids, read) {
    for (const id of ids) this.#onUpdate({ ID: id, Read: read });
  }

  removeLocally(ids) {
    for (const id of ids) this.#remove(id);
  }

  toggleChecked(id, on = !this.checked.has(id)) {
    if (on) this.checked.add(id);
    else this.checked.delete(id);
    this.#emit({ checked: true });
  }

  setAllChecked(on) {
    this.checked = on ? new Set(this.rows.map((row) => row.ID)) : new Set();
    this.#emit({ checked: true });
  }

  // ---- internals ---------------------------------------------------------

  #replaceRows(messages) {
    this.rows = [];
    this.byId = new Map();
    for (const summary of messages) this.#append(summary);
    // Keep checks only for messages still listed.
    this.checked = new Set([...this.checked].filter((id) => this.byId.has(id)));
  }

  #append(summary) {
    if (this.byId.has(summary.ID)) return;
    this.rows.push(summary);
    this.byId.set(summary.ID, summary);
  }

  #takeCounts(page) {
    this.total = page.total ?? this.total;
    this.unread = page.unread ?? this.unread;
    this.matched = page.messages_count ?? page.total ?? this.rows.length;
  }

  #emit(detail) {
    this.dispatchEvent(new CustomEvent("change", { detail }));
  }
}
