// Issue 18 in the window: an invite pasted on the sign-in screen (read by the shell, sent with
// Register), our role from the relay (the admin panel's button, Delete on others' messages),
// the account settings and the admin panel, each action's refusal shown.
import { test } from "node:test";
import assert from "node:assert/strict";
import { action, boot, settle, signedIn } from "./page.mjs";

const LINK = "natter://invite?server=http%3A%2F%2F10.0.0.5%3A7447&code=abc123";
/** What the shell's read_invite answers (its parser is the protocol crate's; this is a stand-in). */
const readInvite = ({ text }) =>
  text.trim() === LINK
    ? { server_url: "http://10.0.0.5:7447", code: "abc123" }
    : /^[\w-]+$/.test(text.trim())
      ? { server_url: null, code: text.trim() }
      : { reject: { code: "invalid", message: "not an invite: paste the whole invite or its code" } };

const firstRun = (extra = {}) => ({
  ...signedIn(),
  resume: null,
  connection_state: { state: "offline", reason: "signed_out" },
  host_locally: { address: "127.0.0.1:7447", url: "http://127.0.0.1:7447", others_can_connect: false },
  read_invite: readInvite,
  ...extra,
});

const account = (username, role, extra = {}) => ({ user: { id: `u-${username}`, username, ...extra }, role, created_at: "2026-12-01T10:00:00Z" });
const row = (ui, seq) => ui.all('[data-testid="message"]').find((m) => m.dataset.seq === String(seq));

test("a pasted invite fills in the server and the code, and Register sends it", async () => {
  const ui = await boot(firstRun({ register: ({ username }) => ({ id: "u2", username }) }));
  const server = ui.$('[data-testid="login-server"]');
  const invite = ui.$('[data-testid="login-invite"]');
  invite.value = `  ${LINK}\n`;
  invite.dispatch("input");
  await settle();
  assert.deepEqual(ui.called("read_invite"), [{ text: `  ${LINK}\n` }], "the shell reads it, not the page");
  assert.equal(server.value, "http://10.0.0.5:7447");
  assert.equal(invite.value, "abc123");
  assert.equal(ui.$('[data-testid="login-cleartext"]').hidden, false, "http:// to another computer still warns");

  ui.$('[data-testid="login-username"]').value = "bob";
  ui.$('[data-testid="login-password"]').value = "correct horse";
  ui.$('[data-testid="register-submit"]').click();
  await settle();
  ui.$('[data-testid="register-submit"]').click(); // past the cleartext warning
  await settle();
  assert.deepEqual(ui.called("register"), [{ server_url: "http://10.0.0.5:7447", username: "bob", password: "correct horse", invite: "abc123" }]);
  assert.equal(ui.$("#chat-screen").hidden, false);
  assert.equal(invite.value, "", "the invite is not kept in the form");
});

test("an invite pasted into the server field is read too; a bad one says what an invite is", async () => {
  const ui = await boot(firstRun());
  const server = ui.$('[data-testid="login-server"]');
  server.value = LINK;
  server.dispatch("input");
  await settle();
  assert.equal(server.value, "http://10.0.0.5:7447");
  assert.equal(ui.$('[data-testid="login-invite"]').value, "abc123");

  server.value = "natter://invite?code=x y";
  server.dispatch("input");
  await settle();
  assert.equal(ui.$("#login-error").textContent, "", "quiet while it may still be typed");
  ui.$('[data-testid="login-username"]').value = "bob";
  ui.$('[data-testid="login-password"]').value = "correct horse";
  ui.$('[data-testid="register-submit"]').click();
  await settle();
  assert.match(ui.$("#login-error").textContent, /^not an invite/);
  assert.deepEqual(ui.called("register"), [], "nothing sent");
});

test("the relay's refusal of a missing or bad invite is shown; Log in never sends the invite", async () => {
  const refusal = { code: "forbidden", message: "registering on this relay needs an invite: ask one of its admins" };
  const ui = await boot(firstRun({ register: { reject: refusal }, login: { reject: { code: "unauthorized", message: "wrong username or password" } } }));
  ui.$('[data-testid="login-username"]').value = "bob";
  ui.$('[data-testid="login-password"]').value = "correct horse";
  ui.$('[data-testid="register-submit"]').click();
  await settle();
  assert.deepEqual(ui.called("register"), [{ server_url: "http://127.0.0.1:7447", username: "bob", password: "correct horse" }], "no invite: none sent");
  assert.equal(ui.$("#login-error").textContent, refusal.message);
  ui.$('[data-testid="login-invite"]').value = "abc123";
  ui.$('[data-testid="login-submit"]').click();
  await settle();
  assert.deepEqual(ui.called("login"), [{ server_url: "http://127.0.0.1:7447", username: "bob", password: "correct horse" }]);
});

test("a member sees no admin panel and no Delete on others' messages", async () => {
  const ui = await boot({ ...signedIn(), own_account: account("alice", "member") });
  assert.equal(ui.called("own_account").length, 1, "asked at sign-in");
  assert.equal(ui.$('[data-testid="admin-open"]').hidden, true);
  assert.equal(ui.$('[data-testid="account-settings"]').hidden, false);
  assert.equal(action(row(ui, 2), "delete"), null);
  assert.ok(action(row(ui, 3), "delete"), "our own: Delete");
});

test("an admin gets the panel and Delete (never Edit) on others' messages; the role is asked again on reconnect", async () => {
  let role = "admin";
  const ui = await boot({ ...signedIn(), own_account: () => account("alice", role), delete_message: () => null });
  assert.equal(ui.$('[data-testid="admin-open"]').hidden, false);
  const bobs = row(ui, 2);
  assert.equal(action(bobs, "edit"), null, "an admin never edits someone else's");
  action(bobs, "delete").click();
  await settle();
  assert.equal(ui.$("#delete-dialog").hidden, false);
  assert.match(ui.$("#delete-dialog").querySelector(".detail").textContent, /^As an admin, you delete bob's message/);
  ui.$('[data-testid="delete-submit"]').click();
  await settle();
  assert.deepEqual(ui.called("delete_message"), [{ room_id: "general", message_id: "general-2" }]);

  // Demoted while away: the next connect asks again, and the panel and the button go.
  role = "member";
  await ui.emit([{ type: "connection", state: { state: "connecting", attempt: 1, retry_in_ms: null } }]);
  await ui.emit([{ type: "connection", state: { state: "connected", transport: "websocket" } }]);
  assert.equal(ui.called("own_account").length, 2);
  assert.equal(ui.$('[data-testid="admin-open"]').hidden, true);
  assert.equal(action(row(ui, 2), "delete"), null);
});

test("account settings: display name, password change, sessions with End, deleting the account", async () => {
  const sessions = [
    { id: "s-1", device: "natter-desktop", created_at: "2026-12-01T10:00:00Z", last_used_at: "2026-12-06T10:00:00Z", current: true },
    { id: "s-2", device: "<b>phone</b>", created_at: "2026-12-02T10:00:00Z", last_used_at: "2026-12-03T10:00:00Z" },
  ];
  const ui = await boot({
    ...signedIn(),
    own_account: account("alice", "member", { display_name: "Alice L." }),
    sessions,
    set_display_name: ({ display_name }) => ({ id: "u-alice", username: "alice", display_name }),
    change_password: { reject: { code: "forbidden", message: "wrong password" } },
    end_session: null,
    delete_account: null,
    logout: null,
  });
  ui.$('[data-testid="account-settings"]').click();
  await settle();
  const panel = ui.$("#settings-dialog");
  assert.equal(panel.hidden, false);
  assert.match(ui.$('[data-testid="settings-who"]').textContent, /alice \(member\)/);
  assert.equal(ui.$('[data-testid="settings-display-name"]').value, "Alice L.");
  const rows = ui.all('[data-testid="session"]');
  assert.equal(rows.length, 2);
  assert.equal(rows[0].querySelector('[data-testid="session-end"]'), null, "this session: no End");
  assert.match(rows[1].textContent, /<b>phone<\/b>/, "a device name is text");
  assert.equal(rows[1].querySelector("b"), null);

  ui.$('[data-testid="settings-display-name"]').value = "  Alice  ";
  ui.$('[data-testid="settings-display-name-save"]').click();
  await settle();
  assert.deepEqual(ui.called("set_display_name"), [{ display_name: "Alice" }]);

  ui.$('[data-testid="settings-current-password"]').value = "wrong one";
  ui.$('[data-testid="settings-new-password"]').value = "a new password";
  ui.$('[data-testid="settings-password-save"]').click();
  await settle();
  assert.deepEqual(ui.called("change_password"), [{ current: "wrong one", new: "a new password" }]);
  assert.equal(panel.querySelector(".error").textContent, "wrong password");

  rows[1].querySelector('[data-testid="session-end"]').click();
  await settle();
  assert.deepEqual(ui.called("end_session"), [{ session_id: "s-2" }]);
  assert.equal(ui.all('[data-testid="session"]').length, 1);

  ui.$('[data-testid="settings-delete-submit"]').click();
  await settle();
  assert.deepEqual(ui.called("delete_account"), [], "not without the password");
  assert.equal(panel.querySelector(".error").textContent, "Type your password to confirm.");
  ui.$('[data-testid="settings-delete-password"]').value = "correct horse";
  ui.$('[data-testid="settings-delete-submit"]').click();
  await settle();
  assert.deepEqual(ui.called("delete_account"), [{ password: "correct horse" }]);
  assert.equal(panel.hidden, true);
  assert.equal(ui.$("#login-screen").hidden, false, "signed out");
  assert.equal(ui.$('[data-testid="account-settings"]').hidden, true);
});

test("admin panel: invites made, copied and revoked; users disabled, reset, promoted and deleted; refusals shown", async () => {
  const invite = { id: "i-1", role: "member", uses: 1, used: 0, created_at: "2026-12-06T10:00:00Z", created_by: "alice" };
  let invites = [];
  const users = [account("alice", "admin"), account("bob", "member", { display_name: "<i>Bob</i>" })];
  const ui = await boot({
    ...signedIn(),
    own_account: account("alice", "admin"),
    invites: () => invites,
    create_invite: () => {
      invites = [invite];
      return { invite, code: "abc123", link: LINK };
    },
    revoke_invite: () => {
      invites = [{ ...invite, revoked: true }];
      return null;
    },
    users: { users, more: false },
    set_disabled: ({ username, disabled }) => ({ ...account(username, "member"), disabled }),
    set_role: { reject: { code: "forbidden", message: "the relay must keep at least one admin: promote another first" } },
    reset_password: "0123456789abcdef0123",
    delete_user: null,
  });
  ui.$('[data-testid="admin-open"]').click();
  await settle();
  const panel = ui.$('[data-testid="admin-panel"]');
  assert.equal(ui.$("#admin-dialog").hidden, false);
  assert.equal(ui.all('[data-testid="user"]').length, 2);
  assert.equal(ui.all('[data-testid="user"]')[1].querySelector("i"), null, "a display name is text");

  ui.$('[data-testid="invite-uses"]').value = "3";
  ui.$('[data-testid="invite-expires"]').value = "604800";
  ui.$('[data-testid="invite-create"]').click();
  await settle();
  assert.deepEqual(ui.called("create_invite"), [{ uses: 3, expires_in_secs: 604800, role: "member" }]);
  assert.equal(ui.$('[data-testid="invite-made"]').hidden, false);
  assert.equal(ui.$('[data-testid="invite-code"]').value, LINK, "the string to paste");
  assert.equal(ui.all('[data-testid="invite-item"]').length, 1);
  ui.$('[data-testid="invite-copy"]').click();
  await settle();
  assert.ok(panel.querySelector(".status").textContent, "copied, or how to copy");

  ui.$('[data-testid="invite-revoke"]').click();
  await settle();
  assert.deepEqual(ui.called("revoke_invite"), [{ invite_id: "i-1" }]);
  assert.match(ui.all('[data-testid="invite-item"]')[0].textContent, /revoked/);
  assert.equal(ui.$('[data-testid="invite-revoke"]'), null, "nothing left to revoke");

  const bob = () => ui.all('[data-testid="user"]').find((li) => li.dataset.username === "bob");
  bob().querySelector('[data-testid="user-disable"]').click();
  await settle();
  assert.deepEqual(ui.called("set_disabled"), [{ username: "bob", disabled: true }]);
  assert.match(bob().textContent, /disabled/);
  assert.ok(bob().querySelector('[data-testid="user-enable"]'));

  bob().querySelector('[data-testid="user-reset"]').click();
  await settle();
  assert.match(panel.querySelector(".status").textContent, /shown only now: 0123456789abcdef0123/);
  assert.deepEqual(ui.called("reset_password").at(-1), { username: "bob" }, "no field: a random one");
  // A password typed in the field is the one set, sent once and not shown back.
  ui.$('[data-testid="reset-password-value"]').value = "chosen by alice";
  bob().querySelector('[data-testid="user-reset"]').click();
  await settle();
  assert.deepEqual(ui.called("reset_password").at(-1), { username: "bob", password: "chosen by alice" });
  assert.doesNotMatch(panel.querySelector(".status").textContent, /chosen by alice/);
  assert.match(panel.querySelector(".status").textContent, /the one you typed/);
  assert.equal(ui.$('[data-testid="reset-password-value"]').value, "", "the field is emptied");

  const alice = ui.all('[data-testid="user"]').find((li) => li.dataset.username === "alice");
  alice.querySelector('[data-testid="user-demote"]').click();
  await settle();
  assert.equal(panel.querySelector(".error").textContent, "the relay must keep at least one admin: promote another first");

  bob().querySelector('[data-testid="user-delete"]').click();
  await settle();
  assert.deepEqual(ui.called("delete_user"), [], "one press only arms it");
  bob().querySelector('[data-testid="user-delete"]').click();
  await settle();
  assert.deepEqual(ui.called("delete_user"), [{ username: "bob" }]);
  assert.equal(bob(), undefined);
  assert.equal(panel.querySelector(".error").textContent, "");
});
