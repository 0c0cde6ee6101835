// Routes live in the URL so that every view can be linked, bookmarked and
// reached with back/forward (all under /mailbox/NAME inside a mailbox):
//   /                      the mailbox
//   /search?q=QUERY        search results
//   /view/ID[?q=QUERY]     a message (with the list it was opened from)
//   …#TAB                  the message tab, e.g. #headers

import { at, localPath } from "./base.js";

const listeners = new Set();

export function currentRoute() {
  const params = new URLSearchParams(location.search);
  const query = params.get("q") ?? "";
  const path = localPath();
  const view = path.match(/^\/view\/([A-Za-z0-9]+)\/?$/);
  if (view) return { id: view[1], query, tab: location.hash.slice(1) };
  return { id: null, query: path === "/search" ? query : "", tab: "" };
}

export function routeUrl({ id = null, query = "", tab = "" }) {
  const q = query ? `?q=${encodeURIComponent(query)}` : "";
  if (id) return at(`/view/${encodeURIComponent(id)}${q}${tab ? `#${tab}` : ""}`);
  return at(query ? `/search${q}` : "/");
}

/** Goes to a route; `replace` rewrites the current history entry instead. */
export function navigate(route, { replace = false } = {}) {
  const url = routeUrl(route);
  if (url === location.pathname + location.search + location.hash) return;
  history[replace ? "replaceState" : "pushState"](null, "", url);
  notify();
}

export function onRouteChange(listener) {
  listeners.add(listener);
}

function notify() {
  const route = currentRoute();
  for (const listener of listeners) listener(route);
}

window.addEventListener("popstate", notify);
