// The in-page "New room" form (no window.prompt).

/**
 * @param {HTMLButtonElement} openButton
 * @param {HTMLFormElement} form
 * @param {(name: string, members: string[]) => Promise<void>} onCreate rejects with a message to show
 */
export const createNewRoomForm = (openButton, form, onCreate) => {
  const name = /** @type {HTMLInputElement} */ (form.querySelector("#new-room-name"));
  const members = /** @type {HTMLInputElement} */ (form.querySelector("#new-room-members"));
  const error = /** @type {HTMLElement} */ (form.querySelector("#new-room-error"));
  const close = () => {
    form.hidden = true;
    form.reset();
    error.textContent = "";
    openButton.focus();
  };
  openButton.addEventListener("click", () => {
    form.hidden = !form.hidden;
    if (!form.hidden) name.focus();
  });
  form.querySelector("#new-room-cancel")?.addEventListener("click", close);
  form.addEventListener("keydown", (e) => {
    if (e.key === "Escape") close();
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const roomName = name.value.trim();
    if (!roomName) {
      error.textContent = "A room needs a name.";
      return;
    }
    const list = members.value.split(/[\s,]+/).filter(Boolean);
    try {
      await onCreate(roomName, list);
      close();
    } catch (err) {
      error.textContent = String(err instanceof Error ? err.message : err);
    }
  });
};
