// A small HTML (and embedded CSS) highlighter that returns a DocumentFragment
// of spans and text nodes. Hand-written rather than vendored so that email
// content is never passed through an HTML string on its way to the page.

const TAG = /<\/?[A-Za-z][^\s/>]*|<!--|<!/y;

/** Highlights HTML source; returns a DocumentFragment. */
export function highlightHtml(source) {
  const out = document.createDocumentFragment();
  const span = (cls, text) => {
    const el = document.createElement("span");
    el.className = cls;
    el.textContent = text;
    out.append(el);
  };
  let i = 0;
  let text = "";
  const flush = () => {
    if (text) {
      appendText(out, text);
      text = "";
    }
  };
  while (i < source.length) {
    if (source[i] !== "<") {
      text += source[i++];
      continue;
    }
    TAG.lastIndex = i;
    const open = TAG.exec(source);
    if (!open) {
      text += source[i++];
      continue;
    }
    flush();
    if (open[0] === "<!--") {
      const end = source.indexOf("-->", i + 4);
      const stop = end < 0 ? source.length : end + 3;
      span("tok-comment", source.slice(i, stop));
      i = stop;
      continue;
    }
    if (open[0] === "<!") {
      const end = source.indexOf(">", i);
      const stop = end < 0 ? source.length : end + 1;
      span("tok-doctype", source.slice(i, stop));
      i = stop;
      continue;
    }
    // A start or end tag: name, then attributes up to ">".
    const name = open[0].replace(/^<\/?/, "").toLowerCase();
    span("tok-punct", open[0].startsWith("</") ? "</" : "<");
    span("tok-tag", open[0].replace(/^<\/?/, ""));
    i += open[0].length;
    i = attributes(source, i, span, out);
    // The content of <style> is CSS; of <script>, plain text.
    if (!open[0].startsWith("</") && (name === "style" || name === "script")) {
      const close = source.toLowerCase().indexOf(`</${name}`, i);
      const stop = close < 0 ? source.length : close;
      const body = source.slice(i, stop);
      if (name === "style") highlightCss(body, out);
      else appendText(out, body);
      i = stop;
    }
  }
  flush();
  return out;
}

/** Attributes from `i` to the end of the tag; returns the index after ">". */
function attributes(source, i, span, out) {
  let pending = "";
  while (i < source.length) {
    const c = source[i];
    if (c === ">") {
      if (pending) appendText(out, pending);
      span("tok-punct", ">");
      return i + 1;
    }
    if (c === "/" && source[i + 1] === ">") {
      if (pending) appendText(out, pending);
      span("tok-punct", "/>");
      return i + 2;
    }
    if (/\s/.test(c)) {
      pending += c;
      i++;
      continue;
    }
    if (pending) {
      appendText(out, pending);
      pending = "";
    }
    const nameMatch = /[^\s=/>]+/y;
    nameMatch.lastIndex = i;
    const name = nameMatch.exec(source);
    if (!name) {
      appendText(out, c);
      i++;
      continue;
    }
    span("tok-attr", name[0]);
    i += name[0].length;
    if (source[i] === "=") {
      span("tok-punct", "=");
      i++;
      const quote = source[i];
      let stop;
      if (quote === '"' || quote === "'") {
        const end = source.indexOf(quote, i + 1);
        stop = end < 0 ? source.length : end + 1;
      } else {
        const unquoted = /[^\s>]*/y;
        unquoted.lastIndex = i;
        stop = i + unquoted.exec(source)[0].length;
      }
      span("tok-value", source.slice(i, stop));
      i = stop;
    }
  }
  if (pending) appendText(out, pending);
  return i;
}

/** Minimal CSS: comments, at-rules, selectors, property names and values. */
function highlightCss(css, out) {
  const add = (cls, text) => {
    const el = document.createElement("span");
    el.className = cls;
    el.textContent = text;
    out.append(el);
  };
  const TOKENS = /(\/\*[\s\S]*?(?:\*\/|$))|(@[\w-]+)|([{}])|([\w-]+)(\s*:)(?=[^{};]*(?:;|}|$))|([^{}@/\w-]+|[\w-]+|[\s\S])/gy;
  let depth = 0;
  for (const m of css.matchAll(TOKENS)) {
    if (m[1]) add("tok-comment", m[1]);
    else if (m[2]) add("tok-keyword", m[2]);
    else if (m[3]) {
      depth += m[3] === "{" ? 1 : -1;
      add("tok-punct", m[3]);
    } else if (m[4]) {
      if (depth > 0) {
        add("tok-prop", m[4]);
        add("tok-punct", m[5]);
      } else add("tok-selector", m[4] + m[5]);
    } else if (m[6]) {
      add(depth > 0 ? "tok-css-value" : "tok-selector", m[6]);
    }
  }
}

function appendText(out, text) {
  out.append(document.createTextNode(text));
}
