// Pure arithmetic of the bounded message window: a room may hold 100,000 messages; the UI keeps at
// most WINDOW of them (in memory and in the DOM), paging older ones in at the top and newer ones
// back in at the bottom, and dropping from the far end, so memory stays flat however far one scrolls.
// Pages hold messages only (the session folds changes into them), so no seq arithmetic: whether a
// window reaches the newest is what a page of newer messages says.

/** The most messages of one room kept loaded (and drawn). */
export const WINDOW = 300;
/** Messages asked per page when scrolling. */
export const PAGE = 100;

/**
 * Keeps at most `max` items of a seq-ordered list, dropping from the end away from where the
 * reader is. @template {{seq: number}} M
 * @param {M[]} list @param {"top" | "bottom"} keep which end to keep @param {number} [max]
 * @returns {{list: M[], dropped: boolean}}
 */
export const trim = (list, keep, max = WINDOW) => {
  if (list.length <= max) return { list, dropped: false };
  return { list: keep === "top" ? list.slice(0, max) : list.slice(list.length - max), dropped: true };
};

/** Whether a page of newer messages reaches the newest the session has announced (it came back short). @param {unknown[]} page @param {number} [limit] */
export const reachesNewest = (page, limit = PAGE) => page.length < limit;

/**
 * Where the reader is in a scroll box, with `near` px of slack at each edge.
 * @param {{scrollTop: number, scrollHeight: number, clientHeight: number}} box @param {number} near
 * @returns {{nearTop: boolean, nearBottom: boolean, fromBottom: number}}
 */
export const scrollPosition = (box, near) => {
  const fromBottom = box.scrollHeight - box.scrollTop - box.clientHeight;
  return { nearTop: box.scrollTop < near, nearBottom: fromBottom < near, fromBottom };
};
