// Entry point: wires the bridge (commands, events), the store (state) and the views (DOM).
import * as bridge from "./bridge.js";
import * as store from "./store.js";
import { errorText, typingText } from "./format.js";
import { renderConnection } from "./views/status.js";
import { createLoginView } from "./views/login.js";
import { createRoomList } from "./views/rooms.js";
import { createMessageList } from "./views/messages.js";
import { createComposer } from "./views/composer.js";
import { createNewRoomForm } from "./views/new-room.js";

/** @template {Element} T @param {string} selector @returns {T} */
const $ = (selector) => /** @type {T} */ (document.querySelector(selector));
const testid = (/** @type {string} */ id) => $(`[data-testid="${id}"]`);

let state = store.initialState();
let eventsSeen = false;
let loadingOlder = false;
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
  if (drawn.rooms !== state.rooms || drawn.sel !== sel) {
    roomList.render(store.roomList(state), sel);
    const room = sel ? state.rooms[sel] : undefined;
    roomTitle.textContent = room ? room.name : "No room selected";
    roomMembers.textContent = room ? room.members.join(", ") : "";
    composer.setEnabled(Boolean(room));
  }
  const msgs = sel ? state.messages[sel] : undefined;
  if (drawn.msgs !== msgs || drawn.outbox !== state.outbox || drawn.sel !== sel) {
    const first = sel ? store.firstLoadedSeq(state, sel) : null;
    messageList.render(sel, sel ? store.timeline(state, sel) : [], { more: first != null && first > 1 });
  }
  const text = sel ? typingText(store.typers(state, sel)) : "";
  if (typingLine.textContent !== text) typingLine.textContent = text;
  drawn = { rooms: state.rooms, sel, msgs, outbox: state.outbox };
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
    state = store.setRooms(state, await bridge.rooms());
  } catch (error) {
    composerError.textContent = `Rooms: ${errorText(error)}`;
  }
  if (!state.selected || !state.rooms[state.selected]) {
    const first = store.roomList(state)[0];
    if (first) await openRoom(first.id);
  }
  render();
};

/** @param {string} roomId */
const openRoom = async (roomId) => {
  state = store.selectRoom(state, roomId);
  composerError.textContent = "";
  render();
  try {
    state = store.addMessages(state, roomId, await bridge.messages(roomId));
    render();
    const room = state.rooms[roomId];
    if (room && store.lastLoadedSeq(state, roomId) < room.last_seq) {
      state = store.addMessages(state, roomId, await bridge.history(roomId));
    }
  } catch (error) {
    if (state.selected === roomId) composerError.textContent = errorText(error);
  }
  if (state.selected === roomId) readOpenRoom();
  render();
};

const loadOlder = async () => {
  const sel = state.selected;
  const first = sel ? store.firstLoadedSeq(state, sel) : null;
  if (!sel || loadingOlder || first == null || first <= 1) return;
  loadingOlder = true;
  try {
    // `history` fills holes in the cache from the relay; offline, the cache is all there is.
    const older = await bridge.history(sel, first).catch((error) => {
      if (error?.code === "offline" || error?.code === "not_connected") return bridge.messages(sel, first);
      throw error;
    });
    state = store.addMessages(state, sel, older);
    render();
  } catch (error) {
    composerError.textContent = errorText(error);
  } finally {
    loadingOlder = false;
  }
};

// ---- views ----

const roomList = createRoomList(/** @type {HTMLUListElement} */ (testid("room-list")), (id) => {
  if (id !== state.selected) openRoom(id);
});
const messageList = createMessageList(/** @type {HTMLOListElement} */ (testid("message-list")), { onNearTop: loadOlder });
const composer = createComposer(/** @type {HTMLFormElement} */ ($("#composer-form")), {
  async onSend(body) {
    const sel = state.selected;
    if (!sel) return false;
    composerError.textContent = "";
    try {
      state = store.queued(state, await bridge.sendMessage(sel, body));
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
createNewRoomForm(/** @type {HTMLButtonElement} */ (testid("new-room")), /** @type {HTMLFormElement} */ ($("#new-room-form")), async (name, members) => {
  let room;
  try {
    room = await bridge.createRoom(name, members);
  } catch (error) {
    throw new Error(errorText(error));
  }
  state = store.upsertRoom(state, room);
  await openRoom(room.id);
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
    readOpenRoom();
  }
  render();
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

const start = async () => {
  try {
    const signedIn = await bridge.resume();
    if (signedIn) {
      lastServer = signedIn.server_url;
      await enterChat(signedIn.username);
      return;
    }
  } catch (error) {
    showLogin({ error: `Could not resume: ${errorText(error)}` });
    return;
  }
  try {
    const hosted = await bridge.hostLocally();
    showLogin({ server: hosted.url, hostingNote: `This computer hosts a relay at ${hosted.url}: register there, or enter another server.` });
  } catch (error) {
    showLogin({ error: `Could not host on this computer: ${errorText(error)}` });
  }
};
start();
