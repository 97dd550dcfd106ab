// A modal panel of several forms (account settings, the admin panel): Esc or Close closes it
// and the focus returns where it was, Tab stays inside, and one error line and one status line
// say how the last action went (text only).
import { trapTab } from "./trap.js";

/** @param {HTMLElement} overlay an element with class "overlay" holding one `.dialog` */
export const createPanel = (overlay) => {
  const dialog = /** @type {HTMLElement} */ (overlay.querySelector(".dialog"));
  const error = /** @type {HTMLElement} */ (dialog.querySelector(".error"));
  const status = /** @type {HTMLElement} */ (dialog.querySelector(".status"));
  let returnTo = /** @type {HTMLElement | null} */ (null);

  const close = () => {
    overlay.hidden = true;
    for (const form of dialog.querySelectorAll("form")) /** @type {HTMLFormElement} */ (form).reset();
    error.textContent = status.textContent = "";
    returnTo?.focus();
  };
  dialog.querySelector('[data-action="close"]')?.addEventListener("click", close);
  overlay.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      e.preventDefault();
      close();
    } else {
      trapTab(dialog, e);
    }
  });

  return {
    dialog,
    open() {
      returnTo = /** @type {HTMLElement | null} */ (document.activeElement);
      error.textContent = status.textContent = "";
      overlay.hidden = false;
      /** @type {HTMLElement | null} */ (dialog.querySelector("input") ?? dialog.querySelector("button"))?.focus();
    },
    close,
    get isOpen() {
      return !overlay.hidden;
    },
    /**
     * Runs one action: its refusal goes to the error line, `done` (what it did) to the status
     * line. Says whether it went through.
     * @param {() => Promise<unknown>} action @param {string} [done]
     */
    async run(action, done) {
      error.textContent = status.textContent = "";
      try {
        await action();
        if (done) status.textContent = done;
        return true;
      } catch (e) {
        error.textContent = String(e instanceof Error ? e.message : e);
        return false;
      }
    },
    /** @param {string} text */
    say(text) {
      status.textContent = text;
    },
  };
};

/** A list row: its text (`.what`) and its buttons, each with `data-action`. @param {string} text */
export const row = (text, /** @type {[string, string, string][]} */ buttons) => {
  const li = document.createElement("li");
  const what = document.createElement("span");
  what.className = "what";
  what.textContent = text;
  li.append(what);
  for (const [action, label, testid] of buttons) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "link";
    button.dataset.action = action;
    button.dataset.testid = testid;
    button.textContent = label;
    li.append(button);
  }
  return li;
};

/** An RFC 3339 time as the reader's local date and time (or the text itself). @param {string | undefined} at */
export const when = (at) => {
  if (!at) return "never";
  const date = new Date(at);
  return Number.isNaN(date.getTime()) ? at : date.toLocaleString();
};
