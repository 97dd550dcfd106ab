// Pure text for the views: times, names, typing line, unread counts, the connection banner,
// errors, the server address typed at sign-in.

import { plainText } from "./markdown.js";
import { listsEveryone, memberCount } from "./members.js";

const pad = (/** @type {number} */ n) => String(n).padStart(2, "0");
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/**
 * A message time in local time: "14:05" today, "Mar 3 14:05" earlier this year, "Mar 3 2025 14:05" before.
 * @param {string} iso RFC 3339 @param {Date} [now] @returns {string}
 */
export const formatTime = (iso, now = new Date()) => {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return "";
  const clock = `${pad(at.getHours())}:${pad(at.getMinutes())}`;
  const sameDay =
    at.getFullYear() === now.getFullYear() && at.getMonth() === now.getMonth() && at.getDate() === now.getDate();
  if (sameDay) return clock;
  const day = `${MONTHS[at.getMonth()]} ${at.getDate()}`;
  return at.getFullYear() === now.getFullYear() ? `${day} ${clock}` : `${day} ${at.getFullYear()} ${clock}`;
};

// Characters that reorder or hide text: controls, bidi embeddings/overrides/isolates/marks,
// zero-width and other invisible formatters, fillers that render as nothing. In a name they only
// serve spoofing ("evil\u202Egnp.exe", "ad\u200Bmin"), so each shows as U+FFFD instead.
const HIDDEN =
  /[\u0000-\u001F\u007F-\u009F\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180E\u200B-\u200F\u202A-\u202E\u2028\u2029\u2060-\u206F\u3164\uFEFF\uFFA0\uFFF9-\uFFFB]/u;
const PICTOGRAPH = /\p{Extended_Pictographic}/u;
// Right-to-left letters: such a name is isolated so it cannot reorder the text around it.
const RTL = /[\p{Script=Hebrew}\p{Script=Arabic}\p{Script=Syriac}\p{Script=Thaana}\p{Script=Nko}\p{Script=Adlam}]/u;

/**
 * A user or room name as the views show it (the one home for this): hidden and reordering
 * characters made visible as U+FFFD (a zero-width joiner between emoji stays: it builds them),
 * and a name with right-to-left letters wrapped in a first-strong isolate (U+2068 … U+2069,
 * what `<bdi>` does) so it keeps to itself inside "name: text" lines.
 * @param {string} name @returns {string}
 */
export const displayName = (name) => {
  const chars = [...name];
  const shown = chars
    .map((c, i) => {
      if (!HIDDEN.test(c)) return c;
      const joinsEmoji = c === "\u200D" && PICTOGRAPH.test(chars[i - 1] ?? "") && PICTOGRAPH.test(chars[i + 1] ?? "");
      return joinsEmoji ? c : "\uFFFD";
    })
    .join("");
  return RTL.test(shown) ? `\u2068${shown}\u2069` : shown;
};

/** The room every account on a relay is in (the relay's `general`). */
export const GENERAL_ROOM_ID = "general";

/** A room's label: "# name" for a group, "@ name" for a DM. @param {{name: string, kind: string}} room */
export const roomLabel = (room) => `${room.kind === "direct" ? "@" : "#"} ${displayName(room.name)}`;

/**
 * Who is in a room, for its header: its members by name; for `general`, which everyone who
 * registers joins, "Everyone on this relay" (a list of all accounts would be long, and stale for
 * anyone who joined since and has not written) with its count when the relay sends one; for a
 * room too big for the relay to list its names (issue 17), "N members" (the members panel pages them).
 * @param {{id: string, members: string[], member_count?: number}} room @returns {string}
 */
export const membersLine = (room) => {
  const count = `${memberCount(room).toLocaleString("en-US")} ${memberCount(room) === 1 ? "member" : "members"}`;
  if (room.id === GENERAL_ROOM_ID) return room.member_count ? `Everyone on this relay · ${count}` : "Everyone on this relay";
  return listsEveryone(room) ? room.members.map(displayName).join(", ") : count;
};

/**
 * The typing line: "" for nobody, then one name, two names, or "several people".
 * @param {string[]} users @returns {string}
 */
export const typingText = (users) => {
  const names = users.map(displayName);
  if (names.length === 0) return "";
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  return "several people are typing…";
};

/** The badge text: "" for none, "99+" past 99. @param {number} count */
export const badgeText = (count) => (count <= 0 ? "" : count > 99 ? "99+" : String(count));

/**
 * The connection banner: its data-state and its words. `elapsedMs` is the time since the event
 * arrived, so "reconnecting in Ns" counts down.
 * @param {import("./bridge.js").ConnectionView} view @param {number} [elapsedMs]
 * @returns {{state: "connected" | "connecting" | "offline", text: string}}
 */
export const connectionText = (view, elapsedMs = 0) => {
  switch (view.state) {
    case "connected":
      return { state: "connected", text: "connected" };
    case "connecting": {
      if (view.retry_in_ms == null) return { state: "connecting", text: "connecting…" };
      const left = Math.max(0, Math.ceil((view.retry_in_ms - elapsedMs) / 1000));
      return { state: "connecting", text: left > 0 ? `reconnecting in ${left}s` : "connecting…" };
    }
    default: {
      const reason = view.reason === "unauthorized" ? " (sign in again)" : view.reason ? ` (${view.reason.replaceAll("_", " ")})` : "";
      return { state: "offline", text: `offline${reason}` };
    }
  }
};

/**
 * A command's error (`{code, message}`, an Error, or anything) as one line.
 * @param {unknown} error @returns {string}
 */
export const errorText = (error) => {
  if (error && typeof error === "object") {
    const e = /** @type {{code?: unknown, message?: unknown}} */ (error);
    if (typeof e.message === "string" && e.message) return e.message;
    if (typeof e.code === "string") return e.code;
  }
  return typeof error === "string" && error ? error : "something went wrong";
};

/** The longest preview in the room list, in characters. */
export const PREVIEW_CHARS = 80;

/**
 * "sender: first line of the body", cut to PREVIEW_CHARS on a character (not UTF-16 unit) boundary.
 * @param {{sender: string, body: string}} message @returns {string}
 */
export const previewText = ({ sender, body }) => {
  const line = plainText(body).replace(/\s+/g, " ").trim();
  const text = `${displayName(sender)}: ${line}`;
  const chars = [...text];
  return chars.length <= PREVIEW_CHARS ? text : `${chars.slice(0, PREVIEW_CHARS - 1).join("")}…`;
};

/** Hosts whose traffic never leaves this computer. */
const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;

/**
 * The server address as typed, completed: no scheme gets http:// for this computer (loopback)
 * and https:// for anything else; trailing slashes go. `cleartext` is true for http:// to
 * another computer (the password would cross the network unencrypted); `url` is "" when the
 * text cannot be an http(s) address.
 * @param {string} text @returns {{url: string, cleartext: boolean}}
 */
export const serverAddress = (text) => {
  const none = { url: "", cleartext: false };
  const [, typedScheme, rest] = /^(?:([a-z][a-z0-9+.-]*):\/\/)?(.*)$/is.exec(text.trim()) ?? [];
  const address = (rest ?? "").replace(/\/+$/, "");
  if (!address) return none;
  let parsed;
  try {
    parsed = new URL(`http://${address}`);
  } catch {
    return none;
  }
  const loopback = LOOPBACK.test(parsed.hostname);
  const scheme = typedScheme ? typedScheme.toLowerCase() : loopback ? "http" : "https";
  if (scheme !== "http" && scheme !== "https") return none;
  return { url: `${scheme}://${address}`, cleartext: scheme === "http" && !loopback };
};
