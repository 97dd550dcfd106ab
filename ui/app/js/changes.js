// Changes to messages in the UI's state (issue 19): a change entry (`message.change`) is never
// kept nor drawn; the message it changed arrives again as `message_changed`, as the session's
// cache now holds it (edited, deleted, reacted to), and replaces the copy in the window and the
// room's preview. Unread counts are the session's (`room.unread`, the `unread` event).

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
