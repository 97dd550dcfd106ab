// A formatted body as DOM nodes, built from markdown.js's tree with createElement and text nodes
// only (no HTML strings are parsed). Links carry their target in data-href, not href: a click asks the shell
// to open it in the system browser (the webview itself never navigates), and a link whose words
// differ from its target shows the target's host beside them, so "[bank](https://evil.example)"
// cannot pass for the bank.
import { parse } from "../markdown.js";
import { displayName } from "../format.js";

/** @typedef {import("../markdown.js").Inline} Inline @typedef {import("../markdown.js").Block} Block */

/**
 * @param {string} body @param {string | null} me our username (a mention of us is marked)
 * @returns {Node[]}
 */
export const renderBody = (body, me) => parse(body).map((b) => block(b, me));

/** @param {Block} b @param {string | null} me @returns {HTMLElement} */
const block = (b, me) => {
  switch (b.t) {
    case "p":
      return withChildren("p", b.c, me);
    case "pre": {
      const pre = document.createElement("pre");
      const code = document.createElement("code");
      code.textContent = b.text;
      pre.append(code);
      return pre;
    }
    case "quote": {
      const quote = document.createElement("blockquote");
      quote.append(...b.c.map((c) => block(c, me)));
      return quote;
    }
    default: {
      const list = document.createElement(b.t);
      list.append(...b.items.map((item) => withChildren("li", item, me)));
      return list;
    }
  }
};

/** @param {string} tag @param {Inline[]} c @param {string | null} me */
const withChildren = (tag, c, me) => {
  const el = document.createElement(tag);
  el.append(...c.map((n) => node(n, me)));
  return el;
};

/** @param {Inline} n @param {string | null} me @returns {Node | string} */
const node = (n, me) => {
  switch (n.t) {
    case "text":
      return n.text;
    case "br":
      return document.createElement("br");
    case "code": {
      const code = document.createElement("code");
      code.textContent = n.text;
      return code;
    }
    case "mention": {
      const span = document.createElement("span");
      const mine = me !== null && n.user.toLowerCase() === me.toLowerCase();
      span.className = mine ? "mention me" : "mention";
      span.dataset.testid = "mention";
      span.textContent = `@${displayName(n.user)}`;
      return span;
    }
    case "link":
      return link(n.href, n.c, me);
    default:
      return withChildren(n.t, n.c, me);
  }
};

/** @param {string} href @param {Inline[]} c @param {string | null} me */
const link = (href, c, me) => {
  const a = withChildren("a", c, me);
  a.className = "link-out";
  a.dataset.href = href;
  a.dataset.testid = "link";
  a.title = href;
  a.setAttribute("role", "link");
  a.setAttribute("tabindex", "0");
  const words = a.textContent;
  if (words !== href && words !== href.replace(/\/$/, "") && !href.startsWith("mailto:")) {
    const target = document.createElement("span");
    target.className = "link-target";
    target.textContent = ` (${new URL(href).host})`;
    a.append(target);
  }
  return a;
};
