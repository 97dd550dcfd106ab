// Loading a room's messages into its bounded window (paging.js): opening a room (at its newest
// messages, or around its first unread), older pages at the top, newer ones back in at the
// bottom, and the room list's previews. The state stays the controller's: read through `get` and
// written through `set`, always after an await, never across one.
import * as store from "./store.js";
import { errorText } from "./format.js";
import { PAGE, newerPageBefore } from "./paging.js";

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
   * The PAGE messages before `before`: `history` fills holes in the cache from the relay; offline,
   * the cache is all there is. @param {string} roomId @param {number} before
   */
  const pageBefore = (roomId, before) =>
    bridge.history(roomId, before, PAGE).catch((error) => {
      if (error?.code === "offline" || error?.code === "not_connected") return bridge.messages(roomId, before, PAGE);
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
    const unreadAround = marker != null && (get().rooms[roomId]?.last_seq ?? 0) - marker > UNREAD_AROUND;
    const around = at != null || unreadAround;
    // Loaded afresh around the marker: nothing newer (a preview) may sit in the window meanwhile.
    set(store.resetWindow(get(), roomId, around));
    showError("");
    render();
    try {
      if (around) {
        const before = at != null ? at + PAGE / 2 + 1 : (marker ?? 0) + PAGE - CONTEXT + 1;
        const page = await pageBefore(roomId, before);
        set(store.detach(store.addMessages(get(), roomId, page, { keep: "top" }), roomId));
        render();
        return;
      }
      const cached = await bridge.messages(roomId);
      set(store.addMessages(get(), roomId, cached));
      render();
      const room = get().rooms[roomId];
      if (room && store.lastLoadedSeq(get(), roomId) < room.last_seq) {
        const filled = await bridge.history(roomId);
        set(store.addMessages(get(), roomId, filled));
      }
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
      const before = newerPageBefore(store.lastLoadedSeq(get(), sel));
      const newer = await pageBefore(sel, before);
      set(store.addMessages(get(), sel, newer, { keep: "bottom" }));
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
