// A formatted body as DOM nodes, built from markdown.js's tree with createElement and text nodes
// only (no HTML strings are parsed). Links carry their target in data-href, not href: a click asks the shell
// to open it in the system browser (the webview itself never navigates), and a link whose words
// differ from its target shows the target's host beside them, so "[bank](https://evil.example)"
// cannot pass for the bank.
import { parse } from "../markdown.js";
import { displayName } from "../format.js";

/** @typedef {import("../markdown.js").Inline} Inline @typedef {import("../markdown.js").Block} Block */

/**
 * An `@name` is drawn as a mention only when the relay listed that member in the message's
 * `mentions` (the one rule, natter_protocol::mentions); any other `@word` stays text.
 * @param {string} body @param {string | null} me our username (a mention of us is marked)
 * @param {string[]} mentioned the message's `mentions`
 * @returns {Node[]}
 */
export const renderBody = (body, me, mentioned) => {
  const ctx = { me, mentioned: new Set(mentioned.map((u) => u.toLowerCase())) };
  return parse(body).map((b) => block(b, ctx));
};

/** @typedef {{me: string | null, mentioned: Set<string>}} Ctx */

/** @param {Block} b @param {Ctx} ctx @returns {HTMLElement} */
const block = (b, ctx) => {
  switch (b.t) {
    case "p":
      return withChildren("p", b.c, ctx);
    case "pre": {
      const pre = document.createElement("pre");
      const code = document.createElement("code");
      code.textContent = b.text;
      pre.append(code);
      return pre;
    }
    case "quote": {
      const quote = document.createElement("blockquote");
      quote.append(...b.c.map((c) => block(c, ctx)));
      return quote;
    }
    default: {
      const list = document.createElement(b.t);
      list.append(...b.items.map((item) => withChildren("li", item, ctx)));
      return list;
    }
  }
};

/** @param {string} tag @param {Inline[]} c @param {Ctx} ctx */
const withChildren = (tag, c, ctx) => {
  const el = document.createElement(tag);
  el.append(...c.map((n) => node(n, ctx)));
  return el;
};

/** @param {Inline} n @param {Ctx} ctx @returns {Node | string} */
const node = (n, ctx) => {
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
      if (!ctx.mentioned.has(n.user.toLowerCase())) return `@${n.user}`;
      const span = document.createElement("span");
      const mine = ctx.me !== null && n.user.toLowerCase() === ctx.me.toLowerCase();
      span.className = mine ? "mention me" : "mention";
      span.dataset.testid = "mention";
      span.textContent = `@${displayName(n.user)}`;
      return span;
    }
    case "link":
      return link(n.href, n.c, ctx);
    default:
      return withChildren(n.t, n.c, ctx);
  }
};

/** @param {string} href @param {Inline[]} c @param {Ctx} ctx */
const link = (href, c, ctx) => {
  const a = withChildren("a", c, ctx);
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
