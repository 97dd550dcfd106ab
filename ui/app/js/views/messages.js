// The message list (data-testid message-list / message with data-seq): text nodes only.
// It draws the store's bounded window (see paging.js), reusing the row of each message that did not
// change, with day separators and sender groups (layout.js). When rows come or go at the top the
// first visible row stays where it was on screen; at the bottom the list follows new messages.
import { displayName, formatTime } from "../format.js";
import { layout } from "../layout.js";
import { scrollPosition } from "../paging.js";

const NEAR = 120; // px from an edge that counts as "at" it

/** @typedef {ReturnType<typeof import("../store.js").timeline>[number]} Item */

const DELIVERY_TEXT = { pending: "pending", sent: "sent", read: "read", failed: "failed" };
/** What a screen reader says of our messages that have not left. @type {Record<string, string>} */
const UNSENT = { pending: "Not sent yet", failed: "Not sent" };

/**
 * @param {HTMLOListElement} list
 * @param {{onNearTop: () => void, onNearBottom: () => void}} handlers
 */
export const createMessageList = (list, { onNearTop, onNearBottom }) => {
  let roomId = /** @type {string | null} */ (null);
  let more = { older: false, newer: false };
  /** Drawn rows by key, with what they were drawn from, so unchanged ones are reused. */
  let rows = new Map();

  list.addEventListener("scroll", () => {
    const at = scrollPosition(list, NEAR);
    if (at.nearTop && more.older) onNearTop();
    if (at.nearBottom && more.newer) onNearBottom();
  });

  /** @param {Item} item @param {boolean} first @param {Date} now */
  const messageRow = (item, first, now) => {
    const li = document.createElement("li");
    const unsent = item.delivery ? UNSENT[item.delivery] : undefined;
    li.className = `message${item.own ? " own" : ""}${first ? "" : " cont"}${unsent ? " unsent" : ""}`;
    li.dataset.testid = "message";
    li.dataset.key = item.key;
    if (item.seq != null) li.dataset.seq = String(item.seq);
    const meta = document.createElement("div");
    meta.className = "meta";
    if (first) {
      const sender = document.createElement("span");
      sender.className = "sender";
      sender.textContent = displayName(item.sender);
      meta.append(sender);
    }
    const time = document.createElement("time");
    time.dateTime = item.at;
    time.textContent = formatTime(item.at, now);
    meta.append(time);
    const body = document.createElement("div");
    body.className = "body";
    body.textContent = item.body;
    li.append(meta, body);
    if (item.delivery) {
      const delivery = document.createElement("span");
      delivery.className = "delivery";
      delivery.dataset.delivery = item.delivery;
      const text = DELIVERY_TEXT[item.delivery];
      delivery.textContent = item.error ? `${text}: ${item.error}` : text;
      if (unsent) {
        // Not left yet: its own line under the body, shown even in a group (where the meta
        // line is hidden), and said in words to screen readers.
        delivery.setAttribute("role", "note");
        delivery.setAttribute("aria-label", item.error ? `${unsent}: ${item.error}` : unsent);
        li.append(delivery);
      } else {
        meta.append(delivery);
      }
    }
    return li;
  };

  /** @param {string} label */
  const dayRow = (label) => {
    const li = document.createElement("li");
    li.className = "day";
    li.setAttribute("role", "separator");
    li.textContent = label;
    return li;
  };

  /** The first row at least partly in view, and its offset from the top of the view. */
  const anchor = () => {
    for (const el of list.children) {
      const li = /** @type {HTMLElement} */ (el);
      if (li.offsetTop + li.offsetHeight > list.scrollTop) return { key: li.dataset.key, offset: li.offsetTop - list.scrollTop };
    }
    return null;
  };

  /**
   * @param {string | null} room
   * @param {Item[]} items the loaded window, in order
   * @param {{older: boolean, newer: boolean}} opts messages exist above / below the window
   */
  const render = (room, items, opts) => {
    const switched = room !== roomId;
    roomId = room;
    more = opts;
    const { nearBottom } = scrollPosition(list, NEAR);
    const follow = switched || (nearBottom && !opts.newer);
    const keep = follow ? null : anchor();
    const now = new Date();
    const next = new Map();
    const nodes = [];
    if (opts.older && items.length > 0) {
      const older = document.createElement("li");
      older.className = "older";
      older.dataset.key = "older";
      older.textContent = "Loading older messages…";
      nodes.push(older);
    }
    for (const row of layout(items, now)) {
      const sig = row.kind === "day" ? `day|${row.label}` : `${row.first}|${row.item.delivery}|${row.item.error}|${row.item.seq}`;
      const old = switched ? undefined : rows.get(row.key);
      const node = old && old.sig === sig ? old.node : row.kind === "day" ? dayRow(row.label) : messageRow(row.item, row.first, now);
      node.dataset.key = row.key;
      next.set(row.key, { sig, node });
      nodes.push(node);
    }
    rows = next;
    list.replaceChildren(...nodes);
    if (follow) {
      list.scrollTop = list.scrollHeight;
    } else if (keep) {
      const same = /** @type {HTMLElement | undefined} */ (rows.get(keep.key)?.node);
      if (same) list.scrollTop = same.offsetTop - keep.offset;
    }
    // Too few to scroll means no scroll event: ask for more now.
    if (list.scrollHeight <= list.clientHeight) {
      if (opts.older) queueMicrotask(onNearTop);
      else if (opts.newer) queueMicrotask(onNearBottom);
    }
  };

  return { render };
};
