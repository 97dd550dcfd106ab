// Pure application state and its reducers: no DOM, no Tauri. Every function returns a new state.
import { trim, WINDOW } from "./paging.js";
import { GENERAL_ROOM_ID } from "./format.js";
import { isEntry, messageChanged } from "./changes.js";
/** @typedef {import("./bridge.js").Message} Message */
/** @typedef {import("./bridge.js").Room} Room */
/** @typedef {import("./bridge.js").AppEvent} AppEvent */

/**
 * One of our sends not committed yet, as its `message_state` events told it.
 * @typedef {{client_id: string, room_id: string, body: string, created_at: string,
 *   delivery: import("./bridge.js").DeliveryState, files: import("./bridge.js").PendingFile[]}} OwnSend
 * @typedef {{
 *   me: string | null,
 *   admin: boolean,
 *   rooms: Record<string, Room>,
 *   selected: string | null,
 *   messages: Record<string, Message[]>,
 *   outbox: Record<string, OwnSend>,
 *   uploads: Record<string, {sent: number, total: number}>,
 *   typing: Record<string, string[]>,
 *   presence: Record<string, {online: boolean, last_seen: string | null}>,
 *   receipts: Record<string, Record<string, number>>,
 *   previews: Record<string, Message>,
 *   detached: Record<string, boolean>,
 *   drafts: Record<string, string>,
 *   marker: Record<string, number>,
 *   levels: Record<string, NotifyLevel>,
 *   connection: import("./bridge.js").ConnectionView,
 *   connectionAt: number,
 * }} State
 * @typedef {"all" | "mentions" | "none"} NotifyLevel
 */

/** @returns {State} */
export const initialState = () => ({
  me: null,
  // Whether we are a relay admin, as `own_account` last said (the admin panel, Delete on others' messages).
  admin: false,
  rooms: {},
  selected: null,
  messages: {},
  outbox: {},
  // How far each pending send's files are uploaded (`upload` events), by client_id.
  uploads: {},
  typing: {},
  presence: {},
  receipts: {},
  previews: {},
  detached: {},
  drafts: {},
  marker: {},
  levels: {},
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

/**
 * Before asking to sign in (or to resume): nothing of an earlier sign-in is kept, and what the new
 * session announces from its first event on is kept (it may speak before the command answers).
 * @param {State} state @returns {State}
 */
export const signingIn = (state) => ({ ...initialState(), connection: state.connection, connectionAt: state.connectionAt });

/** Signed in as `username`, keeping what the session already told. @param {State} state @param {string} username @returns {State} */
export const signedIn = (state, username) => ({ ...state, me: username });
/** Our role as the relay last told it. @param {State} state @param {boolean} admin */
export const setAdmin = (state, admin) => (state.admin === admin ? state : { ...state, admin });

/** @param {State} state @returns {State} */
export const signedOut = (state) => ({ ...initialState(), connection: state.connection, connectionAt: state.connectionAt });

/**
 * Replaces a room's copy; seqs only move forward, so a stale copy never lowers them. Its unread
 * count is the session's word as of this copy.
 * @param {State} state @param {Room} room @returns {State}
 */
export const upsertRoom = (state, room) => {
  const old = state.rooms[room.id];
  const merged = old
    ? {
        ...room,
        last_seq: Math.max(old.last_seq, room.last_seq),
        read_seq: Math.max(old.read_seq, room.read_seq),
        others_read_seq: Math.max(old.others_read_seq ?? 0, room.others_read_seq ?? 0),
      }
    : room;
  return { ...state, rooms: { ...state.rooms, [room.id]: merged } };
};

/** A room's unread count, as the session counts it now. @param {State} state @param {string} roomId @param {number} count @returns {State} */
export const setUnread = (state, roomId, count) => {
  const room = state.rooms[roomId];
  if (!room || room.unread === count) return state;
  return { ...state, rooms: { ...state.rooms, [roomId]: { ...room, unread: count } } };
};

/** Unread messages of a room: messages from others, not changes to messages (the session's count). @param {Room} room */
export const unread = (room) => room.unread ?? 0;

/** @param {State} state @param {Room[]} rooms @returns {State} */
export const setRooms = (state, rooms) => rooms.reduce(upsertRoom, state);

/**
 * Opens a room. Its "new messages" marker is placed after what was read when it opened (none when
 * nothing is unread) and stays there while the room is open, however far reading moves.
 * @param {State} state @param {string | null} roomId @returns {State}
 */
export const selectRoom = (state, roomId) => {
  const room = roomId ? state.rooms[roomId] : undefined;
  const marker = { ...state.marker };
  if (roomId) delete marker[roomId];
  if (room && roomId && unread(room) > 0) marker[roomId] = room.read_seq;
  return { ...state, selected: roomId, marker };
};

/**
 * The composer text of a room ("" drops it): each room keeps its own draft.
 * @param {State} state @param {string} roomId @param {string} text @returns {State}
 */
export const setDraft = (state, roomId, text) => {
  if ((state.drafts[roomId] ?? "") === text) return state;
  const drafts = { ...state.drafts };
  if (text === "") delete drafts[roomId];
  else drafts[roomId] = text;
  return { ...state, drafts };
};

/** Drafts kept from an earlier run; a room's draft typed since is kept. @param {State} state @param {{room_id: string, body: string}[]} list */
export const loadDrafts = (state, list) =>
  list.reduce((s, d) => (d.room_id in s.drafts ? s : setDraft(s, d.room_id, d.body)), state);

/**
 * The account's notification levels (rooms not listed are at "all"), as the shell keeps them,
 * or one room's new level. @param {State} state @param {Record<string, NotifyLevel>} levels
 */
export const setLevels = (state, levels) => ({ ...state, levels });

/** @param {State} state @param {string} roomId @param {NotifyLevel} level @returns {State} */
export const setLevel = (state, roomId, level) => {
  const { [roomId]: _, ...others } = state.levels;
  return { ...state, levels: level === "all" ? others : { ...others, [roomId]: level } };
};

/** Marks a window as not reaching the room's newest messages (a page of newer ones came back full). @param {State} state @param {string} roomId */
export const detach = (state, roomId) => ({ ...state, detached: { ...state.detached, [roomId]: true } });

/** Marks a window as reaching the newest messages again (a page of newer ones came back short): live ones join it. @param {State} state @param {string} roomId */
export const attach = (state, roomId) => {
  if (!state.detached[roomId]) return state;
  const detached = { ...state.detached };
  delete detached[roomId];
  return { ...state, detached };
};

/**
 * Adds messages of one room (a page from `messages`/`history`, or live ones) to its bounded message window:
 * `keep` says which end of the window the reader is at: a page of older messages keeps the top
 * (dropping the newest, which detaches the window from the live end); live messages and newer
 * pages keep the bottom. Live messages skip a detached window: they are paged in on the way down.
 * Bumps the room's last_seq and preview (read_seq is the session's: only `markRead` moves it); a
 * message of ours replaces its outbox entry.
 * @param {State} state @param {string} roomId @param {Message[]} messages
 * @param {{keep?: "top" | "bottom", live?: boolean}} [opts]
 * @returns {State}
 */
export const addMessages = (state, roomId, messages, { keep = "bottom", live = false } = {}) => {
  const mine = messages.filter((m) => m.room_id === roomId);
  if (mine.length === 0) return state;
  let next = state;
  const newest = mine.reduce((a, b) => (b.seq > a.seq ? b : a));
  // Change entries are never kept: `message_changed` brings what they changed.
  const shown = mine.filter((m) => !isEntry(m));
  const latest = shown.length ? shown.reduce((a, b) => (b.seq > a.seq ? b : a)) : null;
  const preview = next.previews[roomId];
  if (latest && (!preview || latest.seq > preview.seq)) next = { ...next, previews: { ...next.previews, [roomId]: latest } };
  if (!(live && next.detached[roomId])) {
    const merged = mergeBySeq(next.messages[roomId] ?? [], shown);
    if (merged !== next.messages[roomId]) {
      const { list, dropped } = trim(merged, keep, WINDOW);
      next = { ...next, messages: { ...next.messages, [roomId]: list } };
      if (dropped && keep === "top") next = detach(next, roomId);
    }
  }
  const room = next.rooms[roomId];
  if (room) {
    const top = Math.max(room.last_seq, newest.seq);
    if (top !== room.last_seq) next = { ...next, rooms: { ...next.rooms, [roomId]: { ...room, last_seq: top } } };
  }
  const done = mine.map((m) => m.client_id).filter((id) => id in next.outbox);
  if (done.length > 0) {
    const outbox = { ...next.outbox };
    const uploads = { ...next.uploads };
    for (const id of done) {
      delete outbox[id];
      delete uploads[id];
    }
    next = { ...next, outbox, uploads };
  }
  return next;
};

/**
 * One of our sends moved. `pending` says all there is to draw it, and comes first for every send
 * of a session; `sent` / `failed` move it on. A send already committed in the window stays gone.
 * @param {State} state @param {Extract<AppEvent, {type: "message_state"}>} event @returns {State}
 */
const ownSend = (state, { client_id, room_id, state: delivery }) => {
  const old = state.outbox[client_id];
  const landed = (state.messages[room_id] ?? []).some((m) => m.client_id === client_id);
  if (landed) return state;
  if (delivery.state === "pending") {
    if (old) return state;
    const entry = { client_id, room_id, body: delivery.body, created_at: delivery.created_at, delivery: { state: "pending" }, files: delivery.files ?? [] };
    return { ...state, outbox: { ...state.outbox, [client_id]: entry } };
  }
  // Not heard as pending (sent before this page loaded): the committed message will show it.
  if (!old) return state;
  return { ...state, outbox: { ...state.outbox, [client_id]: { ...old, delivery } } };
};

/** One of our sends, gone from the list (a failed one deleted or sent again). @param {State} state @param {string} clientId @returns {State} */
export const dropOwnSend = (state, clientId) => {
  if (!(clientId in state.outbox)) return state;
  const outbox = { ...state.outbox };
  delete outbox[clientId];
  const uploads = { ...state.uploads };
  delete uploads[clientId];
  return { ...state, outbox, uploads };
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
      return addMessages(state, event.message.room_id, [event.message], { live: true });
    case "message_changed":
      return messageChanged(state, event.message);
    case "message_state":
      return ownSend(state, event);
    case "upload":
      if (!(event.client_id in state.outbox)) return state;
      return { ...state, uploads: { ...state.uploads, [event.client_id]: { sent: event.sent, total: event.total } } };
    case "room":
      return upsertRoom(state, event.room);
    case "unread":
      return setUnread(state, event.room_id, event.count);
    case "room_gone":
      return dropRoom(state, event.room_id);
    case "typing":
      return setTyping(state, event.room_id, event.user, event.typing);
    case "connection":
      return { ...state, connection: event.state, connectionAt: now };
    case "presence":
      return { ...state, presence: { ...state.presence, [event.user]: { online: event.online, last_seen: event.last_seen } } };
    case "receipt": {
      const seen = state.receipts[event.room_id] ?? {};
      if ((seen[event.user] ?? 0) >= event.seq) return state;
      return { ...state, receipts: { ...state.receipts, [event.room_id]: { ...seen, [event.user]: event.seq } } };
    }
    default:
      return state;
  }
};

/** @param {State} state @param {AppEvent[]} events @param {number} [now] @returns {State} */
export const applyEvents = (state, events, now = 0) => events.reduce((s, e) => applyEvent(s, e, now), state);

// ---- selectors ----

/**
 * Rooms for the list: by recent activity (the newest message known, newest first); rooms with
 * none known yet after them, groups first ("general" on top), then direct rooms, each by name.
 */
export const roomList = (/** @type {State} */ state) =>
  Object.values(state.rooms).sort((a, b) => {
    const at = (/** @type {Room} */ r) => state.previews[r.id]?.sent_at ?? "";
    const rank = (/** @type {Room} */ r) => (r.id === GENERAL_ROOM_ID ? 0 : r.kind === "group" ? 1 : 2);
    return at(b).localeCompare(at(a)) || rank(a) - rank(b) || a.name.localeCompare(b.name);
  });

/**
 * What the message list shows for a room: committed messages in seq order, then our sends that
 * have not landed yet.
 * @param {State} state @param {string} roomId
 * @returns {Array<{key: string, seq: number | null, sender: string, body: string, at: string,
 *   own: boolean, delivery: "read" | "sent" | "pending" | "failed" | null, error: string | null,
 *   clientId?: string, attachments: import("./bridge.js").Attachment[],
 *   files: import("./bridge.js").PendingFile[], progress: {sent: number, total: number} | null}>}
 */
export const timeline = (state, roomId) => {
  // How far the others read: the relay's (and cache's) `others_read_seq`, or a receipt since.
  const heard = Object.entries(state.receipts[roomId] ?? {}).filter(([user]) => user !== state.me).map(([, seq]) => seq);
  const readUpTo = Math.max(state.rooms[roomId]?.others_read_seq ?? 0, ...heard);
  const committed = (state.messages[roomId] ?? []).filter((m) => !isEntry(m)).map((m) => ({
    key: `s${m.seq}`,
    seq: m.seq,
    sender: m.sender,
    body: m.body,
    at: m.sent_at,
    own: m.sender === state.me,
    delivery: /** @type {"read" | "sent" | null} */ (m.sender === state.me ? (m.seq <= readUpTo ? "read" : "sent") : null),
    error: null,
    edited: m.edited_at != null,
    deleted: m.deleted === true,
    reactions: m.reactions ?? [],
    replyTo: m.reply_to ?? null,
    mentions: m.mentions ?? [],
    attachments: m.attachments ?? [],
    files: [],
    progress: null,
  }));
  const own = Object.values(state.outbox)
    .filter((o) => o.room_id === roomId)
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
      clientId: o.client_id,
      edited: false,
      deleted: false,
      reactions: [],
      replyTo: null,
      // Who a body mentions is the relay's word (`mentions`): a pending send has none yet.
      mentions: [],
      attachments: [],
      files: o.files ?? [],
      progress: state.uploads[o.client_id] ?? null,
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

/** Unread messages over all rooms (the tray and the window title show it). @param {State} state */
export const unreadTotal = (state) => Object.values(state.rooms).reduce((sum, room) => sum + unread(room), 0);

/**
 * The other member of a direct room (whose presence its list entry shows), or null.
 * @param {State} state @param {Room} room
 */
export const peer = (state, room) => (room.kind === "direct" ? (room.members.find((m) => m !== state.me) ?? null) : null);

/**
 * What a room is called on screen: a direct room by the other person (never "alice, bob" with
 * ourselves in it), a group by its name. @param {State} state @param {Room} room
 */
export const roomName = (state, room) => {
  if (room.kind !== "direct") return room.name;
  const others = room.members.filter((m) => m !== state.me);
  return others.length ? others.join(", ") : room.name;
};

/** Whether a user is online, as far as presence events told. @param {State} state @param {string} user */
export const isOnline = (state, user) => state.presence[user]?.online === true;

/**
 * The room before or after `from` in list order (wrapping), for Alt+Up/Down.
 * @param {State} state @param {string | null} from @param {1 | -1} step @returns {string | null}
 */
export const neighbourRoom = (state, from, step) => {
  const ids = roomList(state).map((r) => r.id);
  if (ids.length === 0) return null;
  const at = from ? ids.indexOf(from) : -1;
  if (at < 0) return ids[step > 0 ? 0 : ids.length - 1];
  return ids[(at + step + ids.length) % ids.length];
};

/**
 * Rooms whose name (or DM peer) contains `query`, case-insensitive, in list order: the Ctrl+K switcher.
 * @param {State} state @param {string} query
 */
export const matchRooms = (state, query) => {
  const q = query.trim().toLowerCase();
  return roomList(state).filter((r) => q === "" || r.name.toLowerCase().includes(q) || r.members.some((m) => r.kind === "direct" && m.toLowerCase().includes(q)));
};

/** Removes a room we left: its copy, its window, its unread. @param {State} state @param {string} roomId */
export const dropRoom = (state, roomId) => {
  const without = (/** @type {Record<string, any>} */ map) => {
    const copy = { ...map };
    delete copy[roomId];
    return copy;
  };
  return {
    ...state,
    rooms: without(state.rooms),
    messages: without(state.messages),
    previews: without(state.previews),
    detached: without(state.detached),
    typing: without(state.typing),
    receipts: without(state.receipts),
    drafts: without(state.drafts),
    marker: without(state.marker),
    selected: state.selected === roomId ? null : state.selected,
  };
};

/**
 * Empties a room's window so it is loaded afresh (reopening a room that was left scrolled far up,
 * or `always`: opening it around its first unread). @param {State} state @param {string} roomId
 * @param {boolean} [always]
 */
export const resetWindow = (state, roomId, always = false) => {
  if (!state.detached[roomId] && !(always && state.messages[roomId])) return state;
  const messages = { ...state.messages };
  delete messages[roomId];
  const detached = { ...state.detached };
  delete detached[roomId];
  return { ...state, messages, detached };
};
