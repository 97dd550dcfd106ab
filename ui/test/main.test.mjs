// main.js and the views wired together, on the fake page (page.mjs) and a fake Tauri:
// start-up paths, sign-in, rendering from commands and from event batches, sending, typing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { boot, settle, msg, room, XSS, signedIn } from "./page.mjs";

test("a resumed sign-in opens the chat: rooms, the first room's messages, marked read", async () => {
  const ui = await boot(signedIn());
  assert.equal(ui.$("#login-screen").hidden, true);
  assert.equal(ui.$("#chat-screen").hidden, false);
  assert.equal(ui.$("#whoami").textContent, "alice");
  assert.deepEqual(ui.all('[data-testid="room-item"]').map((r) => r.dataset.roomId), ["general", "random"]);
  assert.deepEqual(ui.seqs(), ["1", "2", "3"]);
  assert.deepEqual(ui.called("mark_read"), [{ room_id: "general", seq: 3 }]);
  assert.equal(ui.all('[data-testid="unread-badge"]').length, 0);
  const first = ui.all('[data-testid="message"]')[0];
  assert.equal(first.querySelector(".body").textContent, XSS, "markup stays text");
  assert.equal(first.querySelectorAll("img").length + first.querySelectorAll("script").length, 0);
  assert.equal(ui.$('[data-testid="connection-status"]').dataset.state, "connected");
});

test("event batches: messages in order once, unread elsewhere, typing, the banner", async () => {
  const ui = await boot(signedIn());
  await ui.emit([
    { type: "message", message: msg("general", 5) },
    { type: "message", message: msg("general", 4) },
    { type: "message", message: msg("general", 4) },
    { type: "message", message: msg("random", 3) },
    { type: "message", message: msg("random", 4) },
    // The session's count of the room's news, after its messages.
    { type: "unread", room_id: "random", count: 2 },
  ]);
  assert.deepEqual(ui.seqs(), ["1", "2", "3", "4", "5"]);
  const badge = ui.$('[data-room-id="random"]').querySelector('[data-testid="unread-badge"]');
  assert.equal(badge.textContent, "2");
  assert.deepEqual(ui.called("mark_read").at(-1), { room_id: "general", seq: 5 }, "the open room is read as it grows");

  const typing = (user, on) => ({ type: "typing", room_id: "general", user, typing: on });
  const line = () => ui.$('[data-testid="typing-indicator"]').textContent;
  await ui.emit([typing("bob", true)]);
  assert.equal(line(), "bob is typing…");
  await ui.emit([typing("carol", true)]);
  assert.equal(line(), "bob and carol are typing…");
  await ui.emit([typing("dave", true)]);
  assert.equal(line(), "several people are typing…");
  await ui.emit([typing("bob", false), typing("carol", false), typing("dave", false)]);
  assert.equal(line(), "");

  await ui.emit([{ type: "connection", state: { state: "connecting", attempt: 2, retry_in_ms: 3000 } }]);
  const banner = ui.$('[data-testid="connection-status"]');
  assert.equal(banner.dataset.state, "connecting");
  assert.equal(banner.textContent, "reconnecting in 3s");

  ui.$('[data-room-id="random"]').click();
  await settle();
  assert.equal(ui.$('[data-room-id="random"]').querySelector('[data-testid="unread-badge"]'), null);
  assert.deepEqual(ui.seqs(), ["3", "4"]);
  assert.deepEqual(ui.called("mark_read").at(-1), { room_id: "random", seq: 4 });
});

test("composer: Enter sends, Shift+Enter does not, typing is throttled, own send shows pending then sent", async () => {
  const ui = await boot(signedIn());
  const box = ui.$('[data-testid="composer"]');
  box.value = "h";
  box.dispatch("input");
  box.value = "hello";
  box.dispatch("input");
  assert.deepEqual(ui.called("typing"), [{ room_id: "general", typing: true }]);

  const shift = box.dispatch("keydown", { key: "Enter", shiftKey: true });
  assert.equal(shift.defaultPrevented, false);
  assert.equal(ui.called("send_message").length, 0);

  box.dispatch("keydown", { key: "Enter", shiftKey: false });
  await settle();
  assert.deepEqual(ui.called("send_message"), [{ room_id: "general", body: "hello" }]);
  assert.equal(box.value, "");
  assert.deepEqual(ui.seqs(), ["1", "2", "3", "pending"]);
  const delivery = () => ui.all('[data-testid="message"]').at(-1).querySelector(".delivery").textContent;
  assert.equal(delivery(), "pending");

  await ui.emit([{ type: "message_state", client_id: "c-new", room_id: "general", state: { state: "sent", seq: 4 } }]);
  assert.equal(delivery(), "sent");
  await ui.emit([{ type: "message", message: { ...msg("general", 4, "alice", "hello"), client_id: "c-new" } }]);
  assert.deepEqual(ui.seqs(), ["1", "2", "3", "4"], "the committed copy replaces the pending one");
});

test("a send refused by the command shows its message and keeps the text", async () => {
  const ui = await boot({ ...signedIn(), send_message: { reject: { code: "too_large", message: "message too long" } } });
  const box = ui.$('[data-testid="composer"]');
  box.value = "x";
  ui.$('[data-testid="send"]').click();
  await settle();
  assert.equal(ui.$("#composer-error").textContent, "message too long");
  assert.equal(box.value, "x");
});

test("New room: an in-page dialog creates the room and opens it; Esc closes it", async () => {
  const ui = await boot(signedIn());
  const dialog = ui.$("#new-room-dialog");
  assert.equal(dialog.hidden, true);
  ui.$('[data-testid="new-room"]').click();
  assert.equal(dialog.hidden, false);
  dialog.dispatch("keydown", { key: "Escape" });
  assert.equal(dialog.hidden, true, "Esc closes");
  ui.$('[data-testid="new-room"]').click();
  ui.$('[data-testid="new-room-submit"]').click();
  await settle();
  assert.equal(dialog.querySelector(".error").textContent, "A room needs a name.");
  ui.$('[data-testid="new-room-name"]').value = "plans";
  ui.$('[data-testid="new-room-members"]').value = "bob, carol";
  ui.$('[data-testid="new-room-submit"]').click();
  await settle();
  assert.deepEqual(ui.called("create_room"), [{ name: "plans", members: ["bob", "carol"] }]);
  assert.equal(dialog.hidden, true);
  assert.equal(ui.$("#room-title").textContent, "# plans");
  assert.equal(ui.$('[data-room-id="r-new"]').getAttribute("aria-current"), "true");
});

test("first run: the hosted relay's address is offered; errors show; logging in opens the chat", async () => {
  const ui = await boot({
    ...signedIn(),
    resume: null,
    connection_state: { state: "offline", reason: "signed_out" },
    host_locally: { address: "127.0.0.1", url: "http://127.0.0.1:7447" },
    register: { reject: { code: "invalid", message: "username taken" } },
    login: ({ username }) => ({ id: "u1", username }),
  });
  assert.equal(ui.$("#login-screen").hidden, false);
  assert.equal(ui.$("#chat-screen").hidden, true);
  assert.equal(ui.$('[data-testid="login-server"]').value, "http://127.0.0.1:7447");
  assert.equal(ui.$('[data-testid="connection-status"]').hidden, true, "no red pill on a fresh install");
  assert.deepEqual(ui.called("host_locally"), [{ let_others_connect: false }]);

  ui.$('[data-testid="login-username"]').value = "alice";
  ui.$('[data-testid="login-password"]').value = "correct horse";
  ui.$('[data-testid="register-submit"]').click();
  await settle();
  assert.deepEqual(ui.called("register"), [{ server_url: "http://127.0.0.1:7447", username: "alice", password: "correct horse" }]);
  assert.equal(ui.$("#login-error").textContent, "username taken");

  ui.$('[data-testid="login-submit"]').click();
  await settle();
  assert.equal(ui.called("login").length, 1);
  assert.equal(ui.$("#chat-screen").hidden, false);
  assert.equal(ui.$('[data-testid="login-password"]').value, "", "the password is not kept in the form");
});

const firstRun = (extra = {}) => ({
  ...signedIn(),
  resume: null,
  connection_state: { state: "offline", reason: "signed_out" },
  host_locally: { address: "127.0.0.1:7447", url: "http://127.0.0.1:7447", others_can_connect: false },
  login: ({ username }) => ({ id: "u1", username }),
  ...extra,
});

test("sign-in: an address without a scheme is completed, http:// to another computer warns before connecting", async () => {
  const ui = await boot(firstRun({ login: { reject: { code: "network", message: "Could not reach the server." } } }));
  const server = ui.$('[data-testid="login-server"]');
  const warning = ui.$('[data-testid="login-cleartext"]');
  ui.$('[data-testid="login-username"]').value = "alice";
  ui.$('[data-testid="login-password"]').value = "pw";
  const logIn = async (typed) => {
    server.value = typed;
    ui.$('[data-testid="login-submit"]').click();
    await settle();
    return ui.called("login").at(-1)?.server_url;
  };
  assert.equal(await logIn("127.0.0.1:7447"), "http://127.0.0.1:7447", "loopback: http://");
  assert.equal(await logIn("chat.example.org:8443/"), "https://chat.example.org:8443", "elsewhere: https://");
  assert.equal(server.value, "https://chat.example.org:8443", "the field shows what was used");
  assert.equal(warning.hidden, true);
  assert.equal(ui.called("login").length, 2);

  assert.equal(await logIn("http://192.168.1.20:7447"), "https://chat.example.org:8443", "not sent at the first press");
  assert.equal(warning.hidden, false);
  assert.match(warning.textContent, /http:\/\/192\.168\.1\.20:7447 is not encrypted.*password/);
  assert.equal(await logIn("http://192.168.1.20:7447"), "http://192.168.1.20:7447", "sent once the warning was shown");

  server.value = "https://192.168.1.20";
  server.dispatch("input");
  assert.equal(warning.hidden, true, "the warning follows the field as it is typed");
  server.value = "http://10.0.0.2";
  server.dispatch("input");
  assert.equal(warning.hidden, false);
  assert.equal(await logIn("http://10.0.0.2"), "http://10.0.0.2", "typed, so seen: one press");
  assert.equal(await logIn("ftp://x"), "http://10.0.0.2");
  assert.match(ui.$("#login-error").textContent, /web address/);
});

test("hosting: other computers can connect only once the user ticks the checkbox", async () => {
  let refuse = false;
  const ui = await boot(
    firstRun({
      host_locally: ({ let_others_connect }) =>
        refuse
          ? { reject: { code: "invalid", message: "sign out before changing who can connect" } }
          : let_others_connect
            ? { address: "0.0.0.0:7447", url: "http://127.0.0.1:7447", others_can_connect: true }
            : { address: "127.0.0.1:7447", url: "http://127.0.0.1:7447", others_can_connect: false },
    }),
  );
  const box = ui.$('[data-testid="hosting-share"]');
  assert.equal(ui.$("#hosting-share").hidden, false);
  assert.equal(Boolean(box.checked), false);
  assert.deepEqual(ui.called("host_locally"), [{ let_others_connect: false }], "loopback unless asked");
  box.checked = true;
  box.dispatch("change");
  await settle();
  assert.deepEqual(ui.called("host_locally").at(-1), { let_others_connect: true });
  assert.match(ui.$("#hosting").textContent, /other computers on this network can connect to it .*port 7447/);
  box.checked = false;
  box.dispatch("change");
  await settle();
  assert.deepEqual(ui.called("host_locally").at(-1), { let_others_connect: false });
  assert.match(ui.$("#hosting").textContent, /register there/);
  refuse = true;
  box.checked = true;
  box.dispatch("change");
  await settle();
  assert.equal(box.checked, false, "a refusal leaves the box as it was");
  assert.match(ui.$("#login-error").textContent, /sign out before/);
});

test("the connection pill is not shown on the sign-in screen: not after a logout, nor a wrong password", async () => {
  const ui = await boot({ ...signedIn(), login: { reject: { code: "unauthorized", message: "wrong username or password" } } });
  const pill = ui.$('[data-testid="connection-status"]');
  assert.equal(pill.hidden, false);
  assert.equal(pill.dataset.state, "connected");
  ui.$("#logout").click();
  await settle();
  assert.equal(ui.$("#login-screen").hidden, false);
  assert.equal(pill.hidden, true, "no stale 'connected' after signing out");
  ui.$('[data-testid="login-username"]').value = "alice";
  ui.$('[data-testid="login-password"]').value = "wrong";
  ui.$('[data-testid="login-submit"]').click();
  await settle();
  assert.equal(ui.$("#login-error").textContent, "wrong username or password");
  assert.equal(pill.hidden, true);
});

test("names that reorder or hide text show neutralised: room list, title, switcher, sender, typing, preview", async () => {
  const spoof = "evil\u202Egnp.exe";
  const hidden = "ad\u200Bmin";
  const ui = await boot({
    ...signedIn(),
    rooms: [{ ...room("r-spoof", 1, 1), name: spoof }],
    messages: ({ room_id, before_seq }) => (room_id === "r-spoof" && before_seq === undefined ? [msg("r-spoof", 1, hidden, "hi")] : []),
  });
  const shown = (text) => /[\u200B-\u200F\u202A-\u202E\u2066-\u2069]/u.test(text);
  const item = ui.$('[data-room-id="r-spoof"]');
  assert.equal(item.querySelector(".name").textContent, "# evil\uFFFDgnp.exe");
  assert.equal(ui.$("#room-title").textContent, "# evil\uFFFDgnp.exe");
  assert.equal(ui.all('[data-testid="message"]')[0].querySelector(".sender").textContent, "ad\uFFFDmin");
  assert.equal(item.querySelector(".preview").textContent, "ad\uFFFDmin: hi");
  await ui.emit([{ type: "typing", room_id: "r-spoof", user: hidden, typing: true }]);
  assert.equal(ui.$('[data-testid="typing-indicator"]').textContent, "ad\uFFFDmin is typing…");
  for (const text of [item.textContent, ui.$("#room-title").textContent, ui.$('[data-testid="message-list"]').textContent]) {
    assert.ok(!shown(text), JSON.stringify(text));
  }
});

test("a refused sign-in (offline: unauthorized) returns to the sign-in screen", async () => {
  const ui = await boot(signedIn());
  await ui.emit([{ type: "connection", state: { state: "offline", reason: "unauthorized" } }]);
  assert.equal(ui.$("#login-screen").hidden, false);
  assert.equal(ui.$("#chat-screen").hidden, true);
  assert.equal(ui.$('[data-testid="login-server"]').value, "http://127.0.0.1:7447");
  assert.match(ui.$("#login-error").textContent, /log in again/);
});

test("older pages: with too few messages to scroll, history is asked before the first seq", async () => {
  const ui = await boot({
    ...signedIn(),
    rooms: [room("general", 53, 53)],
    messages: ({ before_seq }) => (before_seq === undefined ? [51, 52, 53].map((s) => msg("general", s)) : []),
    history: ({ before_seq }) => (before_seq === 51 ? [msg("general", 49), msg("general", 50)] : []),
  });
  await settle();
  assert.deepEqual(ui.seqs(), ["49", "50", "51", "52", "53"]);
  // The newest page is asked at open (the session answers it from the cache when whole).
  assert.deepEqual(ui.called("history").map((a) => a.before_seq), [undefined, 51, 49], "then stops when a page comes back empty");
  assert.equal(ui.$(".older").textContent, "Loading older messages…");
});

test("sends still queued from an earlier run show as pending after start", async () => {
  // The resumed session announces them first, before `resume` itself answers.
  const ui = await boot({
    ...signedIn(),
    resume: (_, { emit }) => {
      emit([{ type: "message_state", client_id: "c-old", room_id: "general", state: { state: "pending", body: "written offline", created_at: "2026-11-25T09:00:00Z" } }]);
      return { server_url: "http://127.0.0.1:7447", username: "alice" };
    },
  });
  assert.deepEqual(ui.seqs(), ["1", "2", "3", "pending"]);
  assert.equal(ui.all('[data-testid="message"]').at(-1).querySelector(".body").textContent, "written offline");
  assert.equal(ui.called("pending").length, 0, "no second channel for the same fact");
});

test("events that arrive while a command is awaited are kept (no stale state written back)", async () => {
  const connected = { type: "connection", state: { state: "connected", transport: "websocket" } };
  let emitted = false;
  const ui = await boot({
    ...signedIn(),
    connection_state: { state: "connecting", attempt: 1, retry_in_ms: null },
    rooms: async (_, { emit }) => {
      if (!emitted) {
        emitted = true;
        emit([connected, { type: "message", message: msg("random", 3) }]);
      }
      return [room("random", 2, 2), room("general", 3, 1)];
    },
  });
  assert.equal(ui.$('[data-testid="connection-status"]').dataset.state, "connected");
  assert.equal(ui.$('[data-room-id="random"]').querySelector(".preview").textContent, "bob: message 3");
});

test("New DM, Invite and Leave dialogs call their commands and update the list", async () => {
  const ui = await boot({
    ...signedIn(),
    rooms: [room("general", 3, 3), room("plans", 0, 0)],
    open_dm: ({ username }) => ({ id: "d-carol", name: username, kind: "direct", members: ["alice", username], last_seq: 0, read_seq: 0 }),
    invite: ({ room_id, username }) => ({ ...room(room_id, 0, 0), members: ["alice", "bob", username] }),
    leave: null,
  });
  ui.$('[data-testid="new-dm"]').click();
  ui.$('[data-testid="new-dm-username"]').value = "carol";
  ui.$('[data-testid="new-dm-submit"]').click();
  await settle();
  assert.deepEqual(ui.called("open_dm"), [{ username: "carol" }]);
  assert.equal(ui.$("#room-title").textContent, "@ carol");
  assert.equal(ui.$('[data-testid="invite"]').hidden, true, "no inviting into a DM");

  ui.$('[data-room-id="general"]').click();
  await settle();
  assert.equal(ui.$('[data-testid="invite"]').hidden, true, "nor into general");
  assert.equal(ui.$('[data-testid="leave"]').hidden, true, "general cannot be left");

  ui.$('[data-room-id="plans"]').click();
  await settle();
  ui.$('[data-testid="invite"]').click();
  ui.$('[data-testid="invite-username"]').value = "dave";
  ui.$('[data-testid="invite-submit"]').click();
  await settle();
  assert.deepEqual(ui.called("invite"), [{ room_id: "plans", username: "dave" }]);
  assert.equal(ui.$("#room-members").textContent, "alice, bob, dave");

  ui.$('[data-testid="leave"]').click();
  assert.equal(ui.$("#leave-dialog").hidden, false);
  ui.$('[data-testid="leave-submit"]').click();
  await settle();
  assert.deepEqual(ui.called("leave"), [{ room_id: "plans" }]);
  assert.equal(ui.$('[data-room-id="plans"]'), null);
  assert.equal(ui.$("#room-title").textContent, "# general", "another room opens");
});

test("a refused dialog command shows its reason and keeps the dialog open", async () => {
  const ui = await boot({ ...signedIn(), open_dm: { reject: { code: "not_found", message: "no such user" } } });
  ui.$('[data-testid="new-dm"]').click();
  ui.$('[data-testid="new-dm-username"]').value = "nobody";
  ui.$('[data-testid="new-dm-submit"]').click();
  await settle();
  assert.equal(ui.$("#new-dm-dialog").hidden, false);
  assert.equal(ui.$("#new-dm-dialog").querySelector(".error").textContent, "no such user");
});

test("keyboard: Alt+Down/Up move between rooms, Ctrl+K opens the switcher, Enter opens the match", async () => {
  const ui = await boot(signedIn());
  const current = () => ui.$('[aria-current="true"]').dataset.roomId;
  assert.equal(current(), "general");
  document.key({ key: "ArrowDown", altKey: true });
  await settle();
  assert.equal(current(), "random");
  document.key({ key: "ArrowUp", altKey: true });
  await settle();
  assert.equal(current(), "general");

  const k = document.key({ key: "k", ctrlKey: true });
  assert.equal(k.defaultPrevented, true);
  const switcher = ui.$("#switcher");
  assert.equal(switcher.hidden, false);
  assert.equal(switcher.querySelectorAll("li").length, 2);
  const input = ui.$('[data-testid="switcher-input"]');
  input.value = "rand";
  input.dispatch("input");
  assert.deepEqual(switcher.querySelectorAll("li").map((li) => li.dataset.roomId), ["random"]);
  input.dispatch("keydown", { key: "Enter" });
  await settle();
  assert.equal(switcher.hidden, true);
  assert.equal(current(), "random");
  document.key({ key: "k", metaKey: true });
  input.dispatch("keydown", { key: "Escape" });
  assert.equal(switcher.hidden, true, "Esc closes");
});

test("the shell is told the room in view and the unread total; its open-room request is followed", async () => {
  const ui = await boot({ ...signedIn(), set_view: null });
  assert.deepEqual(ui.called("set_view").at(-1), { activeRoom: "general", unreadTotal: 0 });
  await ui.emit([{ type: "message", message: msg("random", 3) }, { type: "message", message: msg("random", 4) }, { type: "unread", room_id: "random", count: 2 }]);
  assert.deepEqual(ui.called("set_view").at(-1), { activeRoom: "general", unreadTotal: 2 });
  const calls = ui.called("set_view").length;
  await ui.emit([{ type: "typing", room_id: "general", user: "bob", typing: true }]);
  assert.equal(ui.called("set_view").length, calls, "told only of changes");
  await ui.openRoomEvent("random");
  assert.equal(ui.$('[aria-current="true"]').dataset.roomId, "random");
  assert.deepEqual(ui.called("set_view").at(-1), { activeRoom: "random", unreadTotal: 0 });
  await ui.openRoomEvent("no-such-room");
  assert.equal(ui.$('[aria-current="true"]').dataset.roomId, "random", "an unknown room is ignored");
});

test("signing out clears the window: no room or message of the account stays, the unread badge drops to 0", async () => {
  const ui = await boot({ ...signedIn(), set_view: null, logout: null });
  await ui.emit([{ type: "message", message: msg("random", 3, "bob", "for alice only") }, { type: "unread", room_id: "random", count: 1 }]);
  assert.deepEqual(ui.called("set_view").at(-1), { activeRoom: "general", unreadTotal: 1 });
  assert.match(ui.$("#announcer").textContent, /for alice only/);
  ui.$('[data-testid="composer"]').value = "half a thought";
  ui.$("#logout").click();
  await settle();
  assert.equal(ui.called("logout").length, 1);
  assert.deepEqual(ui.called("set_view").at(-1), { activeRoom: null, unreadTotal: 0 }, "the title and tray forget the account");
  assert.equal(ui.all("[data-room-id]").length, 0, "no room of the account is left on the page");
  assert.equal(ui.all('[data-testid="message"]').length, 0, "no message of the account is left on the page");
  assert.equal(ui.$("#announcer").textContent, "", "nor in the screen reader's live region");
  assert.equal(ui.$('[data-testid="composer"]').value, "", "nor an unsent draft");
});

test("after registering, the first room opens as soon as the rooms arrive (sync), with previews", async () => {
  const ui = await boot({
    ...signedIn(),
    resume: null,
    rooms: [],
    connection_state: { state: "offline", reason: "signed_out" },
    host_locally: { address: "127.0.0.1", url: "http://127.0.0.1:7447" },
    register: ({ username }) => ({ id: "u1", username }),
  });
  ui.$('[data-testid="login-username"]').value = "alice";
  ui.$('[data-testid="login-password"]').value = "correct horse";
  ui.$('[data-testid="register-submit"]').click();
  await settle();
  assert.equal(ui.$("#room-title").textContent, "No room selected");
  await ui.emit([{ type: "room", room: room("general", 3, 0) }, { type: "message", message: msg("general", 3, "bob", "welcome") }]);
  assert.equal(ui.$("#room-title").textContent, "# general");
  assert.equal(ui.$('[data-room-id="general"]').querySelector(".preview").textContent, "bob: welcome");
});

test("incoming messages from others are announced in the live region, ours are not", async () => {
  const ui = await boot(signedIn());
  await ui.emit([{ type: "message", message: msg("random", 3, "bob", "hello there") }, { type: "message", message: msg("general", 4, "alice", "mine") }]);
  assert.equal(ui.$("#announcer").textContent, "random: bob: hello there");
});

test("registering keeps what the new session says before `register` answers (sign-in race)", async () => {
  // The session starts inside `register`: its rooms and its connection can reach the page before
  // the command's answer does, while the cache still has no room.
  const ui = await boot({
    ...signedIn(),
    resume: null,
    rooms: [],
    messages: [],
    connection_state: { state: "offline", reason: "signed_out" },
    host_locally: { address: "127.0.0.1", url: "http://127.0.0.1:7447" },
    register: ({ username }, { emit }) => {
      emit([
        { type: "connection", state: { state: "connecting", attempt: 1, retry_in_ms: null } },
        { type: "room", room: room("general", 0, 0) },
        { type: "connection", state: { state: "connected", transport: "websocket" } },
      ]);
      return { id: "u1", username };
    },
  });
  ui.$('[data-testid="login-server"]').value = "https://elsewhere:7447";
  ui.$('[data-testid="login-username"]').value = "alice";
  ui.$('[data-testid="login-password"]').value = "correct horse";
  ui.$('[data-testid="register-submit"]').click();
  await settle();
  assert.equal(ui.$('[data-testid="connection-status"]').dataset.state, "connected");
  assert.deepEqual(ui.all('[data-testid="room-item"]').map((r) => r.dataset.roomId), ["general"]);
  assert.equal(ui.$("#room-title").textContent, "# general");
});

test("after signing in, the keyboard goes to the composer of the room that opens", async () => {
  const ui = await boot({
    ...signedIn(),
    resume: null,
    rooms: [],
    connection_state: { state: "offline", reason: "signed_out" },
    host_locally: { address: "127.0.0.1", url: "http://127.0.0.1:7447" },
    register: ({ username }) => ({ id: "u1", username }),
  });
  const box = ui.$('[data-testid="composer"]');
  ui.$('[data-testid="login-username"]').value = "alice";
  ui.$('[data-testid="login-password"]').value = "correct horse";
  ui.$('[data-testid="register-submit"]').click();
  await settle();
  assert.notEqual(document.activeElement, box, "no room yet");
  await ui.emit([{ type: "room", room: room("general", 0, 0) }]);
  assert.equal(document.activeElement, box, "the first room opened: its composer has the keyboard");

  const resumed = await boot(signedIn());
  assert.equal(document.activeElement, resumed.$('[data-testid="composer"]'), "after resuming too");
});

test("own messages that have not left keep a visible mark and a label, grouped or not", async () => {
  const ui = await boot(signedIn());
  await ui.emit([{ type: "connection", state: { state: "connecting", attempt: 2, retry_in_ms: 5000 } }]);
  const box = ui.$('[data-testid="composer"]');
  for (const text of ["during outage 1", "during outage 2"]) {
    box.value = text;
    box.dispatch("keydown", { key: "Enter", shiftKey: false });
    await settle();
  }
  const rows = ui.all('[data-testid="message"]').filter((m) => m.dataset.seq === undefined);
  assert.equal(rows.length, 2);
  assert.ok(rows[1].className.split(" ").includes("cont"), "the second is grouped under the first");
  for (const row of rows) {
    const mark = row.querySelector(".delivery");
    assert.equal(mark?.dataset.delivery, "pending");
    // A grouped row hides its meta line (app.css: `.message.cont .meta`): the mark must not be in it.
    assert.equal(mark.closest(".meta"), null, "the mark is outside the meta line");
    assert.ok(row.className.split(" ").includes("unsent"));
    assert.equal(mark.getAttribute("aria-label"), "Not sent yet");
  }
  const css = readFileSync(new URL("../app/css/app.css", import.meta.url), "utf8");
  assert.match(css, /\.message\.cont \.meta \{ display: none; \}/, "what the check above relies on");
  assert.doesNotMatch(css, /\.unsent[^{]*\{[^}]*display: none/, "nothing hides the mark");
});

test("hovering a message moves nothing under the pointer and hides nothing that takes clicks", () => {
  // A click aimed at a link in a grouped row once landed on the row: on hover its meta line
  // appeared above the text and pushed it down (e2e/chat.test.mjs, the link-click step).
  const css = readFileSync(new URL("../app/css/app.css", import.meta.url), "utf8");
  const rule = (selector) => css.split("\n").find((line) => line.startsWith(`${selector} {`)) ?? "";
  assert.match(rule(".message.cont:hover .meta, .message.cont:focus-within .meta"), /position: absolute;.*pointer-events: none;/);
  assert.match(rule(".message .message-actions"), /opacity: 0; pointer-events: none;/);
  assert.match(rule(".message:hover .message-actions, .message:focus-within .message-actions"), /opacity: 1; pointer-events: auto;/);
});

test("the header lists a room's members as its latest copy says", async () => {
  const ui = await boot(signedIn());
  ui.$('[data-room-id="random"]').click();
  await settle();
  assert.equal(ui.$("#room-members").textContent, "alice, bob");
  await ui.emit([{ type: "room", room: { ...room("random", 2, 2), members: ["alice", "bob", "carol"] } }]);
  assert.equal(ui.$("#room-members").textContent, "alice, bob, carol");
});

test("general's header says everyone is in it, not a list that misses who joined since", async () => {
  // The relay puts every new account in general without telling its members; a list would
  // leave out anyone who registered later and has not written.
  const ui = await boot(signedIn());
  assert.equal(ui.$("#room-title").textContent, "# general");
  assert.equal(ui.$("#room-members").textContent, "Everyone on this relay");
});
