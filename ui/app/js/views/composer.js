// The composer: Enter sends, Shift+Enter is a new line, Up arrow (empty) edits our last message,
// Esc leaves reply or edit mode; typing is reported, throttled; every change
// of the text is reported as the open room's draft.

/** Least time between two `typing: true` calls from here (the session throttles again). */
export const TYPING_EVERY_MS = 1500;

/**
 * @param {HTMLFormElement} form
 * @param {{onSend: (body: string) => Promise<boolean>, onTyping: (typing: boolean) => void,
 *   onDraft: (text: string) => void, onEditLast: () => boolean, onCancel: () => boolean}} handlers
 *   onSend resolves true when the message was handled (else the text comes back into the box)
 */
export const createComposer = (form, { onSend, onTyping, onDraft, onEditLast, onCancel }) => {
  const box = /** @type {HTMLTextAreaElement} */ (form.querySelector("textarea"));
  let lastTyping = 0;

  // The box empties at once, so the next message can be typed while this one is queued (offline,
  // or a slow disk); a refused send puts its text back if nothing new was typed meanwhile.
  const take = () => {
    const body = box.value;
    lastTyping = 0;
    box.value = "";
    onDraft("");
    return body;
  };
  const putBack = (/** @type {string} */ body) => {
    if (box.value !== "" || body === "") return;
    box.value = body;
    onDraft(body);
  };
  const send = async () => {
    if (box.value.trim() === "") return;
    const body = take();
    if (!(await onSend(body))) putBack(body);
    box.focus();
  };

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    send();
  });
  box.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      send();
    } else if (e.key === "ArrowUp" && box.value === "" && !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey) {
      if (onEditLast()) e.preventDefault();
    } else if (e.key === "Escape" && onCancel()) {
      e.preventDefault();
    }
  });
  const changed = () => {
    onDraft(box.value);
    if (box.value === "") {
      lastTyping = 0;
      onTyping(false);
      return;
    }
    const now = Date.now();
    if (now - lastTyping >= TYPING_EVERY_MS) {
      lastTyping = now;
      onTyping(true);
    }
  };
  box.addEventListener("input", changed);

  return {
    /** @param {boolean} enabled */
    setEnabled(enabled) {
      box.disabled = !enabled;
      // Send and Attach.
      for (const button of form.querySelectorAll("button")) /** @type {HTMLButtonElement} */ (button).disabled = !enabled;
    },
    clear() {
      box.value = "";
    },
    /** The text, taken out (a caption going with files; the draft empties too). @returns {string} */
    take,
    /** A taken text back, if nothing new was typed meanwhile (the files did not go). @param {string} body */
    putBack,
    /** Shows a room's draft (switching rooms): not a keystroke, so nothing is reported. @param {string} text */
    setText(text) {
      if (box.value !== text) box.value = text;
    },
    /** A key typed elsewhere in the window, added where the caret is. @param {string} text */
    insert(text) {
      if (box.disabled) return false;
      box.focus();
      const at = box.selectionStart ?? box.value.length;
      const end = box.selectionEnd ?? at;
      box.value = box.value.slice(0, at) + text + box.value.slice(end);
      box.selectionStart = box.selectionEnd = at + text.length;
      changed();
      return true;
    },
    focus() {
      box.focus();
    },
  };
};
