// Pure state of the members panel (issue 17): a small room lists its members in its own copy;
// a big one (more than the relay lists inline, 64) is paged from the relay on demand, a page of
// MEMBERS_PAGE at a time, so a room of 100,000 shows its first names without loading the rest.

/** Members asked for per page (the relay allows 1–200). */
export const MEMBERS_PAGE = 100;

/**
 * @typedef {{username: string, display_name?: string, online?: boolean}} Member
 * @typedef {{members: Member[], next?: string | null}} MembersPage
 * @typedef {{roomId: string, count: number, members: Member[], next: string | null, done: boolean}} MemberList
 */

/** How many members a room has: its count, or (from a relay without counts) its names. @param {{members: string[], member_count?: number}} room */
export const memberCount = (room) => room.member_count || room.members.length;

/** Whether the room's copy lists every member (no paging needed). @param {{members: string[], member_count?: number}} room */
export const listsEveryone = (room) => memberCount(room) <= room.members.length;

/**
 * The panel's list as it opens: a small room's names at once (also offline), a big room's
 * nothing yet, its first page to be asked for.
 * @param {{id: string, members: string[], member_count?: number}} room @returns {MemberList}
 */
export const startList = (room) =>
  listsEveryone(room)
    ? { roomId: room.id, count: memberCount(room), members: room.members.map((username) => ({ username })), next: null, done: true }
    : { roomId: room.id, count: memberCount(room), members: [], next: null, done: false };

/**
 * The request for the next page, or null when every member is loaded.
 * @param {MemberList} list @returns {{roomId: string, after: string | null, limit: number} | null}
 */
export const nextRequest = (list) => (list.done ? null : { roomId: list.roomId, after: list.next, limit: MEMBERS_PAGE });

/**
 * The list with a page added: pages come in name order from the cursor, so a name already held
 * (asked twice while a page was on its way) is skipped rather than shown twice.
 * @param {MemberList} list @param {MembersPage} page @returns {MemberList}
 */
export const addPage = (list, page) => {
  const held = new Set(list.members.map((m) => m.username));
  const fresh = page.members.filter((m) => !held.has(m.username));
  const next = page.next ?? null;
  return { ...list, members: [...list.members, ...fresh], next, done: next === null };
};

/** The line above the list: "3 members", "1 member", "100 of 20,000 members". @param {MemberList} list */
export const membersHeading = (list) => {
  const total = list.count.toLocaleString("en-US");
  const noun = list.count === 1 ? "member" : "members";
  return list.done || list.members.length >= list.count ? `${total} ${noun}` : `${list.members.length.toLocaleString("en-US")} of ${total} ${noun}`;
};
