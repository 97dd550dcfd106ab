// The message search panel (Ctrl/Cmd+F, or the Search button): type to search the current text
// of every room; this device's results show at once, the relay's replace them when it answers.
// Each match is marked with <mark> around text nodes (never HTML). Up/Down move, Enter or a click
// opens the message in its room, Esc closes, Tab stays inside; the status line is read out.
import { displayName, formatTime } from "../format.js";
import { trapTab } from "./trap.js";

/** Typing waits this long for the next key before it searches. */
const DEBOUNCE_MS = 150;
/** Characters of a long body shown around its first match. */
const EXCERPT = 160;

/**
 * A query's terms as the relay splits them (natter_protocol::search::terms): by whitespace,
 * each once. @param {string} query @returns {string[]}
 */
export const terms = (query) => [...new Set(query.split(/\s+/u).filter(Boolean))];

/**
 * `text` cut into pieces, each one a match of a term (ignoring case) or not. Longer terms win
 * where terms overlap. @param {string} text @param {string[]} terms
 * @returns {{text: string, mark: boolean}[]}
 */
export const highlight = (text, terms) => {
  if (terms.length === 0 || text === "") return text ? [{ text, mark: false }] : [];
  const escaped = [...terms].sort((a, b) => b.length - a.length).map((t) => t.replace(/[.*+?^${}()|[\]\\]/gu, "\\$&"));
  const re = new RegExp(escaped.join("|"), "giu");
  /** @type {{text: string, mark: boolean}[]} */
  const pieces = [];
  let at = 0;
  for (const m of text.matchAll(re)) {
    const start = m.index ?? 0;
    if (start > at) pieces.push({ text: text.slice(at, start), mark: false });
    pieces.push({ text: m[0], mark: true });
    at = start + m[0].length;
  }
  if (at < text.length) pieces.push({ text: text.slice(at), mark: false });
  return pieces;
};

/**
 * A long body cut to about `max` characters around its first match (… where cut), whole code
 * points only. @param {string} body @param {string[]} terms @param {number} [max]
 */
export const excerpt = (body, terms, max = EXCERPT) => {
  const chars = [...body];
  if (chars.length <= max) return body;
  const lower = body.toLowerCase();
  const hits = terms.map((t) => lower.indexOf(t.toLowerCase())).filter((i) => i >= 0);
  // From a UTF-16 index to a code point index (the first match), then a window around it.
  const first = hits.length ? [...body.slice(0, Math.min(...hits))].length : 0;
  const start = Math.max(0, Math.min(first - Math.floor(max / 3), chars.length - max));
  const cut = chars.slice(start, start + max).join("");
  return `${start > 0 ? "…" : ""}${cut}${start + max < chars.length ? "…" : ""}`;
};

/**
 * @typedef {import("../bridge.js").Message} Message
 * @typedef {import("../bridge.js").SearchResults} SearchResults
 * @param {HTMLElement} overlay holds an <input>, a status line (`.status`), a <ul> and a "More" button
 * @param {{search: (query: string, opts?: {cursor?: string, cachedOnly?: boolean}) => Promise<SearchResults>,
 *   roomName: (roomId: string) => string, errorText: (error: unknown) => string,
 *   onPick: (message: Message) => void}} handlers
 */
export const createSearch = (overlay, { search, roomName, errorText, onPick }) => {
  const input = /** @type {HTMLInputElement} */ (overlay.querySelector("input"));
  const status = /** @type {HTMLElement} */ (overlay.querySelector(".status"));
  const list = /** @type {HTMLUListElement} */ (overlay.querySelector("ul"));
  const more = /** @type {HTMLButtonElement} */ (overlay.querySelector(".more"));
  let found = /** @type {Message[]} */ ([]);
  let cursor = /** @type {string | null} */ (null);
  let at = 0;
  /** Each search's number: an answer to an older one (typing went on) is dropped. */
  let asked = 0;
  let timer = /** @type {ReturnType<typeof setTimeout> | undefined} */ (undefined);
  let returnTo = /** @type {HTMLElement | null} */ (null);
  /**
   * The rows drawn last, by what they show. A row that would show the same is kept: the relay's
   * answer repeating the cache's, or a move of the selection, does not rebuild the list under
   * the pointer. @type {Map<string, HTMLLIElement>}
   */
  let drawn = new Map();

  /** @param {Message} m @param {string[]} words */
  const row = (m, words) => {
    const li = document.createElement("li");
    li.dataset.testid = "search-result";
    li.setAttribute("role", "option");
    const meta = document.createElement("div");
    meta.className = "meta";
    const where = document.createElement("span");
    where.className = "room";
    where.textContent = roomName(m.room_id);
    const who = document.createElement("span");
    who.className = "sender";
    who.textContent = displayName(m.sender);
    const when = document.createElement("time");
    when.dateTime = m.sent_at;
    when.textContent = formatTime(m.sent_at, new Date());
    meta.append(where, who, when);
    const body = document.createElement("div");
    body.className = "body";
    for (const piece of highlight(excerpt(m.body, words), words)) {
      if (piece.mark) {
        const mark = document.createElement("mark");
        mark.textContent = piece.text;
        body.append(mark);
      } else {
        body.append(piece.text); // a text node
      }
    }
    li.append(meta, body);
    return li;
  };

  const draw = () => {
    const words = terms(input.value);
    const kept = new Map();
    const rows = found.map((m, i) => {
      const shows = JSON.stringify([m.room_id, m.seq, m.sender, m.sent_at, m.body, roomName(m.room_id), words]);
      const li = (!kept.has(shows) && drawn.get(shows)) || row(m, words);
      kept.set(shows, li);
      li.setAttribute("id", `search-result-${i}`);
      li.dataset.index = String(i);
      li.setAttribute("aria-selected", String(i === at));
      return li;
    });
    drawn = kept;
    const same = rows.length === list.children.length && rows.every((li, i) => list.children[i] === li);
    if (!same) list.replaceChildren(...rows);
    if (found.length) input.setAttribute("aria-activedescendant", `search-result-${at}`);
    else input.removeAttribute("aria-activedescendant");
    list.querySelector('[aria-selected="true"]')?.scrollIntoView?.({ block: "nearest" });
    more.hidden = cursor === null;
  };

  /** @param {number} n @param {boolean} online */
  const counted = (n, online) => {
    const what = n === 0 ? "No messages found" : n === 1 ? "1 message" : `${n} messages`;
    return online ? what : `${what} on this device (the relay did not answer)`;
  };

  /** Each (room, seq) once, in the order given. @param {Message[]} list */
  const once = (list) => {
    const seen = new Set();
    return list.filter((m) => {
      const key = `${m.room_id}\u0000${m.seq}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  };

  const run = async () => {
    const query = input.value;
    const ticket = ++asked;
    cursor = null;
    if (!query.trim()) {
      found = [];
      at = 0;
      status.textContent = "";
      draw();
      return;
    }
    status.textContent = "Searching…";
    try {
      const local = await search(query, { cachedOnly: true });
      if (ticket !== asked) return;
      found = local.messages;
      at = 0;
      draw();
      status.textContent = `${counted(found.length, true)} on this device; asking the relay…`;
      const all = await search(query);
      if (ticket !== asked) return;
      found = all.messages;
      cursor = all.next_cursor ?? null;
      at = Math.min(at, Math.max(0, found.length - 1));
      draw();
      status.textContent = counted(found.length, all.online);
    } catch (error) {
      if (ticket === asked) status.textContent = errorText(error);
    }
  };

  const loadMore = async () => {
    if (cursor === null) return;
    const ticket = asked;
    try {
      const page = await search(input.value, { cursor });
      if (ticket !== asked) return;
      found = once([...found, ...page.messages]);
      cursor = page.next_cursor ?? null;
      draw();
      status.textContent = counted(found.length, true);
    } catch (error) {
      if (ticket === asked) status.textContent = errorText(error);
    }
  };

  const close = () => {
    if (overlay.hidden) return;
    overlay.hidden = true;
    clearTimeout(timer);
    asked += 1; // answers still on their way are dropped
    returnTo?.focus();
  };
  /** @param {number} i */
  const pick = (i) => {
    const m = found[i];
    if (!m) return;
    close();
    onPick(m);
  };

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(run, DEBOUNCE_MS);
  });
  overlay.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      e.preventDefault();
      close();
    } else if ((e.key === "ArrowDown" || e.key === "ArrowUp") && e.target === input) {
      e.preventDefault();
      if (found.length) at = (at + (e.key === "ArrowDown" ? 1 : -1) + found.length) % found.length;
      draw();
    } else if (e.key === "Enter" && e.target === input) {
      e.preventDefault();
      clearTimeout(timer);
      if (found.length) pick(at);
      else run();
    } else {
      trapTab(overlay, e);
    }
  });
  list.addEventListener("click", (e) => {
    const li = /** @type {HTMLElement | null} */ (/** @type {HTMLElement} */ (e.target).closest("[data-index]"));
    if (li) pick(Number(li.dataset.index));
  });
  more.addEventListener("click", () => loadMore());

  return {
    open() {
      if (!overlay.hidden) {
        input.select();
        return;
      }
      returnTo = /** @type {HTMLElement | null} */ (document.activeElement);
      overlay.hidden = false;
      input.focus();
      input.select();
    },
    close,
    get isOpen() {
      return !overlay.hidden;
    },
  };
};
