// The composer: Enter sends, Shift+Enter is a new line; typing is reported, throttled.

/** Least time between two `typing: true` calls from here (the session throttles again). */
export const TYPING_EVERY_MS = 1500;

/**
 * @param {HTMLFormElement} form
 * @param {{onSend: (body: string) => Promise<boolean>, onTyping: (typing: boolean) => void}} handlers
 *   onSend resolves true when the message was accepted (else the text comes back into the box)
 */
export const createComposer = (form, { onSend, onTyping }) => {
  const box = /** @type {HTMLTextAreaElement} */ (form.querySelector("textarea"));
  let lastTyping = 0;

  // The box empties at once, so the next message can be typed while this one is queued (offline,
  // or a slow disk); a refused send puts its text back if nothing new was typed meanwhile.
  const send = async () => {
    const body = box.value;
    if (body.trim() === "") return;
    lastTyping = 0;
    box.value = "";
    if (!(await onSend(body)) && box.value === "") box.value = body;
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
    }
  });
  box.addEventListener("input", () => {
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
  });

  return {
    /** @param {boolean} enabled */
    setEnabled(enabled) {
      box.disabled = !enabled;
      /** @type {HTMLButtonElement} */ (form.querySelector("button")).disabled = !enabled;
    },
    clear() {
      box.value = "";
    },
    focus() {
      box.focus();
    },
  };
};
