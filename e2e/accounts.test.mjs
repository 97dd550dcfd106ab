// Issue 18 in real windows: several accounts signed in at once in one window. Two relays (A and
// B). Window "multi" registers alice on A, then, through "Add account", bob on B: both stay
// signed in. Window "sender" registers carol on A and later adds dave on B; each writes to
// general. The first window shows each account's unread count on its switcher while the other
// account is shown (never its message in the open list), and switching shows the other account's
// rooms and messages.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Keys, waitFor } from "./webdriver.mjs";
import * as h from "./harness.mjs";

const { tid } = h;

let display;
let relayA;
let relayB;

/** What a window shows of its accounts and the open room. */
const screen = (s) =>
  s.exec(`return {
    whoami: document.querySelector('#whoami').textContent,
    state: document.querySelector('[data-testid="connection-status"]').dataset.state,
    title: document.querySelector('#room-title').textContent,
    login: !document.querySelector('#login-screen').hidden,
    error: document.querySelector('#login-error').textContent,
    accounts: [...document.querySelectorAll('[data-testid="account-item"]')].map((b) => ({
      id: b.dataset.account,
      label: b.querySelector('.name').textContent,
      unread: b.querySelector('[data-testid="account-unread"]')?.textContent ?? "",
      shown: b.getAttribute('aria-current') === 'page',
    })),
    messages: [...document.querySelectorAll('[data-testid="message"]')].map((m) => m.textContent),
  }`);

/** Waits until `check` holds for what the window shows; says what it shows if not. */
const until = async (who, what, check, timeout = 30_000) => {
  let last;
  try {
    await waitFor(
      async () => {
        last = await screen(who.session);
        return check(last);
      },
      `${who.name}: ${what}`,
      timeout,
    );
  } catch (error) {
    throw new Error(`${error.message}; the window shows ${JSON.stringify(last)}\n${h.logs()}`);
  }
  return last;
};

const connectedAs = (who, name) =>
  until(who, `signed in as ${name}, connected, in # general`, (v) => v.whoami === name && v.state === "connected" && v.title === "# general" && !v.login);

const send = async (who, text) => {
  const box = await who.session.find(tid("composer"));
  await who.session.type(box, text + Keys.ENTER);
};

/** The account item whose label starts with `username@`. */
const accountOf = (view, username) => view.accounts.find((a) => a.label.startsWith(`${username}@`));

/** Presses "Add account", then registers `name` on `url` in the sign-in screen. */
const addAccount = async (who, name, url) => {
  await who.session.click(await who.session.find(tid("add-account")));
  await h.fillRegister(who.session, name, url);
};

/** Presses `username`'s account item (found again each time: the list redraws as counts move). */
const switchTo = async (who, username) => {
  await waitFor(async () => {
    const view = await screen(who.session);
    const item = accountOf(view, username);
    if (!item) return false;
    if (!item.shown) await who.session.click(await who.session.find(`[data-testid="account-item"][data-account="${item.id}"]`));
    return (await screen(who.session)).whoami === username;
  }, `${who.name} to show ${username}`);
};

describe("several accounts in one window", { concurrency: false }, () => {
  before(async () => {
    display = await h.startDisplay();
    [relayA, relayB] = await Promise.all([h.relay(), h.relay()]);
    await Promise.all([relayA.start(), relayB.start()]);
  });

  after(async () => {
    await h.stopAll();
    relayA?.cleanup();
    relayB?.cleanup();
  });

  test("two accounts on two relays: per-account unread counts, switching between them", async () => {
    const [multi, sender] = await Promise.all([h.app("multi", display), h.app("sender", display)]);
    try {
      await multi.session.setRect({ x: 0, y: 0, width: 790, height: 700 });
      await sender.session.setRect({ x: 800, y: 0, width: 790, height: 700 });

      // One window, two accounts: alice on A, then bob on B, both signed in.
      await h.fillRegister(multi.session, "alice", relayA.url);
      await connectedAs(multi, "alice");
      await h.fillRegister(sender.session, "carol", relayA.url);
      await connectedAs(sender, "carol");
      await addAccount(multi, "bob", relayB.url);
      await connectedAs(multi, "bob");
      const both = await until(multi, "both accounts listed, bob shown", (v) => v.accounts.length === 2 && accountOf(v, "bob")?.shown);
      assert.equal(accountOf(both, "alice")?.shown, false);

      // Carol writes to alice while bob is shown: alice's count, not her message, appears.
      await send(sender, "for alice");
      const counted = await until(multi, "alice's unread count 1", (v) => accountOf(v, "alice")?.unread === "1");
      assert.ok(!counted.messages.some((m) => m.includes("for alice")), `alice's message painted in bob's view: ${counted.messages}`);

      // Switching to alice shows her general, with carol's message.
      await switchTo(multi, "alice");
      await until(multi, "alice's general with carol's message", (v) => v.title === "# general" && v.messages.some((m) => m.includes("for alice")));

      // Dave (the sender window's second account, on B) writes to bob while alice is shown.
      await addAccount(sender, "dave", relayB.url);
      await connectedAs(sender, "dave");
      await send(sender, "for bob");
      const bobs = await until(multi, "bob's unread count 1", (v) => accountOf(v, "bob")?.unread === "1");
      assert.ok(!bobs.messages.some((m) => m.includes("for bob")), `bob's message painted in alice's view: ${bobs.messages}`);
      assert.equal(bobs.whoami, "alice");

      await switchTo(multi, "bob");
      await until(multi, "bob's general with dave's message", (v) => v.title === "# general" && v.messages.some((m) => m.includes("for bob")));
      const shownBob = await screen(multi.session);
      assert.ok(!shownBob.messages.some((m) => m.includes("for alice")), `alice's message in bob's view: ${shownBob.messages}`);
    } finally {
      await Promise.all([multi.session.end(), sender.session.end()]);
    }
  });
});
