// Changes to messages in the UI's state (issue 19): a change entry (`message.change`) is kept in
// its room's window, so seqs stay whole for paging and reading, but is never drawn; the message
// it changed arrives again as `message_changed`, as the session's cache now holds it (edited,
// deleted, reacted to), and replaces the copy in the window and the room's preview.
import { unreadCount } from "./format.js";

/** @typedef {import("./bridge.js").Message} Message @typedef {import("./store.js").State} State */

/** Whether a message is a change to another one rather than something to show. @param {Message} m */
export const isEntry = (m) => m.change != null;

/** @param {State} state @param {Message} message its state now @returns {State} */
export const messageChanged = (state, message) => {
  const roomId = message.room_id;
  let next = state;
  const list = state.messages[roomId];
  const at = list ? list.findIndex((m) => m.seq === message.seq) : -1;
  if (list && at !== -1) {
    const copy = [...list];
    copy[at] = message;
    next = { ...next, messages: { ...next.messages, [roomId]: copy } };
  }
  if (state.previews[roomId]?.seq === message.seq) next = { ...next, previews: { ...next.previews, [roomId]: message } };
  return next;
};

/** The seq of the newest message of the room's window that is drawn (not a change entry), or 0. @param {State} state @param {string} roomId */
export const lastShownSeq = (state, roomId) => {
  const list = state.messages[roomId] ?? [];
  for (let i = list.length - 1; i >= 0; i--) if (!isEntry(list[i])) return list[i].seq;
  return 0;
};

/**
 * Unread messages of a room: the seqs past our read position less the change entries among
 * them that the state holds (edits and reactions are not news). Entries the state never saw
 * (a room not loaded since) still count: the relay's room carries no count of its own.
 * @param {State} state @param {import("./bridge.js").Room} room
 */
export const unread = (state, room) => {
  const entries = (state.messages[room.id] ?? []).filter((m) => isEntry(m) && m.seq > room.read_seq && m.seq <= room.last_seq);
  return Math.max(0, unreadCount(room) - entries.length);
};
