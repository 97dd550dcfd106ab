// Layouts that hold, in a real window (issue 23, items 6, 7 and 9): a 32-character username and a
// 64-character room name at 895 px, then the narrow widths down to the 480 px minimum. At each
// width the composer, Send and the room actions must be inside the window and be what is under
// the pointer at their centre; long names are cut, with the whole name as the tooltip.
// Screenshots of the long-name and the 500 px layouts go to target/e2e/. Then the keyboard: a
// key typed while a room button has the focus lands in the composer.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { waitFor } from "./webdriver.mjs";
import * as h from "./harness.mjs";

const { tid } = h;
/** The longest username (32) and room name (64) the relay takes. */
const LONG_USER = "a_very_long_username_of_32_chars";
const LONG_ROOM = "a room name as long as the relay allows, sixty-four characters!!";
const LONG_PEER = "the_other_long_username_32chars_";
/** What must stay usable in a group room; a direct room has no Invite or Leave. */
const GROUP = ["composer", "send", "leave", "invite", "new-room", "new-dm"];
const DIRECT = ["composer", "send", "new-room", "new-dm"];
const HEIGHT = 640;

let relay;
let display;
let who;

/** The window's part of the display, as the X server has it. @param {string} step @param {number} width */
const shoot = (step, width) => {
  mkdirSync(h.SHOTS, { recursive: true });
  const file = join(h.SHOTS, `${step}.png`);
  rmSync(file, { force: true }); // one left by an earlier run must not pass for this one's
  execFileSync("import", ["-display", display, "-window", "root", "-crop", `${width}x${HEIGHT}+0+0`, "+repage", file], { timeout: 20_000 });
  assert.ok(existsSync(file), `${file} written`);
};

/** Where the controls are, read in the page: each inside the window and on top at its centre. */
const controls = () =>
  who.session.exec(`
    const out = {};
    for (const id of ["composer", "send", "leave", "invite", "new-room", "new-dm"]) {
      const el = document.querySelector('[data-testid="' + id + '"]');
      const r = el.getBoundingClientRect();
      const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
      out[id] = {
        inside: r.width > 0 && r.height > 0 && r.left >= 0 && r.top >= 0 && r.right <= innerWidth && r.bottom <= innerHeight,
        onTop: top === el || el.contains(top),
        rect: [Math.round(r.left), Math.round(r.top), Math.round(r.right), Math.round(r.bottom)],
      };
    }
    const title = document.querySelector('#room-title');
    const item = document.querySelector('[aria-current="true"] .name');
    out.width = innerWidth;
    out.pageScrolls = document.documentElement.scrollWidth > innerWidth;
    out.titleCut = title.scrollWidth > title.clientWidth;
    out.titleTip = title.title;
    out.itemTip = item.closest('button').title;
    out.whoamiTip = document.querySelector('#whoami').title;
    return out;
  `);

const resize = async (width) => {
  await who.session.setRect({ x: 0, y: 0, width, height: HEIGHT });
  await waitFor(async () => (await who.session.exec(`return innerWidth`)) <= width, `the window at ${width} px`, 10_000);
};

/** Every control of `ids` usable at `width`; says what it saw when not. */
const holdsAt = async (width, ids = GROUP) => {
  await resize(width);
  const seen = await controls();
  for (const id of ids) {
    assert.ok(seen[id].inside && seen[id].onTop, `at ${width} px, ${id} is on screen and usable: ${JSON.stringify(seen)}`);
  }
  assert.equal(seen.pageScrolls, false, `at ${width} px the page does not scroll sideways`);
  return seen;
};

describe("long names and narrow windows keep the composer, Send and the room actions", { concurrency: false }, () => {
  before(async () => {
    display = await h.startDisplay();
    relay = await h.relay();
    await relay.start();
    // Others to share rooms with: a group room shows Leave and Invite, and its members line.
    for (const username of ["bob", LONG_PEER]) {
      const made = await fetch(`${relay.url}/api/register`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username, password: h.PASSWORD }),
      });
      assert.equal(made.status, 201);
    }
    who = await h.app("longname", display);
    await who.session.setRect({ x: 0, y: 0, width: 895, height: HEIGHT });
  });

  after(async () => {
    await who?.session.end();
    await h.stopAll();
    relay?.cleanup();
  });

  test("a 32-character user creates a room with a 64-character name", async () => {
    const s = who.session;
    await h.fillRegister(s, LONG_USER, relay.url);
    await waitFor(async () => (await s.exec(`return document.querySelector('#room-title').textContent`)) === "# general", "signed in, in # general", 60_000);
    await s.click(await s.find(tid("new-room")));
    await s.type(await s.find(tid("new-room-name")), LONG_ROOM);
    await s.type(await s.find(tid("new-room-members")), `bob, ${LONG_PEER}`);
    await s.click(await s.find(tid("new-room-submit")));
    await waitFor(async () => (await s.exec(`return document.querySelector('#room-title').textContent`)) === `# ${LONG_ROOM}`, "the long room to open");
  });

  test("at 895 px the long names are cut, with the whole name as the tooltip", async () => {
    const seen = await holdsAt(895);
    assert.equal(seen.titleTip, `# ${LONG_ROOM}`);
    assert.equal(seen.itemTip, LONG_ROOM);
    assert.equal(seen.whoamiTip, LONG_USER);
    shoot("long-names-895", 895);
  });

  test("at 500 px and at the 480 px minimum everything stays usable", async () => {
    await holdsAt(500);
    shoot("narrow-500", 500);
    await holdsAt(480);
  });

  test("a direct room with a 32-character user holds at 895, 500 and 480 px", async () => {
    const s = who.session;
    await resize(895);
    await s.click(await s.find(tid("new-dm")));
    await s.type(await s.find(tid("new-dm-username")), LONG_PEER);
    await s.click(await s.find(tid("new-dm-submit")));
    await waitFor(async () => (await s.exec(`return document.querySelector('#room-title').textContent`)) === `@ ${LONG_PEER}`, "the DM to open, named after the other person");
    await holdsAt(895, DIRECT);
    shoot("long-dm-895", 895);
    await holdsAt(500, DIRECT);
    await holdsAt(480, DIRECT);
  });

  test("a key typed while a room button has the focus goes to the composer", async () => {
    await resize(895);
    const s = who.session;
    // The list redraws as events arrive: a button found a moment ago may be stale, so click until it took.
    await waitFor(async () => {
      await s.click(await s.find('[data-room-id="general"]'));
      return s.exec(`return document.querySelector('[aria-current="true"]')?.dataset.roomId === "general"`);
    }, "general to open");
    await waitFor(async () => s.exec(`return document.activeElement === document.querySelector('[data-testid="composer"]')`), "the composer to have the keyboard after a click on a room");
    await s.exec(`document.querySelector('[data-room-id="general"]').focus()`);
    await s.chord(["h"]);
    await s.chord(["i"]);
    const box = await s.exec(`const b = document.querySelector('[data-testid="composer"]'); return { value: b.value, focused: document.activeElement === b }`);
    assert.deepEqual(box, { value: "hi", focused: true });
  });
});
