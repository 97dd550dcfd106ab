// In-page modal dialogs (no window.prompt/confirm): new group, new DM, invite, leave.
// Each is an overlay holding one form; Esc or Cancel closes it and focus returns to where it was;
// Tab stays inside it.
import { trapTab } from "./trap.js";

/**
 * @param {HTMLElement} overlay an element with class "overlay" holding one <form>
 * @param {(form: HTMLFormElement) => Promise<void>} onSubmit rejects with an Error whose message is shown
 */
export const createDialog = (overlay, onSubmit) => {
  const form = /** @type {HTMLFormElement} */ (overlay.querySelector("form"));
  const error = /** @type {HTMLElement} */ (form.querySelector(".error"));
  let returnTo = /** @type {HTMLElement | null} */ (null);

  const close = () => {
    overlay.hidden = true;
    form.reset();
    error.textContent = "";
    returnTo?.focus();
  };
  form.querySelector('[data-action="cancel"]')?.addEventListener("click", close);
  overlay.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      e.preventDefault();
      close();
    } else {
      trapTab(form, e);
    }
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.textContent = "";
    try {
      await onSubmit(form);
      close();
    } catch (err) {
      error.textContent = String(err instanceof Error ? err.message : err);
    }
  });

  return {
    /** @param {string} [text] a line for the dialog's `.detail`, e.g. which room */
    open(text) {
      returnTo = /** @type {HTMLElement | null} */ (document.activeElement);
      const detail = form.querySelector(".detail");
      if (detail && text !== undefined) detail.textContent = text;
      overlay.hidden = false;
      /** @type {HTMLElement | null} */ (form.querySelector("input") ?? form.querySelector('[type="submit"]'))?.focus();
    },
    close,
    get isOpen() {
      return !overlay.hidden;
    },
  };
};

/** A text field of a dialog's form, trimmed. @param {HTMLFormElement} form @param {string} name */
export const field = (form, name) => /** @type {HTMLInputElement} */ (form.querySelector(`[name="${name}"]`)).value.trim();
