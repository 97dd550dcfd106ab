// A new user's first minute, in real windows: each app starts on a fresh profile (so it begins
// hosting a relay on this computer), the user types another relay's address and registers at
// once. Whatever the first-run hosting is doing, every window must end signed in to the relay
// typed, connected, with `general` open and the composer taking the keyboard. Several fresh
// starts, one at a time and two together, because the failure this guards against came in 1 of
// 3 to 1 of 5 tries.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { waitFor } from "./webdriver.mjs";
import * as h from "./harness.mjs";

const { tid } = h;
/** How long a registered window may take to show `general`, connected. */
const SIGNED_IN_MS = 30_000;
const ROUNDS_ALONE = Number(process.env.NATTER_E2E_SIGNIN_ROUNDS ?? 3);

let relay;
let display;

/** What the window shows: the banner, the rooms listed, the open room, where the keyboard is. */
const screen = (s) =>
  s.exec(`return {
    banner: document.querySelector('[data-testid="connection-status"]').textContent,
    state: document.querySelector('[data-testid="connection-status"]').dataset.state,
    rooms: [...document.querySelectorAll('[data-testid="room-item"]')].map((r) => r.textContent),
    title: document.querySelector('#room-title').textContent,
    composer: document.activeElement === document.querySelector('[data-testid="composer"]'),
    login: !document.querySelector('#login-screen').hidden,
    error: document.querySelector('#login-error').textContent,
  }`);

/** Types the relay's address over the offered one and registers, with no pause in between. */
const registerAtOnce = (who) => h.fillRegister(who.session, who.name, relay.url);

/** Waits until the window is signed in where it was asked to be; says what it shows if not. */
const signedIn = async (who) => {
  let last;
  try {
    await waitFor(
      async () => {
        last = await screen(who.session);
        return last.state === "connected" && last.title === "# general" && last.composer && !last.login;
      },
      `${who.name} signed in, connected, in # general with the composer focused`,
      SIGNED_IN_MS,
    );
  } catch (error) {
    throw new Error(`${error.message}; the window shows ${JSON.stringify(last)}\n${h.logs()}`);
  }
  const backend = await who.session.execAsync(
    `const done = arguments[arguments.length - 1]; window.__TAURI__.core.invoke('connection_state').then((v) => done(v), (e) => done({error: e}))`,
  );
  assert.equal(backend.state, "connected", `${who.name}'s session agrees: ${JSON.stringify(backend)}`);
};

describe("registering at once on a fresh profile, whatever the first-run hosting is doing", { concurrency: false }, () => {
  before(async () => {
    display = await h.startDisplay();
    relay = await h.relay();
    await relay.start();
  });

  after(async () => {
    await h.stopAll();
    relay?.cleanup();
  });

  for (let round = 1; round <= ROUNDS_ALONE; round++) {
    test(`one fresh window (${round} of ${ROUNDS_ALONE})`, async () => {
      const who = await h.app(`solo${round}`, display);
      try {
        await registerAtOnce(who);
        await signedIn(who);
      } finally {
        await who.session.end();
      }
    });
  }

  test("two fresh windows started together", async () => {
    const [a, b] = await Promise.all([h.app("pair1", display), h.app("pair2", display)]);
    try {
      await a.session.setRect({ x: 0, y: 0, width: 790, height: 640 });
      await b.session.setRect({ x: 800, y: 0, width: 790, height: 640 });
      await Promise.all([registerAtOnce(a), registerAtOnce(b)]);
      await Promise.all([signedIn(a), signedIn(b)]);
    } finally {
      await Promise.all([a.session.end(), b.session.end()]);
    }
  });
});
