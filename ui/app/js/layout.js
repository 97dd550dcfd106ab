// Pure layout of a room's timeline for the message list: day separators between local days, and
// consecutive messages of one sender grouped (only the first of a group shows the name).

/** Messages of one sender closer than this stay in one group. */
export const GROUP_GAP_MS = 5 * 60 * 1000;

const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

/** Local midnight of a date, as ms. @param {Date} d */
const dayStart = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();

/** A stable key for the local day of `iso`, or "" when it is not a date. @param {string} iso */
export const dayKey = (iso) => {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return "";
  return `${at.getFullYear()}-${at.getMonth() + 1}-${at.getDate()}`;
};

/**
 * "Today", "Yesterday", a weekday within the last week, else "March 3" (this year) or "March 3, 2025".
 * @param {string} iso @param {Date} [now] @returns {string}
 */
export const dayLabel = (iso, now = new Date()) => {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return "";
  const days = Math.round((dayStart(now) - dayStart(at)) / 86_400_000);
  if (days === 0) return "Today";
  if (days === 1) return "Yesterday";
  if (days > 1 && days < 7) return DAYS[at.getDay()];
  const date = `${MONTHS[at.getMonth()]} ${at.getDate()}`;
  return at.getFullYear() === now.getFullYear() ? date : `${date}, ${at.getFullYear()}`;
};

/**
 * @template {{key: string, sender: string, at: string}} T
 * @typedef {{kind: "day", key: string, label: string} | {kind: "message", key: string, item: T, first: boolean}} Row
 */

/**
 * Rows for the list: a day row before the first message of each local day; `first` is true when a
 * message starts a group (new day, other sender, or a long pause).
 * @template {{key: string, sender: string, at: string}} T
 * @param {T[]} items in display order @param {Date} [now]
 * @returns {Row<T>[]}
 */
export const layout = (items, now = new Date()) => {
  /** @type {Row<T>[]} */
  const rows = [];
  let day = null;
  let prev = /** @type {T | null} */ (null);
  for (const item of items) {
    const key = dayKey(item.at);
    const newDay = key !== day && key !== "";
    if (newDay) {
      rows.push({ kind: "day", key: `d${key}`, label: dayLabel(item.at, now) });
      day = key;
    }
    const gap = prev ? new Date(item.at).getTime() - new Date(prev.at).getTime() : Infinity;
    const first = newDay || !prev || prev.sender !== item.sender || !(gap >= 0 && gap < GROUP_GAP_MS);
    rows.push({ kind: "message", key: item.key, item, first });
    prev = item;
  }
  return rows;
};
