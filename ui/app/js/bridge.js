// The only module that touches window.__TAURI__: Natter's commands and its one event stream.
// Arguments use the wire's snake_case names (see src-tauri/README.md).

/** Name of the one UI event stream; mirrors `ui_event::EVENT` in src-tauri. */
export const EVENT = "natter://event";
/** Asks the UI to open a room (an activated notification); mirrors the shell's constant. */
export const OPEN_ROOM_EVENT = "natter://open-room";
/** The signed-in accounts, whenever they change; mirrors `accounts::EVENT` in src-tauri. */
export const ACCOUNTS_EVENT = "natter://accounts";

/**
 * Mirrors `natter_client::session::AppEvent` (docs/client.md), serde-tagged by `type`.
 * @typedef {{id: string, room_id: string, seq: number, sender: string, body: string,
 *   client_id: string, sent_at: string, change?: {kind: string, target?: string},
 *   reply_to?: ReplyPreview, edited_at?: string, deleted?: boolean,
 *   reactions?: {emoji: string, users: string[]}[], mentions?: string[], attachments?: Attachment[]}} Message
 * @typedef {{id: string, name: string, size: number, type: string, width?: number, height?: number}} Attachment
 * @typedef {{name: string, size: number, type?: string}} PendingFile
 * @typedef {{id: string, seq?: number, sender: string, excerpt: string, deleted?: boolean}} ReplyPreview
 * @typedef {{id: string, name: string, kind: "group" | "direct", members: string[], member_count?: number,
 *   last_seq: number, read_seq: number, others_read_seq?: number, unread?: number}} Room
 *   unread: messages from others past read_seq (not changes to messages), as the session counts
 * @typedef {{code: string, message: string}} WireError
 * @typedef {{state: "pending", body: string, created_at: string, files?: PendingFile[]} | {state: "sent", seq: number}
 *   | {state: "failed", error: WireError}} DeliveryState
 * @typedef {{state: "connecting", attempt: number, retry_in_ms: number | null}
 *   | {state: "connected", transport: "websocket" | "polling"}
 *   | {state: "offline", reason: string, certificate?: {kind: "untrusted", fingerprint: string} | {kind: "changed", pinned: string, presented: string}}} ConnectionView
 * @typedef {{type: "message", message: Message}
 *   | {type: "message_changed", message: Message}
 *   | {type: "message_state", client_id: string, room_id: string, state: DeliveryState}
 *   | {type: "upload", client_id: string, room_id: string, sent: number, total: number}
 *   | {type: "room", room: Room}
 *   | {type: "unread", room_id: string, count: number}
 *   | {type: "room_gone", room_id: string}
 *   | {type: "typing", room_id: string, user: string, typing: boolean}
 *   | {type: "presence", user: string, online: boolean, last_seen: string | null}
 *   | {type: "receipt", room_id: string, user: string, seq: number}
 *   | {type: "connection", state: ConnectionView}} AppEvent
 * @typedef {{server_url: string, username: string, account?: string}} SignIn
 * @typedef {import("./views/accounts.js").AccountView} AccountView
 * @typedef {{id: string, username: string, display_name?: string}} User
 * @typedef {{user: User, role: "admin" | "member", disabled?: boolean, created_at: string, last_seen?: string}} Account
 * @typedef {{id: string, device: string, created_at: string, last_used_at: string, current?: boolean}} SessionInfo
 * @typedef {{id: string, role: "admin" | "member", uses: number, used: number, expires_at?: string,
 *   created_at: string, created_by?: string, revoked?: boolean}} Invite
 * @typedef {{messages: Message[], next_cursor: string | null, online: boolean}} SearchResults
 */

const tauri = () => {
  const api = window.__TAURI__;
  if (!api) throw new Error("not running inside the Natter app");
  return api;
};

/** @param {string} command @param {Record<string, unknown>} [args] */
const invoke = (command, args) => tauri().core.invoke(command, args);

/**
 * At start: reconnects a saved sign-in; on a first run starts hosting on this computer.
 * @returns {Promise<SignIn | null>}
 */
export const resume = () => invoke("resume");

/**
 * Where this computer's relay listens (starts it if needed). Beyond loopback only with
 * `letOthersConnect`, which only the sign-in screen's checkbox sets.
 * @param {boolean} [letOthersConnect]
 * @returns {Promise<{address: string, url: string, others_can_connect: boolean}>}
 */
export const hostLocally = (letOthersConnect = false) => invoke("host_locally", { let_others_connect: letOthersConnect });

/** What the running session last announced (`offline`, `signed_out` when none runs). @returns {Promise<ConnectionView>} */
export const connectionState = () => invoke("connection_state");

/**
 * Creates an account; `invite` (a code or the whole invite string) when the relay needs one.
 * @param {string} server_url @param {string} username @param {string} password @param {string} [invite]
 * @returns {Promise<{id: string, username: string}>}
 */
export const register = (server_url, username, password, invite) =>
  invoke("register", invite ? { server_url, username, password, invite } : { server_url, username, password });

/** @param {string} server_url @param {string} username @param {string} password @returns {Promise<{id: string, username: string}>} */
export const login = (server_url, username, password) => invoke("login", { server_url, username, password });

/** Signs out of `account` (an id of `accounts`; absent: the one shown). @param {string} [account] @returns {Promise<void>} */
export const logout = (account) => invoke("logout", account ? { account } : {});

/** Every signed-in account, in the order they were signed in. @returns {Promise<AccountView[]>} */
export const accounts = () => invoke("accounts");

/**
 * Shows another signed-in account; the page repaints when `natter://accounts` says so.
 * @param {string} account @returns {Promise<AccountView>}
 */
export const switchAccount = (account) => invoke("switch_account", { account });

/**
 * Calls `onList` with the signed-in accounts whenever they change (one signed in or out, the
 * shown one switched, one's unread count or connection moved).
 * @param {(accounts: AccountView[]) => void} onList
 */
export const onAccounts = (onList) =>
  tauri().event.listen(ACCOUNTS_EVENT, (event) => {
    if (Array.isArray(event.payload)) onList(event.payload);
  });

/**
 * Pins the certificate the https relay at `server_url` shows, if its SHA-256 fingerprint is the
 * one the user was shown and accepted (a `certificate_untrusted` error's `fingerprint`).
 */
export const trustCertificate = (server_url, fingerprint) => invoke("trust_certificate", { server_url, fingerprint });

/** @returns {Promise<Room[]>} */
export const rooms = () => invoke("rooms");

/**
 * Cached messages, oldest first: the `limit` (default 50) newest before `before_seq`. Pages hold
 * messages only (changes to them are folded in).
 * @param {string} room_id @param {number} [before_seq] @param {number} [limit] @returns {Promise<Message[]>}
 */
export const messages = (room_id, before_seq, limit) => invoke("messages", { room_id, before_seq, limit });

/**
 * Cache, then the relay for what it lacks; oldest first: the `limit` newest messages before
 * `before_seq` (the newest when absent).
 * @param {string} room_id @param {number} [before_seq] @param {number} [limit] @returns {Promise<Message[]>}
 */
export const history = (room_id, before_seq, limit) => invoke("history", { room_id, before_seq, limit });

/**
 * Messages whose current text holds every term of `query`, newest first. `cachedOnly`: this
 * device's cache alone, at once; else the cache's and the relay's results merged (`online`
 * false when the relay did not answer). `cursor`: the previous page's `next_cursor`.
 * @param {string} query @param {{roomId?: string, cursor?: string, cachedOnly?: boolean}} [opts]
 * @returns {Promise<SearchResults>}
 */
export const search = (query, { roomId, cursor, cachedOnly } = {}) =>
  invoke("search", { query, room_id: roomId, cursor, cached_only: Boolean(cachedOnly) });

/**
 * Like `history`, the `limit` oldest messages after `after_seq`, up to what the session has
 * announced: fewer than `limit` means the page reaches the newest.
 * @param {string} room_id @param {number} after_seq @param {number} [limit] @returns {Promise<Message[]>}
 */
export const historyAfter = (room_id, after_seq, limit) => invoke("history", { room_id, after_seq, limit });

/**
 * Queues a message (answering `reply_to`, a message id of the room, when given); answers its
 * client_id. @param {string} room_id @param {string} body @param {string} [reply_to]
 * @returns {Promise<string>}
 */
export const sendMessage = (room_id, body, reply_to) =>
  invoke("send_message", reply_to ? { room_id, body, reply_to } : { room_id, body });

/** Edits one of our messages. @param {string} room_id @param {string} message_id @param {string} body @returns {Promise<void>} */
export const editMessage = (room_id, message_id, body) => invoke("edit_message", { room_id, message_id, body });

/** Takes one of our messages back. @param {string} room_id @param {string} message_id @returns {Promise<void>} */
export const deleteMessage = (room_id, message_id) => invoke("delete_message", { room_id, message_id });

/** @param {string} room_id @param {string} message_id @param {string} emoji @param {boolean} on @returns {Promise<void>} */
export const react = (room_id, message_id, emoji, on) => invoke("react", { room_id, message_id, emoji, on });

/** @param {string} name @param {string[]} members @returns {Promise<Room>} */
export const createRoom = (name, members) => invoke("create_room", { name, members });

/** @param {string} room_id @param {string} username @returns {Promise<Room>} */
export const invite = (room_id, username) => invoke("invite", { room_id, username });

/**
 * One page of a room's members after `after` (issue 17: a big room's names are not in its copy).
 * @param {string} room_id @param {string | null} after @param {number} limit
 * @returns {Promise<import("./members.js").MembersPage>}
 */
export const roomMembers = (room_id, after, limit) => invoke("room_members", { room_id, after, limit });

/** @param {string} room_id @returns {Promise<void>} */
export const leave = (room_id) => invoke("leave", { room_id });

/** The direct room with `username`, created on first use. @param {string} username @returns {Promise<Room>} */
export const openDm = (username) => invoke("open_dm", { username });

/**
 * Tells the shell which room is in view and the unread total (tray, window title, notifications).
 * @param {string | null} activeRoom @param {number} unreadTotal @returns {Promise<void>}
 */
export const setView = (activeRoom, unreadTotal) => invoke("set_view", { activeRoom, unreadTotal });

/** @param {string} room_id @param {number} seq @returns {Promise<void>} */
export const markRead = (room_id, seq) => invoke("mark_read", { room_id, seq });

/** Forgets one of our sends that failed. @param {string} client_id @returns {Promise<void>} */
export const discardFailed = (client_id) => invoke("discard_failed", { client_id });

/**
 * Opens a link of a message in the system browser (the shell checks it is http, https or
 * mailto); the webview never navigates. @param {string} url @returns {Promise<void>}
 */
export const openLink = (url) => invoke("open_link", { url });

/**
 * The signed-in account's notification level of each room not at "all" (kept by the shell, per
 * account). @returns {Promise<Record<string, "mentions" | "none">>}
 */
export const notificationLevels = () => invoke("notification_levels");

/** @param {string} room_id @param {"all" | "mentions" | "none"} level @returns {Promise<void>} */
export const setNotificationLevel = (room_id, level) => invoke("set_notification_level", { room_id, level });

/** "Retry now": the session's next connect attempt starts at once. @returns {Promise<void>} */
export const retryNow = () => invoke("retry_now");

/** The room open last (kept in the account's cache), or null. @returns {Promise<string | null>} */
export const lastRoom = () => invoke("last_room");

/** Keeps the room open now, to open it again at the next start. @param {string} room_id @returns {Promise<void>} */
export const keepLastRoom = (room_id) => invoke("keep_last_room", { room_id });

/** Every room's kept composer text. @returns {Promise<{room_id: string, body: string}[]>} */
export const drafts = () => invoke("drafts");

/** Keeps a room's composer text ("" drops it). @param {string} room_id @param {string} body @returns {Promise<void>} */
export const saveDraft = (room_id, body) => invoke("save_draft", { room_id, body });

/** @param {string} room_id @param {boolean} typing @returns {Promise<void>} */
export const typing = (room_id, typing) => invoke("typing", { room_id, typing });

// ---- issue 20: files ----

/** The largest file handed over as bytes (a drop or a paste); mirrors `files::handed::MAX_HANDED_BYTES`. */
export const MAX_HANDED_BYTES = 25 * 1024 * 1024;
/** The most bytes one `attach_bytes` call hands over; mirrors `files::handed::MAX_HANDED_TOTAL`. */
export const MAX_HANDED_TOTAL = 4 * MAX_HANDED_BYTES;
/** Files one message carries; mirrors `natter_protocol::limits::MAX_ATTACHMENTS`. */
export const MAX_ATTACHMENTS = 10;
/** The headers of an `attach_bytes` call; mirror `files::handed`'s constants. */
const ROOM_HEADER = "natter-room-id";
const FILES_HEADER = "natter-files";
const BODY_HEADER = "natter-body";
const REPLY_HEADER = "natter-reply-to";

/**
 * Opens the system's file picker (the shell does; the webview never names a path) and sends the
 * chosen files to the room in one message with `body` as its text (answering `reply_to` when
 * given); answers the send's client_id, or null when nothing was picked.
 * @param {string} room_id @param {string} body @param {string} [reply_to]
 * @returns {Promise<string | null>}
 */
export const attachFiles = (room_id, body, reply_to) =>
  invoke("attach_files", reply_to ? { room_id, body, reply_to } : { room_id, body });

/**
 * Dropped or pasted files (each at most MAX_HANDED_BYTES), in order, grouped as `attachBytes`
 * calls take them: each group at most MAX_ATTACHMENTS files and MAX_HANDED_TOTAL bytes.
 * @template {{size: number}} F @param {F[]} files @returns {F[][]}
 */
export const handOverGroups = (files) => {
  /** @type {F[][]} */
  const groups = [];
  let bytes = 0;
  for (const file of files) {
    const group = groups.at(-1);
    if (group && group.length < MAX_ATTACHMENTS && bytes + file.size <= MAX_HANDED_TOTAL) {
      group.push(file);
      bytes += file.size;
    } else {
      groups.push([file]);
      bytes = file.size;
    }
  }
  return groups;
};

/**
 * Sends dropped or pasted files to the room as one message with `body` as its text (answering
 * `reply_to` when given): their bytes one after another as the call's raw body, each file's
 * name, type and length in a header (a group of `handOverGroups`).
 * @param {string} room_id @param {File[]} files @param {string} body @param {string} [reply_to]
 * @returns {Promise<string>}
 */
export const attachBytes = async (room_id, files, body, reply_to) => {
  const parts = [];
  for (const file of files) parts.push(new Uint8Array(await file.arrayBuffer()));
  const bytes = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  // The lengths read, not `file.size`: the shell checks that they add up to the body.
  const listing = files.map((file, i) => ({ name: file.name || "pasted image", type: file.type || "", size: parts[i].length }));
  return tauri().core.invoke("attach_bytes", bytes, {
    headers: {
      [ROOM_HEADER]: encodeURIComponent(room_id),
      [FILES_HEADER]: encodeURIComponent(JSON.stringify(listing)),
      [BODY_HEADER]: encodeURIComponent(body),
      ...(reply_to ? { [REPLY_HEADER]: encodeURIComponent(reply_to) } : {}),
    },
  });
};

/** Takes back a send whose files are still uploading. @param {string} client_id @returns {Promise<void>} */
export const cancelUpload = (client_id) => invoke("cancel_upload", { client_id });

/**
 * An image of a message (or its thumbnail) as a `data:` URL, fetched by the shell.
 * @param {string} file_id @param {boolean} thumbnail @returns {Promise<string>}
 */
export const image = (file_id, thumbnail) => invoke("image", { file_id, thumbnail });

/** Saves a file where the user picks; false when they cancelled. @param {string} file_id @param {string} name @returns {Promise<boolean>} */
export const saveFile = (file_id, name) => invoke("save_file", { file_id, name });

/**
 * Calls `onBatch` with each batch of events (always an array), in order.
 * @param {(events: AppEvent[]) => void} onBatch
 */
export const onEvents = (onBatch) => tauri().event.listen(EVENT, (event) => onBatch(event.payload));

/**
 * Calls `onOpen` with a room id, and its account's id when the shell names one, when the shell
 * asks to show a room (a notification was activated).
 * @param {(roomId: string, account?: string) => void} onOpen
 */
export const onOpenRoom = (onOpen) =>
  tauri().event.listen(OPEN_ROOM_EVENT, (event) => {
    const { room_id: roomId, account } = /** @type {{room_id?: unknown, account?: unknown}} */ (event.payload ?? {});
    if (typeof roomId === "string") onOpen(roomId, typeof account === "string" ? account : undefined);
  });

// ---- issue 18: the invite on the sign-in screen, account settings, the admin panel ----

/**
 * What was pasted on the sign-in screen, read by the shell (the protocol's one parser): an
 * invite string gives the server and the code, a bare code the code alone; anything else rejects.
 * @param {string} text @returns {Promise<{server_url: string | null, code: string}>}
 */
export const readInvite = (text) => invoke("read_invite", { text });

/** Our own account as the relay has it now (role included). @returns {Promise<Account>} */
export const ownAccount = () => invoke("own_account");

/** @param {string} display_name "" clears it @returns {Promise<User>} */
export const setDisplayName = (display_name) => invoke("set_display_name", { display_name });

/** Our other sessions end; this one stays. @param {string} current @param {string} next @returns {Promise<void>} */
export const changePassword = (current, next) => invoke("change_password", { current, new: next });

/** @returns {Promise<SessionInfo[]>} */
export const sessions = () => invoke("sessions");

/** @param {string} session_id @returns {Promise<void>} */
export const endSession = (session_id) => invoke("end_session", { session_id });

/** Deletes our account, then signs out here. @param {string} password @returns {Promise<void>} */
export const deleteAccount = (password) => invoke("delete_account", { password });

/**
 * @param {number} uses @param {number | null} expires_in_secs null: never
 * @param {"admin" | "member"} role
 * @returns {Promise<{invite: Invite, code: string, link: string}>}
 */
export const createInvite = (uses, expires_in_secs, role) =>
  invoke("create_invite", expires_in_secs ? { uses, expires_in_secs, role } : { uses, role });

/** @returns {Promise<Invite[]>} */
export const invites = () => invoke("invites");

/** @param {string} invite_id @returns {Promise<void>} */
export const revokeInvite = (invite_id) => invoke("revoke_invite", { invite_id });

/** @param {string} [after] @returns {Promise<{users: Account[], more: boolean}>} */
export const users = (after) => invoke("users", after ? { after } : {});

/** @param {string} username @param {boolean} disabled @returns {Promise<Account>} */
export const setDisabled = (username, disabled) => invoke("set_disabled", { username, disabled });

/** @param {string} username @param {"admin" | "member"} role @returns {Promise<Account>} */
export const setRole = (username, role) => invoke("set_role", { username, role });

/**
 * A new password, answered once: `password` (the admin's choice) or, absent, a random one.
 * @param {string} username @param {string} [password] @returns {Promise<string>}
 */
export const resetPassword = (username, password) =>
  invoke("reset_password", password ? { username, password } : { username });

/** @param {string} username @returns {Promise<void>} */
export const deleteUser = (username) => invoke("delete_user", { username });
