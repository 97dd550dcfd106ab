// The controller: holds the one application state, answers the page's handlers with commands,
// feeds command answers and event batches through the store's reducers, and redraws the parts
// whose slice of state changed (once per microtask). The only mutable state of the UI is here.
// With several accounts signed in (issue 18), the state is the shown account's: the shell sends
// only its events, and when `natter://accounts` names another one, the state starts afresh from
// that point of the event stream and is filled from that account's cache.
import * as store from "./store.js";
import { createActions } from "./actions.js";
import { displayName, errorText, previewText, roomLabel, typingText } from "./format.js";
import { createDraftKeeper } from "./drafts.js";
import { createLoader } from "./loading.js";
import { createPeople } from "./people.js";

/** @typedef {typeof import("./bridge.js")} Bridge */
/** @typedef {ReturnType<typeof import("./view.js").createView>} View */

/**
 * @param {Bridge} bridge
 * @param {(handlers: import("./view.js").Handlers) => View} makeView
 */
export const createController = (bridge, makeView) => {
  // The one state. Never pass it to a reducer across an `await` (`f(state, await x)` reads it
  // before waiting and would drop every event applied meanwhile): await first, then reduce.
  let state = store.initialState();
  /** What the shell was last told (set_view), so it is told only of changes. */
  let viewSent = "";
  /** The server of the last sign-in, to prefill the form when the relay refuses it. */
  let lastServer = "";
  /** What each part was last drawn from. @type {Record<string, unknown>} */
  let drawn = {};
  let renderQueued = false;
  const drafts = createDraftKeeper(bridge);
  const loader = createLoader({
    bridge,
    get: () => state,
    set: (next) => {
      state = next;
    },
    render: () => render(),
    showError: (text) => view.composerError(text),
  });
  const { loadOlder, loadNewer, loadPreviews } = loader;
  const actions = createActions({
    state: () => state,
    bridge,
    view: {
      composerMode: (text) => view.composerMode(text),
      setDraft: (text) => view.setDraft(text),
      focusComposer: () => view.focusComposer(),
      composerError: (text) => view.composerError(text),
      confirmDelete: (detail) => view.confirmDelete(detail),
    },
    errorText,
    excerpt: previewText,
  });
  const people = createPeople({
    bridge,
    get: () => state,
    set: (next) => {
      state = next;
    },
    render: () => render(),
    // Our account deleted: signed out of it here too (the shell forgot the sign-in).
    signedOut: () => afterSignOut(),
  });
  /** The signed-in accounts as the shell last announced them. @type {import("./bridge.js").AccountView[]} */
  let accounts = [];
  /** The account this page shows (its id in `accounts`), once the shell named one. */
  let shownAccount = /** @type {string | null} */ (null);
  /** A resume or sign-in runs: it enters the chat itself once it answers. */
  let entering = false;
  /** A notification's room, to open once the switch to its account is drawn. */
  let openAfterSwitch = /** @type {string | null} */ (null);
  /** The room open at the end of the last run, opened first (once) if it is still ours. */
  let lastRoom = /** @type {string | null} */ (null);

  /** The message a search result opened: its room's list scrolls to it and marks it, once. */
  let found = /** @type {{roomId: string, seq: number} | null} */ (null);

  /** The shown account's saved sign-in was refused while others are signed in (login-cancel goes to them). */
  let refused = false;

  /**
   * Opens a room (around message `at`, when given), and keeps it as the one to open at the next
   * start. @param {string} roomId @param {number | null} [at]
   */
  const openRoom = (roomId, at = null) => {
    if (roomId !== state.selected) actions.roomChanged();
    bridge.keepLastRoom(roomId).catch(() => {}); // signed out meanwhile: nothing to keep
    return loader.openRoom(roomId, at);
  };

  /**
   * A reply's quote was clicked: its target, message `seq` of the open room, is scrolled to and
   * marked like a search result, paged in around it when it is not loaded. @param {number} seq
   */
  const jumpTo = (seq) => {
    const sel = state.selected;
    if (!sel) return;
    found = { roomId: sel, seq };
    if ((state.messages[sel] ?? []).some((m) => m.seq === seq)) render();
    else openRoom(sel, seq);
  };

  // ---- rendering: coalesced, and each part only when its slice of state changed ----

  const render = () => {
    if (renderQueued) return;
    renderQueued = true;
    queueMicrotask(() => {
      renderQueued = false;
      draw();
    });
  };

  // Signed out too: the lists then redraw empty and the shell hears an unread total of 0, so
  // nothing of the last account stays on the page, in the title or in the tray.
  const draw = () => {
    view.connection(state.connection, Date.now() - state.connectionAt);
    const sel = state.selected;
    if (drawn.rooms !== state.rooms || drawn.sel !== sel || drawn.previews !== state.previews || drawn.presence !== state.presence || drawn.levels !== state.levels) {
      const rows = store.roomList(state).map((room) => {
        const peer = store.peer(state, room);
        return { room: labelled(room), preview: state.previews[room.id], online: peer === null ? null : store.isOnline(state, peer), unread: store.unread(room) };
      });
      const room = sel ? state.rooms[sel] : undefined;
      view.rooms(rows, sel, room && labelled(room), sel ? (state.levels[sel] ?? "all") : "all");
      // A room just opened (the first one after signing in, too): its own draft, and the
      // keyboard goes to its composer, however it was opened.
      if (drawn.sel !== sel) view.setDraft(sel ? (state.drafts[sel] ?? "") : "");
      if (room && drawn.sel !== sel) view.focusComposer();
    }
    const msgs = sel ? state.messages[sel] : undefined;
    const receipts = sel ? state.receipts[sel] : undefined;
    // The open room's own copy too: its `others_read_seq` turns our messages "read".
    const open = sel ? state.rooms[sel] : undefined;
    if (drawn.msgs !== msgs || drawn.outbox !== state.outbox || drawn.uploads !== state.uploads || drawn.sel !== sel || drawn.receipts !== receipts || drawn.open !== open || drawn.found !== found || drawn.admin !== state.admin) {
      const first = sel ? store.firstLoadedSeq(state, sel) : null;
      const newer = sel ? Boolean(state.detached[sel]) : false;
      const marker = sel ? (state.marker[sel] ?? null) : null;
      const focus = found && found.roomId === sel ? found : null;
      view.messages(sel, sel ? store.timeline(state, sel) : [], { older: first != null && first > 1, newer, marker, me: state.me, account: shownAccount, admin: state.admin, focus });
    }
    view.admin(state.admin);
    view.typing(sel ? typingText(store.typers(state, sel)) : "");
    drawn = { rooms: state.rooms, sel, msgs, outbox: state.outbox, uploads: state.uploads, previews: state.previews, presence: state.presence, levels: state.levels, receipts, open, found, admin: state.admin };
    // Read once drawn: only what is on screen now counts.
    if (readOpenRoom()) render();
    tellShell();
  };

  /** A room as the views show it: a DM by the other person's name. @param {import("./bridge.js").Room} room */
  const labelled = (room) => (room.kind === "direct" ? { ...room, name: store.roomName(state, room) } : room);

  /** The room in view and the unread total, for the tray, the title and notifications. */
  const tellShell = () => {
    const active = view.visible() ? state.selected : null;
    const total = store.unreadTotal(state);
    const key = `${active}|${total}`;
    if (key === viewSent) return;
    viewSent = key;
    bridge.setView(active, total).catch(() => {}); // an older shell without the command: nothing to update
  };

  /** Incoming messages from others, for screen readers. @param {import("./bridge.js").AppEvent[]} events */
  const announce = (events) => {
    const lines = [];
    for (const e of events) {
      if (e.type !== "message" || e.message.sender === state.me) continue;
      const room = state.rooms[e.message.room_id];
      lines.push(`${room ? displayName(store.roomName(state, room)) : "new room"}: ${previewText(e.message)}`);
    }
    if (lines.length) view.announce(lines);
  };

  // ---- reading and loading rooms ----

  /**
   * Marks the open room read up to the newest message on screen, only while the window has the
   * focus (a window behind others or on another screen reads nothing). Says whether it moved.
   */
  const readOpenRoom = () => {
    const sel = state.selected;
    if (!sel || !view.visible()) return false;
    const room = state.rooms[sel];
    const seq = Math.min(store.lastLoadedSeq(state, sel), view.lastSeenSeq());
    if (!room || seq <= room.read_seq) return false;
    state = store.markRead(state, sel, seq);
    bridge.markRead(sel, seq).catch(() => {}); // offline: the cache keeps it and the session resends
    return true;
  };

  const refreshRooms = async () => {
    try {
      const rooms = await bridge.rooms();
      state = store.setRooms(state, rooms);
    } catch (error) {
      view.composerError(`Rooms: ${errorText(error)}`);
    }
    await openFirstRoom();
    render();
    loadPreviews();
  };

  /**
   * With no room open (start, a switch, after leaving one): a notification's room, else the room
   * open last time, else the first of the list.
   */
  const openFirstRoom = async () => {
    if (state.selected && state.rooms[state.selected]) return;
    const id = [openAfterSwitch, lastRoom].find((r) => r && state.rooms[r]) ?? store.roomList(state)[0]?.id;
    if (!id) return;
    lastRoom = openAfterSwitch = null;
    await openRoom(id);
  };

  /** A command's refusal as an Error a dialog shows. @param {unknown} error */
  const refusal = (error) => new Error(errorText(error));

  /** A room a dialog made or changed: filed, and opened. @param {import("./bridge.js").Room} room */
  const openNew = async (room) => {
    state = store.upsertRoom(state, room);
    await openRoom(room.id);
  };

  // ---- screens ----

  /** @param {string} username */
  const enterChat = async (username) => {
    const account = shownAccount;
    state = store.signedIn(state, username);
    drawn = {};
    view.showChat(username);
    view.accounts(accounts);
    render();
    people.refreshRole(); // offline now: asked again once connected
    // Switched again meanwhile: the newer switch fills the page.
    if (!(await loadKept(account))) return;
    await refreshRooms();
  };

  /**
   * What the account kept from an earlier run: each room's draft, the room open last (its cache),
   * its notification levels (the shell's). False if another account is shown by then.
   * @param {string | null} account
   */
  const loadKept = async (account) => {
    const [kept, last, levels] = await Promise.all([
      bridge.drafts().catch(() => []),
      bridge.lastRoom().catch(() => null),
      bridge.notificationLevels().catch(() => ({})),
    ]);
    if (account !== shownAccount) return false;
    state = store.loadDrafts(state, kept ?? []);
    state = store.setLevels(state, levels ?? {});
    lastRoom = last ?? null;
    return true;
  };

  // ---- several accounts ----

  /**
   * The shell's list of accounts. When it names another shown account, that is where the event
   * stream turned to it: what came before was the last account's, so the state starts afresh
   * here, with that account's connection, and is filled from its cache.
   * @param {import("./bridge.js").AccountView[]} list
   */
  const onAccounts = (list) => {
    accounts = list;
    view.accounts(list);
    const active = list.find((a) => a.active);
    if (!active || active.id === shownAccount) return;
    shownAccount = active.id;
    drafts.forget();
    lastRoom = null;
    found = null;
    refused = false;
    state = store.applyEvent(store.signingIn(state), { type: "connection", state: active.connection }, Date.now());
    drawn = {};
    // A sign-in or resume enters the chat itself when it answers.
    if (entering) render();
    else enterChat(active.username);
  };

  /** After signing out of an account (or deleting it): another one is shown, or the sign-in screen. */
  const afterSignOut = async () => {
    const left = await bridge.accounts().catch(() => []);
    if (Array.isArray(left) && left.length) {
      onAccounts(left); // the shell's own event may be on its way: whichever comes first switches
      return;
    }
    accounts = [];
    shownAccount = null;
    showLogin({ server: lastServer });
  };

  /** @param {{server?: string, hosted?: import("./views/login.js").Hosted, error?: string, adding?: boolean, back?: boolean}} [opts] */
  const showLogin = (opts) => {
    drafts.forget();
    lastRoom = null;
    state = store.signedOut(state);
    view.showLogin(opts);
    render();
  };

  // ---- what the page asks ----

  /** @type {import("./view.js").Handlers} */
  const handlers = {
    async signIn(mode, creds) {
      const { server_url, username, password, invite } = creds;
      entering = true;
      try {
        lastServer = server_url;
        state = store.signingIn(state);
        const user = await (mode === "register"
          ? bridge.register(server_url, username, password, invite)
          : bridge.login(server_url, username, password));
        entering = false;
        await enterChat(user.username);
        return true;
      } catch (error) {
        entering = false;
        const e = /** @type {{code?: string, fingerprint?: string, pinned?: string, presented?: string}} */ (error ?? {});
        if (e.code === "certificate_untrusted" && typeof e.fingerprint === "string") {
          const fingerprint = e.fingerprint;
          // Accepting pins exactly what was shown (the shell checks the fingerprint again), then
          // the same sign-in runs again.
          view.loginCertificate({ kind: "untrusted", fingerprint }, async () => {
            try {
              await bridge.trustCertificate(server_url, fingerprint);
            } catch (trustError) {
              view.loginError(errorText(trustError));
              return false;
            }
            return handlers.signIn(mode, creds);
          });
        } else if (e.code === "certificate_changed" && typeof e.pinned === "string" && typeof e.presented === "string") {
          view.loginCertificate({ kind: "changed", pinned: e.pinned, presented: e.presented });
        } else {
          view.loginError(errorText(error));
        }
        return false;
      }
    },
    letOthersConnect: (allow) => bridge.hostLocally(allow),
    readInvite: (text) => bridge.readInvite(text),
    settings: people.settings,
    admin: people.admin,
    async logout() {
      try {
        await bridge.logout();
      } catch (error) {
        view.composerError(errorText(error));
        return;
      }
      await afterSignOut();
    },
    switchAccount(id) {
      // The page repaints when the shell's `natter://accounts` names it.
      bridge.switchAccount(id).catch((error) => view.composerError(errorText(error)));
    },
    addAccount() {
      showLogin({ adding: true });
    },
    backToAccounts() {
      // The shown account's sign-in was refused: back to another one (the refused one stays
      // listed, to sign in again from the switcher).
      const other = refused ? accounts.find((a) => a.id !== shownAccount) : undefined;
      refused = false;
      if (other) {
        bridge.switchAccount(other.id).catch((error) => view.composerError(errorText(error)));
        return;
      }
      const shown = accounts.find((a) => a.id === shownAccount);
      if (!shown) return;
      state = store.signingIn(state);
      enterChat(shown.username);
    },
    selectRoom(id) {
      if (id !== state.selected) openRoom(id);
    },
    stepRoom(step) {
      const next = store.neighbourRoom(state, state.selected, step);
      if (next && next !== state.selected) openRoom(next);
    },
    loadOlder,
    loadNewer,
    async send(body) {
      const sel = state.selected;
      if (!sel) return false;
      view.composerError("");
      const inMode = actions.submit(body);
      if (inMode) return inMode;
      try {
        await bridge.sendMessage(sel, body); // the pending message comes as an event
        return true;
      } catch (error) {
        if (state.selected === sel) {
          view.composerError(errorText(error));
          return false; // the composer puts the text back
        }
        // Refused after the room was left for another: the text is that room's draft again.
        if (!state.drafts[sel]) keepDraft(sel, body);
        return true;
      }
    },
    draft(text) {
      if (state.selected) keepDraft(state.selected, text);
    },
    typing(typing) {
      if (state.selected) bridge.typing(state.selected, typing).catch(() => {});
    },
    async createRoom(name, members) {
      await openNew(await bridge.createRoom(name, members).catch((e) => Promise.reject(refusal(e))));
    },
    async openDm(username) {
      await openNew(await bridge.openDm(username).catch((e) => Promise.reject(refusal(e))));
    },
    async invite(username) {
      const sel = state.selected;
      if (!sel) throw new Error("No room is open.");
      const room = await bridge.invite(sel, username).catch((e) => Promise.reject(refusal(e)));
      state = store.upsertRoom(state, room);
      render();
    },
    async leave() {
      const sel = state.selected;
      if (!sel) return;
      await bridge.leave(sel).catch((e) => Promise.reject(refusal(e)));
      state = store.dropRoom(state, sel);
      await openFirstRoom();
      render();
    },
    openRoom: () => (state.selected ? (state.rooms[state.selected] ?? null) : null),
    roomMembers: (roomId, after, limit) => bridge.roomMembers(roomId, after, limit).catch((e) => Promise.reject(refusal(e))),
    openRoomLabel() {
      const room = state.selected ? state.rooms[state.selected] : undefined;
      return room ? { name: labelled(room).name, kind: room.kind } : null;
    },
    matchRooms: (query) => store.matchRooms(state, query).map(labelled),
    search: (query, opts) => bridge.search(query, opts),
    roomName(roomId) {
      const room = state.rooms[roomId];
      return room ? roomLabel(labelled(room)) : "a room you left";
    },
    openFound(message) {
      if (!state.rooms[message.room_id]) {
        view.composerError("That message's room is no longer yours.");
        return;
      }
      found = { roomId: message.room_id, seq: message.seq };
      openRoom(message.room_id, message.seq);
    },
    signedIn: () => Boolean(state.me),
    visibilityChanged() {
      readOpenRoom();
      render();
    },
    scrolled() {
      if (readOpenRoom()) render();
    },
    retryNow() {
      bridge.retryNow().catch(() => {}); // no session: nothing to retry
    },
    // A failed send is refused for good (its client_id would be refused again): Retry sends its
    // text as a new message, Delete only forgets it.
    async retryFailed(clientId) {
      const failed = state.outbox[clientId];
      if (!failed || !(await forgetFailed(clientId))) return;
      await bridge.sendMessage(failed.room_id, failed.body).catch((error) => view.composerError(errorText(error)));
    },
    async deleteFailed(clientId) {
      await forgetFailed(clientId);
    },
    async setNotificationLevel(level) {
      const sel = state.selected;
      if (!sel) return;
      const before = state.levels;
      state = store.setLevel(state, sel, level);
      render();
      try {
        await bridge.setNotificationLevel(sel, level);
      } catch (error) {
        state = store.setLevels(state, before);
        render();
        view.composerError(errorText(error));
      }
    },
    messageAction(action, seq, emoji) {
      if (action === "jump") jumpTo(seq);
      else if (action === "reply") actions.reply(seq);
      else if (action === "edit") actions.edit(seq);
      else if (action === "delete-message") actions.askDelete(seq);
      else if (action === "react" && emoji) actions.react(seq, emoji);
    },
    cancelMode: () => actions.cancel(),
    editLast: () => actions.editLast(),
    confirmDelete: () => actions.confirmDelete(),
    openLink(url) {
      bridge.openLink(url).catch((error) => view.composerError(errorText(error)));
    },
    // ---- files (issue 20): an attach is a message of its own, with the composer's text as its
    // caption (and in reply mode, the reply); the pending one comes as an event ----
    async attachPick() {
      const sel = state.selected;
      if (!sel) return;
      view.composerError("");
      const { caption, replyTo } = actions.attaching();
      const body = caption ? view.takeComposerText() : "";
      try {
        const sent = await bridge.attachFiles(sel, body, replyTo);
        if (sent === null) view.putBackComposerText(body); // nothing picked
        else if (replyTo) actions.cancel();
      } catch (error) {
        view.putBackComposerText(body);
        view.composerError(errorText(error));
      }
    },
    async attachFiles(files) {
      const sel = state.selected;
      if (!sel) return;
      view.composerError("");
      const fitting = files.filter((file) => file.size <= bridge.MAX_HANDED_BYTES);
      for (const file of files.filter((f) => !fitting.includes(f))) {
        view.composerError(`${file.name} is too big to drop or paste: use the attach button.`);
      }
      if (fitting.length === 0) return;
      // One message per call (at most 10 files and 100 MiB: more start another, in order); the
      // caption (and the reply) go with the first. A refused call stops there: what went is in order.
      const { caption, replyTo } = actions.attaching();
      const body = caption ? view.takeComposerText() : "";
      const groups = bridge.handOverGroups(fitting);
      for (const [i, group] of groups.entries()) {
        try {
          await bridge.attachBytes(sel, group, i === 0 ? body : "", i === 0 ? replyTo : undefined);
          if (i === 0 && replyTo) actions.cancel();
        } catch (error) {
          if (i === 0) view.putBackComposerText(body);
          const unsent = groups.slice(i).reduce((n, g) => n + g.length, 0);
          view.composerError(i === 0 ? errorText(error) : `${unsent} of the files were not sent: ${errorText(error)}`);
          return;
        }
      }
    },
    async cancelUpload(clientId) {
      try {
        await bridge.cancelUpload(clientId);
      } catch (error) {
        view.composerError(errorText(error));
        return;
      }
      state = store.dropOwnSend(state, clientId);
      render();
    },
    image: (fileId, thumbnail) => bridge.image(fileId, thumbnail),
    download(fileId, name) {
      bridge.saveFile(fileId, name).catch((error) => view.composerError(errorText(error)));
    },
  };

  /** Says whether the failed send is gone (from the cache and the list). @param {string} clientId */
  const forgetFailed = async (clientId) => {
    try {
      await bridge.discardFailed(clientId);
    } catch (error) {
      view.composerError(errorText(error));
      return false;
    }
    state = store.dropOwnSend(state, clientId);
    render();
    return true;
  };

  /** @param {string} roomId @param {string} text */
  const keepDraft = (roomId, text) => {
    state = store.setDraft(state, roomId, text);
    drafts.save(roomId, text);
  };
  const view = makeView(handlers);

  // ---- live events ----

  /** @param {import("./bridge.js").AppEvent[]} events */
  const onEvents = (events) => {
    const signedIn = state.me;
    state = store.applyEvents(state, events, Date.now());
    if (signedIn && state.connection.state === "offline" && state.connection.reason === "unauthorized") {
      // Other accounts stay signed in: the screen keeps a way back to them.
      refused = accounts.some((a) => a.id !== shownAccount);
      showLogin({ server: lastServer, error: "The relay refused the saved sign-in: please log in again.", back: refused });
      return;
    }
    // The relay shows another certificate than the pinned one (or, its pin lost, one this
    // computer does not trust): never accepted silently; signing in again offers the choice.
    const certificate = state.connection.state === "offline" ? state.connection.certificate : undefined;
    if (signedIn && certificate) {
      showLogin({ server: lastServer, certificate });
      return;
    }
    if (signedIn) {
      // Connected again: the role may have changed while we were away.
      if (events.some((e) => e.type === "connection" && e.state.state === "connected")) people.refreshRole();
      const unknownRoom = events.some((e) => e.type === "message" && !state.rooms[e.message.room_id]);
      if (unknownRoom) refreshRooms();
      // E.g. just registered (rooms arrive with the first sync), or the open room is gone.
      else if (!state.selected) openFirstRoom();
      announce(events);
    }
    render();
  };

  /** A notification was clicked: its account shown first, if it is another. @param {string} roomId @param {string} [account] */
  const onOpenRoom = (roomId, account) => {
    if (account && account !== shownAccount && accounts.some((a) => a.id === account)) {
      openAfterSwitch = roomId;
      bridge.switchAccount(account).catch(() => {
        openAfterSwitch = null;
      });
      return;
    }
    if (state.me && state.rooms[roomId] && roomId !== state.selected) openRoom(roomId);
  };

  // ---- start: resume a saved sign-in, or offer this computer's relay ----

  /** Marks the moment the first screen is usable (the footprint benchmark reads it). */
  const interactive = () => performance.mark("natter:interactive");

  const start = async () => {
    // Listening before anything can start a session, so no event of it is missed.
    await Promise.all([bridge.onEvents(onEvents), bridge.onOpenRoom(onOpenRoom), bridge.onAccounts(onAccounts)]);
    // The "reconnecting in Ns" countdown.
    setInterval(() => {
      if (state.connection.state === "connecting" && state.connection.retry_in_ms != null) render();
    }, 1000);
    // Asked once, before any session can run (sessions start only through resume, register and
    // login, below): from here on the connection state comes only as events.
    try {
      state = store.applyEvent(state, { type: "connection", state: await bridge.connectionState() }, Date.now());
      render();
    } catch (error) {
      view.connectionError(`offline (${errorText(error)})`);
    }
    try {
      state = store.signingIn(state);
      entering = true;
      const signedIn = await bridge.resume().finally(() => {
        entering = false;
      });
      if (signedIn) {
        lastServer = signedIn.server_url;
        if (signedIn.account) shownAccount = signedIn.account;
        const list = await bridge.accounts().catch(() => null);
        if (Array.isArray(list)) accounts = list;
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
      showLogin({ server: hosted.url, hosted });
    } catch (error) {
      showLogin({ error: `Could not host on this computer: ${errorText(error)}` });
    }
    interactive();
  };

  return { start };
};
