// Message formatting: the Markdown subset's tree (pure), and what the message list draws from it
// in the fake DOM: elements and text nodes only, links that the shell opens, inert other schemes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { inline, parse, plainText, safeHref } from "../app/js/markdown.js";
import { boot, msg, room, settle, signedIn, XSS } from "./page.mjs";

const text = (t) => ({ t: "text", text: t });

test("inline marks: bold, italic, strikethrough, code, and what stays plain", () => {
  assert.deepEqual(inline("a **b** c"), [text("a "), { t: "strong", c: [text("b")] }, text(" c")]);
  assert.deepEqual(inline("*i* and _j_"), [{ t: "em", c: [text("i")] }, text(" and "), { t: "em", c: [text("j")] }]);
  assert.deepEqual(inline("~~old~~"), [{ t: "del", c: [text("old")] }]);
  assert.deepEqual(inline("run `rm -rf **x**`"), [text("run "), { t: "code", text: "rm -rf **x**" }]);
  assert.deepEqual(inline("**bold _and italic_**"), [{ t: "strong", c: [text("bold "), { t: "em", c: [text("and italic")] }] }]);
  // As typed: snake_case, a lone star, unclosed marks, marks against spaces.
  for (const plain of ["snake_case_name", "2 * 3 = 6", "**unclosed", "a ** b ** c", "_ x _"]) {
    assert.deepEqual(inline(plain), [text(plain)], plain);
  }
});

test("links: [text](url) and bare URLs for http, https and mailto only", () => {
  assert.deepEqual(inline("see [the docs](https://example.org/docs)."), [
    text("see "),
    { t: "link", href: "https://example.org/docs", c: [text("the docs")] },
    text("."),
  ]);
  assert.deepEqual(inline("at https://example.org/a_b, ok"), [
    text("at "),
    { t: "link", href: "https://example.org/a_b", c: [text("https://example.org/a_b")] },
    text(", ok"),
  ]);
  for (const inert of [
    "[x](javascript:alert(1))",
    "[x](data:text/html,hi)",
    "[x](file:///etc/passwd)",
    "[x](vbscript:x)",
    "[x](/relative)",
    "javascript:alert(1)",
  ]) {
    assert.deepEqual(inline(inert), [text(inert)], inert);
  }
  assert.equal(safeHref("JAVASCRIPT:alert(1)"), null);
  assert.equal(safeHref("mailto:a@example.org"), "mailto:a@example.org");
});

test("mentions: @name at a word start", () => {
  assert.deepEqual(inline("hi @bob."), [text("hi "), { t: "mention", user: "bob" }, text(".")]);
  assert.deepEqual(inline("mail a@bob.example"), [text("mail a@bob.example")]);
});

test("blocks: paragraphs with line breaks, code blocks, quotes, lists", () => {
  assert.deepEqual(parse("one\ntwo\n\nthree"), [
    { t: "p", c: [text("one"), { t: "br" }, text("two")] },
    { t: "p", c: [text("three")] },
  ]);
  assert.deepEqual(parse("```\nlet *x* = 1;\n```\nafter"), [{ t: "pre", text: "let *x* = 1;" }, { t: "p", c: [text("after")] }]);
  assert.deepEqual(parse("> quoted **b**\n> more"), [
    { t: "quote", c: [{ t: "p", c: [text("quoted "), { t: "strong", c: [text("b")] }, { t: "br" }, text("more")] }] },
  ]);
  assert.deepEqual(parse("- a\n- b\n1. c"), [
    { t: "ul", items: [[text("a")], [text("b")]] },
    { t: "ol", items: [[text("c")]] },
  ]);
  assert.equal(plainText("**Lunch** at [noon](https://example.org)?\n- yes"), "Lunch at noon? yes");
});

test("crafted input stays bounded: deep nesting and long runs", () => {
  const deep = "> ".repeat(50) + "x";
  assert.ok(JSON.stringify(parse(deep)).length < 2_000);
  const stars = "*".repeat(4_000);
  const started = Date.now();
  parse(stars);
  parse("[".repeat(2_000) + "](".repeat(1_000));
  assert.ok(Date.now() - started < 2_000, "parsed in time");
});

const withBodies = (...bodies) => ({
  ...signedIn(),
  messages: ({ room_id, before_seq }) =>
    room_id === "general" && before_seq === undefined
      ? bodies.map((b, i) => ({ ...msg("general", i + 1, "bob", b), mentions: [...b.matchAll(/@(alice|carol)\b/g)].map((m) => m[1]) }))
      : [],
  rooms: [room("random", 0, 0), room("general", bodies.length, bodies.length)],
});

test("the list draws formatting as elements, never markup from the text", async () => {
  // The relay lists alice and carol (members); @dave is no member, so no mention.
  const ui = await boot(withBodies("**bold** <b>not bold</b> `<i>code</i>`", "hey @alice and @carol, not @dave"));
  const [first, second] = ui.all('[data-testid="message"]').map((m) => m.querySelector(".body"));
  assert.equal(first.querySelector("strong").textContent, "bold");
  assert.equal(first.querySelector("b"), null, "typed tags stay text");
  assert.equal(first.querySelector("i"), null);
  assert.equal(first.querySelector("code").textContent, "<i>code</i>");
  assert.equal(first.textContent, "bold <b>not bold</b> <i>code</i>");
  const mentions = second.querySelectorAll('[data-testid="mention"]');
  assert.deepEqual(mentions.map((m) => [m.textContent, m.className]), [["@alice", "mention me"], ["@carol", "mention"]]);
  assert.ok(second.textContent.endsWith("not @dave"), "a name the relay did not list stays text");
});

test("a link opens through the shell, shows where it goes, and other schemes stay text", async () => {
  const ui = await boot({
    ...withBodies("[your bank](https://evil.example/login) or https://example.org/x.", "[x](javascript:alert(1))"),
    open_link: () => null,
  });
  const [first, second] = ui.all('[data-testid="message"]').map((m) => m.querySelector(".body"));
  const [named, bare] = first.querySelectorAll('[data-testid="link"]');
  assert.equal(named.getAttribute("href"), null, "no href: the webview never navigates");
  assert.equal(named.dataset.href, "https://evil.example/login");
  assert.equal(named.textContent, "your bank (evil.example)", "the real target beside the words");
  assert.equal(bare.textContent, "https://example.org/x");
  named.click();
  bare.dispatch("keydown", { key: "Enter" });
  await settle();
  assert.deepEqual(ui.called("open_link"), [{ url: "https://evil.example/login" }, { url: "https://example.org/x" }]);
  assert.equal(second.querySelector('[data-testid="link"]'), null);
  assert.equal(second.textContent, "[x](javascript:alert(1))");
});

test("hostile markup hidden inside formatting stays text", async () => {
  const hostile = [
    `[${XSS}](https://example.org/)`,
    `[x](https://example.org/"><img src=x onerror=alert(1)>)`,
    `\`${XSS}\``,
    "```\n" + XSS + "\n```",
    `> **_${XSS}_**`,
    `- ~~${XSS}~~`,
    `@${XSS}`,
  ];
  const ui = await boot({ ...withBodies(...hostile), open_link: () => null });
  const list = ui.$('[data-testid="message-list"]');
  for (const tag of ["img", "script", "div"]) {
    const inBodies = list.querySelectorAll(tag).filter((e) => e.closest(".body") && !e.className.split(" ").includes("body"));
    assert.deepEqual(inBodies, [], `no <${tag}> from a body`);
  }
  const bodies = ui.all('[data-testid="message"]').map((m) => m.querySelector(".body").textContent);
  assert.ok(bodies[0].includes(XSS), "the link's words are the text as typed");
  assert.ok(bodies[2].includes(XSS) && bodies[3].includes(XSS) && bodies[4].includes(XSS));
  for (const link of list.querySelectorAll('[data-testid="link"]')) {
    assert.match(link.dataset.href, /^https:\/\/example\.org\//, "only the real target");
  }
});
