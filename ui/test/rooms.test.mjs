// A person's first half hour in the chat window (issue 23): one draft per room, kept across
// restarts; reading only with the window focused and only what was on screen; "read" kept from
// an earlier run; presence that came before the rooms; the "New messages" marker; the keyboard
// going to the composer; long and direct-room names; the banner on the sign-in screen.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { boot, settle, msg, room, signedIn } from "./page.mjs";
import { SAVE_AFTER_MS } from "../app/js/drafts.js";

const composer = (ui) => ui.$('[data-testid="composer"]');
const type = (ui, text) => {
  composer(ui).value = text;
  composer(ui).dispatch("input");
};
const open = async (ui, id) => {
  ui.$(`[data-room-id="${id}"]`).click();
  await settle();
};
const badge = (ui, id) => ui.$(`[data-room-id="${id}"]`).querySelector('[data-testid="unread-badge"]')?.textContent ?? "";

test("each room keeps its own draft: switching shows the room's own text, Enter sends it to that room only", async () => {
  const ui = await boot({ ...signedIn(), save_draft: null });
  type(ui, "for general");
  await open(ui, "random");
  assert.equal(composer(ui).value, "", "random does not show general's draft");
  type(ui, "for random");
  await open(ui, "general");
  assert.equal(composer(ui).value, "for general");
  composer(ui).dispatch("keydown", { key: "Enter", shiftKey: false });
  await settle();
  assert.deepEqual(ui.called("send_message"), [{ room_id: "general", body: "for general" }]);
  await open(ui, "random");
  assert.equal(composer(ui).value, "for random", "sending in general left random's draft alone");
  await open(ui, "general");
  assert.equal(composer(ui).value, "", "a sent draft is gone");

  // Written to the account's cache once typing pauses, so it survives a restart.
  await new Promise((r) => setTimeout(r, SAVE_AFTER_MS + 50));
  const saved = Object.fromEntries(ui.called("save_draft").map((a) => [a.room_id, a.body]));
  assert.deepEqual(saved, { general: "", random: "for random" });
});

test("drafts kept from an earlier run come back in their rooms", async () => {
  const ui = await boot({ ...signedIn(), drafts: [{ room_id: "random", body: "half a thought" }] });
  assert.equal(composer(ui).value, "", "general has none");
  await open(ui, "random");
  assert.equal(composer(ui).value, "half a thought");
});

test("a window shown but not focused reads nothing; focusing it reads what is on screen", async () => {
  const ui = await boot({ ...signedIn(), set_view: null });
  const reads = ui.called("mark_read").length;
  document.focused = false;
  document.defaultView.fire("blur");
  await settle();
  assert.deepEqual(ui.called("set_view").at(-1), { activeRoom: null, unreadTotal: 0 }, "no room is in view: the shell notifies");
  await ui.emit([{ type: "message", message: msg("general", 4) }, { type: "unread", room_id: "general", count: 1 }]);
  assert.equal(ui.called("mark_read").length, reads, "not read while unfocused");
  assert.equal(badge(ui, "general"), "1", "the open room keeps its badge");
  assert.deepEqual(ui.called("set_view").at(-1), { activeRoom: null, unreadTotal: 1 });

  document.focused = true;
  document.defaultView.fire("focus");
  await settle();
  assert.deepEqual(ui.called("mark_read").at(-1), { room_id: "general", seq: 4 });
  assert.equal(badge(ui, "general"), "");
  assert.deepEqual(ui.called("set_view").at(-1), { activeRoom: "general", unreadTotal: 0 });
});

test("\"read\" on our own messages comes from the room (relay or cache), not only from live receipts", async () => {
  const ui = await boot({ ...signedIn(), rooms: [room("random", 2, 2), { ...room("general", 3, 1), others_read_seq: 3 }] });
  const mine = ui.all('[data-testid="message"]').find((m) => m.dataset.seq === "3");
  assert.equal(mine.querySelector(".delivery").dataset.delivery, "read");
});

test("\"read\" follows a room copy that arrives after the room was drawn (the first sync after signing in)", async () => {
  const ui = await boot(signedIn());
  const delivery = () => ui.all('[data-testid="message"]').find((m) => m.dataset.seq === "3").querySelector(".delivery").dataset.delivery;
  assert.equal(delivery(), "sent");
  await ui.emit([{ type: "room", room: { ...room("general", 3, 3), others_read_seq: 3 } }]);
  assert.equal(delivery(), "read");
});

test("presence heard before the rooms load shows on the direct room; a DM is named after the other person", async () => {
  const dm = { id: "d1", name: "alice, carol", kind: "direct", members: ["alice", "carol"], last_seq: 0, read_seq: 0 };
  const ui = await boot({
    ...signedIn(),
    rooms: [room("general", 3, 3), dm],
    resume: (_, { emit }) => {
      emit([{ type: "presence", user: "carol", online: true, last_seen: null }]);
      return { server_url: "http://127.0.0.1:7447", username: "alice" };
    },
  });
  const item = ui.$('[data-room-id="d1"]');
  assert.equal(item.querySelector('[data-testid="presence"]').dataset.online, "true");
  assert.equal(item.querySelector(".name").textContent, "@ carol");
  await open(ui, "d1");
  assert.equal(ui.$("#room-title").textContent, "@ carol");
});

test("a room opened with many unread lands on a \"New messages\" marker and reads only what is on screen", async () => {
  const page = ({ before_seq = 201, after_seq, limit = 50 }) => {
    const first = after_seq != null ? after_seq + 1 : before_seq - limit;
    return Array.from({ length: limit }, (_, i) => first + i).filter((s) => s >= 1 && s <= 200).map((s) => msg("busy", s));
  };
  // The session's count after a read: every seq of "busy" is a message from bob.
  const mark_read = ({ room_id, seq }, { emit }) => emit([{ type: "unread", room_id, count: room_id === "busy" ? 200 - seq : 0 }]);
  const ui = await boot({ ...signedIn(), rooms: [room("general", 3, 3), room("busy", 200, 50)], messages: (a) => (a.room_id === "busy" ? page(a) : []), history: (a) => page(a), mark_read });
  await open(ui, "busy");
  const rows = ui.$('[data-testid="message-list"]').elements;
  const marker = ui.$('[data-testid="unread-marker"]');
  assert.ok(marker, "a marker is drawn");
  assert.equal(marker.textContent, "New messages");
  const next = rows[rows.indexOf(marker) + 1];
  assert.equal(next.dataset.seq, "51", "the marker sits above the first unread");
  const list = ui.$('[data-testid="message-list"]');
  assert.ok(list.scrollTop <= marker.offsetTop && marker.offsetTop < list.scrollTop + list.clientHeight, `the view is at the marker: ${list.scrollTop} ${marker.offsetTop} ${rows.length}`);
  const read = ui.called("mark_read").filter((a) => a.room_id === "busy").at(-1);
  assert.ok(read && read.seq > 50 && read.seq < 100, `read only what is on screen: ${JSON.stringify(read)}`);
  assert.notEqual(badge(ui, "busy"), "", "the rest stays unread");
});

test("switching rooms by any means gives the composer the keyboard; a key typed elsewhere goes to it", async () => {
  const ui = await boot(signedIn());
  const random = ui.$('[data-room-id="random"]');
  random.focus();
  random.click();
  await settle();
  assert.equal(document.activeElement, composer(ui), "after a click on a room");

  ui.$('[data-room-id="general"]').focus();
  const key = document.key({ key: "h" });
  assert.equal(key.defaultPrevented, true);
  assert.equal(document.activeElement, composer(ui));
  assert.equal(composer(ui).value, "h", "the keystroke was not lost");
  assert.equal(document.key({ key: "i" }).defaultPrevented, false, "typing in the composer is left to it");

  ui.$('[data-room-id="general"]').focus();
  assert.equal(document.key({ key: "a", ctrlKey: true }).defaultPrevented, false, "shortcuts are not text");
  assert.equal(document.key({ key: " " }).defaultPrevented, false, "Space presses the focused button");
  ui.$('[data-testid="new-room"]').click();
  const name = ui.$('[data-testid="new-room-name"]');
  assert.equal(document.activeElement, name);
  document.key({ key: "x" });
  assert.equal(composer(ui).value, "h", "nothing reaches the composer while a dialog is open");
});

test("long names are cut on screen with the whole name in the tooltip", async () => {
  const long = "x".repeat(64);
  const user = "u".repeat(32);
  const ui = await boot({ ...signedIn(), resume: { server_url: "http://127.0.0.1:7447", username: user }, rooms: [{ ...room(long, 0, 0), members: [user, "bob"] }] });
  assert.equal(ui.$(`[data-room-id="${long}"]`).title, long);
  assert.equal(ui.$("#room-title").title, `# ${long}`);
  assert.equal(ui.$("#whoami").title, user);
  const css = readFileSync(new URL("../app/css/app.css", import.meta.url), "utf8");
  for (const rule of [/\.room-head h2 \{[^}]*text-overflow: ellipsis/, /\.whoami \{[^}]*text-overflow: ellipsis/, /\.room-list \.line \.name \{[^}]*min-width: 0/]) {
    assert.match(css, rule);
  }
});

test("the room-name field takes what the relay takes (ROOM_NAME_MAX_CHARS)", () => {
  const limits = readFileSync(new URL("../../crates/protocol/src/limits.rs", import.meta.url), "utf8");
  const max = /ROOM_NAME_MAX_CHARS: usize = (\d+)/.exec(limits)?.[1];
  const html = readFileSync(new URL("../app/index.html", import.meta.url), "utf8");
  assert.match(html, new RegExp(`data-testid="new-room-name"[^>]*maxlength="${max}"`));
});

test("the sign-in screen shows no connection state of the account that left", async () => {
  const ui = await boot({ ...signedIn(), logout: null });
  const banner = ui.$('[data-testid="connection-status"]');
  assert.equal(banner.hidden, false);
  ui.$("#logout").click();
  await settle();
  assert.equal(ui.$("#login-screen").hidden, false);
  assert.equal(banner.hidden, true, "no \"connected\" on the sign-in screen");
});

test("Tab stays inside an open dialog", async () => {
  const ui = await boot(signedIn());
  ui.$('[data-testid="new-room"]').click();
  const dialog = ui.$("#new-room-dialog");
  const name = ui.$('[data-testid="new-room-name"]');
  const cancel = dialog.querySelector('[data-action="cancel"]');
  assert.equal(document.activeElement, name);
  cancel.focus();
  assert.equal(cancel.dispatch("keydown", { key: "Tab", shiftKey: false }).defaultPrevented, true);
  assert.equal(document.activeElement, name, "Tab past the last control comes back to the first");
  name.dispatch("keydown", { key: "Tab", shiftKey: true });
  assert.equal(document.activeElement, cancel, "Shift+Tab from the first goes to the last");
  const members = ui.$('[data-testid="new-room-members"]');
  members.focus();
  assert.equal(members.dispatch("keydown", { key: "Tab", shiftKey: false }).defaultPrevented, false, "in between, Tab moves as usual");
});

test("while the connection waits to retry, \"Retry now\" is offered and asks the session to retry", async () => {
  const ui = await boot({ ...signedIn(), retry_now: null });
  const retry = ui.$('[data-testid="retry-now"]');
  assert.equal(retry.hidden, true, "not while connected");
  await ui.emit([{ type: "connection", state: { state: "connecting", attempt: 3, retry_in_ms: 20000 } }]);
  assert.equal(retry.hidden, false);
  retry.click();
  await settle();
  assert.equal(ui.called("retry_now").length, 1);
  await ui.emit([{ type: "connection", state: { state: "connecting", attempt: 4, retry_in_ms: null } }]);
  assert.equal(retry.hidden, true, "not while an attempt runs");
});

test("a message that failed to send offers Retry (sent again as a new message) and Delete", async () => {
  const ui = await boot({ ...signedIn(), discard_failed: null });
  const failed = (client_id, body) => [
    { type: "message_state", client_id, room_id: "general", state: { state: "pending", body, created_at: "2026-11-25T10:06:00Z" } },
    { type: "message_state", client_id, room_id: "general", state: { state: "failed", error: { code: "forbidden", message: "not a member" } } },
  ];
  await ui.emit([...failed("c-one", "first try"), ...failed("c-two", "unwanted")]);
  const row = (id) => ui.all('[data-testid="message"]').find((m) => m.dataset.key === `c${id}`);
  assert.ok(row("c-one").querySelector('[data-testid="message-retry"]'));
  row("c-two").querySelector('[data-testid="message-delete"]').click();
  await settle();
  assert.deepEqual(ui.called("discard_failed"), [{ client_id: "c-two" }]);
  assert.equal(row("c-two"), undefined, "deleted");
  assert.equal(ui.called("send_message").length, 0);

  row("c-one").querySelector('[data-testid="message-retry"]').click();
  await settle();
  assert.deepEqual(ui.called("discard_failed").at(-1), { client_id: "c-one" });
  assert.deepEqual(ui.called("send_message"), [{ room_id: "general", body: "first try" }]);
  assert.equal(row("c-one"), undefined, "the failed copy is gone");
  assert.equal(ui.all('[data-testid="message"]').at(-1).querySelector(".body").textContent, "first try", "sent again, pending");
});

test("the room open last is opened again at start, and each room opened is kept", async () => {
  const ui = await boot({ ...signedIn(), last_room: "random", keep_last_room: null });
  assert.equal(ui.$('[aria-current="true"]').dataset.roomId, "random", "not the first of the list");
  assert.deepEqual(ui.called("keep_last_room").at(-1), { room_id: "random" });
  await open(ui, "general");
  assert.deepEqual(ui.called("keep_last_room").at(-1), { room_id: "general" });
  const gone = await boot({ ...signedIn(), last_room: "left-since" });
  assert.equal(gone.$('[aria-current="true"]').dataset.roomId, "general", "a room no longer ours: the first of the list");
});

test("each room's notification level: shown for the open room, changed from its header, kept by the shell", async () => {
  const ui = await boot({ ...signedIn(), notification_levels: { general: "mentions" }, set_notification_level: () => null });
  const select = ui.$('[data-testid="room-notify"]');
  assert.equal(select.hidden, false);
  assert.equal(select.value, "mentions", "general as the shell kept it");
  select.value = "none";
  select.dispatch("change");
  await settle();
  assert.deepEqual(ui.called("set_notification_level"), [{ room_id: "general", level: "none" }]);
  ui.$('[data-room-id="random"]').click();
  await settle();
  assert.equal(select.value, "all", "a room never set is at all");
  ui.$('[data-room-id="general"]').click();
  await settle();
  assert.equal(select.value, "none");
});

test("a level the shell could not keep goes back to what it was", async () => {
  const ui = await boot({ ...signedIn(), set_notification_level: { reject: { code: "invalid", message: "cannot keep the setting: disk full" } } });
  const select = ui.$('[data-testid="room-notify"]');
  select.value = "none";
  select.dispatch("change");
  await settle();
  assert.equal(select.value, "all");
});
