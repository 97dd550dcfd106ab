// The Ctrl/Cmd+K room switcher: type to filter, Up/Down to move, Enter to open, Esc to close;
// Tab stays inside it.
import { roomLabel } from "../format.js";
import { trapTab } from "./trap.js";

/**
 * @param {HTMLElement} overlay holds an <input> and a <ul>
 * @param {{match: (query: string) => import("../bridge.js").Room[], onPick: (roomId: string) => void}} handlers
 */
export const createSwitcher = (overlay, { match, onPick }) => {
  const input = /** @type {HTMLInputElement} */ (overlay.querySelector("input"));
  const list = /** @type {HTMLUListElement} */ (overlay.querySelector("ul"));
  let found = /** @type {import("../bridge.js").Room[]} */ ([]);
  let at = 0;
  let returnTo = /** @type {HTMLElement | null} */ (null);

  const draw = () => {
    list.replaceChildren(
      ...found.map((room, i) => {
        const li = document.createElement("li");
        li.dataset.roomId = room.id;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", String(i === at));
        li.textContent = roomLabel(room);
        return li;
      }),
    );
  };
  const refresh = () => {
    found = match(input.value);
    at = Math.min(at, Math.max(0, found.length - 1));
    draw();
  };
  const close = () => {
    overlay.hidden = true;
    input.value = "";
    returnTo?.focus();
  };
  const pick = (/** @type {string | undefined} */ id) => {
    close();
    if (id) onPick(id);
  };

  input.addEventListener("input", () => {
    at = 0;
    refresh();
  });
  overlay.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      e.preventDefault();
      close();
    } else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      if (found.length) at = (at + (e.key === "ArrowDown" ? 1 : -1) + found.length) % found.length;
      draw();
    } else if (e.key === "Enter") {
      e.preventDefault();
      pick(found[at]?.id);
    } else {
      trapTab(overlay, e);
    }
  });
  list.addEventListener("click", (e) => {
    const li = /** @type {HTMLElement | null} */ (/** @type {HTMLElement} */ (e.target).closest("[data-room-id]"));
    pick(li?.dataset.roomId);
  });

  return {
    open() {
      returnTo = /** @type {HTMLElement | null} */ (document.activeElement);
      overlay.hidden = false;
      at = 0;
      refresh();
      input.focus();
    },
    close,
    get isOpen() {
      return !overlay.hidden;
    },
  };
};
