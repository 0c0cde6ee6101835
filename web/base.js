// Where the app is served: at the server's root, or inside a mailbox at
// /mailbox/NAME/, where every API call, link and the live feed stay scoped
// to that mailbox. Every absolute path the app builds starts with `root`.

const match = location.pathname.match(/^\/mailbox\/([^/]+)(?=\/)/);

/** The mailbox this page belongs to, or null at the root. */
export const mailbox = match ? decodeURIComponent(match[1]) : null;

/** The path prefix: "" at the root, "/mailbox/NAME" inside a mailbox. */
export const root = match ? match[0] : "";

/** `path` (starting with "/") under the root. */
export const at = (path) => root + path;

/** The page path without the root, as the router reads it. */
export const localPath = () => location.pathname.slice(root.length) || "/";
