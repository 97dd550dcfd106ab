// Pure arithmetic of the bounded message window: a room may hold 100,000 messages; the UI keeps at
// most WINDOW of them (in memory and in the DOM), paging older ones in at the top and newer ones
// back in at the bottom, and dropping from the far end, so memory stays flat however far one scrolls.

/** The most messages of one room kept loaded (and drawn). */
export const WINDOW = 300;
/** Messages asked per page when scrolling. */
export const PAGE = 100;

/**
 * Keeps at most `max` counted items of a seq-ordered list, dropping from the end away from where
 * the reader is. Items not `counted` (change entries, never drawn) ride along between the kept
 * ones, so a room whose newest seqs are reactions still shows its messages.
 * @template {{seq: number}} M
 * @param {M[]} list @param {"top" | "bottom"} keep which end to keep @param {number} [max]
 * @param {(m: M) => boolean} [counted]
 * @returns {{list: M[], dropped: boolean}}
 */
export const trim = (list, keep, max = WINDOW, counted = () => true) => {
  let seen = 0;
  const step = keep === "top" ? 1 : -1;
  for (let i = keep === "top" ? 0 : list.length - 1; i >= 0 && i < list.length; i += step) {
    if (counted(list[i]) && ++seen > max) {
      return { list: keep === "top" ? list.slice(0, i) : list.slice(i + 1), dropped: true };
    }
  }
  return { list, dropped: false };
};

/**
 * The `before_seq` that pages in the messages just after `lastLoaded` from a cache that only pages
 * backwards: the `limit` messages before `lastLoaded + limit + 1` are `lastLoaded + 1 ..= lastLoaded + limit`.
 * @param {number} lastLoaded @param {number} [limit]
 */
export const newerPageBefore = (lastLoaded, limit = PAGE) => lastLoaded + limit + 1;

/**
 * Whether the loaded window reaches the room's newest message (live messages may be appended).
 * @param {number} lastLoaded 0 when nothing is loaded @param {number} lastSeq the room's newest
 */
export const atNewest = (lastLoaded, lastSeq) => lastLoaded >= lastSeq;

/**
 * Where the reader is in a scroll box, with `near` px of slack at each edge.
 * @param {{scrollTop: number, scrollHeight: number, clientHeight: number}} box @param {number} near
 * @returns {{nearTop: boolean, nearBottom: boolean, fromBottom: number}}
 */
export const scrollPosition = (box, near) => {
  const fromBottom = box.scrollHeight - box.scrollTop - box.clientHeight;
  return { nearTop: box.scrollTop < near, nearBottom: fromBottom < near, fromBottom };
};
