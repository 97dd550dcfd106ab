// The message list (data-testid message-list / message with data-seq): text nodes only.
// Keeps the view pinned to the bottom when it was there, and still when older pages are prepended.
import { formatTime } from "../format.js";

const NEAR = 48; // px from an edge that counts as "at" it

/**
 * @param {HTMLOListElement} list
 * @param {{onNearTop: () => void}} handlers
 */
export const createMessageList = (list, { onNearTop }) => {
  let roomId = /** @type {string | null} */ (null);
  list.addEventListener("scroll", () => {
    if (list.scrollTop < NEAR) onNearTop();
  });

  /** @param {ReturnType<typeof import("../store.js").timeline>[number]} item @param {Date} now */
  const row = (item, now) => {
    const li = document.createElement("li");
    li.className = item.own ? "message own" : "message";
    li.dataset.testid = "message";
    li.dataset.key = item.key;
    if (item.seq != null) li.dataset.seq = String(item.seq);
    const meta = document.createElement("div");
    meta.className = "meta";
    const sender = document.createElement("span");
    sender.className = "sender";
    sender.textContent = item.sender;
    const time = document.createElement("time");
    time.dateTime = item.at;
    time.textContent = formatTime(item.at, now);
    meta.append(sender, time);
    if (item.delivery) {
      const delivery = document.createElement("span");
      delivery.className = "delivery";
      delivery.dataset.delivery = item.delivery;
      delivery.textContent = item.error ? `${item.delivery}: ${item.error}` : item.delivery;
      meta.append(delivery);
    }
    const body = document.createElement("div");
    body.className = "body";
    body.textContent = item.body;
    li.append(meta, body);
    return li;
  };

  /**
   * @param {string | null} room
   * @param {ReturnType<typeof import("../store.js").timeline>} items
   * @param {{more: boolean}} opts more: older messages exist above
   */
  const render = (room, items, { more }) => {
    const switched = room !== roomId;
    roomId = room;
    const fromBottom = list.scrollHeight - list.scrollTop - list.clientHeight;
    const now = new Date();
    const rows = items.map((item) => row(item, now));
    if (more && items.length > 0) {
      const older = document.createElement("li");
      older.className = "older";
      older.textContent = "Scroll up for older messages";
      rows.unshift(older);
    }
    list.replaceChildren(...rows);
    if (switched || fromBottom < NEAR) list.scrollTop = list.scrollHeight;
    else list.scrollTop = list.scrollHeight - list.clientHeight - fromBottom;
    // Too few to scroll means no scroll event: ask for older ones now.
    if (more && list.scrollHeight <= list.clientHeight) queueMicrotask(onNearTop);
  };

  return { render };
};
