// The room list (data-testid room-list / room-item / unread-badge), rebuilt from the store.
import { badgeText, unreadCount } from "../format.js";

/**
 * @param {HTMLUListElement} list
 * @param {(roomId: string) => void} onSelect
 */
export const createRoomList = (list, onSelect) => {
  list.addEventListener("click", (e) => {
    const item = /** @type {HTMLElement | null} */ (/** @type {HTMLElement} */ (e.target).closest("[data-room-id]"));
    if (item?.dataset.roomId) onSelect(item.dataset.roomId);
  });

  /** @param {import("../bridge.js").Room[]} rooms @param {string | null} selected */
  const render = (rooms, selected) => {
    const items = rooms.map((room) => {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.testid = "room-item";
      button.dataset.roomId = room.id;
      if (room.id === selected) button.setAttribute("aria-current", "true");
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = room.kind === "direct" ? `@ ${room.name}` : `# ${room.name}`;
      button.append(name);
      const count = unreadCount(room);
      if (count > 0) {
        li.className = "unread";
        const badge = document.createElement("span");
        badge.className = "badge";
        badge.dataset.testid = "unread-badge";
        badge.textContent = badgeText(count);
        badge.setAttribute("aria-label", `${count} unread`);
        button.append(badge);
      }
      li.append(button);
      return li;
    });
    list.replaceChildren(...items);
  };

  return { render };
};
