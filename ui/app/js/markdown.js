// A message body's formatting: a safe Markdown subset parsed into a plain tree (no DOM, no HTML
// strings), which views/rich.js turns into DOM nodes. Bold **x**, italic *x* or _x_, strikethrough
// ~~x~~, inline `code`, fenced code blocks, > quotes, - and 1. lists, [text](url) links, bare
// http(s) URLs made links, and @name (marked as a mention only if the relay listed the name).
// Only http, https and mailto links become links; any other scheme (javascript:, data:, file:,
// …) stays the text it was.

/**
 * @typedef {{t: "text", text: string} | {t: "br"} | {t: "code", text: string}
 *   | {t: "strong" | "em" | "del", c: Inline[]} | {t: "link", href: string, c: Inline[]}
 *   | {t: "mention", user: string}} Inline
 * @typedef {{t: "p", c: Inline[]} | {t: "pre", text: string} | {t: "quote", c: Block[]}
 *   | {t: "ul" | "ol", items: Inline[][]}} Block
 */

const LINK_SCHEMES = new Set(["http:", "https:", "mailto:"]);
// Quotes in quotes, emphasis in emphasis: deep enough for people, bounded against crafted input.
const MAX_DEPTH = 4;

/** The link target if `href` may be one (an absolute http, https or mailto URL), else null. @param {string} href */
export const safeHref = (href) => {
  let url;
  try {
    url = new URL(href);
  } catch {
    return null;
  }
  return LINK_SCHEMES.has(url.protocol) ? url.href : null;
};

const FENCE = /^\s{0,3}```/;
const QUOTE = /^\s{0,3}> ?/;
const BULLET = /^\s{0,3}[-*+]\s+/;
const NUMBER = /^\s{0,3}\d{1,9}[.)]\s+/;

/** @param {string} source @param {number} [depth] @returns {Block[]} */
export const parse = (source, depth = 0) => {
  const lines = source.replace(/\r\n?/g, "\n").split("\n");
  /** @type {Block[]} */
  const blocks = [];
  let i = 0;
  /** Consecutive lines from `i` that `test` accepts, each with `strip` taken off. */
  const run = (/** @type {RegExp} */ test, /** @type {RegExp} */ strip) => {
    const taken = [];
    while (i < lines.length && test.test(lines[i])) taken.push(lines[i++].replace(strip, ""));
    return taken;
  };
  while (i < lines.length) {
    const line = lines[i];
    if (line.trim() === "") {
      i++;
    } else if (FENCE.test(line)) {
      const end = lines.findIndex((l, j) => j > i && FENCE.test(l));
      const stop = end === -1 ? lines.length : end;
      blocks.push({ t: "pre", text: lines.slice(i + 1, stop).join("\n") });
      i = stop + 1;
    } else if (QUOTE.test(line) && depth < MAX_DEPTH) {
      blocks.push({ t: "quote", c: parse(run(QUOTE, QUOTE).join("\n"), depth + 1) });
    } else if (BULLET.test(line)) {
      blocks.push({ t: "ul", items: run(BULLET, BULLET).map((l) => inline(l, depth)) });
    } else if (NUMBER.test(line)) {
      blocks.push({ t: "ol", items: run(NUMBER, NUMBER).map((l) => inline(l, depth)) });
    } else {
      const start = i;
      while (i < lines.length && lines[i].trim() !== "" && (i === start || !startsBlock(lines[i]))) i++;
      /** @type {Inline[]} */
      const c = [];
      lines.slice(start, i).forEach((l, n) => {
        if (n > 0) c.push({ t: "br" });
        c.push(...inline(l, depth));
      });
      blocks.push({ t: "p", c });
    }
  }
  return blocks;
};

const startsBlock = (/** @type {string} */ line) =>
  FENCE.test(line) || QUOTE.test(line) || BULLET.test(line) || NUMBER.test(line);

// Emphasis markers, longest first; `_` only at word edges so snake_case stays as typed.
const PAIRS = /** @type {const} */ ([
  ["**", "strong"],
  ["~~", "del"],
  ["*", "em"],
  ["_", "em"],
]);
const BARE_URL = /^https?:\/\/[^\s<>"]+/;
const MENTION = /^@([A-Za-z0-9_.-]{3,32})/;
const LINK = /^\[([^\]\n]{1,500})\]\(([^)\s]{1,2000})\)/;
const WORD = /[\p{L}\p{N}]/u;

/** @param {string} text @param {number} depth @returns {Inline[]} */
export const inline = (text, depth = 0) => {
  /** @type {Inline[]} */
  const out = [];
  let plain = "";
  const flush = () => {
    if (plain) out.push({ t: "text", text: plain });
    plain = "";
  };
  let i = 0;
  while (i < text.length) {
    const rest = text.slice(i);
    const before = text[i - 1] ?? "";
    const ch = text[i];
    if (ch === "`") {
      const end = text.indexOf("`", i + 1);
      if (end > i + 1) {
        flush();
        out.push({ t: "code", text: text.slice(i + 1, end) });
        i = end + 1;
        continue;
      }
    }
    if (ch === "[") {
      const m = LINK.exec(rest);
      const href = m && safeHref(m[2]);
      if (m && href) {
        flush();
        out.push({ t: "link", href, c: depth < MAX_DEPTH ? inline(m[1], depth + 1) : [{ t: "text", text: m[1] }] });
        i += m[0].length;
        continue;
      }
    }
    if (ch === "h" && !WORD.test(before)) {
      const m = BARE_URL.exec(rest);
      if (m) {
        // Sentence punctuation after a URL is not part of it.
        const url = m[0].replace(/[.,;:!?)\]'"]+$/, "");
        const href = safeHref(url);
        if (href) {
          flush();
          out.push({ t: "link", href, c: [{ t: "text", text: url }] });
          i += url.length;
          continue;
        }
      }
    }
    if (ch === "@" && !WORD.test(before)) {
      const m = MENTION.exec(rest);
      if (m) {
        flush();
        out.push({ t: "mention", user: m[1].replace(/[.-]+$/, "") });
        i += 1 + m[1].replace(/[.-]+$/, "").length;
        continue;
      }
    }
    const pair = depth < MAX_DEPTH ? PAIRS.find(([mark]) => rest.startsWith(mark)) : undefined;
    if (pair) {
      const [mark, t] = pair;
      const end = closing(text, i + mark.length, mark);
      const edgeOk = mark !== "_" || (!WORD.test(before) && !WORD.test(text[end + 1] ?? ""));
      if (end > i + mark.length && edgeOk && !/\s/.test(text[i + mark.length]) && !/\s/.test(text[end - 1])) {
        flush();
        out.push({ t, c: inline(text.slice(i + mark.length, end), depth + 1) });
        i = end + mark.length;
        continue;
      }
    }
    plain += ch;
    i++;
  }
  flush();
  return out;
};

/** Where `mark` closes after `from` (not inside inline code), or -1. */
const closing = (/** @type {string} */ text, /** @type {number} */ from, /** @type {string} */ mark) => {
  for (let i = from; i < text.length; i++) {
    if (text[i] === "`") {
      const end = text.indexOf("`", i + 1);
      if (end !== -1) i = end;
      continue;
    }
    // `*` must not match the first half of `**`.
    if (text.startsWith(mark, i) && !(mark.length === 1 && text[i + 1] === mark)) return i;
  }
  return -1;
};

/** The body as plain words (previews, notifications): formatting marks dropped. @param {string} source */
export const plainText = (source) => parse(source).map(blockText).join(" ").trim();

const inlineText = (/** @type {Inline[]} */ c) =>
  c.map((n) => (n.t === "text" || n.t === "code" ? n.text : n.t === "br" ? " " : n.t === "mention" ? `@${n.user}` : inlineText(n.c))).join("");

const blockText = (/** @type {Block} */ b) =>
  b.t === "p" ? inlineText(b.c) : b.t === "pre" ? b.text : b.t === "quote" ? b.c.map(blockText).join(" ") : b.items.map(inlineText).join(" ");
