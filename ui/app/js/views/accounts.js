// The account switcher at the top of the sidebar (issue 18: several accounts signed in at once):
// one button per signed-in account (data-testid account-item, data-account = its id), the active
// one marked aria-current="page" (not "true", which marks the open room in the room list), each with its unread badge (account-unread) and an offline mark, then
// "Add account" (add-account). Plain buttons, so Tab and Enter reach them; each button's name
// says the account, its unread count, and whether it is the one shown. Text nodes only.
import { badgeText } from "../format.js";

/**
 * Mirrors the shell's `accounts::roster::AccountView`.
 * @typedef {{id: string, username: string, server_url: string, unread: number, active: boolean,
 *   connection: import("../bridge.js").ConnectionView}} AccountView
 */

/** `alice@chat.example.org`: whom and where, without the scheme. @param {AccountView} a */
export const accountLabel = (a) => `${a.username}@${a.server_url.replace(/^[a-z]+:\/\//i, "").replace(/\/.*$/, "")}`;

/**
 * @param {HTMLElement} nav holds a <ul> and the add-account button
 * @param {{onSwitch: (id: string) => void, onAdd: () => void}} handlers
 */
export const createAccountList = (nav, { onSwitch, onAdd }) => {
  const list = /** @type {HTMLUListElement} */ (nav.querySelector("ul"));
  const add = /** @type {HTMLButtonElement} */ (nav.querySelector('[data-testid="add-account"]'));
  list.addEventListener("click", (e) => {
    const item = /** @type {HTMLElement | null} */ (/** @type {HTMLElement} */ (e.target).closest("[data-account]"));
    const id = item?.dataset.account;
    if (id && item.getAttribute("aria-current") === null) onSwitch(id);
  });
  add.addEventListener("click", () => onAdd());

  /** @param {AccountView[]} accounts */
  const render = (accounts) => {
    list.replaceChildren(
      ...accounts.map((a) => {
        const li = document.createElement("li");
        const button = document.createElement("button");
        button.type = "button";
        button.dataset.testid = "account-item";
        button.dataset.account = a.id;
        const label = accountLabel(a);
        const offline = a.connection?.state === "offline";
        const words = [label];
        if (a.unread > 0) words.push(`${a.unread} unread`);
        if (offline) words.push("offline");
        if (a.active) {
          button.setAttribute("aria-current", "page");
          words.push("shown now");
        }
        button.setAttribute("aria-label", words.join(", "));
        button.title = label;
        const name = document.createElement("span");
        name.className = "name";
        name.textContent = label;
        button.append(name);
        if (offline) {
          const mark = document.createElement("span");
          mark.className = "dot";
          mark.dataset.testid = "account-offline";
          button.append(mark);
        }
        if (a.unread > 0) {
          const badge = document.createElement("span");
          badge.className = "badge";
          badge.dataset.testid = "account-unread";
          badge.textContent = badgeText(a.unread);
          button.append(badge);
        }
        li.append(button);
        return li;
      }),
    );
  };

  return { render };
};
