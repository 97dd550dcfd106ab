// End to end in real windows: two natter-desktop instances (separate profiles) and one relay, all
// started here, driven through tauri-driver + WebKitWebDriver under Xvfb. One conversation, step
// by step: register, a room, both ways, typing, unread badges, a relay kill -9 mid-conversation,
// hostile markup, an OS notification, "read" kept across a restart and a new sign-in.
// Screenshots go to target/e2e/.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Keys, waitFor } from "./webdriver.mjs";
import * as h from "./harness.mjs";

const { tid } = h;
/** Reconnecting after a relay restart waits out the client's backoff: generous. */
const RECONNECT_MS = 90_000;

/** @type {{url: string, start(): Promise<void>, kill(): Promise<void>, cleanup(): void}} */
let relay;
let notifications;
let alice;
let bob;
let display;
let roomId = "";

/** What a window's message list shows, read in the page. */
const shown = (s) =>
  s.exec(`return [...document.querySelectorAll('[data-testid="message"]')].map((m) => ({
    seq: m.dataset.seq ?? null,
    body: m.querySelector('.body').textContent,
    delivery: m.querySelector('.delivery') ? m.querySelector('.delivery').dataset.delivery : null,
    label: m.querySelector('.delivery') ? m.querySelector('.delivery').getAttribute('aria-label') : null,
    markShown: m.querySelector('.delivery') ? m.querySelector('.delivery').getClientRects().length > 0 : false,
  }))`);
const connection = (s) => s.exec(`return document.querySelector('[data-testid="connection-status"]').dataset.state`);
const typingLine = (s) => s.exec(`return document.querySelector('[data-testid="typing-indicator"]').textContent`);
const badge = (s, id) =>
  s.exec(`const b = document.querySelector('[data-room-id="' + arguments[0] + '"] [data-testid="unread-badge"]'); return b ? b.textContent : ""`, [id]);
const bodies = async (s) => (await shown(s)).map((m) => m.body);
/** Whether an app of `profile` still runs (its profile is not free to start again until it quits). */
const running = (profile) =>
  readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .some((pid) => {
      try {
        const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
        return argv[0] === h.DESKTOP_BIN && argv.includes(profile);
      } catch {
        return false; // gone meanwhile
      }
    });

/** The whole display (both windows): an X grab, which does not depend on WebKit painting on demand. */
const shoot = (step) => {
  mkdirSync(h.SHOTS, { recursive: true });
  const file = join(h.SHOTS, `${step}.png`);
  // A screenshot left by an earlier run must not pass for this one's.
  rmSync(file, { force: true });
  try {
    execFileSync("import", ["-display", display, "-window", "root", file], { timeout: 20_000 });
  } catch (error) {
    console.log(`no screenshot for ${step}: ${error.message}`);
  }
};

const send = async (who, text) => {
  const box = await who.session.find(tid("composer"));
  await who.session.type(box, text + Keys.ENTER);
};

/** Clicks a room until it is the open one: the list redraws as events arrive, so a button found
 * a moment ago may be gone (a stale element) by the time it is clicked. */
const openRoom = async (who, id) => {
  await waitFor(async () => {
    await who.session.click(await who.session.find(`[data-room-id="${id}"]`));
    return (await who.session.exec(`return document.querySelector('[aria-current="true"]')?.dataset.roomId`)) === id;
  }, `${who.name} to open ${id}`);
};

const register = async (who) => {
  const s = who.session;
  await h.fillRegister(s, who.name, relay.url);
  await waitFor(async () => (await connection(s)) === "connected", `${who.name} connected`, 60_000).catch(async (error) => {
    const page = await s.exec(`return document.querySelector('[data-testid="connection-status"]').textContent + ' | ' + document.querySelector('#login-error').textContent`);
    const backend = await s.execAsync(`const done = arguments[arguments.length - 1]; window.__TAURI__.core.invoke('connection_state').then((v) => done(JSON.stringify(v)), (e) => done('error ' + JSON.stringify(e)))`);
    throw new Error(`${error.message} (page: ${page}; backend: ${backend})\n${h.logs()}`);
  });
};

describe("two windows chatting through one relay", { concurrency: false }, () => {
  before(async () => {
    display = await h.startDisplay();
    notifications = await h.startNotifications(display);
    relay = await h.relay();
    await relay.start();
    alice = await h.app("alice", display);
    bob = await h.app("bob", display);
    // Side by side from the start: there is no window manager, and WebKit does not paint (nor
    // snapshot) a window that another one covers.
    await alice.session.setRect({ x: 0, y: 0, width: 790, height: 640 });
    await bob.session.setRect({ x: 800, y: 0, width: 790, height: 640 });
  });

  after(async () => {
    for (const who of [alice, bob]) await who?.session.end();
    await h.stopAll();
    relay?.cleanup();
  });

  test("each app shows its window once its page loads", async () => {
    // Created hidden (tauri.conf.json) and shown by the app itself: a window left hidden would
    // still answer WebDriver, so only the page's visibility tells.
    for (const who of [alice, bob]) {
      await waitFor(async () => (await who.session.exec(`return document.visibilityState`)) === "visible", `${who.name}'s window shown`, 30_000);
    }
  });

  test("both register on the relay and connect", async () => {
    await register(alice);
    await register(bob);
    shoot("01-registered");
  });

  test("alice creates a room with bob; both see it", async () => {
    const s = alice.session;
    await s.click(await s.find(tid("new-room")));
    await s.type(await s.find(tid("new-room-name")), "e2e");
    await s.type(await s.find(tid("new-room-members")), "bob");
    await s.click(await s.find(tid("new-room-submit")));
    roomId = await waitFor(
      () => s.exec(`const r = document.querySelector('[aria-current="true"]'); return r && r.textContent.includes('e2e') ? r.dataset.roomId : null`),
      "alice's new room to open",
    );
    await bob.session.find(`[data-room-id="${roomId}"]`, 30_000);
    await openRoom(bob, roomId);
  });

  test("messages go both ways, once each, in order", async () => {
    await send(alice, "hello bob");
    await waitFor(async () => (await bodies(bob.session)).includes("hello bob"), "bob to see alice's message");
    await send(bob, "hi alice");
    await waitFor(async () => (await bodies(alice.session)).includes("hi alice"), "alice to see bob's reply");
    for (const who of [alice, bob]) {
      const list = await shown(who.session);
      assert.deepEqual(list.map((m) => m.body), ["hello bob", "hi alice"], `${who.name}'s list`);
      assert.deepEqual(list.map((m) => m.seq), ["1", "2"]);
    }
    await waitFor(async () => (await shown(alice.session))[0].delivery === "read", "alice's first message marked read (bob's receipt)");
  });

  test("the typing indicator appears in the other window and clears", async () => {
    const box = await alice.session.find(tid("composer"));
    await alice.session.type(box, "typing something");
    await waitFor(async () => (await typingLine(bob.session)) === "alice is typing…", "bob to see alice typing");
    shoot("02-typing");
    await alice.session.clear(box);
    await alice.session.type(box, "x");
    await alice.session.chord([Keys.CONTROL, "a"]);
    await alice.session.type(box, "\uE003"); // backspace: an empty composer stops typing
    await waitFor(async () => (await typingLine(bob.session)) === "", "bob's typing line to clear", 20_000);
  });

  test("unread badges count messages in other rooms and clear when the room is opened", async () => {
    await openRoom(bob, "general");
    await send(alice, "unread one");
    await send(alice, "unread two");
    await waitFor(async () => (await badge(bob.session, roomId)) === "2", "bob's badge to show 2");
    shoot("03-unread");
    await openRoom(bob, roomId);
    await waitFor(async () => (await badge(bob.session, roomId)) === "", "bob's badge to clear");
  });

  test("an OS notification is raised for a message in a room not in view", async () => {
    await openRoom(bob, "general");
    try {
      const before = notifications.calls().length;
      await send(alice, "ping for a notification");
      // Notifications are coalesced per room for a few seconds: the earlier unread ones may
      // fold this one into "N new messages".
      const call = await waitFor(() => notifications.calls().slice(before).find((c) => c.includes("#e2e")), "a Notify call for #e2e on the session bus", 20_000);
      assert.match(call, /alice: ping for a notification|\d+ new messages/);
    } finally {
      await openRoom(bob, roomId);
    }
  });

  test("markup in a message reaches the notification server escaped", async () => {
    // Sent to `general`, where nothing was said yet, so it is shown at once, not coalesced; sent
    // by command, so alice's window stays on the room the next steps use.
    const before = notifications.calls().length;
    const sent = await alice.session.execAsync(
      `const done = arguments[arguments.length - 1]; window.__TAURI__.core.invoke('send_message', { room_id: 'general', body: '<b>x</b> & more' }).then(() => done('ok'), (e) => done(JSON.stringify(e)))`,
    );
    assert.equal(sent, "ok");
    const call = await waitFor(() => notifications.calls().slice(before).find((c) => c.includes("#general")), "a Notify call for #general on the session bus", 20_000);
    // dunst, like other servers, renders markup: the text must reach it escaped.
    assert.match(call, /alice: &lt;b&gt;x&lt;\/b&gt; &amp; more/);
    assert.ok(!notifications.calls().some((c) => c.includes("<b>x</b>")), "no Notify call carries the markup raw");
  });

  test("in a room set to mentions only, a mention notifies and a plain message does not", async () => {
    await openRoom(bob, roomId);
    const level = (value) =>
      bob.session.exec(
        `const s = document.querySelector('[data-testid="room-notify"]'); s.value = arguments[0]; s.dispatchEvent(new Event("change"));`,
        [value],
      );
    const levels = () =>
      bob.session.execAsync(`const done = arguments[arguments.length - 1]; window.__TAURI__.core.invoke('notification_levels').then((l) => done(JSON.stringify(l)), (e) => done('error ' + JSON.stringify(e)))`);
    await level("mentions");
    await waitFor(async () => JSON.parse(await levels())[roomId] === "mentions", "bob's room kept at mentions only");
    await openRoom(bob, "general");
    try {
      const before = notifications.calls().length;
      await send(alice, "no mention in this one");
      await send(alice, "@bob this one is for you");
      const call = await waitFor(() => notifications.calls().slice(before).find((c) => c.includes("#e2e")), "a Notify call for the mention", 20_000);
      // Not folded into "2 new messages": the plain one was never counted.
      assert.match(call, /alice: @bob this one is for you/);
      await waitFor(async () => (await bodies(alice.session)).includes("@bob this one is for you"), "alice to show her own send");
      assert.ok(!notifications.calls().slice(before).some((c) => c.includes("no mention in this one")), "the plain message raised nothing");
    } finally {
      await openRoom(bob, roomId);
      await level("all");
    }
  });

  test("relay killed mid-conversation: offline, then connected; what was typed meanwhile arrives once, in order", async () => {
    await relay.kill();
    for (const who of [alice, bob]) {
      await waitFor(async () => (await connection(who.session)) !== "connected", `${who.name}'s banner to leave connected`, 60_000);
    }
    const outage = ["during outage 1", "during outage 2", "during outage 3"];
    for (const text of outage) await send(alice, text);
    await waitFor(async () => (await shown(alice.session)).filter((m) => m.delivery === "pending").length === 3, "three pending sends at alice");
    // Grouped under one another, each still shows its mark on screen and says it in words.
    for (const m of (await shown(alice.session)).filter((m) => m.delivery === "pending")) {
      assert.ok(m.markShown, `"${m.body}": its pending mark is on screen`);
      assert.equal(m.label, "Not sent yet", `"${m.body}": its label`);
    }
    shoot("04-offline");
    await relay.start();
    for (const who of [alice, bob]) {
      await waitFor(async () => (await connection(who.session)) === "connected", `${who.name} reconnected`, RECONNECT_MS);
    }
    await waitFor(async () => (await bodies(bob.session)).includes(outage[2]), "bob to get the outage messages", 30_000);
    for (const who of [alice, bob]) {
      await waitFor(async () => (await shown(who.session)).every((m) => m.seq !== null), `${who.name}: every message committed`, 30_000);
      const list = await shown(who.session);
      const texts = list.map((m) => m.body);
      for (const t of outage) assert.equal(texts.filter((b) => b === t).length, 1, `${who.name} shows "${t}" once`);
      assert.deepEqual(texts.filter((b) => outage.includes(b)), outage, `${who.name}: in the order typed`);
      const seqs = list.map((m) => Number(m.seq));
      assert.deepEqual(seqs, seqs.map((_, i) => i + 1), `${who.name}: seqs 1..n with no gap or repeat`);
    }
  });

  test("hostile markup shows as plain text and runs nothing", async () => {
    const payloads = [
      `<img src=x onerror="window.__xss=1">`,
      `<script>window.__xss=2</script>`,
      `<a href="javascript:window.__xss=3">click me</a> [link](javascript:window.__xss=4)`,
      `</div></li></ol><b onmouseover="window.__xss=5">breakout</b>`,
    ];
    for (const p of payloads) await send(alice, p);
    await waitFor(async () => (await bodies(bob.session)).includes(payloads.at(-1)), "bob to get the payloads");
    for (const who of [alice, bob]) {
      const texts = await bodies(who.session);
      for (const p of payloads) assert.ok(texts.includes(p), `${who.name} shows ${p} verbatim`);
      const injected = await who.session.exec(
        `const l = document.querySelector('[data-testid="message-list"]'); return l.querySelectorAll('img, script, a, b').length`,
      );
      assert.equal(injected, 0, `${who.name}: no element came from user text`);
      assert.equal(await who.session.exec(`return window.__xss === undefined`), true, `${who.name}: no payload ran`);
    }
  });

  test("formatting draws as elements in a real window; a link carries no href (the webview cannot navigate)", async () => {
    const body = "**plan** for `friday`: see https://example.org/plan and ask @bob";
    await send(alice, body);
    const shownAs = "plan for friday: see https://example.org/plan and ask @bob";
    await waitFor(async () => (await bodies(bob.session)).includes(shownAs), "bob to get the formatted message");
    const drawn = await bob.session.exec(`
      const rows = [...document.querySelectorAll('[data-testid="message"] .body')];
      const b = rows.find((r) => r.textContent.startsWith("plan for"));
      const link = b.querySelector('[data-testid="link"]');
      return {
        strong: b.querySelector("strong")?.textContent, code: b.querySelector("code")?.textContent,
        href: link.getAttribute("href"), target: link.dataset.href,
        mention: b.querySelector('[data-testid="mention"]').className,
      };`);
    assert.deepEqual(drawn, { strong: "plan", code: "friday", href: null, target: "https://example.org/plan", mention: "mention me" });
  });

  test("a link click hands the link to the system opener; the webview stays on the app", async () => {
    const page = await bob.session.exec(`return location.href`);
    const link = await bob.session.find(`[data-testid="message"] [data-testid="link"]`);
    // What the pointer's click reached, for the failure message: a row that moves under the
    // pointer on hover, or a hidden toolbar over the text, once took the click from the link.
    await bob.session.exec(`window.__clicked = []; document.addEventListener("click", (e) => window.__clicked.push(e.target.closest("[data-testid]")?.dataset.testid ?? e.target.tagName), true);`);
    await bob.session.click(link);
    const opened = await waitFor(async () => bob.opened().includes("https://example.org/plan"), "xdg-open to be given the link", 20_000).then(() => true, () => false);
    const clicked = await bob.session.exec(`return window.__clicked`);
    assert.ok(opened, `xdg-open was given ${JSON.stringify(bob.opened())}, not the link; the click reached ${JSON.stringify(clicked)}`);
    assert.equal(await bob.session.exec(`return location.href`), page, "the webview did not navigate");
    assert.equal(await bob.session.exec(`return document.querySelectorAll('[data-testid="message"]').length > 0`), true, "the app is still shown");
  });

  test("a reply, a reaction, an edit and a delete made in one window show in the other", async () => {
    await openRoom(alice, roomId);
    await openRoom(bob, roomId);
    await send(alice, "pick a day");
    await waitFor(async () => (await bodies(bob.session)).includes("pick a day"), "bob to get the message");
    // The buttons show on hover; a script click is what a pointer or Enter does.
    const act = (s, body, testid, extra = "") =>
      s.exec(
        // The row takes the focus first, as from the keyboard: that brings the one action bar in.
        `const row = [...document.querySelectorAll('[data-testid="message"]')].find((m) => m.querySelector('.body').textContent === arguments[0]);
         row.focus();
         row.querySelector('[data-testid="' + arguments[1] + '"]' + arguments[2]).click();`,
        [body, testid, extra],
      );
    const stateOf = (s, seq) =>
      s.exec(
        `const row = document.querySelector('[data-testid="message"][data-seq="' + arguments[0] + '"]');
         return row ? { body: row.querySelector('.body').textContent, edited: !!row.querySelector('[data-testid="edited-marker"]'),
           reactions: [...row.querySelectorAll('[data-testid="reaction"]')].map((r) => r.textContent) } : null;`,
        [seq],
      );
    const seq = (await shown(bob.session)).find((m) => m.body === "pick a day").seq;
    await act(bob.session, "pick a day", "message-action-react", `[data-emoji="👍"]`);
    await waitFor(async () => (await stateOf(alice.session, seq))?.reactions.join() === "👍 1", "alice to see bob's 👍");
    // A reply: bob answers it from its actions; alice sees the reply with what it answers.
    await act(bob.session, "pick a day", "message-action-reply");
    await send(bob, "friday works");
    const quoteOf = (s, body) =>
      s.exec(
        `const row = [...document.querySelectorAll('[data-testid="message"]')].find((m) => m.querySelector('.body').textContent === arguments[0]);
         return row?.querySelector('[data-testid="reply-quote"]')?.textContent ?? null;`,
        [body],
      );
    await waitFor(async () => (await quoteOf(alice.session, "friday works"))?.includes("pick a day"), "alice to see bob's reply quoting the message");
    // The quote is a button: it takes alice to the message it answers, marked and focused.
    await act(alice.session, "friday works", "reply-quote");
    await waitFor(async () => (await alice.session.exec(`return document.activeElement?.dataset?.seq ?? null`)) === seq, "the quote to take alice to the message it answers");
    await act(alice.session, "pick a day", "message-action-edit");
    const s = alice.session;
    await waitFor(async () => (await s.exec(`return document.querySelector('[data-testid="composer"]').value`)) === "pick a day", "the text to edit in the composer");
    await s.exec(`const box = document.querySelector('[data-testid="composer"]'); box.value = "pick a day: Friday?"; document.querySelector('[data-testid="send"]').click();`);
    await waitFor(async () => {
      const now = await stateOf(bob.session, seq);
      return now?.body === "pick a day: Friday?" && now.edited && now.reactions.join() === "👍 1";
    }, "bob to see the edit, the reaction kept");
    await act(alice.session, "pick a day: Friday?", "message-action-delete");
    await s.click(await s.find(tid("delete-submit")));
    await waitFor(async () => (await stateOf(bob.session, seq))?.body === "This message was deleted", "bob to see the delete");
    const entries = (await shown(bob.session)).filter((m) => Number(m.seq) > Number(seq));
    assert.deepEqual(entries.map((m) => m.body), ["friday works"], "the reply is drawn; the change entries are not");
  });

  test("\"read\" on alice's own messages survives an app restart and signing out and in", async () => {
    const firstIsRead = async (what) => {
      await openRoom(alice, roomId);
      await waitFor(async () => (await shown(alice.session)).find((m) => m.seq === "1")?.delivery === "read", `alice's first message "read" ${what}`, 30_000);
    };
    await firstIsRead("before");
    await alice.session.end();
    await waitFor(async () => !running("alice"), "alice's app to quit", 30_000);
    alice = await h.app("alice", display, { home: alice.home });
    await alice.session.setRect({ x: 0, y: 0, width: 790, height: 640 });
    await waitFor(async () => (await connection(alice.session)) === "connected", "alice's restarted app connected", 60_000);
    await firstIsRead("after a restart");

    const s = alice.session;
    await s.click(await s.find("#logout"));
    await waitFor(() => s.exec(`return !document.querySelector('#login-screen').hidden`), "alice's sign-in screen");
    await s.type(await s.find(tid("login-username")), "alice");
    await s.type(await s.find(tid("login-password")), h.PASSWORD);
    await s.click(await s.find(tid("login-submit")));
    await waitFor(async () => (await connection(s)) === "connected" && (await s.exec(`return document.querySelector('#login-screen').hidden`)), "alice signed in again", 60_000);
    await firstIsRead("after signing out and in (an empty cache)");
  });

  test("screenshots of both windows side by side", async () => {
    shoot("two-windows");
    assert.ok(existsSync(join(h.SHOTS, "two-windows.png")), "the screenshot was written");
  });
});
