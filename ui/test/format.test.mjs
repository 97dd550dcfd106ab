// Pure formatting: times, the typing line, unread badges, the connection banner, errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  PREVIEW_CHARS, badgeText, connectionText, displayName, errorText, formatTime, previewText, roomLabel, serverAddress, typingText,
} from "../app/js/format.js";

test("typingText: nobody, one, two, three or more", () => {
  assert.equal(typingText([]), "");
  assert.equal(typingText(["alice"]), "alice is typing…");
  assert.equal(typingText(["alice", "bob"]), "alice and bob are typing…");
  assert.equal(typingText(["alice", "bob", "carol"]), "several people are typing…");
  assert.equal(typingText(["a", "b", "c", "d", "e"]), "several people are typing…");
});

test("typingText keeps markup as plain characters (the view sets textContent)", () => {
  assert.equal(typingText(["<img src=x onerror=alert(1)>"]), "<img src=x onerror=alert(1)> is typing…");
});

test("badgeText: empty for none, the number, 99+ past 99", () => {
  assert.equal(badgeText(0), "");
  assert.equal(badgeText(1), "1");
  assert.equal(badgeText(99), "99");
  assert.equal(badgeText(100), "99+");
});

test("formatTime: clock today, month and day this year, with the year before", () => {
  // Local-time construction keeps the test independent of the machine's time zone.
  const now = new Date(2026, 10, 25, 18, 0);
  assert.equal(formatTime(new Date(2026, 10, 25, 9, 5).toISOString(), now), "09:05");
  assert.equal(formatTime(new Date(2026, 2, 3, 14, 30).toISOString(), now), "Mar 3 14:30");
  assert.equal(formatTime(new Date(2025, 11, 31, 23, 59).toISOString(), now), "Dec 31 2025 23:59");
  assert.equal(formatTime(new Date(2026, 10, 24, 23, 59).toISOString(), now), "Nov 24 23:59", "yesterday is not today");
});

test("formatTime: an unreadable time shows nothing rather than 'Invalid Date'", () => {
  assert.equal(formatTime("not a time"), "");
  assert.equal(formatTime(""), "");
});

test("connectionText: connected and connecting", () => {
  assert.deepEqual(connectionText({ state: "connected", transport: "websocket" }), { state: "connected", text: "connected" });
  assert.deepEqual(connectionText({ state: "connecting", attempt: 1, retry_in_ms: null }), { state: "connecting", text: "connecting…" });
});

test("connectionText: the retry countdown rounds up and counts down with elapsed time", () => {
  const view = { state: "connecting", attempt: 3, retry_in_ms: 4200 };
  assert.equal(connectionText(view).text, "reconnecting in 5s");
  assert.equal(connectionText(view, 1000).text, "reconnecting in 4s");
  assert.equal(connectionText(view, 4100).text, "reconnecting in 1s");
  assert.equal(connectionText(view, 5000).text, "connecting…", "past the deadline the attempt is running");
  assert.equal(connectionText(view, 5000).state, "connecting");
});

test("connectionText: offline says why", () => {
  assert.deepEqual(connectionText({ state: "offline", reason: "stopped" }), { state: "offline", text: "offline (stopped)" });
  assert.deepEqual(connectionText({ state: "offline", reason: "unauthorized" }), { state: "offline", text: "offline (sign in again)" });
  assert.equal(connectionText({ state: "offline", reason: "signed_out" }).text, "offline (signed out)");
  assert.equal(connectionText({ state: "offline", reason: "" }).text, "offline");
});

test("errorText: command errors, Errors, strings, and anything else", () => {
  assert.equal(errorText({ code: "invalid", message: "username taken" }), "username taken");
  assert.equal(errorText({ code: "offline", message: "" }), "offline");
  assert.equal(errorText(new Error("boom")), "boom");
  assert.equal(errorText("not running"), "not running");
  assert.equal(errorText(undefined), "something went wrong");
});

test("previewText: sender and first words on one line, cut on a character boundary", () => {
  assert.equal(previewText({ sender: "bob", body: "hi\n  there" }), "bob: hi there");
  const long = previewText({ sender: "bob", body: "😀".repeat(200) });
  assert.equal([...long].length, PREVIEW_CHARS);
  assert.ok(long.endsWith("…"));
  assert.ok(!long.includes("\uFFFD"));
  assert.equal(previewText({ sender: "x", body: "<b>hi</b>" }), "x: <b>hi</b>", "markup stays characters");
});

test("displayName: bidi controls and invisible characters show as U+FFFD; emoji joiners stay", () => {
  assert.equal(displayName("alice"), "alice");
  assert.equal(displayName("evil\u202Egnp.exe"), "evil\uFFFDgnp.exe", "right-to-left override");
  assert.equal(displayName("\u2067x\u2069"), "\uFFFDx\uFFFD", "isolates");
  assert.equal(displayName("ad\u200Bmin"), "ad\uFFFDmin", "zero-width space");
  assert.equal(displayName("a\u200Db\uFEFFc\u00ADd\u2060e"), "a\uFFFDb\uFFFDc\uFFFDd\uFFFDe");
  assert.equal(displayName("line\nbreak\u0007"), "line\uFFFDbreak\uFFFD", "controls");
  assert.equal(displayName("\u{1F468}\u200D\u{1F469}\u200D\u{1F467}"), "\u{1F468}\u200D\u{1F469}\u200D\u{1F467}", "a family emoji");
  assert.equal(displayName("\u05E9\u05DC\u05D5\u05DD"), "\u2068\u05E9\u05DC\u05D5\u05DD\u2069", "right-to-left names are isolated");
  assert.equal(roomLabel({ name: "x\u202Ey", kind: "group" }), "# x\uFFFDy");
  assert.equal(roomLabel({ name: "bob", kind: "direct" }), "@ bob");
  assert.equal(typingText(["ad\u200Bmin"]), "ad\uFFFDmin is typing…");
  assert.equal(previewText({ sender: "\u202Eevil", body: "hi" }), "\uFFFDevil: hi");
});

test("serverAddress: completes the scheme (http:// on this computer only) and flags cleartext to others", () => {
  assert.deepEqual(serverAddress("127.0.0.1:7447"), { url: "http://127.0.0.1:7447", cleartext: false });
  assert.deepEqual(serverAddress(" localhost:7447/ "), { url: "http://localhost:7447", cleartext: false });
  assert.deepEqual(serverAddress("[::1]:7447"), { url: "http://[::1]:7447", cleartext: false });
  assert.deepEqual(serverAddress("chat.example.org"), { url: "https://chat.example.org", cleartext: false });
  assert.deepEqual(serverAddress("192.168.1.20:7447"), { url: "https://192.168.1.20:7447", cleartext: false });
  assert.deepEqual(serverAddress("https://chat.example.org/"), { url: "https://chat.example.org", cleartext: false });
  assert.deepEqual(serverAddress("http://192.168.1.20:7447"), { url: "http://192.168.1.20:7447", cleartext: true });
  assert.deepEqual(serverAddress("HTTP://10.0.0.1"), { url: "http://10.0.0.1", cleartext: true });
  assert.deepEqual(serverAddress("http://localhost.example.org"), { url: "http://localhost.example.org", cleartext: true });
  assert.deepEqual(serverAddress("http://127.0.0.1:7447"), { url: "http://127.0.0.1:7447", cleartext: false });
  for (const refused of ["", "  ", "ftp://x", "http://"]) assert.equal(serverAddress(refused).url, "", refused);
});
