// The room list (data-testid room-list / room-item / unread-badge): name, last-message preview,
// unread badge, and a presence dot on direct rooms. Text nodes only.
import { badgeText, displayName, previewText, roomLabel } from "../format.js";

/**
 * @typedef {{room: import("../bridge.js").Room, preview: import("../bridge.js").Message | undefined,
 *   online: boolean | null, unread: number}} RoomRow online is null for group rooms; unread
 *   counts messages, not changes to them (store.unread)
 * @param {HTMLUListElement} list
 * @param {(roomId: string) => void} onSelect
 */
export const createRoomList = (list, onSelect) => {
  list.addEventListener("click", (e) => {
    const item = /** @type {HTMLElement | null} */ (/** @type {HTMLElement} */ (e.target).closest("[data-room-id]"));
    if (item?.dataset.roomId) onSelect(item.dataset.roomId);
  });

  /** @param {RoomRow[]} rooms @param {string | null} selected */
  const render = (rooms, selected) => {
    const items = rooms.map(({ room, preview, online, unread }) => {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.testid = "room-item";
      button.dataset.roomId = room.id;
      if (room.id === selected) button.setAttribute("aria-current", "true");
      const line = document.createElement("span");
      line.className = "line";
      if (online !== null) {
        const dot = document.createElement("span");
        dot.className = online ? "dot online" : "dot";
        dot.dataset.testid = "presence";
        dot.dataset.online = String(online);
        dot.setAttribute("role", "img");
        dot.setAttribute("aria-label", online ? "online" : "offline");
        line.append(dot);
      }
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = roomLabel(room);
      // Cut with an ellipsis when long (app.css): the whole name stays in the tooltip.
      button.title = displayName(room.name);
      line.append(name);
      const count = unread;
      if (count > 0) {
        li.className = "unread";
        const badge = document.createElement("span");
        badge.className = "badge";
        badge.dataset.testid = "unread-badge";
        badge.textContent = badgeText(count);
        badge.setAttribute("aria-label", `${count} unread`);
        line.append(badge);
      }
      const text = document.createElement("span");
      text.className = "preview";
      text.textContent = preview ? previewText(preview) : "";
      button.append(line, text);
      li.append(button);
      return li;
    });
    list.replaceChildren(...items);
  };

  return { render };
};
