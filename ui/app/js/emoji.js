//! Pure: the emoji picker's choices — the bundled emoji filtered by name, and the recently used
//! ones (kept per account in the given storage, most recent first, bounded). No DOM.
import { EMOJI, EMOJI_GROUPS } from "./emoji-data.js";

/** How many recently used emoji are kept. */
export const RECENT_MAX = 16;

/** @typedef {{emoji: string, name: string, group: string}} Emoji */

/** @type {Emoji[]} */
export const ALL_EMOJI = EMOJI.map(([emoji, name, group]) => ({ emoji, name, group: EMOJI_GROUPS[group] ?? "" }));
const BY_EMOJI = new Map(ALL_EMOJI.map((e) => [e.emoji, e]));

/** The emoji's entry, if it is one we bundle. @param {string} emoji */
export const emojiEntry = (emoji) => BY_EMOJI.get(emoji);

/**
 * The emoji whose name holds every word typed (case-insensitive), in the bundle's order; all of
 * them for an empty query.
 * @param {string} query @param {Emoji[]} [all]
 */
export const filterEmoji = (query, all = ALL_EMOJI) => {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return all;
  return all.filter((e) => words.every((w) => e.name.includes(w)));
};

/** The storage key of an account's recent emoji (global when the account is unknown). @param {string | null | undefined} account */
export const recentKey = (account) => (account ? `natter.emoji.recent.${account}` : "natter.emoji.recent");

/**
 * The account's recently used emoji, newest first; whatever is stored that is not a bundled emoji
 * (a damaged or foreign value) is dropped, never thrown on.
 * @param {Pick<Storage, "getItem"> | null | undefined} storage @param {string | null | undefined} account
 */
export const loadRecent = (storage, account) => {
  let raw = null;
  try {
    raw = storage?.getItem(recentKey(account)) ?? null;
  } catch {
    return []; // storage refused (e.g. disabled): nothing recent
  }
  if (!raw) return [];
  try {
    const list = JSON.parse(raw);
    return Array.isArray(list) ? [...new Set(list.filter((e) => typeof e === "string" && BY_EMOJI.has(e)))].slice(0, RECENT_MAX) : [];
  } catch {
    return [];
  }
};

/** The list with `emoji` moved (or added) to the front, bounded. @param {string[]} recent @param {string} emoji */
export const withRecent = (recent, emoji) => [emoji, ...recent.filter((e) => e !== emoji)].slice(0, RECENT_MAX);

/**
 * Records a pick; a storage that refuses (full, disabled) only loses the memory of it.
 * @param {Pick<Storage, "getItem" | "setItem"> | null | undefined} storage @param {string | null | undefined} account @param {string} emoji
 */
export const rememberEmoji = (storage, account, emoji) => {
  const next = withRecent(loadRecent(storage, account), emoji);
  try {
    storage?.setItem(recentKey(account), JSON.stringify(next));
  } catch {
    // Not kept: the picker still works, with the recent list of this session's reads.
  }
  return next;
};
