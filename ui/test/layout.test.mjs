// Pure layout and paging arithmetic: day separators, sender groups, the bounded window.
import { test } from "node:test";
import assert from "node:assert/strict";
import { GROUP_GAP_MS, dayLabel, layout } from "../app/js/layout.js";
import { PAGE, WINDOW, reachesNewest, scrollPosition, trim } from "../app/js/paging.js";

const at = (y, mo, d, h = 12, mi = 0) => new Date(y, mo - 1, d, h, mi).toISOString();
const item = (key, sender, iso) => ({ key, sender, at: iso });
const NOW = new Date(2026, 10, 25, 15, 0); // Wed Nov 25 2026, local

test("dayLabel: today, yesterday, weekday within a week, date this year, date with year", () => {
  assert.equal(dayLabel(at(2026, 11, 25, 9), NOW), "Today");
  assert.equal(dayLabel(at(2026, 11, 24, 23, 59), NOW), "Yesterday");
  assert.equal(dayLabel(at(2026, 11, 20), NOW), "Friday");
  assert.equal(dayLabel(at(2026, 3, 3), NOW), "March 3");
  assert.equal(dayLabel(at(2025, 12, 31), NOW), "December 31, 2025");
  assert.equal(dayLabel("not a date", NOW), "");
});

test("layout: a day row before each local day, groups by sender and pause", () => {
  const rows = layout(
    [
      item("a", "bob", at(2026, 11, 24, 10, 0)),
      item("b", "bob", at(2026, 11, 24, 10, 1)),
      item("c", "alice", at(2026, 11, 24, 10, 2)),
      item("d", "alice", at(2026, 11, 24, 10, 2 + GROUP_GAP_MS / 60_000 + 1)),
      item("e", "alice", at(2026, 11, 25, 8, 0)),
    ],
    NOW,
  );
  assert.deepEqual(
    rows.map((r) => (r.kind === "day" ? `[${r.label}]` : `${r.key}${r.first ? "*" : ""}`)),
    ["[Yesterday]", "a*", "b", "c*", "d*", "[Today]", "e*"],
  );
});

test("layout: an item without a readable time joins the group and adds no day row", () => {
  const rows = layout([item("a", "bob", at(2026, 11, 25, 10)), item("p", "bob", "")], NOW);
  assert.deepEqual(rows.map((r) => r.kind), ["day", "message", "message"]);
});

test("trim keeps at most WINDOW messages, from the end the reader is at", () => {
  const list = Array.from({ length: WINDOW + 50 }, (_, i) => ({ seq: i + 1 }));
  const top = trim(list, "top");
  assert.equal(top.dropped, true);
  assert.equal(top.list.length, WINDOW);
  assert.equal(top.list[0].seq, 1);
  const bottom = trim(list, "bottom");
  assert.equal(bottom.list.at(-1).seq, WINDOW + 50);
  assert.equal(bottom.list[0].seq, 51);
  const small = [{ seq: 1 }];
  assert.deepEqual(trim(small, "top"), { list: small, dropped: false });
});

test("a short page of newer messages reaches the newest, a full one does not; scrollPosition", () => {
  assert.equal(reachesNewest(new Array(PAGE)), false);
  assert.equal(reachesNewest(new Array(PAGE - 1)), true);
  assert.equal(reachesNewest([], 10), true);
  assert.deepEqual(scrollPosition({ scrollTop: 10, scrollHeight: 1000, clientHeight: 500 }, 48), { nearTop: true, nearBottom: false, fromBottom: 490 });
  assert.deepEqual(scrollPosition({ scrollTop: 480, scrollHeight: 1000, clientHeight: 500 }, 48), { nearTop: false, nearBottom: true, fromBottom: 20 });
});
