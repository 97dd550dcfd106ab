// Entry point: wires the bridge (commands, events), the store (state) and the views (DOM).
import * as bridge from "./bridge.js";
import * as store from "./store.js";
import { errorText, previewText, typingText } from "./format.js";
import { PAGE, newerPageBefore } from "./paging.js";
import { renderConnection } from "./views/status.js";
import { createLoginView } from "./views/login.js";
import { createRoomList } from "./views/rooms.js";
import { createMessageList } from "./views/messages.js";
import { createComposer } from "./views/composer.js";
import { createDialog, field } from "./views/dialog.js";
import { createSwitcher } from "./views/switcher.js";

/** @template {Element} T @param {string} selector @returns {T} */
const $ = (selector) => /** @type {T} */ (document.querySelector(selector));
const testid = (/** @type {string} */ id) => $(`[data-testid="${id}"]`);

// The one state. Never pass it to a reducer across an `await` (`f(state, await x)` reads it
// before waiting and would drop every event applied meanwhile): await first, then reduce.
let state = store.initialState();
let eventsSeen = false;
let loadingOlder = false;
let loadingNewer = false;
/** What the shell was last told (set_view), so it is told only of changes. */
let viewSent = "";
/** The server of the last sign-in, to prefill the form when the relay refuses it. */
let lastServer = "";

const status = /** @type {HTMLElement} */ (testid("connection-status"));
const chatScreen = /** @type {HTMLElement} */ ($("#chat-screen"));
const whoami = /** @type {HTMLElement} */ ($("#whoami"));
const logoutButton = /** @type {HTMLButtonElement} */ ($("#logout"));
const roomTitle = /** @type {HTMLElement} */ ($("#room-title"));
const roomMembers = /** @type {HTMLElement} */ ($("#room-members"));
const typingLine = /** @type {HTMLElement} */ (testid("typing-indicator"));
const composerError = /** @type {HTMLElement} */ ($("#composer-error"));
const inviteButton = /** @type {HTMLButtonElement} */ (testid("invite"));
const leaveButton = /** @type {HTMLButtonElement} */ (testid("leave"));
const announcer = /** @type {HTMLElement} */ ($("#announcer"));

// ---- rendering: coalesced, and each part only when its slice of state changed ----

/** @type {Record<string, unknown>} */
let drawn = {};
let renderQueued = false;
const render = () => {
  if (renderQueued) return;
  renderQueued = true;
  queueMicrotask(() => {
    renderQueued = false;
    draw();
  });
};

const draw = () => {
  renderConnection(status, state.connection, Date.now() - state.connectionAt);
  if (!state.me) return;
  const sel = state.selected;
  if (drawn.rooms !== state.rooms || drawn.sel !== sel || drawn.previews !== state.previews || drawn.presence !== state.presence) {
    const rows = store.roomList(state).map((room) => {
      const peer = store.peer(state, room);
      return { room, preview: state.previews[room.id], online: peer === null ? null : store.isOnline(state, peer) };
    });
    roomList.render(rows, sel);
    const room = sel ? state.rooms[sel] : undefined;
    roomTitle.textContent = room ? (room.kind === "direct" ? `@ ${room.name}` : `# ${room.name}`) : "No room selected";
    roomMembers.textContent = room ? room.members.join(", ") : "";
    inviteButton.hidden = !room || room.kind !== "group" || room.id === "general";
    leaveButton.hidden = !room || room.id === "general";
    composer.setEnabled(Boolean(room));
  }
  const msgs = sel ? state.messages[sel] : undefined;
  const receipts = sel ? state.receipts[sel] : undefined;
  if (drawn.msgs !== msgs || drawn.outbox !== state.outbox || drawn.sel !== sel || drawn.receipts !== receipts) {
    const first = sel ? store.firstLoadedSeq(state, sel) : null;
    const newer = sel ? Boolean(state.detached[sel]) : false;
    messageList.render(sel, sel ? store.timeline(state, sel) : [], { older: first != null && first > 1, newer });
  }
  const text = sel ? typingText(store.typers(state, sel)) : "";
  if (typingLine.textContent !== text) typingLine.textContent = text;
  drawn = { rooms: state.rooms, sel, msgs, outbox: state.outbox, previews: state.previews, presence: state.presence, receipts };
  tellShell();
};

/** The room in view and the unread total, for the tray, the title and notifications. */
const tellShell = () => {
  const active = document.visibilityState === "visible" ? state.selected : null;
  const total = store.unreadTotal(state);
  const key = `${active}|${total}`;
  if (key === viewSent) return;
  viewSent = key;
  bridge.setView(active, total).catch(() => {}); // an older shell without the command: nothing to update
};

/** Screen readers hear incoming messages from others, not the whole list re-drawn. @param {import("./bridge.js").AppEvent[]} events */
const announce = (events) => {
  for (const e of events) {
    if (e.type !== "message" || e.message.sender === state.me) continue;
    const room = state.rooms[e.message.room_id];
    const line = document.createElement("p");
    line.textContent = `${room ? room.name : "new room"}: ${previewText(e.message)}`;
    announcer.append(line);
  }
  if (announcer.children.length > 3) announcer.replaceChildren(...[...announcer.children].slice(-3));
};

// The "reconnecting in Ns" countdown.
setInterval(() => {
  if (state.connection.state === "connecting" && state.connection.retry_in_ms != null) render();
}, 1000);

// ---- reading and loading rooms ----

/** Marks the open room read up to its newest loaded message, when the window is in view. */
const readOpenRoom = () => {
  const sel = state.selected;
  if (!sel || document.visibilityState !== "visible") return;
  const room = state.rooms[sel];
  const seq = store.lastLoadedSeq(state, sel);
  if (!room || seq <= room.read_seq) return;
  state = store.markRead(state, sel, seq);
  bridge.markRead(sel, seq).catch(() => {}); // offline: the cache keeps it and the session resends
};

const refreshRooms = async () => {
  try {
    const rooms = await bridge.rooms();
    state = store.setRooms(state, rooms);
  } catch (error) {
    composerError.textContent = `Rooms: ${errorText(error)}`;
  }
  await openFirstRoom();
  render();
  loadPreviews();
};

/** With no room open (first start, after leaving one), opens the first of the list. */
const openFirstRoom = async () => {
  if (state.selected && state.rooms[state.selected]) return;
  const first = store.roomList(state)[0];
  if (first) await openRoom(first.id);
};

/** The newest cached message of each room without a preview yet, for the room list. */
const loadPreviews = async () => {
  for (const room of store.roomList(state).slice(0, 200)) {
    if (state.previews[room.id] || room.last_seq === 0) continue;
    try {
      const newest = await bridge.messages(room.id, undefined, 1);
      state = store.addMessages(state, room.id, newest);
    } catch {
      return; // signed out meanwhile, or the cache is gone: previews come with new messages
    }
  }
  render();
};

/** @param {string} roomId */
const openRoom = async (roomId) => {
  state = store.resetWindow(store.selectRoom(state, roomId), roomId);
  composerError.textContent = "";
  render();
  try {
    const cached = await bridge.messages(roomId);
    state = store.addMessages(state, roomId, cached);
    render();
    const room = state.rooms[roomId];
    if (room && store.lastLoadedSeq(state, roomId) < room.last_seq) {
      const filled = await bridge.history(roomId);
      state = store.addMessages(state, roomId, filled);
    }
  } catch (error) {
    if (state.selected === roomId) composerError.textContent = errorText(error);
  }
  if (state.selected === roomId) readOpenRoom();
  render();
};

/**
 * The PAGE messages before `before`: `history` fills holes in the cache from the relay; offline,
 * the cache is all there is. @param {string} roomId @param {number} before
 */
const pageBefore = (roomId, before) =>
  bridge.history(roomId, before, PAGE).catch((error) => {
    if (error?.code === "offline" || error?.code === "not_connected") return bridge.messages(roomId, before, PAGE);
    throw error;
  });

const loadOlder = async () => {
  const sel = state.selected;
  const first = sel ? store.firstLoadedSeq(state, sel) : null;
  if (!sel || loadingOlder || first == null || first <= 1) return;
  loadingOlder = true;
  try {
    const older = await pageBefore(sel, first);
    state = store.addMessages(state, sel, older, { keep: "top" });
    render();
  } catch (error) {
    composerError.textContent = errorText(error);
  } finally {
    loadingOlder = false;
  }
};

/** Scrolling back down a window that was detached from the newest messages. */
const loadNewer = async () => {
  const sel = state.selected;
  if (!sel || loadingNewer || !state.detached[sel]) return;
  loadingNewer = true;
  try {
    const before = newerPageBefore(store.lastLoadedSeq(state, sel));
    const newer = await pageBefore(sel, before);
    state = store.addMessages(state, sel, newer, { keep: "bottom" });
    readOpenRoom();
    render();
  } catch (error) {
    composerError.textContent = errorText(error);
  } finally {
    loadingNewer = false;
  }
};

// ---- views ----

const roomList = createRoomList(/** @type {HTMLUListElement} */ (testid("room-list")), (id) => {
  if (id !== state.selected) openRoom(id);
});
const messageList = createMessageList(/** @type {HTMLOListElement} */ (testid("message-list")), { onNearTop: loadOlder, onNearBottom: loadNewer });
const composer = createComposer(/** @type {HTMLFormElement} */ ($("#composer-form")), {
  async onSend(body) {
    const sel = state.selected;
    if (!sel) return false;
    composerError.textContent = "";
    try {
      const queued = await bridge.sendMessage(sel, body);
      state = store.queued(state, queued);
      render();
      return true;
    } catch (error) {
      composerError.textContent = errorText(error);
      return false;
    }
  },
  onTyping(typing) {
    if (state.selected) bridge.typing(state.selected, typing).catch(() => {});
  },
});
/** A command's refusal as an Error the dialog shows. @param {unknown} error */
const refusal = (error) => new Error(errorText(error));

const newRoomDialog = createDialog(/** @type {HTMLElement} */ ($("#new-room-dialog")), async (form) => {
  const name = field(form, "name");
  if (!name) throw new Error("A room needs a name.");
  const members = field(form, "members").split(/[\s,]+/).filter(Boolean);
  const room = await bridge.createRoom(name, members).catch((e) => Promise.reject(refusal(e)));
  state = store.upsertRoom(state, room);
  await openRoom(room.id);
});
testid("new-room").addEventListener("click", () => newRoomDialog.open());

const newDmDialog = createDialog(/** @type {HTMLElement} */ ($("#new-dm-dialog")), async (form) => {
  const username = field(form, "username");
  if (!username) throw new Error("Whom to write to?");
  const room = await bridge.openDm(username).catch((e) => Promise.reject(refusal(e)));
  state = store.upsertRoom(state, room);
  await openRoom(room.id);
});
testid("new-dm").addEventListener("click", () => newDmDialog.open());

const inviteDialog = createDialog(/** @type {HTMLElement} */ ($("#invite-dialog")), async (form) => {
  const sel = state.selected;
  const username = field(form, "username");
  if (!sel) throw new Error("No room is open.");
  if (!username) throw new Error("Whom to invite?");
  const room = await bridge.invite(sel, username).catch((e) => Promise.reject(refusal(e)));
  state = store.upsertRoom(state, room);
  render();
});
inviteButton.addEventListener("click", () => {
  const room = state.selected ? state.rooms[state.selected] : undefined;
  if (room) inviteDialog.open(`Into # ${room.name}`);
});

const leaveDialog = createDialog(/** @type {HTMLElement} */ ($("#leave-dialog")), async () => {
  const sel = state.selected;
  if (!sel) return;
  await bridge.leave(sel).catch((e) => Promise.reject(refusal(e)));
  state = store.dropRoom(state, sel);
  await openFirstRoom();
  render();
});
leaveButton.addEventListener("click", () => {
  const room = state.selected ? state.rooms[state.selected] : undefined;
  if (room) leaveDialog.open(`You will stop receiving messages from ${room.kind === "direct" ? "@" : "#"} ${room.name}.`);
});

const switcher = createSwitcher(/** @type {HTMLElement} */ ($("#switcher")), {
  match: (query) => store.matchRooms(state, query),
  onPick: (id) => {
    if (id !== state.selected) openRoom(id);
    composer.focus();
  },
});

// Ctrl/Cmd+K: switcher; Alt+Up/Down: previous/next room; Esc (no dialog open): back to the composer.
document.addEventListener("keydown", (e) => {
  if (!state.me) return;
  if ((e.ctrlKey || e.metaKey) && !e.altKey && e.key.toLowerCase() === "k") {
    e.preventDefault();
    if (switcher.isOpen) switcher.close();
    else switcher.open();
  } else if (e.altKey && (e.key === "ArrowUp" || e.key === "ArrowDown")) {
    e.preventDefault();
    const next = store.neighbourRoom(state, state.selected, e.key === "ArrowDown" ? 1 : -1);
    if (next && next !== state.selected) openRoom(next);
  } else if (e.key === "Escape" && !e.defaultPrevented) {
    composer.focus();
  }
});

const loginView = createLoginView(/** @type {HTMLElement} */ ($("#login-screen")), {
  async onSubmit(mode, { server_url, username, password }) {
    try {
      lastServer = server_url;
      const user = await (mode === "register" ? bridge.register : bridge.login)(server_url, username, password);
      await enterChat(user.username);
      return true;
    } catch (error) {
      loginView.setError(errorText(error));
      return false;
    }
  },
});

// ---- screens ----

/** @param {string} username */
const enterChat = async (username) => {
  state = store.signedIn(state, username);
  drawn = {};
  loginView.hide();
  chatScreen.hidden = false;
  logoutButton.hidden = false;
  whoami.textContent = username;
  render();
  await refreshRooms();
  try {
    state = (await bridge.pending()).reduce(store.queued, state); // sends still queued from before
    render();
  } catch {
    // not fatal: they show once they are sent
  }
};

/** @param {{server?: string, hostingNote?: string, error?: string}} [opts] */
const showLogin = (opts) => {
  state = store.signedOut(state);
  chatScreen.hidden = true;
  logoutButton.hidden = true;
  whoami.textContent = "";
  loginView.show(opts);
  render();
};

logoutButton.addEventListener("click", async () => {
  try {
    await bridge.logout();
  } catch (error) {
    composerError.textContent = errorText(error);
    return;
  }
  showLogin({ server: lastServer });
});

// ---- live events ----

bridge.onEvents((events) => {
  eventsSeen = true;
  const signedIn = state.me;
  state = store.applyEvents(state, events, Date.now());
  if (signedIn && state.connection.state === "offline" && state.connection.reason === "unauthorized") {
    showLogin({ server: lastServer, error: "The relay refused the saved sign-in: please log in again." });
    return;
  }
  if (signedIn) {
    const unknownRoom = events.some((e) => e.type === "message" && !state.rooms[e.message.room_id]);
    if (unknownRoom) refreshRooms();
    else if (!state.selected) openFirstRoom(); // e.g. just registered: rooms arrive with the first sync
    readOpenRoom();
    announce(events);
  }
  render();
});

bridge.onOpenRoom((roomId) => {
  if (state.me && state.rooms[roomId] && roomId !== state.selected) openRoom(roomId);
});

document.addEventListener("visibilitychange", () => {
  readOpenRoom();
  render();
});

bridge.connectionState().then(
  (view) => {
    if (!eventsSeen) state = store.applyEvent(state, { type: "connection", state: view }, Date.now());
    render();
  },
  (error) => {
    status.textContent = `offline (${errorText(error)})`;
  },
);

// ---- start: resume a saved sign-in, or offer this computer's relay ----

/** Marks the moment the first screen is usable (the footprint benchmark reads it). */
const interactive = () => performance.mark("natter:interactive");

const start = async () => {
  try {
    const signedIn = await bridge.resume();
    if (signedIn) {
      lastServer = signedIn.server_url;
      await enterChat(signedIn.username);
      interactive();
      return;
    }
  } catch (error) {
    showLogin({ error: `Could not resume: ${errorText(error)}` });
    interactive();
    return;
  }
  try {
    const hosted = await bridge.hostLocally();
    showLogin({ server: hosted.url, hostingNote: `This computer hosts a relay at ${hosted.url}: register there, or enter another server.` });
  } catch (error) {
    showLogin({ error: `Could not host on this computer: ${errorText(error)}` });
  }
  interactive();
};
start();
