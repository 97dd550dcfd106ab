// Issue 17 in the window: a room too big for the relay to list its names says "N members" in its
// header, and its members panel pages them from the relay on demand ("More", keyboard reachable);
// a small room's panel lists its names at once, with no request.
import { test } from "node:test";
import assert from "node:assert/strict";
import { boot, room, settle, signedIn } from "./page.mjs";
import { MEMBERS_PAGE, addPage, listsEveryone, memberCount, membersHeading, nextRequest, startList } from "../app/js/members.js";

const TOTAL = 250;
const NAMES = Array.from({ length: TOTAL }, (_, i) => `user${String(i).padStart(4, "0")}`);

/** As the relay answers room:members: names after `after`, `limit` of them, `next` while more follow. */
const roomMembers = ({ after, limit }) => {
  const from = after === null ? 0 : NAMES.indexOf(after) + 1;
  const members = NAMES.slice(from, from + limit).map((username, i) => ({ username, ...(i === 0 ? { display_name: "First" } : {}) }));
  const last = from + limit < NAMES.length ? members[members.length - 1].username : null;
  return last ? { members, next: last } : { members };
};

const big = () => ({ ...room("general", 3, 1), members: [], member_count: TOTAL });

test("the list's state: a small room at once, a big one page by page, each name once", () => {
  const small = startList({ id: "r", members: ["alice", "bob"] });
  assert.equal(small.done, true);
  assert.equal(nextRequest(small), null);
  assert.deepEqual(small.members, [{ username: "alice" }, { username: "bob" }]);
  assert.equal(membersHeading(small), "2 members");
  // A relay without counts: the names are the count.
  assert.equal(memberCount({ members: ["a", "b", "c"] }), 3);
  assert.equal(listsEveryone({ members: ["a"], member_count: 1 }), true);

  let list = startList({ id: "general", members: [], member_count: TOTAL });
  assert.equal(list.done, false);
  assert.deepEqual(nextRequest(list), { roomId: "general", after: null, limit: MEMBERS_PAGE });
  list = addPage(list, roomMembers({ after: null, limit: MEMBERS_PAGE }));
  assert.equal(list.members.length, 100);
  assert.equal(membersHeading(list), "100 of 250 members");
  assert.deepEqual(nextRequest(list), { roomId: "general", after: "user0099", limit: MEMBERS_PAGE });
  // The same page twice (asked again while it was on its way) adds nothing.
  const again = addPage(list, roomMembers({ after: null, limit: MEMBERS_PAGE }));
  assert.equal(again.members.length, 100);
  list = addPage(list, roomMembers({ after: "user0099", limit: MEMBERS_PAGE }));
  list = addPage(list, roomMembers({ after: "user0199", limit: MEMBERS_PAGE }));
  assert.equal(list.done, true);
  assert.equal(nextRequest(list), null);
  assert.deepEqual(
    list.members.map((m) => m.username),
    NAMES,
  );
  assert.equal(membersHeading(list), "250 members");
});

test("a big room's header gives its count, and its panel pages members with More", async () => {
  const ui = await boot({ ...signedIn(), rooms: [room("random", 2, 2), big()], room_members: roomMembers });
  ui.$('[data-room-id="general"]').click();
  await settle();
  assert.equal(ui.$("#room-members").textContent, "Everyone on this relay · 250 members");
  const rows = () => ui.all('[data-testid="member"]');

  ui.$('[data-testid="members-open"]').click();
  await settle();
  assert.equal(ui.$("#members-dialog").hidden, false);
  assert.deepEqual(ui.called("room_members"), [{ room_id: "general", after: null, limit: MEMBERS_PAGE }]);
  assert.equal(rows().length, 100);
  assert.equal(rows()[0].textContent, "First (user0000)");
  assert.equal(ui.$('[data-testid="members-count"]').textContent, "100 of 250 members");
  const more = ui.$('[data-testid="members-more"]');
  assert.equal(more.hidden, false);
  assert.equal(more.tagName, "BUTTON", "More is a button: Tab and Enter reach it");

  more.click();
  await settle();
  more.click();
  await settle();
  assert.deepEqual(
    ui.called("room_members").map((a) => a.after),
    [null, "user0099", "user0199"],
  );
  assert.deepEqual(
    rows().map((r) => r.dataset.username),
    NAMES,
  );
  assert.equal(more.hidden, true, "no More once every member is shown");
  assert.equal(ui.$('[data-testid="members-count"]').textContent, "250 members");
});

test("a small room's panel lists its names with no request; a refused page says why", async () => {
  const ui = await boot({
    ...signedIn(),
    rooms: [room("random", 2, 2), { ...room("big", 1, 1), members: [], member_count: 90 }],
    room_members: { reject: { code: "forbidden", message: "not a member of this room" } },
  });
  ui.$('[data-room-id="random"]').click();
  await settle();
  assert.equal(ui.$("#room-members").textContent, "alice, bob");
  ui.$('[data-testid="members-open"]').click();
  await settle();
  assert.deepEqual(
    ui.all('[data-testid="member"]').map((r) => r.textContent),
    ["alice", "bob"],
  );
  assert.deepEqual(ui.called("room_members"), []);
  assert.equal(ui.$('[data-testid="members-more"]').hidden, true);
  ui.$("#members-dialog").querySelector('[data-action="close"]').click();
  await settle();
  assert.equal(ui.$("#members-dialog").hidden, true);

  ui.$('[data-room-id="big"]').click();
  await settle();
  assert.equal(ui.$("#room-members").textContent, "90 members");
  ui.$('[data-testid="members-open"]').click();
  await settle();
  assert.equal(ui.all('[data-testid="member"]').length, 0);
  assert.match(ui.$("#members-dialog").querySelector(".error").textContent, /not a member/);
});
