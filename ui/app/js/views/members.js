// The members panel (issue 17): the open room's members by name, a page at a time for a big
// room — "More" (or scrolling to the end of the list) asks for the next page — so a room of
// 100,000 opens at once. Text only; Esc or Close closes it and focus returns to the header.
import { createPanel } from "./panel.js";
import { displayName } from "../format.js";
import { addPage, membersHeading, nextRequest, startList } from "../members.js";

/** px from the list's end at which scrolling asks for the next page. */
const NEAR_END = 80;

/**
 * @param {HTMLElement} overlay `#members-dialog`
 * @param {(roomId: string, after: string | null, limit: number) => Promise<import("../members.js").MembersPage>} load
 */
export const createMembersPanel = (overlay, load) => {
  const panel = createPanel(overlay);
  const list = /** @type {HTMLUListElement} */ (overlay.querySelector('[data-testid="member-list"]'));
  const heading = /** @type {HTMLElement} */ (overlay.querySelector('[data-testid="members-count"]'));
  const more = /** @type {HTMLButtonElement} */ (overlay.querySelector('[data-testid="members-more"]'));
  let state = /** @type {import("../members.js").MemberList | null} */ (null);
  let loading = false;

  /** Appends the rows of `members` (those not drawn yet). @param {import("../members.js").Member[]} members */
  const draw = (members) => {
    for (const m of members.slice(list.children.length)) {
      const li = document.createElement("li");
      li.dataset.testid = "member";
      li.dataset.username = m.username;
      const name = m.display_name ? `${m.display_name} (${displayName(m.username)})` : displayName(m.username);
      li.textContent = m.online === undefined ? name : `${m.online ? "● " : "○ "}${name}`;
      list.append(li);
    }
  };
  const show = () => {
    if (!state) return;
    draw(state.members);
    heading.textContent = membersHeading(state);
    more.hidden = state.done;
  };

  const loadMore = async () => {
    const req = state && nextRequest(state);
    if (!req || loading) return;
    loading = true;
    more.disabled = true;
    const asked = state;
    const ok = await panel.run(async () => {
      const page = await load(req.roomId, req.after, req.limit);
      // The panel may have been closed or opened on another room meanwhile.
      if (state === asked && state) state = addPage(state, page);
    });
    loading = false;
    more.disabled = false;
    if (ok) show();
  };
  more.addEventListener("click", () => void loadMore());
  list.addEventListener("scroll", () => {
    if (list.scrollHeight - list.scrollTop - list.clientHeight < NEAR_END) void loadMore();
  });

  return {
    /** Opens the panel on `room`: a small room's names at once, a big room's first page. @param {import("../bridge.js").Room} room */
    async open(room) {
      state = startList(room);
      list.replaceChildren();
      panel.open();
      show();
      list.focus();
      await loadMore();
    },
    close: panel.close,
    get isOpen() {
      return panel.isOpen;
    },
    /** Loads the next page now (as "More" does). */
    loadMore,
  };
};
