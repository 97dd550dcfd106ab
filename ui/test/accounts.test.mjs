// Several accounts signed in at once (issue 18): the switcher in the sidebar (one labelled button
// per account, its unread badge, Add account), switching repainting from the other account's
// cache when the shell's `natter://accounts` says so (never from events of the account left),
// adding an account and going back, a notification of the other account, signing out of one.
import { test } from "node:test";
import assert from "node:assert/strict";
import { action, boot, memoryStorage, settle, msg, room } from "./page.mjs";

const URL_A = "http://127.0.0.1:7447";
const URL_B = "https://chat.example.org";
const connected = { state: "connected", transport: "websocket" };
const view = (id, username, server_url, unread, active) => ({ id, username, server_url, unread, active, connection: connected });

/** Alice (account 1, shown) and bob (account 2) signed in; each command answers for the shown one. */
const twoAccounts = () => {
  let shown = "1";
  let signedIn = ["1", "2"];
  const unread = { 1: 0, 2: 2 };
  const list = () =>
    [view("1", "alice", URL_A, unread[1], shown === "1"), view("2", "bob", URL_B, unread[2], shown === "2")].filter((a) => signedIn.includes(a.id));
  const rooms = { 1: [room("general", 3, 3), room("alice-team", 1, 1)], 2: [room("general", 5, 3), room("bob-club", 2, 2)] };
  const answers = {
    resume: { server_url: URL_A, username: "alice", account: "1" },
    connection_state: connected,
    accounts: () => list(),
    rooms: () => rooms[shown],
    messages: ({ room_id, before_seq }) =>
      before_seq !== undefined ? [] : shown === "1" ? [msg(room_id, 3, "carol", `alice's ${room_id}`)] : [msg(room_id, 5, "dave", `bob's ${room_id}`)],
    history: [],
    last_room: () => (shown === "2" ? "bob-club" : null),
    set_view: null,
    mark_read: null,
    keep_last_room: null,
    switch_account: ({ account }, { emitAccounts }) => {
      shown = account;
      emitAccounts(list());
      return list().find((a) => a.id === account);
    },
    logout: ({ account } = {}) => {
      const gone = account ?? shown;
      signedIn = signedIn.filter((id) => id !== gone);
      if (signedIn.length) shown = signedIn[0];
      return null;
    },
  };
  return { answers, setUnread: (id, n) => (unread[id] = n), list };
};

const items = (ui) => ui.all('[data-testid="account-item"]');
const item = (ui, id) => items(ui).find((b) => b.dataset.account === id);
const roomIds = (ui) => ui.all('[data-testid="room-item"]').map((b) => b.dataset.roomId).sort();
const bodies = (ui) => ui.all('[data-testid="message"]').map((m) => m.textContent);

test("the switcher lists every account, labelled, with its unread count, the shown one marked", async () => {
  const { answers } = twoAccounts();
  const ui = await boot(answers);
  assert.deepEqual(items(ui).map((b) => b.dataset.account), ["1", "2"]);
  assert.equal(item(ui, "1").getAttribute("aria-current"), "page");
  assert.equal(item(ui, "2").getAttribute("aria-current"), null);
  assert.equal(item(ui, "1").textContent, "alice@127.0.0.1:7447");
  assert.equal(item(ui, "2").querySelector('[data-testid="account-unread"]').textContent, "2");
  assert.equal(item(ui, "1").querySelector('[data-testid="account-unread"]'), null, "nothing unread: no badge");
  assert.equal(item(ui, "2").getAttribute("aria-label"), "bob@chat.example.org, 2 unread");
  assert.match(item(ui, "1").getAttribute("aria-label"), /shown now/);
  assert.equal(item(ui, "2").tagName, "BUTTON", "reached with Tab, pressed with Enter");
  assert.ok(ui.$('[data-testid="add-account"]'));
  assert.equal(ui.$("#accounts").getAttribute("aria-label"), "Accounts");
  assert.deepEqual(roomIds(ui), ["alice-team", "general"]);
});

test("switching repaints from the other account's cache when the shell says so, and ignores the old account's view", async () => {
  const { answers } = twoAccounts();
  const ui = await boot(answers);
  assert.ok(bodies(ui).some((b) => b.includes("alice's")));
  item(ui, "2").click();
  await settle();
  assert.deepEqual(ui.called("switch_account"), [{ account: "2" }]);
  assert.equal(item(ui, "2").getAttribute("aria-current"), "page");
  assert.deepEqual(roomIds(ui), ["bob-club", "general"], "bob's rooms only");
  const open = ui.all('[data-testid="room-item"]').find((b) => b.getAttribute("aria-current") === "true");
  assert.equal(open?.dataset.roomId, "bob-club", "bob's last room");
  assert.ok(bodies(ui).every((b) => !b.includes("alice's")), `nothing of alice's: ${bodies(ui)}`);
  assert.ok(bodies(ui).some((b) => b.includes("bob's bob-club")));
  assert.equal(ui.$("#whoami").textContent, "bob");
  // Pressing the shown account again does nothing.
  item(ui, "2").click();
  await settle();
  assert.equal(ui.called("switch_account").length, 1);
  // Bob's events are painted from now on.
  await ui.emit([{ type: "message", message: msg("bob-club", 3, "dave", "live for bob") }]);
  assert.ok(bodies(ui).some((b) => b.includes("live for bob")));
});

test("an unread count that moves on another account moves its badge; the list comes as events", async () => {
  const { answers, setUnread, list } = twoAccounts();
  const ui = await boot(answers);
  setUnread("2", 7);
  await ui.accountsEvent(list());
  assert.equal(item(ui, "2").querySelector('[data-testid="account-unread"]').textContent, "7");
  assert.deepEqual(roomIds(ui), ["alice-team", "general"], "no switch: alice stays shown");
  assert.equal(ui.called("switch_account").length, 0);
});

test("Add account shows the sign-in screen with a way back; signing in there shows the new account", async () => {
  const { answers } = twoAccounts();
  const ui = await boot({
    ...answers,
    login: (_, { emitAccounts }) => {
      emitAccounts([view("1", "alice", URL_A, 0, false), view("2", "bob", URL_B, 2, false), view("3", "erin", URL_B, 0, true)]);
      return { id: "u-erin", username: "erin" };
    },
  });
  ui.$('[data-testid="login-username"]').value = "alice";
  ui.$('[data-testid="add-account"]').click();
  await settle();
  assert.equal(ui.$("#login-screen").hidden, false);
  assert.equal(ui.$('[data-testid="login-cancel"]').hidden, false);
  assert.equal(ui.$('[data-testid="login-username"]').value, "", "the form is for another account");
  ui.$('[data-testid="login-cancel"]').click();
  await settle();
  assert.equal(ui.$("#login-screen").hidden, true);
  assert.equal(ui.$("#chat-screen").hidden, false);
  assert.deepEqual(roomIds(ui), ["alice-team", "general"], "back to alice");

  ui.$('[data-testid="add-account"]').click();
  await settle();
  ui.$('[data-testid="login-server"]').value = URL_B;
  ui.$('[data-testid="login-username"]').value = "erin";
  ui.$('[data-testid="login-password"]').value = "correct horse battery";
  ui.$('[data-testid="login-submit"]').click();
  await settle();
  assert.equal(ui.$("#chat-screen").hidden, false);
  assert.equal(ui.$("#whoami").textContent, "erin");
  assert.equal(items(ui).length, 3);
  assert.equal(item(ui, "3").getAttribute("aria-current"), "page");
});

test("a notification of the other account switches to it and opens its room", async () => {
  const { answers } = twoAccounts();
  const ui = await boot(answers);
  await ui.openRoomEvent("general", "2");
  assert.deepEqual(ui.called("switch_account"), [{ account: "2" }]);
  assert.equal(item(ui, "2").getAttribute("aria-current"), "page");
  const open = ui.all('[data-testid="room-item"]').find((b) => b.getAttribute("aria-current") === "true");
  assert.equal(open?.dataset.roomId, "general", "the notification's room, not the last one");
  assert.ok(bodies(ui).some((b) => b.includes("bob's general")));
});

test("signing out of one account shows the other; of the last one, the sign-in screen", async () => {
  const { answers } = twoAccounts();
  const ui = await boot(answers);
  ui.$("#logout").click();
  await settle();
  assert.equal(ui.$("#chat-screen").hidden, false, "bob is still signed in");
  assert.deepEqual(items(ui).map((b) => b.dataset.account), ["2"]);
  assert.equal(ui.$("#whoami").textContent, "bob");
  assert.deepEqual(roomIds(ui), ["bob-club", "general"]);
  ui.$("#logout").click();
  await settle();
  assert.equal(ui.$("#login-screen").hidden, false);
  assert.equal(ui.$('[data-testid="login-cancel"]').hidden, true, "no account to go back to");
});

test("a refused sign-in of the shown account keeps a way back to the other accounts", async () => {
  const { answers } = twoAccounts();
  const ui = await boot(answers);
  await ui.emit([{ type: "connection", state: { state: "offline", reason: "unauthorized" } }]);
  assert.equal(ui.$("#login-screen").hidden, false);
  assert.match(ui.$("#login-error").textContent, /refused the saved sign-in/);
  assert.equal(ui.$('[data-testid="login-cancel"]').hidden, false, "bob is still signed in");
  ui.$('[data-testid="login-cancel"]').click();
  await settle();
  assert.deepEqual(ui.called("switch_account"), [{ account: "2" }]);
  assert.equal(ui.$("#chat-screen").hidden, false);
  assert.equal(ui.$("#whoami").textContent, "bob");
  assert.deepEqual(roomIds(ui), ["bob-club", "general"]);
});

test("each account has its own recently used emoji", async () => {
  const { answers } = twoAccounts();
  globalThis.localStorage = memoryStorage();
  try {
    const ui = await boot({ ...answers, react: () => null });
    const firstGroup = () => {
      action(ui.all('[data-testid="message"]').at(-1), "more-reactions").click();
      const picker = ui.$('[data-testid="emoji-picker"]');
      const label = picker.querySelectorAll('[role="group"]')[0].getAttribute("aria-label");
      picker.querySelector('[data-testid="emoji-search"]').dispatch("keydown", { key: "Escape" });
      return label;
    };
    action(ui.all('[data-testid="message"]').at(-1), "more-reactions").click();
    ui.$('[data-emoji="🎉"]').click();
    await settle();
    assert.equal(ui.called("react").at(-1).emoji, "🎉");
    assert.equal(firstGroup(), "Recently used", "alice's pick is recent for alice");
    item(ui, "2").click();
    await settle();
    assert.equal(ui.$("#whoami").textContent, "bob");
    assert.notEqual(firstGroup(), "Recently used", "not for bob");
    assert.deepEqual([...globalThis.localStorage.map.keys()], ["natter.emoji.recent.1"], "kept under the account, not the username");
  } finally {
    delete globalThis.localStorage;
  }
});
