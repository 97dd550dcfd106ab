// The page: finds its parts in index.html, builds the views on them, turns DOM events into the
// controller's handlers and draws what the controller hands it. Holds no application state.
import { renderConnection } from "./views/status.js";
import { createLoginView } from "./views/login.js";
import { createRoomList } from "./views/rooms.js";
import { createMessageList } from "./views/messages.js";
import { createComposer } from "./views/composer.js";
import { createAttachments, wireAttach } from "./views/attachments.js";
import { createDialog, field } from "./views/dialog.js";
import { createSwitcher } from "./views/switcher.js";
import { createSettings } from "./views/settings.js";
import { createAdminPanel } from "./views/admin.js";
import { createSearch } from "./views/search.js";
import { createAccountList } from "./views/accounts.js";
import { createMembersPanel } from "./views/members.js";
import { GENERAL_ROOM_ID, displayName, errorText, membersLine, roomLabel } from "./format.js";

/**
 * What the page asks of the controller. Handlers that a dialog awaits reject with an Error whose
 * message the dialog shows.
 * @typedef {{
 *   signIn: (mode: "login" | "register", creds: import("./views/login.js").Credentials) => Promise<boolean>,
 *   letOthersConnect: (allow: boolean) => Promise<import("./views/login.js").Hosted>,
 *   readInvite: (text: string) => Promise<{server_url: string | null, code: string}>,
 *   settings: import("./views/settings.js").SettingsHandlers,
 *   admin: import("./views/admin.js").AdminHandlers,
 *   logout: () => void,
 *   switchAccount: (id: string) => void,
 *   addAccount: () => void,
 *   backToAccounts: () => void,
 *   selectRoom: (roomId: string) => void,
 *   stepRoom: (step: 1 | -1) => void,
 *   loadOlder: () => void,
 *   loadNewer: () => void,
 *   send: (body: string) => Promise<boolean>,
 *   draft: (text: string) => void,
 *   typing: (typing: boolean) => void,
 *   createRoom: (name: string, members: string[]) => Promise<void>,
 *   openDm: (username: string) => Promise<void>,
 *   invite: (username: string) => Promise<void>,
 *   leave: () => Promise<void>,
 *   openRoomLabel: () => {name: string, kind: string} | null,
 *   openRoom: () => import("./bridge.js").Room | null,
 *   roomMembers: (roomId: string, after: string | null, limit: number) => Promise<import("./members.js").MembersPage>,
 *   matchRooms: (query: string) => import("./bridge.js").Room[],
 *   search: (query: string, opts?: {cursor?: string, cachedOnly?: boolean}) => Promise<import("./bridge.js").SearchResults>,
 *   roomName: (roomId: string) => string,
 *   openFound: (message: import("./bridge.js").Message) => void,
 *   signedIn: () => boolean,
 *   visibilityChanged: () => void,
 *   scrolled: () => void,
 *   retryNow: () => void,
 *   retryFailed: (clientId: string) => void,
 *   deleteFailed: (clientId: string) => void,
 *   openLink: (url: string) => void,
 *   setNotificationLevel: (level: "all" | "mentions" | "none") => void,
 *   messageAction: (action: string, seq: number, emoji?: string) => void,
 *   cancelMode: () => boolean,
 *   editLast: () => boolean,
 *   confirmDelete: () => Promise<void>,
 *   attachPick: () => void,
 *   attachFiles: (files: File[]) => void,
 *   cancelUpload: (clientId: string) => void,
 *   image: (fileId: string, thumbnail: boolean) => Promise<string>,
 *   download: (fileId: string, name: string) => void,
 * }} Handlers
 */

/**
 * @param {Document} doc
 * @param {Handlers} h
 */
export const createView = (doc, h) => {
  /** @template {Element} T @param {string} selector @returns {T} */
  const $ = (selector) => /** @type {T} */ (doc.querySelector(selector));
  const testid = (/** @type {string} */ id) => $(`[data-testid="${id}"]`);

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
  const notifySelect = /** @type {HTMLSelectElement} */ (testid("room-notify"));
  notifySelect.addEventListener("change", () =>
    h.setNotificationLevel(/** @type {"all" | "mentions" | "none"} */ (notifySelect.value)),
  );
  const announcer = /** @type {HTMLElement} */ ($("#announcer"));
  const retryButton = /** @type {HTMLButtonElement} */ (testid("retry-now"));
  retryButton.addEventListener("click", () => h.retryNow());

  const roomList = createRoomList(/** @type {HTMLUListElement} */ (testid("room-list")), h.selectRoom);
  const messageList = createMessageList(/** @type {HTMLOListElement} */ (testid("message-list")), {
    onNearTop: h.loadOlder,
    onNearBottom: h.loadNewer,
    onScroll: h.scrolled,
    onRetry: h.retryFailed,
    onDelete: h.deleteFailed,
    onOpenLink: h.openLink,
    onMessageAction: h.messageAction,
    files: createAttachments({ image: h.image, download: h.download, cancel: h.cancelUpload }, /** @type {HTMLElement} */ ($("#image-viewer"))),
  });
  const modeBar = /** @type {HTMLElement} */ (testid("composer-mode"));
  testid("composer-mode-cancel").addEventListener("click", () => h.cancelMode());
  const deleteDialog = createDialog(/** @type {HTMLElement} */ ($("#delete-dialog")), () => h.confirmDelete());
  const composer = createComposer(/** @type {HTMLFormElement} */ ($("#composer-form")), { onSend: h.send, onTyping: h.typing, onDraft: h.draft, onEditLast: h.editLast, onCancel: h.cancelMode });
  wireAttach(
    {
      button: /** @type {HTMLButtonElement} */ (testid("attach-button")),
      room: /** @type {HTMLElement} */ ($(".room")),
      box: /** @type {HTMLTextAreaElement} */ (testid("composer")),
    },
    { pick: h.attachPick, files: h.attachFiles },
  );
  const loginView = createLoginView(/** @type {HTMLElement} */ ($("#login-screen")), {
    onSubmit: h.signIn,
    onLetOthersConnect: h.letOthersConnect,
    onInvite: h.readInvite,
    onCancel: h.backToAccounts,
  });
  const accountList = createAccountList(/** @type {HTMLElement} */ ($("#accounts")), {
    onSwitch: h.switchAccount,
    onAdd: h.addAccount,
  });
  logoutButton.addEventListener("click", () => h.logout());
  const accountButton = /** @type {HTMLButtonElement} */ (testid("account-settings"));
  const adminButton = /** @type {HTMLButtonElement} */ (testid("admin-open"));
  const settings = createSettings(/** @type {HTMLElement} */ ($("#settings-dialog")), h.settings);
  const adminPanel = createAdminPanel(/** @type {HTMLElement} */ ($("#admin-dialog")), h.admin);
  accountButton.addEventListener("click", () => settings.open());
  adminButton.addEventListener("click", () => adminPanel.open());

  const newRoomDialog = createDialog(/** @type {HTMLElement} */ ($("#new-room-dialog")), async (form) => {
    const name = field(form, "name");
    if (!name) throw new Error("A room needs a name.");
    await h.createRoom(name, field(form, "members").split(/[\s,]+/).filter(Boolean));
  });
  testid("new-room").addEventListener("click", () => newRoomDialog.open());

  const newDmDialog = createDialog(/** @type {HTMLElement} */ ($("#new-dm-dialog")), async (form) => {
    const username = field(form, "username");
    if (!username) throw new Error("Whom to write to?");
    await h.openDm(username);
  });
  testid("new-dm").addEventListener("click", () => newDmDialog.open());

  const inviteDialog = createDialog(/** @type {HTMLElement} */ ($("#invite-dialog")), async (form) => {
    const username = field(form, "username");
    if (!username) throw new Error("Whom to invite?");
    await h.invite(username);
  });
  inviteButton.addEventListener("click", () => {
    const room = h.openRoomLabel();
    if (room) inviteDialog.open(`Into ${roomLabel(room)}`);
  });

  const membersPanel = createMembersPanel(/** @type {HTMLElement} */ ($("#members-dialog")), h.roomMembers);
  roomMembers.addEventListener("click", () => {
    const room = h.openRoom();
    if (room) void membersPanel.open(room);
  });

  const leaveDialog = createDialog(/** @type {HTMLElement} */ ($("#leave-dialog")), () => h.leave());
  leaveButton.addEventListener("click", () => {
    const room = h.openRoomLabel();
    if (room) leaveDialog.open(`You will stop receiving messages from ${roomLabel(room)}.`);
  });

  const switcher = createSwitcher(/** @type {HTMLElement} */ ($("#switcher")), {
    match: h.matchRooms,
    onPick: (id) => {
      h.selectRoom(id);
      composer.focus();
    },
  });

  const search = createSearch(/** @type {HTMLElement} */ ($("#search")), {
    search: h.search,
    roomName: h.roomName,
    errorText,
    onPick: h.openFound,
  });
  testid("open-search").addEventListener("click", () => search.open());

  // Ctrl/Cmd+K: switcher; Ctrl/Cmd+F: search; Alt+Up/Down: previous/next room; Esc (no dialog
  // open): back to the composer.
  doc.addEventListener("keydown", (e) => {
    if (!h.signedIn()) return;
    const key = e.key.toLowerCase();
    if ((e.ctrlKey || e.metaKey) && !e.altKey && key === "k") {
      e.preventDefault();
      if (search.isOpen) search.close();
      if (switcher.isOpen) switcher.close();
      else switcher.open();
    } else if ((e.ctrlKey || e.metaKey) && !e.altKey && key === "f") {
      e.preventDefault();
      if (switcher.isOpen) switcher.close();
      search.open();
    } else if (e.altKey && (e.key === "ArrowUp" || e.key === "ArrowDown")) {
      e.preventDefault();
      h.stepRoom(e.key === "ArrowDown" ? 1 : -1);
    } else if (e.key === "Escape" && !e.defaultPrevented) {
      composer.focus();
    } else if (typedElsewhere(e) && composer.insert(e.key)) {
      e.preventDefault();
    }
  });
  // Reading follows the focus: a window shown but not focused (behind others, another screen)
  // reads nothing, and focusing it reads what is on screen.
  doc.addEventListener("visibilitychange", () => h.visibilityChanged());
  doc.defaultView?.addEventListener("focus", () => h.visibilityChanged());
  doc.defaultView?.addEventListener("blur", () => h.visibilityChanged());

  /**
   * A printable key pressed where it would type nothing (a room button, the list, the page):
   * it belongs to the composer. Not with a modifier, a dialog open, or another field focused.
   * @param {KeyboardEvent} e
   */
  const typedElsewhere = (e) => {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || e.isComposing || [...e.key].length !== 1) return false;
    if ([...doc.querySelectorAll(".overlay")].some((o) => !o.hidden)) return false;
    const at = /** @type {HTMLElement | null} */ (doc.activeElement);
    const tag = at?.tagName ?? "";
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || at?.isContentEditable) return false;
    // Space presses a focused button and scrolls the focused message list.
    return !(e.key === " " && (tag === "BUTTON" || at?.dataset?.testid === "message-list"));
  };

  return {
    /** Whether the window is shown and has the focus (reading and notifications depend on it). */
    visible: () => doc.visibilityState === "visible" && doc.hasFocus(),
    /** The newest seq on screen in the message list (0: none). */
    lastSeenSeq: messageList.lastSeenSeq,
    /** @param {import("./bridge.js").ConnectionView} view @param {number} elapsedMs */
    connection: (view, elapsedMs) => {
      renderConnection(status, view, elapsedMs);
      // Waiting before the next attempt: the person need not wait it out.
      retryButton.hidden = status.hidden || !(view.state === "connecting" && view.retry_in_ms != null);
    },
    /** @param {string} text */
    connectionError: (text) => {
      status.textContent = text;
    },
    /**
     * The room list and the open room's header and actions.
     * @param {import("./views/rooms.js").RoomRow[]} rows @param {string | null} selected
     * @param {import("./bridge.js").Room | undefined} room the open one
     * @param {"all" | "mentions" | "none"} level its notification level
     */
    rooms: (rows, selected, room, level) => {
      roomList.render(rows, selected);
      roomTitle.textContent = room ? roomLabel(room) : "No room selected";
      roomMembers.textContent = room ? membersLine(room) : "";
      roomMembers.hidden = !room;
      // Long names are cut with an ellipsis on screen: the whole text stays in the tooltip.
      roomTitle.title = roomTitle.textContent;
      roomMembers.title = roomMembers.textContent;
      inviteButton.hidden = !room || room.kind !== "group" || room.id === GENERAL_ROOM_ID;
      leaveButton.hidden = !room || room.id === GENERAL_ROOM_ID;
      notifySelect.hidden = !room;
      notifySelect.value = level;
      composer.setEnabled(Boolean(room));
    },
    messages: messageList.render,
    /** @param {string} text */
    typing: (text) => {
      if (typingLine.textContent !== text) typingLine.textContent = text;
    },
    /** Screen readers hear these lines (the last three are kept). @param {string[]} lines */
    announce: (lines) => {
      for (const text of lines) {
        const line = doc.createElement("p");
        line.textContent = text;
        announcer.append(line);
      }
      if (announcer.children.length > 3) announcer.replaceChildren(...[...announcer.children].slice(-3));
    },
    /** @param {string} username */
    showChat: (username) => {
      loginView.hide();
      status.hidden = false;
      chatScreen.hidden = false;
      logoutButton.hidden = false;
      accountButton.hidden = false;
      whoami.textContent = displayName(username);
      whoami.title = whoami.textContent;
    },
    /** The signed-in accounts, on the switcher. @param {import("./views/accounts.js").AccountView[]} list */
    accounts: (list) => accountList.render(list),
    /** @param {{server?: string, hosted?: import("./views/login.js").Hosted, error?: string, adding?: boolean}} [opts] */
    showLogin: (opts) => {
      chatScreen.hidden = true;
      // No session to report on: a stale "connected" (or a red "offline" on a first run) misleads.
      status.hidden = true;
      logoutButton.hidden = true;
      accountButton.hidden = adminButton.hidden = true;
      settings.close();
      if (adminPanel.isOpen) adminPanel.close();
      if (membersPanel.isOpen) membersPanel.close();
      retryButton.hidden = true;
      whoami.textContent = "";
      whoami.title = "";
      // Nothing of the account stays on the page for the next person (the lists redraw empty).
      composer.clear();
      announcer.replaceChildren();
      composerError.textContent = "";
      loginView.show(opts);
    },
    /** Whether we are a relay admin: the admin panel's button (and the panel, when no longer). @param {boolean} admin */
    admin: (admin) => {
      if (adminButton.hidden === !admin) return;
      adminButton.hidden = !admin;
      if (!admin && adminPanel.isOpen) adminPanel.close();
    },
    loginError: loginView.setError,
    loginCertificate: loginView.showCertificate,
    /** @param {string} text */
    composerError: (text) => {
      composerError.textContent = text;
    },
    focusComposer: composer.focus,
    setDraft: composer.setText,
    takeComposerText: composer.take,
    putBackComposerText: composer.putBack,
    /** The composer's mode line ("Replying to …", "Editing …"), or none. @param {string | null} text */
    composerMode: (text) => {
      modeBar.hidden = text === null;
      /** @type {HTMLElement} */ (modeBar.querySelector(".what")).textContent = text ?? "";
    },
    /** @param {string} detail */
    confirmDelete: (detail) => deleteDialog.open(detail),
  };
};
