// Changes to messages in the window: entries are never drawn, `message_changed` redraws the
// message (edited mark, deleted placeholder, reactions), a reply shows what it answers, the
// room's preview is its newest message (not a reaction), a room whose newest entries are
// changes is read once its newest message is on screen, and unread counts are the session's.
import { test } from "node:test";
import assert from "node:assert/strict";
import { action, boot, msg, room, settle, signedIn } from "./page.mjs";

const entry = (seq, change, body) => ({ ...msg("general", seq, "bob", body), change });

test("a change entry is not drawn; the changed message is redrawn with its state", async () => {
  const ui = await boot(signedIn());
  await ui.emit([{ type: "message", message: msg("general", 4, "bob", "lunch at 1?") }]);
  assert.equal(ui.seqs().at(-1), "4");
  const edited = { ...msg("general", 4, "bob", "lunch at 2?"), edited_at: "2026-11-25T10:06:00Z" };
  await ui.emit([
    { type: "message", message: entry(5, { kind: "edit", target: "m-general-4", body: "lunch at 2?" }, "✎ lunch at 2?") },
    { type: "message_changed", message: edited },
  ]);
  assert.deepEqual(ui.seqs().slice(-1), ["4"], "the entry has no row");
  const row = ui.all('[data-testid="message"]').at(-1);
  assert.equal(row.querySelector(".body").textContent, "lunch at 2?");
  assert.ok(row.querySelector('[data-testid="edited-marker"]'), "marked edited");

  const reacted = { ...edited, reactions: [{ emoji: "👍", users: ["alice", "carol"] }] };
  await ui.emit([
    { type: "message", message: entry(6, { kind: "reaction", target: "m-general-4", emoji: "👍", on: true }, "reacted 👍") },
    { type: "message_changed", message: reacted },
  ]);
  const chip = ui.all('[data-testid="message"]').at(-1).querySelector('[data-testid="reaction"]');
  assert.equal(chip.textContent, "👍 2");
  assert.equal(chip.title, "alice, carol");

  const deleted = { ...msg("general", 4, "bob", ""), deleted: true };
  await ui.emit([
    { type: "message", message: entry(7, { kind: "delete", target: "m-general-4" }, "deleted a message") },
    { type: "message_changed", message: deleted },
  ]);
  const gone = ui.all('[data-testid="message"]').at(-1);
  assert.equal(gone.querySelector('[data-testid="deleted-message"]').textContent, "This message was deleted");
  assert.equal(gone.querySelector('[data-testid="reaction"]'), null);
  assert.equal(gone.querySelector('[data-testid="edited-marker"]'), null);
});

test("a reply shows what it answers", async () => {
  const ui = await boot(signedIn());
  const reply = { ...msg("general", 4, "bob", "yes!"), reply_to: { id: "m-general-3", sender: "alice", excerpt: "lunch?" } };
  await ui.emit([{ type: "message", message: reply }]);
  const line = ui.all('[data-testid="message"]').at(-1).querySelector('[data-testid="reply-quote"]');
  assert.equal(line.textContent, "↪ alice: lunch?");
});

test("a reply's quote jumps to its target: scrolled to when loaded, paged in around it when not", async () => {
  const reply = (seq, to) => ({ ...msg("general", seq, "bob", "yes!"), reply_to: { id: `general-${to}`, seq: to, sender: "alice", excerpt: `message ${to}` } });
  const ui = await boot({
    ...signedIn(),
    rooms: [room("random", 2, 2), room("general", 10, 10)],
    messages: ({ room_id, before_seq }) => (room_id === "general" && before_seq === undefined ? [msg("general", 8), reply(9, 8), reply(10, 2)] : []),
    history: ({ room_id, before_seq, after_seq }) =>
      room_id !== "general" ? [] : before_seq === 2 ? [msg("general", 1)] : after_seq === 1 ? [msg("general", 2), msg("general", 3)] : [],
  });
  assert.deepEqual(ui.seqs(), ["8", "9", "10"]);
  const quote = (seq) => row(ui, seq).querySelector('[data-testid="reply-quote"]');
  assert.equal(quote(9).getAttribute("aria-label"), "Go to the message this answers: ↪ alice: message 8");
  // Paged in around a target, the window is reloaded from it onwards (`after_seq`); older pages
  // (scrolling up) ask `before_seq` only.
  const around = () => ui.called("history").filter((h) => h.after_seq !== undefined);
  quote(9).click();
  await settle();
  assert.deepEqual(around(), [], "a loaded target needs no page around it");
  assert.ok(row(ui, 8).classList.contains("found"), row(ui, 8).className);
  assert.equal(document.activeElement, row(ui, 8));
  // A redraw of the target (a reaction came, a receipt) keeps the focus on it.
  await ui.emit([{ type: "message_changed", message: { ...msg("general", 8), reactions: [{ emoji: "👍", users: ["bob"] }] } }]);
  assert.ok(row(ui, 8).querySelector('[data-testid="reaction"]'), "the row was redrawn");
  assert.equal(document.activeElement, row(ui, 8), "the target keeps the focus");

  quote(10).click();
  await settle();
  // Half a page above seq 2, then it and what follows, as for a search result.
  const pages = ui.called("history");
  assert.deepEqual(pages.at(-2), { room_id: "general", before_seq: 2, limit: 50 });
  assert.deepEqual(pages.at(-1), { room_id: "general", after_seq: 1, limit: 100 });
  assert.ok(row(ui, 2).classList.contains("found"), row(ui, 2).className);
  assert.equal(document.activeElement, row(ui, 2));
});

test("a reply from a relay that sends no target seq is a plain quote", async () => {
  const ui = await boot(signedIn());
  const reply = { ...msg("general", 4, "bob", "yes!"), reply_to: { id: "general-3", sender: "alice", excerpt: "lunch?" } };
  await ui.emit([{ type: "message", message: reply }]);
  const line = row(ui, 4).querySelector('[data-testid="reply-quote"]');
  assert.equal(line.tagName.toLowerCase(), "div");
  assert.equal(line.dataset.action, undefined);
});

test("the room list previews the newest message, not a change to one", async () => {
  const ui = await boot(signedIn());
  ui.$('[data-room-id="random"]').click();
  await settle();
  await ui.emit([
    { type: "message", message: msg("general", 4, "bob", "news") },
    { type: "message", message: entry(5, { kind: "reaction", target: "m-general-4", emoji: "👍", on: true }, "reacted 👍") },
  ]);
  const preview = ui.$('[data-room-id="general"]').querySelector(".preview");
  assert.equal(preview.textContent, "bob: news");
});

test("a room whose newest entries are changes is read up to its newest message once it is seen", async () => {
  const ui = await boot({ ...signedIn(), rooms: [room("random", 2, 2), room("general", 3, 3)] });
  await ui.emit([
    { type: "message", message: msg("general", 4, "bob", "seen") },
    { type: "message", message: entry(5, { kind: "reaction", target: "m-general-4", emoji: "👍", on: true }, "reacted 👍") },
  ]);
  await settle();
  const reads = ui.called("mark_read").filter((r) => r.room_id === "general").map((r) => r.seq);
  // The entry is not news: the session's count is 0 once the message is read.
  assert.equal(Math.max(...reads), 4, `read positions sent: ${reads}`);
  assert.deepEqual(ui.seqs().slice(-1), ["4"], "the entry has no row");
});

/** The row of the open room's message `seq`. */
const row = (ui, seq) => ui.all('[data-testid="message"]').find((m) => m.dataset.seq === String(seq));

test("Reply puts the composer in reply mode; the send carries reply_to; Cancel leaves the mode", async () => {
  const ui = await boot(signedIn());
  action(row(ui, 2), "reply").click();
  await settle();
  const bar = ui.$('[data-testid="composer-mode"]');
  assert.equal(bar.hidden, false);
  assert.match(bar.textContent, /^Replying to bob: message 2/);
  ui.$('[data-testid="composer"]').value = "yes";
  ui.$('[data-testid="send"]').click();
  await settle();
  assert.deepEqual(ui.called("send_message").at(-1), { room_id: "general", body: "yes", reply_to: "general-2" });
  assert.equal(bar.hidden, true, "the mode ends with the send");
  action(row(ui, 2), "reply").click();
  ui.$('[data-testid="composer-mode-cancel"]').click();
  await settle();
  assert.equal(bar.hidden, true);
  ui.$('[data-testid="composer"]').value = "plain";
  ui.$('[data-testid="send"]').click();
  await settle();
  assert.deepEqual(ui.called("send_message").at(-1), { room_id: "general", body: "plain" });
});

test("Edit and Delete only on our own messages; Edit sends an edit, Delete asks first", async () => {
  const ui = await boot({ ...signedIn(), edit_message: () => null, delete_message: () => null });
  assert.equal(action(row(ui, 2), "edit"), null, "not bob's");
  const mine = row(ui, 3);
  action(mine, "edit").click();
  await settle();
  assert.equal(ui.$('[data-testid="composer"]').value, "message 3", "the text to fix");
  ui.$('[data-testid="composer"]').value = "message 3, fixed";
  ui.$('[data-testid="send"]').click();
  await settle();
  assert.deepEqual(ui.called("edit_message"), [{ room_id: "general", message_id: "general-3", body: "message 3, fixed" }]);
  const sends = ui.called("send_message").length;
  assert.equal(sends, 0, "an edit is not a new message");

  action(row(ui, 3), "delete").click();
  await settle();
  assert.equal(ui.$("#delete-dialog").hidden, false);
  assert.deepEqual(ui.called("delete_message"), [], "nothing before the answer");
  ui.$('[data-testid="delete-submit"]').click();
  await settle();
  assert.deepEqual(ui.called("delete_message"), [{ room_id: "general", message_id: "general-3" }]);
  assert.equal(ui.$("#delete-dialog").hidden, true);
});

test("Up arrow in the empty composer edits our newest message; Esc leaves the mode", async () => {
  const ui = await boot({ ...signedIn(), edit_message: () => null });
  const box = ui.$('[data-testid="composer"]');
  const bar = ui.$('[data-testid="composer-mode"]');
  box.value = "typing something";
  assert.equal(box.dispatch("keydown", { key: "ArrowUp" }).defaultPrevented, false, "not while the box has text");
  assert.equal(bar.hidden, true);
  box.value = "";
  assert.equal(box.dispatch("keydown", { key: "ArrowUp" }).defaultPrevented, true);
  await settle();
  assert.equal(bar.hidden, false);
  assert.equal(box.value, "message 3", "alice's newest (bob's message 2 is not hers)");
  assert.equal(box.dispatch("keydown", { key: "Escape" }).defaultPrevented, true);
  await settle();
  assert.equal(bar.hidden, true);
  assert.equal(box.value, "", "the edit's text goes with the mode");
  assert.equal(box.dispatch("keydown", { key: "Escape" }).defaultPrevented, false, "no mode: Esc is the page's");
  assert.deepEqual(ui.called("edit_message"), []);
});

test("one action bar for the whole list: it goes to the message the focus or the pointer is on", async () => {
  const ui = await boot({ ...signedIn() });
  const bars = () => ui.all(".message-actions");
  assert.ok(ui.all('[data-testid="message"]').length >= 3);
  assert.ok(bars().length <= 1, `one bar, not one per message: ${bars().length}`);
  const reply = action(row(ui, 2), "reply");
  assert.equal(reply.closest('[data-testid="message"]'), row(ui, 2), "in the focused message");
  assert.equal(action(row(ui, 2), "edit"), null, "bob's: no Edit");
  assert.ok(action(row(ui, 3), "edit"), "ours: Edit");
  assert.equal(bars().length, 1);
  assert.equal(row(ui, 2).querySelector(".message-actions"), null, "gone from the message it left");
  row(ui, 2).querySelector(".body").dispatch("pointerover");
  assert.ok(row(ui, 2).querySelector(".message-actions"), "the pointer brings it");
  // The keyboard in the bar keeps it where it is when the pointer passes over another message.
  row(ui, 2).querySelector('[data-testid="message-action-reply"]').focus();
  row(ui, 3).querySelector(".body").dispatch("pointerover");
  assert.ok(row(ui, 2).querySelector(".message-actions"), "not pulled away from the focus");
  assert.equal(row(ui, 2).getAttribute("tabindex"), "0", "a message is reached with Tab");
  // A redraw of that message (a reaction came) keeps the bar in it and the focus on its button.
  const thumbs = action(row(ui, 2), "react");
  thumbs.focus();
  await ui.emit([{ type: "message_changed", message: { ...msg("general", 2, "bob", "message 2"), reactions: [{ emoji: "👍", users: ["bob"] }] } }]);
  assert.ok(row(ui, 2).querySelector('[data-testid="reaction"]'), "the row was redrawn");
  assert.equal(thumbs.closest('[data-testid="message"]'), row(ui, 2), "the bar is in the redrawn row");
  assert.equal(document.activeElement, thumbs, "the focus is back on its button");
});

test("a reaction toggles: added when not ours yet, taken back when it is", async () => {
  const ui = await boot({ ...signedIn(), react: () => null });
  action(row(ui, 2), "react").click(); // the bar's first quick reaction: 👍
  await settle();
  assert.deepEqual(ui.called("react").at(-1), { room_id: "general", message_id: "general-2", emoji: "👍", on: true });
  await ui.emit([{ type: "message_changed", message: { ...msg("general", 2, "bob", "message 2"), reactions: [{ emoji: "👍", users: ["alice"] }] } }]);
  row(ui, 2).querySelector(".reactions").querySelector('[data-emoji="👍"]').click();
  await settle();
  assert.deepEqual(ui.called("react").at(-1), { room_id: "general", message_id: "general-2", emoji: "👍", on: false });
});

test("the unread badge is the session's count: changes raise none, its unread event sets it", async () => {
  // 7 seqs past the read position, of which the session counts 2 as news (the rest are changes,
  // never loaded here).
  const ui = await boot({ ...signedIn(), rooms: [room("random", 2, 2), room("general", 10, 3, 2)] });
  ui.$('[data-room-id="random"]').click();
  await settle();
  const badge = () => ui.$('[data-room-id="general"]').querySelector('[data-testid="unread-badge"]');
  assert.equal(badge()?.textContent, "2");
  await ui.emit([
    { type: "message", message: entry(11, { kind: "reaction", target: "m-general-3", emoji: "👍", on: true }, "reacted 👍") },
    { type: "message", message: entry(12, { kind: "edit", target: "m-general-3", body: "x" }, "✎ x") },
  ]);
  assert.equal(badge()?.textContent, "2", "changes are not news");
  await ui.emit([
    { type: "message", message: msg("general", 13, "bob", "news") },
    { type: "unread", room_id: "general", count: 3 },
  ]);
  assert.equal(badge()?.textContent, "3");
  const views = ui.called("set_view");
  assert.equal(views.at(-1).unreadTotal, 3, "the tray and title get the sum");
});
