//! The emoji picker (issue 19): a labelled dialog with a search box (by name) and a listbox of
//! the recently used emoji first, then the bundled groups (emoji.js). Arrow keys move, Home/End
//! jump, Enter picks, Esc closes and gives the focus back to the button that opened it.
import { ALL_EMOJI, emojiEntry, filterEmoji, loadRecent, rememberEmoji } from "../emoji.js";

/** Emoji per row of the grid: Up / Down move by this much (the stylesheet lays out as many). */
export const COLUMNS = 8;

/**
 * @param {Document} doc
 * @param {{onPick: (emoji: string) => void, storage?: Pick<Storage, "getItem" | "setItem"> | null}} opts
 *   onPick: an emoji was chosen (the picker is closed by then); storage: where recent picks are
 *   kept (the window's localStorage; none under test unless given)
 */
export const createEmojiPicker = (doc, { onPick, storage }) => {
  const element = doc.createElement("div");
  element.className = "emoji-picker";
  element.dataset.testid = "emoji-picker";
  element.setAttribute("role", "dialog");
  element.setAttribute("aria-label", "More reactions");
  element.hidden = true;
  const search = /** @type {HTMLInputElement} */ (doc.createElement("input"));
  search.type = "search";
  search.dataset.testid = "emoji-search";
  search.setAttribute("aria-label", "Search emoji by name");
  search.setAttribute("placeholder", "Search emoji");
  search.setAttribute("autocomplete", "off");
  const box = doc.createElement("div");
  box.className = "emoji-list";
  box.dataset.testid = "emoji-list";
  box.setAttribute("role", "listbox");
  box.setAttribute("aria-label", "Emoji");
  // How many match, for screen readers as the search narrows.
  const status = doc.createElement("div");
  status.className = "emoji-status";
  status.setAttribute("role", "status");
  element.append(search, box, status);

  /** The button that opened the picker (focus goes back to it) and whose recent list is shown. */
  const state = { opener: /** @type {HTMLElement | null} */ (null), account: /** @type {string | null} */ (null) };
  /** The options drawn now, in order (recent ones, then the groups). @type {HTMLElement[]} */
  const options = [];

  /** @param {import("../emoji.js").Emoji} e */
  const option = (e) => {
    const button = doc.createElement("button");
    button.type = "button";
    button.className = "emoji";
    button.dataset.testid = "emoji-option";
    button.dataset.emoji = e.emoji;
    button.setAttribute("role", "option");
    button.setAttribute("aria-selected", "false");
    button.setAttribute("aria-label", e.name);
    button.setAttribute("tabindex", "-1");
    button.title = e.name;
    button.textContent = e.emoji;
    options.push(button);
    return button;
  };

  /** @param {string} label @param {import("../emoji.js").Emoji[]} list */
  const section = (label, list) => {
    const group = doc.createElement("div");
    group.className = "emoji-group";
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", label);
    const heading = doc.createElement("div");
    heading.className = "emoji-group-name";
    heading.setAttribute("aria-hidden", "true");
    heading.textContent = label;
    group.append(heading, ...list.map(option));
    return group;
  };

  /** Draws what matches the search: recent first (when not searching), then each group. */
  const draw = () => {
    options.length = 0;
    const query = search.value.trim();
    const matches = filterEmoji(query);
    const sections = [];
    if (!query) {
      const recent = loadRecent(storage, state.account).map((e) => emojiEntry(e)).filter((e) => e !== undefined);
      if (recent.length > 0) sections.push(section("Recently used", recent));
    }
    /** @type {Map<string, import("../emoji.js").Emoji[]>} */
    const groups = new Map();
    for (const e of matches) {
      const list = groups.get(e.group) ?? [];
      list.push(e);
      groups.set(e.group, list);
    }
    for (const [name, list] of groups) sections.push(section(name, list));
    box.replaceChildren(...sections);
    options[0]?.setAttribute("tabindex", "0");
    status.textContent = matches.length === 0 ? "No emoji match" : query ? `${matches.length} emoji` : "";
  };

  /** Moves the focus to option `i` (bounded), the only one reachable by Tab. @param {number} i */
  const move = (i) => {
    if (options.length === 0) return;
    const at = Math.max(0, Math.min(options.length - 1, i));
    for (const [j, o] of options.entries()) {
      o.setAttribute("tabindex", j === at ? "0" : "-1");
      o.setAttribute("aria-selected", j === at ? "true" : "false");
    }
    options[at].focus();
  };

  /** @param {string} emoji */
  const pick = (emoji) => {
    rememberEmoji(storage, state.account, emoji);
    close();
    onPick(emoji);
  };

  const close = () => {
    if (element.hidden) return;
    element.hidden = true;
    box.replaceChildren();
    options.length = 0;
    state.opener?.focus();
    state.opener = null;
  };

  search.addEventListener("input", draw);
  box.addEventListener("click", (e) => {
    const emoji = /** @type {HTMLElement} */ (e.target).closest("[data-emoji]")?.dataset.emoji;
    if (emoji) pick(emoji);
  });
  element.addEventListener("keydown", (ev) => {
    const e = /** @type {KeyboardEvent} */ (ev);
    const i = options.indexOf(/** @type {HTMLElement} */ (e.target));
    let handled = true;
    if (e.key === "Escape") close();
    else if (e.target === search) {
      if (e.key === "ArrowDown") move(0);
      else if (e.key === "Enter" && options[0]?.dataset.emoji) pick(options[0].dataset.emoji);
      else handled = false;
    } else if (i >= 0) {
      if (e.key === "ArrowRight") move(i + 1);
      else if (e.key === "ArrowLeft") move(i - 1);
      else if (e.key === "ArrowDown") move(i + COLUMNS);
      else if (e.key === "ArrowUp") {
        if (i < COLUMNS) search.focus();
        else move(i - COLUMNS);
      } else if (e.key === "Home") move(0);
      else if (e.key === "End") move(options.length - 1);
      else if ((e.key === "Enter" || e.key === " ") && options[i].dataset.emoji) pick(options[i].dataset.emoji);
      else if ([...e.key].length === 1 && !e.ctrlKey && !e.metaKey && !e.altKey) {
        // Typing on an emoji searches: the key goes on to the search box, not to the composer.
        search.focus();
        e.stopPropagation();
        handled = false;
      } else handled = false;
    } else handled = false;
    if (handled) {
      // Ours: not the page's Esc (back to the composer), nor a button's own Enter.
      e.preventDefault();
      e.stopPropagation();
    }
  });

  return {
    element,
    get isOpen() {
      return !element.hidden;
    },
    /**
     * Opens the picker for `account`'s recent emoji, searching nothing, its search box focused.
     * @param {HTMLElement} opener @param {string | null} account
     */
    open: (opener, account) => {
      state.opener = opener;
      state.account = account;
      search.value = "";
      element.hidden = false;
      draw();
      search.focus();
    },
    close,
    /** The opener was redrawn: the focus goes back to this one. @param {HTMLElement} opener */
    moveTo: (opener) => {
      state.opener = opener;
    },
    /** How many emoji are bundled (for the tests and the README). */
    size: ALL_EMOJI.length,
  };
};
