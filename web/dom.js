// Building DOM without innerHTML: every string becomes a text node or an
// attribute value, so nothing taken from an email can turn into markup.

const ICONS = new URL("./icons.svg", import.meta.url).pathname;
const SVG_NS = "http://www.w3.org/2000/svg";

/**
 * h("a", {class: "row", href, onclick}, "text", childNode, [more, children])
 * Keys starting with "on" add listeners; `dataset` fills data-*; `text` sets
 * textContent; `false`/`null`/`undefined` values are left out.
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === false || value === null || value === undefined) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === "class") {
      el.className = value;
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else if (key === "text") {
      el.textContent = value;
    } else if (key in PROPERTIES) {
      el[key] = value;
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

// Set as properties rather than attributes (their live state matters).
const PROPERTIES = { checked: 1, value: 1, disabled: 1, hidden: 1, indeterminate: 1 };

export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** An icon from the sprite, hidden from assistive technology. */
export function icon(name, className = "icon") {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("class", className);
  svg.setAttribute("aria-hidden", "true");
  const use = document.createElementNS(SVG_NS, "use");
  use.setAttribute("href", `${ICONS}#${name}`);
  svg.append(use);
  return svg;
}

/** Points an existing <svg><use> at another icon. */
export function setIcon(svg, name) {
  svg.querySelector("use")?.setAttribute("href", `${ICONS}#${name}`);
}

export const $ = (selector, root = document) => root.querySelector(selector);

/** A panel that shows "Loading…" until `load()` resolves to its content. */
export function asyncPanel(className, load) {
  const panel = h("div", { class: className, "aria-busy": "true" }, h("p", { class: "muted pad" }, "Loading…"));
  load().then(
    (content) => panel.replaceChildren(content),
    (error) => panel.replaceChildren(note("error", `Could not load: ${error.message}`)),
  ).finally(() => panel.removeAttribute("aria-busy"));
  return panel;
}

/** A callout: kind is "info", "warning" or "error". */
export function note(kind, ...children) {
  return h("div", { class: `note note-${kind}`, role: kind === "error" ? "alert" : null },
    icon(kind === "info" ? "mail" : "alert"), h("div", { class: "note-body" }, ...children));
}
