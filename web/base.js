// Where the app is served: at the server's root or under a --webroot such as
// /mail/, and there at the root or inside a mailbox at /mailbox/NAME/, where
// every API call, link and the live feed stay scoped to that mailbox. Every
// absolute path the app builds starts with `root`.
//
// The server puts both prefixes into the asset URLs of index.html
// (`PREFIX/ui/VERSION/…`), so this module's own URL tells the prefix; the page
// path alone could not tell a webroot from an app route.

const modulePath = new URL(import.meta.url).pathname;
const assets = modulePath.search(/\/ui\/[^/]+\/base\.js$/);

/** The path prefix: "" at the root, else e.g. "/mail" or "/mail/mailbox/NAME". */
export const root = assets > 0 ? modulePath.slice(0, assets) : "";

const match = root.match(/\/mailbox\/([^/]+)$/);

/** The mailbox this page belongs to, or null at the root. */
export const mailbox = match ? decodeURIComponent(match[1]) : null;

/** The webroot alone: "" or e.g. "/mail" (the prefix without the mailbox). */
export const webroot = match ? root.slice(0, match.index) : root;

/** `path` (starting with "/") under the root. */
export const at = (path) => root + path;

/** The page path without the root, as the router reads it. */
export const localPath = () => location.pathname.slice(root.length) || "/";
