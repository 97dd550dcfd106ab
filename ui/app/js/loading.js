// Loading a room's messages into its bounded window (paging.js): opening a room (at its newest
// messages, or around its first unread), older pages at the top, newer ones back in at the
// bottom, and the room list's previews. The state stays the controller's: read through `get` and
// written through `set`, always after an await, never across one.
import * as store from "./store.js";
import { errorText } from "./format.js";
import { PAGE, reachesNewest } from "./paging.js";

/** More unread than this when a room opens: its window is loaded around the first unread. */
export const UNREAD_AROUND = 40;
/** Read messages kept above the first unread when the window is loaded around it. */
export const CONTEXT = 10;

/**
 * @param {{bridge: typeof import("./bridge.js"), get: () => import("./store.js").State,
 *   set: (state: import("./store.js").State) => void, render: () => void,
 *   showError: (text: string) => void}} deps showError: under the composer ("" clears it)
 */
export const createLoader = ({ bridge, get, set, render, showError }) => {
  let loadingOlder = false;
  let loadingNewer = false;

  /**
   * The `limit` messages before `before`: `history` fills holes in the cache from the relay;
   * offline, the cache is all there is. @param {string} roomId @param {number} before @param {number} [limit]
   */
  const pageBefore = (roomId, before, limit = PAGE) =>
    bridge.history(roomId, before, limit).catch((error) => {
      if (error?.code === "offline" || error?.code === "not_connected") return bridge.messages(roomId, before, limit);
      throw error;
    });

  /**
   * Opens a room at its newest messages, or, with many unread, around the first unread (the
   * list lands on the "new messages" marker and pages newer ones in on the way down), or around
   * message `at` (a search result: half a page on each side).
   * @param {string} roomId @param {number | null} [at]
   */
  const openRoom = async (roomId, at = null) => {
    set(store.selectRoom(get(), roomId));
    const marker = get().marker[roomId];
    const room = get().rooms[roomId];
    const unreadAround = marker != null && room != null && store.unread(room) > UNREAD_AROUND;
    const around = at != null || unreadAround;
    // Loaded afresh around the marker: nothing newer (a preview) may sit in the window meanwhile.
    set(store.resetWindow(get(), roomId, around));
    showError("");
    render();
    try {
      if (around) {
        // Around a search result: half a page above it, then it and what follows; around the
        // first unread: a few read messages above it, then the unread from there down.
        const from = at != null ? at - 1 : (marker ?? 0);
        const context = await pageBefore(roomId, from + 1, at != null ? PAGE / 2 : CONTEXT);
        const rest = await bridge.historyAfter(roomId, from, PAGE);
        let next = store.addMessages(get(), roomId, [...context, ...rest], { keep: "top" });
        if (!reachesNewest(rest)) next = store.detach(next, roomId);
        set(next);
        render();
        return;
      }
      const cached = await bridge.messages(roomId);
      set(store.addMessages(get(), roomId, cached));
      render();
      // The session answers from the cache when it holds the whole page, else asks the relay.
      const filled = await bridge.history(roomId);
      set(store.addMessages(get(), roomId, filled));
    } catch (error) {
      if (get().selected === roomId) showError(errorText(error));
    }
    render();
  };

  const loadOlder = async () => {
    const sel = get().selected;
    const first = sel ? store.firstLoadedSeq(get(), sel) : null;
    if (!sel || loadingOlder || first == null || first <= 1) return;
    loadingOlder = true;
    try {
      const older = await pageBefore(sel, first);
      set(store.addMessages(get(), sel, older, { keep: "top" }));
      render();
    } catch (error) {
      showError(errorText(error));
    } finally {
      loadingOlder = false;
    }
  };

  /** Scrolling back down a window that was detached from the newest messages. */
  const loadNewer = async () => {
    const sel = get().selected;
    if (!sel || loadingNewer || !get().detached[sel]) return;
    loadingNewer = true;
    try {
      const newer = await bridge.historyAfter(sel, store.lastLoadedSeq(get(), sel), PAGE);
      let next = store.addMessages(get(), sel, newer, { keep: "bottom" });
      if (reachesNewest(newer)) next = store.attach(next, sel);
      set(next);
      render();
    } catch (error) {
      showError(errorText(error));
    } finally {
      loadingNewer = false;
    }
  };

  /** The newest cached message of each room without a preview yet, for the room list. */
  const loadPreviews = async () => {
    for (const room of store.roomList(get()).slice(0, 200)) {
      if (get().previews[room.id] || room.last_seq === 0) continue;
      try {
        const newest = await bridge.messages(room.id, undefined, 1);
        set(store.addMessages(get(), room.id, newest));
      } catch {
        return; // signed out meanwhile, or the cache is gone: previews come with new messages
      }
    }
    render();
  };

  return { openRoom, loadOlder, loadNewer, loadPreviews };
};
