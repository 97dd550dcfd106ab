// Pure application state and its reducers: no DOM, no Tauri. Every function returns a new state.
/** @typedef {import("./bridge.js").Message} Message */
/** @typedef {import("./bridge.js").Room} Room */
/** @typedef {import("./bridge.js").AppEvent} AppEvent */
/** @typedef {import("./bridge.js").Queued} Queued */

/**
 * @typedef {{client_id: string, room_id: string, body: string, created_at: string,
 *   delivery: import("./bridge.js").DeliveryState}} OwnSend
 * @typedef {{
 *   me: string | null,
 *   rooms: Record<string, Room>,
 *   selected: string | null,
 *   messages: Record<string, Message[]>,
 *   outbox: Record<string, OwnSend>,
 *   typing: Record<string, string[]>,
 *   connection: import("./bridge.js").ConnectionView,
 *   connectionAt: number,
 * }} State
 */

/** @returns {State} */
export const initialState = () => ({
  me: null,
  rooms: {},
  selected: null,
  messages: {},
  outbox: {},
  typing: {},
  connection: { state: "connecting", attempt: 0, retry_in_ms: null },
  connectionAt: 0,
});

/**
 * Merges `incoming` into `list` (both seq-ordered or not): one entry per seq, ascending.
 * An existing entry for a seq is kept (a (room, seq) never changes once committed).
 * @param {Message[]} list @param {Message[]} incoming @returns {Message[]}
 */
export const mergeBySeq = (list, incoming) => {
  if (incoming.length === 0) return list;
  const bySeq = new Map(list.map((m) => [m.seq, m]));
  let added = false;
  for (const m of incoming) {
    if (!bySeq.has(m.seq)) {
      bySeq.set(m.seq, m);
      added = true;
    }
  }
  if (!added) return list;
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
};

/** @param {State} state @param {string} username @returns {State} */
export const signedIn = (state, username) => ({ ...initialState(), connection: state.connection, connectionAt: state.connectionAt, me: username });

/** @param {State} state @returns {State} */
export const signedOut = (state) => ({ ...initialState(), connection: state.connection, connectionAt: state.connectionAt });

/**
 * Replaces a room's copy; seqs only move forward, so a stale copy never lowers them.
 * @param {State} state @param {Room} room @returns {State}
 */
export const upsertRoom = (state, room) => {
  const old = state.rooms[room.id];
  const merged = old
    ? { ...room, last_seq: Math.max(old.last_seq, room.last_seq), read_seq: Math.max(old.read_seq, room.read_seq) }
    : room;
  return { ...state, rooms: { ...state.rooms, [room.id]: merged } };
};

/** @param {State} state @param {Room[]} rooms @returns {State} */
export const setRooms = (state, rooms) => rooms.reduce(upsertRoom, state);

/** @param {State} state @param {string | null} roomId @returns {State} */
export const selectRoom = (state, roomId) => ({ ...state, selected: roomId });

/**
 * Adds messages of one room (a page from `messages`/`history`, or live ones).
 * Bumps the room's last_seq (read_seq is the session's: only `markRead` moves it); a message of
 * ours replaces its outbox entry.
 * @param {State} state @param {string} roomId @param {Message[]} messages @returns {State}
 */
export const addMessages = (state, roomId, messages) => {
  const mine = messages.filter((m) => m.room_id === roomId);
  if (mine.length === 0) return state;
  const list = mergeBySeq(state.messages[roomId] ?? [], mine);
  let next = list === state.messages[roomId] ? state : { ...state, messages: { ...state.messages, [roomId]: list } };
  const room = next.rooms[roomId];
  if (room) {
    const top = Math.max(room.last_seq, ...mine.map((m) => m.seq));
    if (top !== room.last_seq) next = { ...next, rooms: { ...next.rooms, [roomId]: { ...room, last_seq: top } } };
  }
  const done = mine.map((m) => m.client_id).filter((id) => id in next.outbox);
  if (done.length > 0) {
    const outbox = { ...next.outbox };
    for (const id of done) delete outbox[id];
    next = { ...next, outbox };
  }
  return next;
};

/**
 * One of our sends, as `send_message` answered it (pending).
 * @param {State} state @param {Queued} item @returns {State}
 */
export const queued = (state, item) => {
  const known = (state.messages[item.room_id] ?? []).some((m) => m.client_id === item.client_id);
  if (known) return state;
  const old = state.outbox[item.client_id];
  // A `sent`/`failed` event may already have overtaken the command's answer: keep it.
  const delivery = old && old.delivery.state !== "pending" ? old.delivery : item.delivery;
  const entry = { client_id: item.client_id, room_id: item.room_id, body: item.body, created_at: item.created_at, delivery };
  return { ...state, outbox: { ...state.outbox, [item.client_id]: entry } };
};

/** @param {State} state @param {string} roomId @param {number} seq @returns {State} */
export const markRead = (state, roomId, seq) => {
  const room = state.rooms[roomId];
  if (!room || seq <= room.read_seq) return state;
  return { ...state, rooms: { ...state.rooms, [roomId]: { ...room, read_seq: seq } } };
};

/** @param {State} state @param {string} roomId @param {string} user @param {boolean} on @returns {State} */
const setTyping = (state, roomId, user, on) => {
  if (user === state.me) return state;
  const now = state.typing[roomId] ?? [];
  const has = now.includes(user);
  if (on === has) return state;
  const list = on ? [...now, user] : now.filter((u) => u !== user);
  return { ...state, typing: { ...state.typing, [roomId]: list } };
};

/**
 * Applies one event from the `natter://event` stream.
 * @param {State} state @param {AppEvent} event @param {number} [now] ms, for the retry countdown
 * @returns {State}
 */
export const applyEvent = (state, event, now = 0) => {
  switch (event.type) {
    case "message":
      return addMessages(state, event.message.room_id, [event.message]);
    case "message_state": {
      const old = state.outbox[event.client_id];
      if (event.state.state === "sent") {
        const landed = (state.messages[event.room_id] ?? []).some((m) => m.client_id === event.client_id);
        if (landed) return state;
      }
      const entry = old
        ? { ...old, delivery: event.state }
        : { client_id: event.client_id, room_id: event.room_id, body: "", created_at: "", delivery: event.state };
      return { ...state, outbox: { ...state.outbox, [event.client_id]: entry } };
    }
    case "room":
      return upsertRoom(state, event.room);
    case "typing":
      return setTyping(state, event.room_id, event.user, event.typing);
    case "connection":
      return { ...state, connection: event.state, connectionAt: now };
    default:
      return state; // presence, receipt: not shown yet
  }
};

/** @param {State} state @param {AppEvent[]} events @param {number} [now] @returns {State} */
export const applyEvents = (state, events, now = 0) => events.reduce((s, e) => applyEvent(s, e, now), state);

// ---- selectors ----

/** Rooms for the list: groups first ("general" on top), then direct rooms, each by name. */
export const roomList = (/** @type {State} */ state) =>
  Object.values(state.rooms).sort((a, b) => {
    const rank = (/** @type {Room} */ r) => (r.id === "general" ? 0 : r.kind === "group" ? 1 : 2);
    return rank(a) - rank(b) || a.name.localeCompare(b.name);
  });

/**
 * What the message list shows for a room: committed messages in seq order, then our sends that
 * have not landed yet (blank placeholders for unknown sends are skipped).
 * @param {State} state @param {string} roomId
 * @returns {Array<{key: string, seq: number | null, sender: string, body: string, at: string,
 *   own: boolean, delivery: "sent" | "pending" | "failed" | null, error: string | null}>}
 */
export const timeline = (state, roomId) => {
  const committed = (state.messages[roomId] ?? []).map((m) => ({
    key: `s${m.seq}`,
    seq: m.seq,
    sender: m.sender,
    body: m.body,
    at: m.sent_at,
    own: m.sender === state.me,
    delivery: /** @type {"sent" | null} */ (m.sender === state.me ? "sent" : null),
    error: null,
  }));
  const own = Object.values(state.outbox)
    .filter((o) => o.room_id === roomId && o.body !== "")
    .sort((a, b) => a.created_at.localeCompare(b.created_at))
    .map((o) => ({
      key: `c${o.client_id}`,
      seq: null,
      sender: state.me ?? "",
      body: o.body,
      at: o.created_at,
      own: true,
      delivery: /** @type {"sent" | "pending" | "failed"} */ (o.delivery.state),
      error: o.delivery.state === "failed" ? o.delivery.error.message : null,
    }));
  return [...committed, ...own];
};

/** Who is typing in a room (never us). @param {State} state @param {string} roomId */
export const typers = (state, roomId) => state.typing[roomId] ?? [];

/** The highest seq loaded for a room, or 0. @param {State} state @param {string} roomId */
export const lastLoadedSeq = (state, roomId) => {
  const list = state.messages[roomId] ?? [];
  return list.length ? list[list.length - 1].seq : 0;
};

/** The lowest seq loaded, or null when none. @param {State} state @param {string} roomId */
export const firstLoadedSeq = (state, roomId) => (state.messages[roomId] ?? [])[0]?.seq ?? null;
