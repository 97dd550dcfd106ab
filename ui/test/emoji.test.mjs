// Issue 19's emoji picker: the bundled data filtered by name, the recently used ones (per
// account, bounded, damaged storage ignored), the picker's keyboard (arrows, Enter, Esc giving
// the focus back) and, on the page, "More reactions" reacting as a quick reaction does.
import { test } from "node:test";
import assert from "node:assert/strict";
import { action, boot, documentFrom, memoryStorage, settle, signedIn } from "./page.mjs";
import { ALL_EMOJI, RECENT_MAX, filterEmoji, loadRecent, rememberEmoji, withRecent } from "../app/js/emoji.js";
import { COLUMNS, createEmojiPicker } from "../app/js/views/emoji-picker.js";


test("the bundle holds the emoji with names and groups; filtering matches every word of the name", () => {
  assert.ok(ALL_EMOJI.length > 1500, `${ALL_EMOJI.length} emoji bundled`);
  assert.ok(ALL_EMOJI.every((e) => e.emoji && e.name && e.group));
  assert.deepEqual(filterEmoji("THUMBS").map((e) => e.emoji), ["👍", "👎"]);
  assert.deepEqual(filterEmoji("  thumbs   down ").map((e) => e.emoji), ["👎"]);
  assert.ok(filterEmoji("heart").some((e) => e.emoji === "❤️"));
  assert.deepEqual(filterEmoji("no such emoji name"), []);
  assert.equal(filterEmoji("").length, ALL_EMOJI.length);
});

test("recent emoji: newest first, once each, bounded, per account; damaged storage is ignored", () => {
  const storage = memoryStorage();
  rememberEmoji(storage, "alice", "👍");
  rememberEmoji(storage, "alice", "🎉");
  rememberEmoji(storage, "alice", "👍");
  assert.deepEqual(loadRecent(storage, "alice"), ["👍", "🎉"]);
  assert.deepEqual(loadRecent(storage, "bob"), [], "another account has its own list");
  const many = ALL_EMOJI.slice(0, RECENT_MAX + 5).reduce((list, e) => withRecent(list, e.emoji), /** @type {string[]} */ ([]));
  assert.equal(many.length, RECENT_MAX);
  assert.equal(many[0], ALL_EMOJI[RECENT_MAX + 4].emoji);
  storage.setItem("natter.emoji.recent.alice", "{not json");
  assert.deepEqual(loadRecent(storage, "alice"), []);
  storage.setItem("natter.emoji.recent.alice", JSON.stringify(["<img src=x>", 3, "🎉"]));
  assert.deepEqual(loadRecent(storage, "alice"), ["🎉"], "only bundled emoji come back");
  const refusing = { getItem: () => { throw new Error("denied"); }, setItem: () => { throw new Error("full"); } };
  assert.deepEqual(rememberEmoji(refusing, "alice", "👍"), ["👍"]);
});

/** A picker on a fresh fake page, opened from a button. */
const openPicker = (storage = memoryStorage(), account = "alice") => {
  globalThis.document = documentFrom("<div><button id=opener>More</button></div>");
  const picked = [];
  const picker = createEmojiPicker(document, { onPick: (e) => picked.push(e), storage });
  const opener = document.querySelector("#opener");
  document.root.append(picker.element);
  picker.open(opener, account);
  const $ = (sel) => picker.element.querySelector(sel);
  const options = () => picker.element.querySelectorAll('[data-testid="emoji-option"]');
  const search = $('[data-testid="emoji-search"]');
  const type = (text) => {
    search.value = text;
    search.dispatch("input");
  };
  const key = (key) => document.activeElement.dispatch("keydown", { key });
  return { picker, picked, opener, search, options, type, key, storage };
};

test("the picker is a labelled dialog with a labelled listbox; each emoji is labelled with its name", () => {
  const { picker, search, options } = openPicker();
  assert.equal(picker.element.getAttribute("role"), "dialog");
  assert.equal(picker.element.getAttribute("aria-label"), "More reactions");
  const box = picker.element.querySelector('[role="listbox"]');
  assert.ok(box?.getAttribute("aria-label"));
  assert.equal(document.activeElement, search, "the search box has the focus");
  assert.equal(options().length, ALL_EMOJI.length);
  const first = options()[0];
  assert.equal(first.getAttribute("role"), "option");
  assert.equal(first.getAttribute("aria-label"), ALL_EMOJI[0].name);
  assert.equal(first.textContent, ALL_EMOJI[0].emoji);
});

test("typing filters by name, and the count is told to screen readers", () => {
  const { picker, type, options } = openPicker();
  type("thumbs");
  assert.deepEqual(options().map((o) => o.dataset.emoji), ["👍", "👎"]);
  assert.equal(picker.element.querySelector('[role="status"]').textContent, "2 emoji");
  type("zzzz");
  assert.equal(options().length, 0);
  assert.equal(picker.element.querySelector('[role="status"]').textContent, "No emoji match");
});

test("arrow keys move through the emoji, Enter picks the focused one and closes, giving the focus back", () => {
  const { picker, picked, opener, search, options, key } = openPicker();
  key("ArrowDown");
  assert.equal(document.activeElement, options()[0]);
  key("ArrowRight");
  assert.equal(document.activeElement, options()[1]);
  key("ArrowDown");
  assert.equal(document.activeElement, options()[1 + COLUMNS]);
  assert.equal(options()[1 + COLUMNS].getAttribute("tabindex"), "0", "the focused one is the one Tab reaches");
  assert.equal(options()[1].getAttribute("tabindex"), "-1");
  key("ArrowLeft");
  assert.equal(document.activeElement, options()[COLUMNS]);
  key("ArrowUp");
  key("ArrowUp");
  assert.equal(document.activeElement, search, "up from the first row goes back to the search box");
  key("ArrowDown");
  key("End");
  assert.equal(document.activeElement, options().at(-1));
  const last = options().at(-1).dataset.emoji;
  const enter = key("Enter");
  assert.ok(enter.defaultPrevented, "the button does not also click");
  assert.deepEqual(picked, [last]);
  assert.equal(picker.isOpen, false);
  assert.equal(document.activeElement, opener);
});

test("Esc closes without picking and gives the focus back; the page's Esc is not also run", () => {
  const { picker, picked, opener, key } = openPicker();
  key("ArrowDown");
  const esc = key("Escape");
  assert.ok(esc.defaultPrevented);
  assert.equal(picker.isOpen, false);
  assert.equal(picker.element.hidden, true);
  assert.deepEqual(picked, []);
  assert.equal(document.activeElement, opener);
});

test("a pick is recent: next time it comes first, for that account only", () => {
  const storage = memoryStorage();
  const first = openPicker(storage, "alice");
  first.type("party popper");
  first.key("Enter");
  assert.deepEqual(first.picked, ["🎉"]);
  const again = openPicker(storage, "alice");
  const groups = again.picker.element.querySelectorAll('[role="group"]');
  assert.equal(groups[0].getAttribute("aria-label"), "Recently used");
  assert.equal(again.options()[0].dataset.emoji, "🎉");
  assert.equal(again.options().length, ALL_EMOJI.length + 1);
  const other = openPicker(storage, "bob");
  assert.notEqual(other.picker.element.querySelectorAll('[role="group"]')[0].getAttribute("aria-label"), "Recently used");
});

const row = (ui, seq) => ui.all('[data-testid="message"]').find((m) => m.dataset.seq === String(seq));

test("More reactions on a message: the picked emoji is sent as a quick reaction is", async () => {
  const ui = await boot({ ...signedIn(), react: () => null });
  const more = action(row(ui, 2), "more-reactions");
  assert.equal(more.getAttribute("aria-label"), "More reactions");
  more.click();
  const picker = row(ui, 2).querySelector('[data-testid="emoji-picker"]');
  assert.ok(picker && !picker.hidden, "the picker opens in the message's row");
  const search = picker.querySelector('[data-testid="emoji-search"]');
  assert.equal(document.activeElement, search);
  search.value = "thumbs down";
  search.dispatch("input");
  search.dispatch("keydown", { key: "Enter" });
  await settle();
  assert.deepEqual(ui.called("react").at(-1), { room_id: "general", message_id: "general-2", emoji: "👎", on: true });
  assert.equal(picker.hidden, true);
  assert.equal(document.activeElement, more, "the focus is back on the button");
  // A click on an emoji picks it too.
  more.click();
  picker.querySelector('[data-emoji="🎉"]').click();
  await settle();
  assert.deepEqual(ui.called("react").at(-1), { room_id: "general", message_id: "general-2", emoji: "🎉", on: true });
});

test("the picker stays open on its message when that row is redrawn (a reaction came)", async () => {
  const ui = await boot({ ...signedIn(), react: () => null });
  action(row(ui, 2), "more-reactions").click();
  await ui.emit([{ type: "message_changed", message: { id: "general-2", room_id: "general", seq: 2, sender: "bob", body: "message 2", client_id: "c-general-2", sent_at: "2026-11-25T10:00:00Z", reactions: [{ emoji: "👍", users: ["bob"] }] } }]);
  assert.ok(row(ui, 2).querySelector('[data-testid="reaction"]'), "the row was redrawn");
  const picker = row(ui, 2).querySelector('[data-testid="emoji-picker"]');
  assert.ok(picker && !picker.hidden, "still open, in the redrawn row");
  picker.dispatch("keydown", { key: "Escape" });
  assert.equal(document.activeElement, row(ui, 2).querySelector('[data-testid="message-action-more-reactions"]'), "focus goes to the redrawn button");
});
