// The store's reducers: (room, seq) once and in order, unread counts, our own sends, typing.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as store from "../app/js/store.js";
import { WINDOW } from "../app/js/paging.js";

const msg = (room_id, seq, sender = "bob", extra = {}) => ({
  id: `${room_id}-${seq}`,
  room_id,
  seq,
  sender,
  body: `message ${seq}`,
  client_id: `c-${room_id}-${seq}`,
  sent_at: `2026-11-25T10:${String(seq % 60).padStart(2, "0")}:00Z`,
  ...extra,
});
const room = (id, last_seq = 0, read_seq = 0, extra = {}) => ({
  id,
  name: id,
  kind: "group",
  members: ["alice", "bob"],
  last_seq,
  read_seq,
  // As the session states it: every seq past read_seq a message from someone else.
  unread: last_seq - read_seq,
  ...extra,
});
const signedInWith = (...rooms) => store.setRooms(store.signedIn(store.initialState(), "alice"), rooms);
const seqs = (state, roomId) => (state.messages[roomId] ?? []).map((m) => m.seq);

test("mergeBySeq keeps one entry per seq, ascending, and the first copy", () => {
  const first = msg("r", 2, "bob", { body: "original" });
  const merged = store.mergeBySeq([first, msg("r", 5)], [msg("r", 3), msg("r", 1), msg("r", 2, "bob", { body: "dup" }), msg("r", 3)]);
  assert.deepEqual(merged.map((m) => m.seq), [1, 2, 3, 5]);
  assert.equal(merged[1].body, "original");
});

test("mergeBySeq returns the same array when nothing is new (cheap re-render checks)", () => {
  const list = [msg("r", 1), msg("r", 2)];
  assert.equal(store.mergeBySeq(list, [msg("r", 2)]), list);
  assert.equal(store.mergeBySeq(list, []), list);
});

test("live messages out of order and repeated are shown once, in seq order", () => {
  let state = signedInWith(room("general", 0, 0));
  const events = [4, 2, 3, 2, 1, 4].map((seq) => ({ type: "message", message: msg("general", seq) }));
  state = store.applyEvents(state, events);
  assert.deepEqual(seqs(state, "general"), [1, 2, 3, 4]);
  assert.deepEqual(store.timeline(state, "general").map((t) => t.seq), [1, 2, 3, 4]);
});

test("a history page prepended below live messages merges into one ordered list", () => {
  let state = signedInWith(room("general", 60, 60));
  state = store.addMessages(state, "general", [msg("general", 59), msg("general", 60)]);
  state = store.applyEvent(state, { type: "message", message: msg("general", 61) });
  state = store.addMessages(state, "general", [57, 58, 59].map((s) => msg("general", s)));
  assert.deepEqual(seqs(state, "general"), [57, 58, 59, 60, 61]);
  assert.equal(store.firstLoadedSeq(state, "general"), 57);
  assert.equal(store.lastLoadedSeq(state, "general"), 61);
});

test("messages are filed by room: the same seq in two rooms is two messages", () => {
  let state = signedInWith(room("a"), room("b"));
  state = store.applyEvents(state, [
    { type: "message", message: msg("a", 1) },
    { type: "message", message: msg("b", 1) },
  ]);
  assert.deepEqual(seqs(state, "a"), [1]);
  assert.deepEqual(seqs(state, "b"), [1]);
  assert.equal(store.addMessages(state, "a", [msg("b", 2)]), state, "a page for another room is ignored");
});

test("unread: a message in a room bumps last_seq; marking read clears it; duplicates count once", () => {
  let state = signedInWith(room("general", 3, 3), room("random", 0, 0));
  state = store.applyEvents(state, [
    { type: "message", message: msg("random", 1) },
    { type: "message", message: msg("random", 2) },
    { type: "message", message: msg("random", 2) },
  ]);
  assert.equal(state.rooms.random.last_seq, 2);
  assert.equal(state.rooms.random.read_seq, 0);
  assert.equal(state.rooms.general.last_seq, 3, "other rooms untouched");
  state = store.markRead(state, "random", 2);
  assert.equal(state.rooms.random.read_seq, 2);
  assert.equal(store.markRead(state, "random", 1), state, "read never moves backwards");
});

test("read_seq moves only by markRead (the session owns it), even for our own messages", () => {
  let state = signedInWith(room("general", 5, 5));
  state = store.applyEvent(state, { type: "message", message: msg("general", 6, "alice") });
  assert.equal(state.rooms.general.last_seq, 6);
  assert.equal(state.rooms.general.read_seq, 5, "so the open room still sends mark_read for it");
});

test("a room event replaces the copy but never lowers seqs (a stale list after a live message)", () => {
  let state = signedInWith(room("general", 5, 2));
  state = store.applyEvent(state, { type: "message", message: msg("general", 7) });
  state = store.applyEvent(state, { type: "room", room: room("general", 6, 3, { name: "General", members: ["alice", "bob", "carol"] }) });
  const r = state.rooms.general;
  assert.equal(r.name, "General");
  assert.deepEqual(r.members, ["alice", "bob", "carol"]);
  assert.equal(r.last_seq, 7);
  assert.equal(r.read_seq, 3);
});

/** The `pending` event of one of our sends: it carries what the list needs to draw it. */
const pending = (client_id, body, created_at = "2026-11-25T10:00:00Z", room_id = "general") => ({
  type: "message_state", client_id, room_id, state: { state: "pending", body, created_at },
});

test("own send: pending, then sent, then replaced by the committed message (shown once)", () => {
  let state = signedInWith(room("general", 0, 0));
  state = store.applyEvent(state, pending("c1", "hi"));
  let items = store.timeline(state, "general");
  assert.equal(items.length, 1);
  assert.deepEqual([items[0].delivery, items[0].seq, items[0].body, items[0].at], ["pending", null, "hi", "2026-11-25T10:00:00Z"]);

  state = store.applyEvent(state, { type: "message_state", client_id: "c1", room_id: "general", state: { state: "sent", seq: 1 } });
  assert.equal(store.timeline(state, "general")[0].delivery, "sent");
  assert.equal(store.timeline(state, "general")[0].body, "hi", "the body stays with the send");

  state = store.applyEvent(state, { type: "message", message: msg("general", 1, "alice", { client_id: "c1", body: "hi" }) });
  items = store.timeline(state, "general");
  assert.equal(items.length, 1);
  assert.deepEqual([items[0].seq, items[0].own, items[0].delivery, items[0].body], [1, true, "sent", "hi"]);
  assert.deepEqual(state.outbox, {});
});

test("own send: the committed message landing first is not duplicated by later states", () => {
  let state = signedInWith(room("general", 0, 0));
  state = store.applyEvent(state, pending("c1", "message 1"));
  state = store.applyEvent(state, { type: "message", message: msg("general", 1, "alice", { client_id: "c1" }) });
  state = store.applyEvent(state, { type: "message_state", client_id: "c1", room_id: "general", state: { state: "sent", seq: 1 } });
  state = store.applyEvent(state, pending("c1", "message 1"));
  assert.equal(store.timeline(state, "general").length, 1);
  assert.deepEqual(state.outbox, {});
});

test("own send: a state for a send never heard as pending draws nothing (no blank placeholder)", () => {
  let state = signedInWith(room("general", 0, 0));
  state = store.applyEvent(state, { type: "message_state", client_id: "c7", room_id: "general", state: { state: "sent", seq: 1 } });
  state = store.applyEvent(state, {
    type: "message_state", client_id: "c8", room_id: "general", state: { state: "failed", error: { code: "forbidden", message: "no" } },
  });
  assert.deepEqual(store.timeline(state, "general"), []);
  assert.deepEqual(state.outbox, {});
});

test("own send: a failure is shown with its reason, after the committed messages", () => {
  let state = signedInWith(room("general", 1, 1));
  state = store.addMessages(state, "general", [msg("general", 1)]);
  state = store.applyEvent(state, pending("c9", "x".repeat(5)));
  state = store.applyEvent(state, {
    type: "message_state",
    client_id: "c9",
    room_id: "general",
    state: { state: "failed", error: { code: "too_large", message: "body too long" } },
  });
  const items = store.timeline(state, "general");
  assert.deepEqual(items.map((i) => i.delivery), [null, "failed"]);
  assert.equal(items[1].error, "body too long");
  assert.equal(items[1].body, "xxxxx");
});

test("signing in keeps what the new session says before the command answers; signing out forgets it", () => {
  let state = store.signedIn(store.initialState(), "old");
  state = store.applyEvent(state, { type: "room", room: room("stale") });
  state = store.signingIn(state);
  assert.deepEqual(state.rooms, {}, "nothing of the earlier sign-in");
  state = store.applyEvents(state, [{ type: "room", room: room("general") }, pending("c1", "queued before")], 5);
  state = store.signedIn(state, "alice");
  assert.deepEqual(Object.keys(state.rooms), ["general"]);
  assert.equal(store.timeline(state, "general")[0].body, "queued before");
  assert.equal(state.me, "alice");
  assert.deepEqual(store.signedOut(state).rooms, {});
});

test("typing: start and stop per room and user, never ourselves, no duplicates", () => {
  let state = signedInWith(room("general"), room("random"));
  const t = (room_id, user, typing) => ({ type: "typing", room_id, user, typing });
  state = store.applyEvents(state, [t("general", "bob", true), t("general", "carol", true), t("general", "bob", true), t("general", "alice", true), t("random", "dave", true)]);
  assert.deepEqual(store.typers(state, "general"), ["bob", "carol"]);
  assert.deepEqual(store.typers(state, "random"), ["dave"]);
  state = store.applyEvent(state, t("general", "bob", false));
  assert.deepEqual(store.typers(state, "general"), ["carol"]);
  assert.equal(store.applyEvent(state, t("general", "zed", false)), state, "a stop for someone not typing changes nothing");
});

test("connection events replace the view and remember when they arrived", () => {
  let state = store.initialState();
  state = store.applyEvent(state, { type: "connection", state: { state: "connecting", attempt: 2, retry_in_ms: 4000 } }, 1234);
  assert.deepEqual(state.connection, { state: "connecting", attempt: 2, retry_in_ms: 4000 });
  assert.equal(state.connectionAt, 1234);
  const online = store.applyEvent(state, { type: "presence", user: "bob", online: true, last_seen: null });
  assert.equal(store.isOnline(online, "bob"), true);
  assert.equal(store.isOnline(online, "carol"), false, "unknown users are not shown online");
  const gone = store.applyEvent(online, { type: "presence", user: "bob", online: false, last_seen: "2026-11-25T10:00:00Z" });
  assert.equal(store.isOnline(gone, "bob"), false);
});

test("signing in or out clears the previous account's data but keeps the connection", () => {
  let state = signedInWith(room("general", 1, 0));
  state = store.applyEvent(state, { type: "connection", state: { state: "connected", transport: "websocket" } }, 5);
  const out = store.signedOut(state);
  assert.equal(out.me, null);
  assert.deepEqual(out.rooms, {});
  assert.equal(out.connection.state, "connected");
});

test("roomList: general first, then groups, then direct rooms, by name", () => {
  const state = signedInWith(
    room("d1", 0, 0, { name: "bob", kind: "direct" }),
    room("z", 0, 0, { name: "zeta" }),
    room("general", 0, 0, { name: "general" }),
    room("a", 0, 0, { name: "alpha" }),
  );
  assert.deepEqual(store.roomList(state).map((r) => r.id), ["general", "a", "z", "d1"]);
});

test("roomList: the room with the newest message first; rooms with none known after, as before", () => {
  let state = signedInWith(room("general", 0, 0), room("a", 0, 0, { name: "alpha" }), room("z", 0, 0, { name: "zeta" }), room("q", 0, 0, { name: "quiet" }));
  state = store.addMessages(state, "z", [msg("z", 1)]); // 10:01
  state = store.addMessages(state, "a", [msg("a", 2)]); // 10:02
  assert.deepEqual(store.roomList(state).map((r) => r.id), ["a", "z", "general", "q"]);
  state = store.addMessages(state, "z", [msg("z", 3)], { live: true });
  assert.deepEqual(store.roomList(state).map((r) => r.id), ["z", "a", "general", "q"], "a new message moves its room up");
});

test("the window stays bounded: older pages detach it from the live end, live messages then wait", () => {
  let state = signedInWith(room("r", 1000, 1000));
  const range = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => msg("r", from + i));
  state = store.addMessages(state, "r", range(701, 1000));
  assert.equal(seqs(state, "r").length, WINDOW);
  state = store.addMessages(state, "r", range(601, 700), { keep: "top" });
  assert.equal(seqs(state, "r").length, WINDOW, "still bounded");
  assert.deepEqual([seqs(state, "r")[0], seqs(state, "r").at(-1)], [601, 900]);
  assert.equal(state.detached.r, true);
  state = store.applyEvent(state, { type: "message", message: msg("r", 1001) });
  assert.equal(seqs(state, "r").at(-1), 900, "a live message does not make a hole in a detached window");
  assert.equal(state.rooms.r.last_seq, 1001, "but counts");
  assert.equal(state.previews.r.seq, 1001);
  state = store.addMessages(state, "r", range(901, 1001), { keep: "bottom" });
  assert.equal(state.detached.r, true, "a page alone does not say it reached the newest");
  state = store.attach(state, "r");
  assert.equal(state.detached.r, undefined, "back at the newest (the loader saw a short page): attached again");
  assert.deepEqual([seqs(state, "r")[0], seqs(state, "r").at(-1)], [702, 1001]);
  state = store.applyEvent(state, { type: "message", message: msg("r", 1002) });
  assert.equal(seqs(state, "r").at(-1), 1002);
});

test("change entries are never kept in a window; the session's unread count is the room's", () => {
  let state = signedInWith(room("r", 10, 3, { unread: 2 }));
  const entry = { ...msg("r", 11), change: { kind: "reaction", target: "r-10", emoji: "👍", on: true } };
  state = store.addMessages(state, "r", [msg("r", 10), entry]);
  assert.deepEqual(seqs(state, "r"), [10]);
  assert.equal(state.rooms.r.last_seq, 11, "the entry took a seq");
  assert.equal(store.unreadTotal(state), 2, "not last_seq - read_seq");
  state = store.applyEvent(state, { type: "unread", room_id: "r", count: 5 });
  assert.equal(store.unread(state.rooms.r), 5);
  assert.equal(store.applyEvent(state, { type: "unread", room_id: "r", count: 5 }), state, "no change, same state");
  assert.equal(store.applyEvent(state, { type: "unread", room_id: "nope", count: 1 }), state, "an unknown room is ignored");
});

test("resetWindow empties a detached window only", () => {
  let state = signedInWith(room("r", 5, 5));
  state = store.addMessages(state, "r", [msg("r", 5)]);
  assert.equal(store.resetWindow(state, "r"), state);
  state = { ...state, detached: { r: true } };
  const reset = store.resetWindow(state, "r");
  assert.equal(reset.messages.r, undefined);
  assert.equal(reset.detached.r, undefined);
});

test("receipts: our message turns read once another member's receipt reaches it", () => {
  let state = signedInWith(room("r", 2, 2));
  state = store.addMessages(state, "r", [msg("r", 1, "alice"), msg("r", 2, "alice")]);
  const deliveries = () => store.timeline(state, "r").map((i) => i.delivery);
  assert.deepEqual(deliveries(), ["sent", "sent"]);
  state = store.applyEvent(state, { type: "receipt", room_id: "r", user: "alice", seq: 2 });
  assert.deepEqual(deliveries(), ["sent", "sent"], "our own receipt is not a read");
  state = store.applyEvent(state, { type: "receipt", room_id: "r", user: "bob", seq: 1 });
  assert.deepEqual(deliveries(), ["read", "sent"]);
  const same = store.applyEvent(state, { type: "receipt", room_id: "r", user: "bob", seq: 1 });
  assert.equal(same, state, "an old receipt changes nothing");
});

test("selectors: unread total, DM peer, neighbours with wrap, switcher matching, dropping a room", () => {
  let state = signedInWith(room("general", 5, 2), room("plans", 3, 3), room("d1", 4, 0, { kind: "direct", name: "bob", members: ["alice", "bob"] }));
  assert.equal(store.unreadTotal(state), 3 + 4);
  assert.equal(store.peer(state, state.rooms.d1), "bob");
  assert.equal(store.peer(state, state.rooms.plans), null);
  assert.equal(store.neighbourRoom(state, "general", 1), "plans");
  assert.equal(store.neighbourRoom(state, "general", -1), "d1", "wraps");
  assert.equal(store.neighbourRoom(state, null, 1), "general");
  assert.deepEqual(store.matchRooms(state, "PL").map((r) => r.id), ["plans"]);
  assert.deepEqual(store.matchRooms(state, "bo").map((r) => r.id), ["d1"]);
  assert.equal(store.matchRooms(state, "").length, 3);
  state = store.selectRoom(state, "plans");
  const left = store.dropRoom(state, "plans");
  assert.equal(left.rooms.plans, undefined);
  assert.equal(left.selected, null);
  assert.equal(store.unreadTotal(left), 7);
});

test("a room that is gone (removed by its creator, or left on another device) leaves the list and the selection", () => {
  let state = signedInWith(room("general", 5, 2), room("plans", 3, 3));
  state = store.selectRoom(state, "plans");
  state = store.applyEvent(state, { type: "room_gone", room_id: "plans" });
  assert.equal(state.rooms.plans, undefined);
  assert.equal(state.selected, null);
  assert.deepEqual(store.roomList(state).map((r) => r.id), ["general"]);
  assert.equal(store.unreadTotal(state), 3);
});
