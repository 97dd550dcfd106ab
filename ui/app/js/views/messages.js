// The message list (data-testid message-list / message with data-seq): text nodes only.
// It draws the store's bounded window (see paging.js), reusing the row of each message that did not
// change, with day separators and sender groups (layout.js). When rows come or go at the top the
// first visible row stays where it was on screen; at the bottom the list follows new messages.
// A room opened with unread messages shows a "New messages" marker above the first of them and
// lands there, not at the bottom; the list says which messages are on screen (for reading).
// Bodies are formatted (views/rich.js); a link opens in the system browser, through the shell.
// A message's files are drawn by views/attachments.js; "More reactions" opens views/emoji-picker.js.
import { displayName, formatTime } from "../format.js";
import { renderBody } from "./rich.js";
import { layout } from "../layout.js";
import { scrollPosition } from "../paging.js";
import { createEmojiPicker } from "./emoji-picker.js";

const NEAR = 120; // px from an edge that counts as "at" it

/** @typedef {ReturnType<typeof import("../store.js").timeline>[number]} Item */

/** What a committed message's buttons do (the controller's actions.js). */
const MESSAGE_ACTIONS = new Set(["reply", "react", "edit", "delete-message"]);
/** The reactions offered on every message, one click each. */
const QUICK_REACTIONS = ["👍", "❤️", "😂"];

const DELIVERY_TEXT = { pending: "pending", sent: "sent", read: "read", failed: "failed" };
/** What a screen reader says of our messages that have not left. @type {Record<string, string>} */
const UNSENT = { pending: "Not sent yet", failed: "Not sent" };

/**
 * @param {HTMLOListElement} list
 * @param {{onNearTop: () => void, onNearBottom: () => void, onScroll: () => void,
 *   onRetry: (clientId: string) => void, onDelete: (clientId: string) => void,
 *   onOpenLink: (url: string) => void, onMessageAction: (action: string, seq: number, emoji?: string) => void,
 *   files: ReturnType<typeof import("./attachments.js").createAttachments>,
 *   storage?: Pick<Storage, "getItem" | "setItem"> | null}} handlers
 *   files: draws a message's files (attachments.js); storage: where the picker keeps recent
 *   emoji (default: the window's localStorage)
 */
export const createMessageList = (list, { onNearTop, onNearBottom, onScroll, onRetry, onDelete, onOpenLink, onMessageAction, files, storage }) => {
  let roomId = /** @type {string | null} */ (null);
  let more = { older: false, newer: false };
  /** A room was opened and has not been drawn with messages yet: where to land is still to decide. */
  let landing = false;
  /** Drawn rows by key, with what they were drawn from, so unchanged ones are reused. */
  let rows = new Map();
  /** The search result last brought into view (each is scrolled to and marked once). */
  let focused = /** @type {object | null} */ (null);
  /** How long a message opened from search stays marked. */
  const FOUND_MS = 2000;
  /** The message the emoji picker is open on (it lives in that message's row), and who we are. */
  // `account`: whose recently used emoji the picker shows (the shown account; our username before the shell names one).
  const picking = { seq: /** @type {number | null} */ (null), account: /** @type {string | null} */ (null) };
  // A pick reacts exactly as a quick reaction does.
  const picker = createEmojiPicker(document, {
    onPick: (emoji) => {
      if (picking.seq != null) onMessageAction("react", picking.seq, emoji);
      picking.seq = null;
    },
    storage: storage === undefined ? globalThis.localStorage : storage,
  });

  list.addEventListener("scroll", () => {
    const at = scrollPosition(list, NEAR);
    if (at.nearTop && more.older) onNearTop();
    if (at.nearBottom && more.newer) onNearBottom();
    onScroll();
  });
  /** The link an event is on, if any. @param {Event} e */
  const linkOf = (e) => /** @type {HTMLElement | null} */ (/** @type {HTMLElement} */ (e.target).closest("[data-href]"));
  list.addEventListener("keydown", (e) => {
    const link = linkOf(e);
    if (link?.dataset.href && /** @type {KeyboardEvent} */ (e).key === "Enter") onOpenLink(link.dataset.href);
  });
  // Retry / Delete on one of our messages that failed to send; a link.
  list.addEventListener("click", (e) => {
    const link = linkOf(e);
    if (link?.dataset.href) {
      e.preventDefault();
      onOpenLink(link.dataset.href);
      return;
    }
    const button = /** @type {HTMLElement | null} */ (/** @type {HTMLElement} */ (e.target).closest("[data-action]"));
    const seq = button?.closest("[data-seq]")?.dataset.seq;
    if (button?.dataset.action === "more-reactions" && seq) {
      openPicker(button, Number(seq));
      return;
    }
    if (button?.dataset.action === "jump" && button.dataset.target) {
      onMessageAction("jump", Number(button.dataset.target));
      return;
    }
    if (button?.dataset.action && MESSAGE_ACTIONS.has(button.dataset.action) && seq) {
      onMessageAction(button.dataset.action, Number(seq), button.dataset.emoji);
      return;
    }
    const clientId = button?.dataset.clientId;
    if (!clientId) return;
    if (button.dataset.action === "retry") onRetry(clientId);
    else if (button.dataset.action === "delete") onDelete(clientId);
  });

  /** Opens the picker in the row of message `seq`, or closes it if it is open there. @param {HTMLElement} button @param {number} seq */
  const openPicker = (button, seq) => {
    const again = picker.isOpen && picking.seq === seq;
    picker.close();
    if (again) return;
    picking.seq = seq;
    button.closest("[data-seq]")?.append(picker.element);
    picker.open(button, picking.account);
  };

  /** A small button acting on one failed send. @param {string} action @param {string} label @param {string} clientId */
  const actionButton = (action, label, clientId) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "link";
    button.dataset.action = action;
    button.dataset.clientId = clientId;
    button.dataset.testid = `message-${action}`;
    button.textContent = label;
    return button;
  };

  /** @param {Item} item @param {boolean} first @param {Date} now @param {string | null} me @param {boolean} admin */
  const messageRow = (item, first, now, me, admin) => {
    const li = document.createElement("li");
    const unsent = item.delivery ? UNSENT[item.delivery] : undefined;
    li.className = `message${item.own ? " own" : ""}${first ? "" : " cont"}${unsent ? " unsent" : ""}`;
    li.dataset.testid = "message";
    li.dataset.key = item.key;
    if (item.seq != null) li.dataset.seq = String(item.seq);
    const meta = document.createElement("div");
    meta.className = "meta";
    if (first) {
      const sender = document.createElement("span");
      sender.className = "sender";
      sender.textContent = displayName(item.sender);
      meta.append(sender);
    }
    const time = document.createElement("time");
    time.dateTime = item.at;
    time.textContent = formatTime(item.at, now);
    meta.append(time);
    if (item.edited && !item.deleted) {
      const edited = document.createElement("span");
      edited.className = "edited";
      edited.dataset.testid = "edited-marker";
      edited.textContent = "(edited)";
      meta.append(edited);
    }
    li.append(meta);
    if (item.replyTo) li.append(replyLine(item.replyTo));
    const body = document.createElement("div");
    if (item.deleted) {
      body.className = "body deleted";
      body.dataset.testid = "deleted-message";
      body.textContent = "This message was deleted";
    } else {
      body.className = "body";
      body.append(...renderBody(item.body, me, item.mentions));
    }
    li.append(body);
    if (item.attachments?.length && !item.deleted) li.append(files.committed(item.attachments));
    if (item.files?.length && item.clientId) li.append(files.uploading(item.files, item.progress, item.clientId, item.delivery === "pending"));
    if (item.reactions.length > 0) li.append(reactionLine(item.reactions));
    if (item.seq != null) {
      // Focusable, so the keyboard reaches a message and its actions (the one bar, below).
      li.setAttribute("tabindex", "0");
      if (!item.deleted) li.dataset.actions = "";
    }
    if (item.delivery) {
      const delivery = document.createElement("span");
      delivery.className = "delivery";
      delivery.dataset.delivery = item.delivery;
      const text = DELIVERY_TEXT[item.delivery];
      delivery.textContent = item.error ? `${text}: ${item.error}` : text;
      if (unsent) {
        // Not left yet: its own line under the body, shown even in a group (where the meta
        // line is hidden), and said in words to screen readers.
        delivery.setAttribute("role", "note");
        delivery.setAttribute("aria-label", item.error ? `${unsent}: ${item.error}` : unsent);
        li.append(delivery);
        if (item.delivery === "failed" && item.clientId) {
          delivery.append(" ", actionButton("retry", "Retry", item.clientId), actionButton("delete", "Delete", item.clientId));
        }
      } else {
        meta.append(delivery);
      }
    }
    return li;
  };

  /**
   * What a reply answers, one line above it: a button that jumps to the target when its seq is
   * known (relays before it send none). @param {NonNullable<Item["replyTo"]>} to
   */
  const replyLine = (to) => {
    const jumps = (to.seq ?? 0) > 0;
    const line = document.createElement(jumps ? "button" : "div");
    line.className = "reply-to";
    line.dataset.testid = "reply-quote";
    const text = `↪ ${displayName(to.sender)}: ${to.deleted ? "a deleted message" : to.excerpt}`;
    line.textContent = text;
    if (jumps) {
      line.setAttribute("type", "button");
      line.dataset.action = "jump";
      line.dataset.target = String(to.seq);
      line.setAttribute("aria-label", `Go to the message this answers: ${text}`);
    }
    return line;
  };

  /** A small button of a message's action bar. @param {string} action @param {string} label @param {string} [emoji] */
  const messageButton = (action, label, emoji) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "link";
    button.dataset.action = action;
    // The hooks of DESIGN.md: message-action-reply / -react / -edit / -delete.
    button.dataset.testid = `message-action-${action === "delete-message" ? "delete" : action}`;
    if (emoji) button.dataset.emoji = emoji;
    button.textContent = label;
    return button;
  };

  /**
   * The one action bar: Reply, quick reactions, Edit / Delete on our own, and Delete (never
   * Edit) on others' for a relay admin (moderation: the relay lets an admin delete in a room
   * they are in). It moves into the message the pointer or the focus is on: a bar in every
   * row (seven buttons each, 300 rows) was 6 MiB of the page's memory.
   */
  const bar = document.createElement("div");
  bar.className = "message-actions";
  bar.append(messageButton("reply", "Reply"));
  for (const emoji of QUICK_REACTIONS) {
    const button = messageButton("react", emoji, emoji);
    button.setAttribute("aria-label", `React ${emoji}`);
    bar.append(button);
  }
  const moreReactions = messageButton("more-reactions", "☺+");
  moreReactions.dataset.testid = "message-action-more-reactions";
  moreReactions.setAttribute("aria-label", "More reactions");
  moreReactions.setAttribute("aria-haspopup", "dialog");
  const edit = messageButton("edit", "Edit");
  const remove = messageButton("delete-message", "Delete");
  bar.append(moreReactions, edit, remove);
  /** Whether we are a relay admin, as the last render said (Delete on others' messages). */
  let isAdmin = false;

  /** Puts the bar in `row` with the buttons that apply there, if it takes actions. @param {HTMLElement} row */
  const showActions = (row) => {
    if (!("actions" in row.dataset)) return;
    const own = row.className.split(/\s+/).includes("own");
    edit.hidden = !own;
    remove.hidden = !own && !isAdmin;
    if (bar.parentNode !== row) row.append(bar);
  };

  /** The message row an event happened in. @param {Event} e */
  const rowOf = (e) => /** @type {HTMLElement | null} */ (/** @type {HTMLElement} */ (e.target).closest('[data-testid="message"]'));
  list.addEventListener("focusin", (e) => {
    const row = rowOf(e);
    if (row) showActions(row);
  });
  list.addEventListener("pointerover", (e) => {
    const row = rowOf(e);
    // Not while the keyboard is in the bar: moving it would take the focus away.
    const active = /** @type {HTMLElement | null} */ (document.activeElement);
    if (row && !(active && bar.parentNode && active.closest?.(".message-actions") === bar)) showActions(row);
  });

  /**
   * After a redraw: the bar goes back into its message's new row, its button that had the focus
   * focused again (a redraw takes it away), or stays out when that message is gone.
   * @param {HTMLElement | null} focused @param {string | undefined} seq
   */
  const keepBar = (focused, seq) => {
    const row = seq === undefined ? null : /** @type {HTMLElement | null} */ (list.querySelector(`[data-seq="${seq}"]`));
    if (!row || !("actions" in row.dataset)) return;
    showActions(row);
    focused?.focus();
  };

  /** Each emoji with how many put it there (a click toggles ours); who, in its tooltip. @param {Item["reactions"]} reactions */
  const reactionLine = (reactions) => {
    const line = document.createElement("div");
    line.className = "reactions";
    for (const r of reactions) {
      const chip = document.createElement("button");
      chip.type = "button";
      chip.dataset.action = "react";
      chip.dataset.emoji = r.emoji;
      chip.className = "reaction";
      chip.dataset.testid = "reaction";
      chip.textContent = `${r.emoji} ${r.users.length}`;
      chip.title = r.users.map(displayName).join(", ");
      chip.setAttribute("aria-label", `${r.emoji} from ${chip.title}`);
      line.append(chip);
    }
    return line;
  };

  /** @param {string} label */
  const dayRow = (label) => {
    const li = document.createElement("li");
    li.className = "day";
    li.setAttribute("role", "separator");
    li.textContent = label;
    return li;
  };

  const markerRow = () => {
    const li = document.createElement("li");
    li.className = "unread-marker";
    li.dataset.testid = "unread-marker";
    li.setAttribute("role", "separator");
    li.textContent = "New messages";
    return li;
  };

  /** The first row at least partly in view, and its offset from the top of the view. */
  const anchor = () => {
    for (const el of list.children) {
      const li = /** @type {HTMLElement} */ (el);
      if (li.offsetTop + li.offsetHeight > list.scrollTop) return { key: li.dataset.key, offset: li.offsetTop - list.scrollTop };
    }
    return null;
  };

  /**
   * @param {string | null} room
   * @param {Item[]} items the loaded window, in order
   * @param {{older: boolean, newer: boolean, marker?: number | null, me?: string | null,
   *   account?: string | null, admin?: boolean, focus?: {seq: number} | null}} opts
   *   messages exist above / below the window; `marker`: the seq read when the room opened (the
   *   marker goes above the next); `me`: our username (mentions of us stand out); `account`: the
   *   shown account (its own recently used emoji); `admin`: we
   *   are a relay admin (Delete on others' messages); `focus`: a message opened from search,
   *   scrolled to the middle, marked for a moment and focused (for screen readers) once it is
   *   drawn
   */
  const render = (room, items, opts) => {
    const switched = room !== roomId;
    if (switched) landing = true;
    roomId = room;
    more = opts;
    const { nearBottom } = scrollPosition(list, NEAR);
    const land = landing && items.length > 0;
    const follow = !land && (switched || (nearBottom && !opts.newer));
    const keep = follow || land ? null : anchor();
    const now = new Date();
    const next = new Map();
    const nodes = [];
    if (opts.older && items.length > 0) {
      const older = document.createElement("li");
      older.className = "older";
      older.dataset.key = "older";
      older.textContent = "Loading older messages…";
      nodes.push(older);
    }
    const marker = opts.marker ?? null;
    const admin = Boolean(opts.admin);
    let markerNode = null;
    for (const row of layout(items, now)) {
      if (marker !== null && !markerNode && row.kind === "message" && row.item.seq != null && row.item.seq > marker && !row.item.own) {
        markerNode = markerRow();
        markerNode.dataset.key = "marker";
        nodes.push(markerNode);
      }
      const sig =
        row.kind === "day"
          ? `day|${row.label}`
          : `${admin}|${row.first}|${row.item.delivery}|${row.item.error}|${row.item.seq}|${row.item.body}|${row.item.edited}|${row.item.deleted}|${JSON.stringify(row.item.reactions)}|${JSON.stringify(row.item.replyTo)}|${row.item.attachments?.map((a) => a.id).join(",")}|${row.item.files?.length}|${row.item.progress?.sent}`;
      const old = switched ? undefined : rows.get(row.key);
      const node = old && old.sig === sig ? old.node : row.kind === "day" ? dayRow(row.label) : messageRow(row.item, row.first, now, opts.me ?? null, admin);
      node.dataset.key = row.key;
      next.set(row.key, { sig, node });
      nodes.push(node);
    }
    rows = next;
    isAdmin = admin;
    const barSeq = switched ? undefined : /** @type {HTMLElement | null} */ (bar.parentNode)?.dataset?.seq;
    const active = /** @type {HTMLElement | null} */ (document.activeElement);
    const barFocus = active?.closest?.(".message-actions") === bar ? active : null;
    // A focused message (a jump's target, one reached with Tab) keeps the focus when its row
    // is redrawn: a receipt or a reaction coming in must not take it away.
    const rowFocus = !switched && active?.dataset?.testid === "message" && !nodes.includes(active) ? active.dataset.seq : undefined;
    list.replaceChildren(...nodes);
    keepBar(barFocus, barSeq);
    if (rowFocus !== undefined) /** @type {HTMLElement | null} */ (list.querySelector(`[data-seq="${rowFocus}"]`))?.focus({ preventScroll: true });
    picking.account = opts.account ?? opts.me ?? null;
    keepPicker(switched);
    if (land) {
      landing = false;
      // Opened with unread messages: their first one near the top of the view, else the newest.
      list.scrollTop = markerNode ? Math.max(0, markerNode.offsetTop - NEAR / 4) : list.scrollHeight;
    } else if (follow) {
      list.scrollTop = list.scrollHeight;
    } else if (keep) {
      const same = /** @type {HTMLElement | undefined} */ (rows.get(keep.key)?.node);
      if (same) list.scrollTop = same.offsetTop - keep.offset;
    }
    const focus = opts.focus ?? null;
    if (focus && focus !== focused) {
      const node = /** @type {HTMLElement | null} */ (list.querySelector(`[data-seq="${Number(focus.seq)}"]`));
      if (node) {
        focused = focus;
        list.scrollTop = Math.max(0, node.offsetTop - (list.clientHeight - node.offsetHeight) / 2);
        node.classList.add("found");
        node.focus({ preventScroll: true });
        setTimeout(() => node.classList.remove("found"), FOUND_MS);
      }
    }
    // Too few to scroll means no scroll event: ask for more now.
    if (list.scrollHeight <= list.clientHeight) {
      if (opts.older) queueMicrotask(onNearTop);
      else if (opts.newer) queueMicrotask(onNearBottom);
    }
  };

  /**
   * The picker stays with its message when that row is redrawn (a reaction came), and closes
   * when the message is gone or another room is shown. @param {boolean} switched
   */
  const keepPicker = (switched) => {
    if (!picker.isOpen || picking.seq == null) return;
    const row = switched ? null : list.querySelector(`[data-seq="${picking.seq}"]`);
    const opener = /** @type {HTMLElement | null} */ (row?.querySelector('[data-action="more-reactions"]') ?? null);
    if (!row || !opener) {
      picking.seq = null;
      picker.close();
      return;
    }
    // Moving a node takes its focus away: only a redrawn row gets the picker again.
    if (picker.element.closest("[data-seq]") !== row) row.append(picker.element);
    picker.moveTo(opener);
  };

  /**
   * The newest message at least partly on screen (0 when none is: hidden, or not laid out), so
   * only what was in view is marked read.
   */
  const lastSeenSeq = () => {
    const bottom = list.scrollTop + list.clientHeight;
    let seen = 0;
    for (const el of list.children) {
      const li = /** @type {HTMLElement} */ (el);
      if (li.offsetTop >= bottom) break;
      if (li.dataset.seq && li.offsetTop + li.offsetHeight > list.scrollTop) seen = Math.max(seen, Number(li.dataset.seq));
    }
    return seen;
  };

  return { render, lastSeenSeq };
};
