// Account settings (issue 18): the display name, a password change (the other sessions end),
// the sessions with "End" on each other one, and deleting the account (its password confirms;
// what becomes of the messages is said on the panel). Text only; every refusal on its error line.
import { createPanel, row, when } from "./panel.js";

/**
 * @typedef {import("../bridge.js").Account} Account
 * @typedef {import("../bridge.js").SessionInfo} SessionInfo
 * @typedef {{
 *   load: () => Promise<{account: Account, sessions: SessionInfo[]}>,
 *   setDisplayName: (name: string) => Promise<unknown>,
 *   changePassword: (current: string, next: string) => Promise<void>,
 *   endSession: (id: string) => Promise<void>,
 *   deleteAccount: (password: string) => Promise<void>,
 * }} SettingsHandlers each rejects with an Error whose message is shown
 */

/** @param {HTMLElement} overlay @param {SettingsHandlers} h */
export const createSettings = (overlay, h) => {
  const panel = createPanel(overlay);
  const { dialog } = panel;
  const who = /** @type {HTMLElement} */ (dialog.querySelector('[data-testid="settings-who"]'));
  const list = /** @type {HTMLElement} */ (dialog.querySelector('[data-testid="settings-sessions"]'));
  const form = (/** @type {string} */ name) => /** @type {HTMLFormElement} */ (dialog.querySelector(`[data-form="${name}"]`));
  const input = (/** @type {HTMLFormElement} */ f, /** @type {string} */ name) =>
    /** @type {HTMLInputElement} */ (f.querySelector(`[name="${name}"]`));
  const nameField = input(form("display-name"), "display_name");

  /** @param {SessionInfo[]} sessions */
  const drawSessions = (sessions) => {
    list.replaceChildren(
      ...sessions.map((s) => {
        const text = `${s.device || "An unnamed device"}: signed in ${when(s.created_at)}, last used ${when(s.last_used_at)}`;
        const li = s.current ? row(`${text} (this session)`, []) : row(text, [["end-session", "End", "session-end"]]);
        li.dataset.id = s.id;
        li.dataset.testid = "session";
        return li;
      }),
    );
  };

  const load = () =>
    panel.run(async () => {
      const { account, sessions } = await h.load();
      who.textContent = `Signed in as ${account.user.username} (${account.role}), since ${when(account.created_at)}`;
      nameField.value = account.user.display_name ?? "";
      drawSessions(sessions);
    });

  form("display-name").addEventListener("submit", (e) => {
    e.preventDefault();
    const name = nameField.value.trim();
    panel.run(() => h.setDisplayName(name), name ? `Your display name is now “${name}”.` : "Your display name is cleared.");
  });
  form("password").addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = form("password");
    const [current, next] = [input(f, "current").value, input(f, "new").value];
    if (!current || !next) {
      panel.run(() => Promise.reject(new Error("Both the current and a new password are needed.")));
      return;
    }
    if (await panel.run(() => h.changePassword(current, next), "Password changed. Your other sessions were ended.")) {
      f.reset();
      const { sessions } = await h.load().catch(() => ({ sessions: null }));
      if (sessions) drawSessions(sessions);
    }
  });
  list.addEventListener("click", async (e) => {
    const button = /** @type {HTMLElement} */ (e.target).closest('[data-action="end-session"]');
    const li = /** @type {HTMLElement | null} */ (button?.closest("li") ?? null);
    const id = li?.dataset.id;
    if (!id) return;
    if (await panel.run(() => h.endSession(id), "The session was ended.")) {
      list.replaceChildren(...[...list.children].filter((c) => c !== li));
    }
  });
  form("delete").addEventListener("submit", async (e) => {
    e.preventDefault();
    const password = input(form("delete"), "password").value;
    if (!password) {
      panel.run(() => Promise.reject(new Error("Type your password to confirm.")));
      return;
    }
    if (await panel.run(() => h.deleteAccount(password))) panel.close();
  });

  return {
    open() {
      panel.open();
      who.textContent = "";
      list.replaceChildren();
      return load();
    },
    close: panel.close,
  };
};
