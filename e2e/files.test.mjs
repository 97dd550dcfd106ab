// Issue 20 in real windows: two natter-desktop instances and one relay (as chat.test.mjs). An
// image pasted into one window's composer (the page's real paste handler, handing the bytes to
// the shell; WebDriver cannot drive the system's file dialog) appears in the other as a
// thumbnail the shell fetched (a data: URL under the strict CSP), full size on click; and search
// finds an old message, scrolled far out of the window, and jumps to it. Screenshots go to
// target/e2e/.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Keys, waitFor } from "./webdriver.mjs";
import * as h from "./harness.mjs";

const { tid } = h;

let relay;
let display;
let alice;
let bob;

/** Waits until a window is signed in and connected (it opens # general). */
const register = async (who) => {
  const s = who.session;
  await h.fillRegister(s, who.name, relay.url);
  await waitFor(
    async () => (await s.exec(`return document.querySelector('[data-testid="connection-status"]').dataset.state`)) === "connected",
    `${who.name} connected`,
    60_000,
  ).catch((error) => {
    throw new Error(`${error.message}\n${h.logs()}`);
  });
};

/** The message list's attachments in a window: file id, whether its image decoded, its size. */
const attachments = (s) =>
  s.exec(`return [...document.querySelectorAll('[data-testid="message-list"] [data-testid="attachment"]')].map((a) => {
    const img = a.querySelector('img');
    return { id: a.dataset.fileId, src: img ? img.getAttribute('src') || '' : '', width: img ? img.naturalWidth : 0 };
  })`);

describe("files and search in two windows", { concurrency: false }, () => {
  before(async () => {
    display = await h.startDisplay();
    relay = await h.relay();
    await relay.start();
    alice = await h.app("alice", display);
    bob = await h.app("bob", display);
    // Side by side: with no window manager, WebKit does not paint a window another one covers.
    await alice.session.setRect({ x: 0, y: 0, width: 790, height: 640 });
    await bob.session.setRect({ x: 800, y: 0, width: 790, height: 640 });
    await register(alice);
    await register(bob);
  });

  after(async () => {
    for (const who of [alice, bob]) await who?.session.end();
    await h.stopAll();
    relay?.cleanup();
  });

  test("an image pasted in one window appears as a thumbnail in the other", async () => {
    // A 96×64 PNG drawn in the page, pasted into the composer as a paste of an image does.
    const pasted = await alice.session.execAsync(
      `const done = arguments[arguments.length - 1];
       const canvas = document.createElement('canvas');
       canvas.width = 96; canvas.height = 64;
       const g = canvas.getContext('2d');
       g.fillStyle = '#d33'; g.fillRect(0, 0, 48, 64);
       g.fillStyle = '#36c'; g.fillRect(48, 0, 48, 64);
       canvas.toBlob((blob) => {
         const file = new File([blob], 'e2e.png', { type: 'image/png' });
         const paste = new Event('paste', { bubbles: true, cancelable: true });
         Object.defineProperty(paste, 'clipboardData', { value: { files: [file] } });
         const box = document.querySelector('[data-testid="composer"]');
         box.dispatchEvent(paste);
         done(paste.defaultPrevented ? 'pasted' : 'ignored');
       }, 'image/png');`,
    );
    assert.equal(pasted, "pasted", "the composer took the image");
    let seen = [];
    await waitFor(
      async () => {
        seen = await attachments(bob.session);
        return seen.some((a) => a.src.startsWith("data:image/") && a.width > 0);
      },
      "bob to see the image's thumbnail, decoded",
      30_000,
    ).catch((error) => {
      throw new Error(`${error.message}; bob shows ${JSON.stringify(seen).slice(0, 300)}\n${h.logs()}`);
    });
    const [shown] = seen.filter((a) => a.width > 0);
    assert.ok(shown.id, "the thumbnail names its file");
    // Alice's own message, once committed, shows it too.
    await waitFor(async () => (await attachments(alice.session)).some((a) => a.id === shown.id && a.width > 0), "alice's own thumbnail");

    // Full size on click: the viewer shows the original (96 px wide), Esc closes it.
    const s = bob.session;
    await s.click(await s.find(`[data-testid="attachment"][data-file-id="${shown.id}"]`));
    await waitFor(
      () => s.exec(`const v = document.querySelector('[data-testid="image-viewer"]'); return !v.hidden && v.querySelector('img').naturalWidth === 96`),
      "the full-size image in the viewer",
    );
    await s.type(await s.find(tid("image-viewer-close")), Keys.ESCAPE);
    await waitFor(() => s.exec(`return document.querySelector('[data-testid="image-viewer"]').hidden`), "the viewer to close");
  });

  test("search finds an old message and jumps to it", async () => {
    const send = (body) =>
      alice.session.execAsync(
        `const done = arguments[arguments.length - 1]; window.__TAURI__.core.invoke('send_message', { room_id: 'general', body: arguments[0] }).then(() => done('ok'), (e) => done(JSON.stringify(e)))`,
        [body],
      );
    assert.equal(await send("the old needle in the haystack"), "ok");
    // Enough after it that it is far above what bob's window holds and shows.
    for (let i = 1; i <= 60; i += 1) assert.equal(await send(`filler ${i}`), "ok");
    const s = bob.session;
    await waitFor(
      () => s.exec(`return [...document.querySelectorAll('[data-testid="message"] .body')].some((b) => b.textContent === 'filler 60')`),
      "bob to have the last filler",
      60_000,
    );
    const visibleNeedle = `const m = [...document.querySelectorAll('[data-testid="message"]')].find((m) => m.querySelector('.body')?.textContent.includes('old needle'));
       if (!m) return 'absent';
       const list = document.querySelector('[data-testid="message-list"]').getBoundingClientRect();
       const r = m.getBoundingClientRect();
       return r.bottom > list.top && r.top < list.bottom ? 'in view' : 'out of view';`;
    assert.notEqual(await s.exec(visibleNeedle), "in view", "the old message is not on screen before the search");

    await s.chord([Keys.CONTROL, "f"]);
    const input = await s.find(tid("search-input"));
    await s.type(input, "needle");
    await s.clickFound(tid("search-result"), 30_000);
    await waitFor(async () => (await s.exec(visibleNeedle)) === "in view", "the old message in view in bob's list", 30_000);
    const focused = await s.exec(`return document.activeElement?.querySelector('.body')?.textContent ?? ''`);
    assert.match(focused, /old needle/, "the found message has the focus");
  });
});
