// Search (views/search.js): the matches marked as nodes, the cache's results at once and the
// relay's after, Ctrl+F and the button, Esc, and a result opening its room at the message.
import { test } from "node:test";
import assert from "node:assert/strict";
import { boot, msg, settle, signedIn, XSS } from "./page.mjs";
import { excerpt, highlight, terms } from "../app/js/views/search.js";

test("terms split like the relay's; matches are cut out ignoring case, longer terms first", () => {
  assert.deepEqual(terms("  lunch  Lunch lunch 東京 "), ["lunch", "Lunch", "東京"]);
  assert.deepEqual(highlight("Lunch at noon, LUNCH!", ["lunch"]), [
    { text: "Lunch", mark: true },
    { text: " at noon, ", mark: false },
    { text: "LUNCH", mark: true },
    { text: "!", mark: false },
  ]);
  assert.deepEqual(highlight("東京タワー", ["東京", "東京タ"]), [
    { text: "東京タ", mark: true },
    { text: "ワー", mark: false },
  ]);
  // Terms are text, not patterns.
  assert.deepEqual(highlight("a.b axb", ["a.b"]), [
    { text: "a.b", mark: true },
    { text: " axb", mark: false },
  ]);
  assert.deepEqual(highlight("", ["x"]), []);
});

test("a long body is cut around its first match, on whole characters", () => {
  const body = `${"🐘".repeat(300)} walrus ${"x".repeat(300)}`;
  const cut = excerpt(body, ["walrus"], 40);
  assert.ok(cut.startsWith("…") && cut.endsWith("…"), cut);
  assert.ok(cut.includes("walrus"), cut);
  assert.ok([...cut].every((c) => c !== "\uFFFD"));
  assert.equal(excerpt("short", ["x"]), "short");
});

const found = [msg("random", 2, "bob", "the walrus swims"), msg("general", 1, "bob", `walrus ${XSS}`)];

/** The shell's `search`: the cache has one result, the relay both (or does not answer). */
const searching = (online = true) => ({
  ...signedIn(),
  history: ({ room_id, before_seq }) => (room_id === "random" && before_seq ? [msg("random", 1), found[0]] : []),
  search: ({ cached_only }) =>
    cached_only ? { messages: [found[1]], next_cursor: null, online: false } : { messages: online ? found : [found[1]], next_cursor: null, online },
});

const type = async (ui, text) => {
  const input = ui.$('[data-testid="search-input"]');
  input.value = text;
  input.dispatch("input");
  await new Promise((r) => setTimeout(r, 200)); // past the debounce
  await settle();
  return input;
};

test("Ctrl+F opens search; this device's results come first, then the relay's, matches marked as text", async () => {
  const ui = await boot(searching());
  const panel = ui.$("#search");
  assert.equal(panel.hidden, true);
  const f = document.key({ key: "f", ctrlKey: true });
  assert.equal(f.defaultPrevented, true, "not the webview's own find");
  assert.equal(panel.hidden, false);
  assert.equal(document.activeElement, ui.$('[data-testid="search-input"]'));

  await type(ui, "walrus");
  assert.deepEqual(ui.called("search"), [
    { query: "walrus", room_id: undefined, cursor: undefined, cached_only: true },
    { query: "walrus", room_id: undefined, cursor: undefined, cached_only: false },
  ]);
  const results = ui.all('[data-testid="search-result"]');
  assert.equal(results.length, 2);
  assert.deepEqual(results.map((li) => li.querySelector(".room").textContent), ["# random", "# general"]);
  assert.deepEqual(
    results.map((li) => li.querySelectorAll("mark").map((m) => m.textContent)),
    [["walrus"], ["walrus"]],
  );
  // A body's markup stays text: no element comes of it.
  assert.ok(results[1].querySelector(".body").textContent.includes("<img src=x"));
  assert.equal(panel.querySelectorAll("img").length + panel.querySelectorAll("script").length, 0);
  assert.equal(ui.$('[data-testid="search-status"]').textContent, "2 messages");
  assert.equal(results[0].getAttribute("aria-selected"), "true");

  ui.$('[data-testid="search-input"]').dispatch("keydown", { key: "Escape" });
  assert.equal(panel.hidden, true, "Esc closes");
  ui.$('[data-testid="open-search"]').click();
  assert.equal(panel.hidden, false, "the button opens it too");
});

test("when the relay does not answer, the status says the results are this device's", async () => {
  const ui = await boot(searching(false));
  document.key({ key: "f", ctrlKey: true });
  await type(ui, "walrus");
  assert.equal(ui.all('[data-testid="search-result"]').length, 1);
  assert.match(ui.$('[data-testid="search-status"]').textContent, /on this device \(the relay did not answer\)/);
});

test("a result opens its room around the message, which is marked and takes the focus", async () => {
  const ui = await boot(searching());
  document.key({ key: "f", ctrlKey: true });
  const input = await type(ui, "walrus");
  input.dispatch("keydown", { key: "ArrowDown" });
  input.dispatch("keydown", { key: "ArrowUp" });
  assert.equal(input.getAttribute("aria-activedescendant"), "search-result-0");
  input.dispatch("keydown", { key: "Enter" });
  await settle();
  assert.equal(ui.$("#search").hidden, true);
  assert.equal(ui.$("#room-title").textContent, "# random");
  // Half a page above seq 2, then it and what follows.
  const pages = ui.called("history");
  assert.deepEqual(pages.at(-2), { room_id: "random", before_seq: 2, limit: 50 });
  assert.deepEqual(pages.at(-1), { room_id: "random", after_seq: 1, limit: 100 });
  const row = ui.$('[data-seq="2"]');
  assert.ok(row.classList.contains("found"), row.className);
  assert.equal(document.activeElement, row);
});

test("the relay's answer repeating the cache's, and a move of the selection, keep the rows drawn (nothing rebuilt under the pointer)", async () => {
  /** @type {(answer: unknown) => void} */
  let answer = () => {};
  const relay = new Promise((resolve) => (answer = resolve));
  const ui = await boot({
    ...signedIn(),
    search: ({ cached_only }) => (cached_only ? { messages: found, next_cursor: null, online: false } : relay),
  });
  document.key({ key: "f", ctrlKey: true });
  const input = await type(ui, "walrus");
  const fromCache = ui.all('[data-testid="search-result"]');
  assert.equal(fromCache.length, 2);
  answer({ messages: found, next_cursor: null, online: true });
  await settle();
  assert.equal(ui.$('[data-testid="search-status"]').textContent, "2 messages");
  const fromRelay = ui.all('[data-testid="search-result"]');
  assert.equal(fromRelay.length, 2);
  assert.ok(fromRelay.every((li, i) => li === fromCache[i]), "the rows drawn from the cache stay");
  input.dispatch("keydown", { key: "ArrowDown" });
  const moved = ui.all('[data-testid="search-result"]');
  assert.ok(moved.every((li, i) => li === fromCache[i]), "moving the selection rebuilds nothing");
  assert.deepEqual(moved.map((li) => li.getAttribute("aria-selected")), ["false", "true"]);
  assert.equal(input.getAttribute("aria-activedescendant"), "search-result-1");
  // Other words mark other text: those rows are drawn anew.
  await type(ui, "swims");
  assert.ok(!ui.all('[data-testid="search-result"]').includes(fromCache[0]));
});
