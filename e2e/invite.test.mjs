// Issue 18 in real windows: a relay that needs invites (`--registration invite`). Window A
// registers its first admin with the relay's first-admin invite pasted into the sign-in
// screen's invite field (which fills in the server), opens the admin panel and creates an
// invite; window B, on a fresh profile that offers its own hosted relay, gets that invite string
// pasted and registers: it must end signed in to the invite's relay, connected, in # general.
// A member's window shows no admin panel.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Keys, waitFor } from "./webdriver.mjs";
import * as h from "./harness.mjs";

const { tid } = h;

let relay;
let display;

/** Pastes `text` into the sign-in screen's invite field, as a paste does: one input event. */
const paste = (s, text) =>
  s.exec(
    `const field = document.querySelector('[data-testid="login-invite"]');
     field.value = arguments[0];
     field.dispatchEvent(new Event("input", { bubbles: true }));`,
    [text],
  );

/** Waits for the sign-in screen, pastes the invite, checks the server it filled in, registers. */
const registerWithInvite = async (who, invite) => {
  const s = who.session;
  await waitFor(() => s.exec(`return !document.querySelector('#login-screen').hidden`), `${who.name}'s sign-in screen`, 30_000);
  await paste(s, invite);
  await waitFor(
    async () => (await s.exec(`return document.querySelector('[data-testid="login-server"]').value`)) === relay.url,
    `${who.name}'s server field filled in from the invite (${relay.url})`,
  );
  const code = await s.exec(`return document.querySelector('[data-testid="login-invite"]').value`);
  assert.ok(code && !code.startsWith("natter:"), `the invite field keeps the code alone: ${code}`);
  await s.type(await s.find(tid("login-username")), who.name);
  await s.type(await s.find(tid("login-password")), h.PASSWORD);
  await s.click(await s.find(tid("register-submit")));
};

/** Waits until the window is connected in # general; says what it shows if not. */
const signedIn = async (who) => {
  let last;
  try {
    await waitFor(
      async () => {
        last = await who.session.exec(`return {
          state: document.querySelector('[data-testid="connection-status"]').dataset.state,
          title: document.querySelector('#room-title').textContent,
          login: !document.querySelector('#login-screen').hidden,
          error: document.querySelector('#login-error').textContent,
        }`);
        return last.state === "connected" && last.title === "# general" && !last.login;
      },
      `${who.name} signed in, connected, in # general`,
      30_000,
    );
  } catch (error) {
    throw new Error(`${error.message}; the window shows ${JSON.stringify(last)}\n${h.logs()}`);
  }
};

describe("an invite made in one window registers another", { concurrency: false }, () => {
  before(async () => {
    display = await h.startDisplay();
    relay = await h.relay(["--registration", "invite"]);
    await relay.start();
  });

  after(async () => {
    await h.stopAll();
    relay?.cleanup();
  });

  test("the admin's invite, pasted into a second window, signs it up", async () => {
    const [a, b] = await Promise.all([h.app("root", display), h.app("newcomer", display)]);
    try {
      await a.session.setRect({ x: 0, y: 0, width: 790, height: 700 });
      await b.session.setRect({ x: 800, y: 0, width: 790, height: 700 });
      const firstAdmin = readFileSync(join(relay.dataDir, "first-admin-invite"), "utf8").trim();
      assert.match(firstAdmin, /^natter:\/\/invite\?/);
      await registerWithInvite(a, firstAdmin);
      await signedIn(a);

      // A is the relay's admin: the panel is there.
      const adminButton = await a.session.find(tid("admin-open"));
      await waitFor(
        () => a.session.exec(`return !document.querySelector('[data-testid="admin-open"]').hidden`),
        "root's Admin button",
      );
      await a.session.click(adminButton);
      await waitFor(() => a.session.exec(`return !document.querySelector('#admin-dialog').hidden`), "the admin panel");
      await a.session.click(await a.session.find(tid("invite-create")));
      const invite = await waitFor(
        () => a.session.exec(`return document.querySelector('[data-testid="invite-code"]').value || null`),
        "the invite string shown",
      );
      assert.match(invite, /^natter:\/\/invite\?server=/);
      const error = await a.session.exec(`return document.querySelector('#admin-dialog .error').textContent`);
      assert.equal(error, "");
      h.saveShot("admin-invite.png", await a.session.screenshot());

      await registerWithInvite(b, invite);
      await signedIn(b);
      // B is a member: no admin panel, whatever the page was asked.
      await waitFor(
        () => b.session.exec(`return document.querySelector('[data-testid="account-settings"]').hidden === false`),
        "newcomer's Account button",
      );
      assert.equal(await b.session.exec(`return document.querySelector('[data-testid="admin-open"]').hidden`), true);
      const own = await b.session.execAsync(
        `const done = arguments[arguments.length - 1]; window.__TAURI__.core.invoke('own_account').then(done, (e) => done({error: e}))`,
      );
      assert.equal(own.role, "member", JSON.stringify(own));
      assert.equal(own.user?.username, "newcomer");

      // The invite was single-use: A's list shows it used up once the panel opens again.
      await a.session.chord([Keys.ESCAPE]);
      await waitFor(() => a.session.exec(`return document.querySelector('#admin-dialog').hidden`), "the panel closed");
      await a.session.click(adminButton);
      await waitFor(
        () => a.session.exec(`return [...document.querySelectorAll('[data-testid="invite-item"]')].some((li) => li.textContent.includes("1 of 1 used, used up"))`),
        "the invite listed as used up",
      );
    } finally {
      await Promise.all([a.session.end(), b.session.end()]);
    }
  });
});
