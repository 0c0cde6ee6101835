// Attachments and inline parts: name, type, size, download, and a preview
// for images (an <img> cannot run script, even for SVG).

import { h, icon, note } from "./dom.js";
import { urls } from "./api.js";
import { formatSize } from "./format.js";

export function renderAttachments({ message }) {
  const attachments = message.Attachments ?? [];
  const inline = message.Inline ?? [];
  if (!attachments.length && !inline.length) return note("info", "This message has no attachments.");
  return h("div", { class: "attachments" },
    attachments.length > 0 && section("Attachments", attachments, message.ID),
    inline.length > 0 && section("Inline parts", inline, message.ID),
  );
}

function section(title, parts, id) {
  return h("section", { class: "attachment-section" },
    h("h3", { class: "section-title" }, `${title} (${parts.length})`),
    h("ul", { class: "attachment-grid" }, parts.map((part) => card(part, id))),
  );
}

function card(part, id) {
  const url = urls.part(id, part.PartID);
  const name = part.FileName || part.ContentID || `part ${part.PartID}`;
  const isImage = /^image\//i.test(part.ContentType ?? "");
  // Raster images as the server's 180×120 JPEG thumbnail (small, and never
  // a huge decode in the browser); SVG as itself, which the server does not
  // rasterise.
  const isSvg = /svg/i.test(part.ContentType ?? "");
  const preview = isImage
    ? h("img", { class: "attachment-image", src: isSvg ? url : urls.thumb(id, part.PartID), alt: `Preview of ${name}`, loading: "lazy" })
    : h("div", { class: "attachment-icon" }, icon("file"));
  return h("li", { class: "attachment-card" },
    h("a", { class: "attachment-preview", href: url, target: "_blank", rel: "noopener noreferrer", "aria-label": `Open ${name}` }, preview),
    h("div", { class: "attachment-meta" },
      h("div", { class: "attachment-name", title: name }, name),
      h("div", { class: "muted small" }, `${part.ContentType || "application/octet-stream"} · ${formatSize(part.Size)}`),
      part.ContentID && h("div", { class: "muted small mono", title: "Content-ID" }, `cid:${part.ContentID}`),
    ),
    h("a", { class: "icon-button", href: url, download: name, "aria-label": `Download ${name}`, title: "Download" }, icon("download")),
  );
}
