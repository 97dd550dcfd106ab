// The admin panel (issue 18; shown only to a relay admin): invites (create single- or multi-use
// with an expiry, list, revoke, copy the invite string shown once) and users (list with role
// and state, disable / enable, reset a password (to the one typed in its field, or a random one
// shown once), promote / demote, delete after a second press). Text only; every refusal on the panel's error line.
import { createPanel, row, when } from "./panel.js";

/**
 * @typedef {import("../bridge.js").Account} Account
 * @typedef {import("../bridge.js").Invite} Invite
 * @typedef {{
 *   invites: () => Promise<Invite[]>,
 *   createInvite: (uses: number, expiresInSecs: number | null, role: "admin" | "member") => Promise<{invite: Invite, link: string}>,
 *   revokeInvite: (id: string) => Promise<void>,
 *   users: (after?: string) => Promise<{users: Account[], more: boolean}>,
 *   setDisabled: (username: string, disabled: boolean) => Promise<Account>,
 *   setRole: (username: string, role: "admin" | "member") => Promise<Account>,
 *   resetPassword: (username: string, password?: string) => Promise<string>,
 *   deleteUser: (username: string) => Promise<void>,
 * }} AdminHandlers each rejects with an Error whose message is shown
 */

/** @param {Invite} i */
const inviteText = (i) => {
  const state = i.revoked ? "revoked" : i.used >= i.uses ? "used up" : i.expires_at ? `valid until ${when(i.expires_at)}` : "never expires";
  const by = i.created_by ? ` by ${i.created_by}` : "";
  return `${i.role === "admin" ? "Admin" : "Member"} invite, ${i.used} of ${i.uses} used, ${state}; made ${when(i.created_at)}${by}`;
};

/** @param {Invite} i */
const active = (i) => !i.revoked && i.used < i.uses && !(i.expires_at && Date.parse(i.expires_at) <= Date.now());

/** @param {Account} a */
const userText = (a) => {
  const name = a.user.display_name ? `${a.user.username} (${a.user.display_name})` : a.user.username;
  return `${name}: ${a.role}${a.disabled ? ", disabled" : ""}, last seen ${when(a.last_seen)}`;
};

/** @param {HTMLElement} overlay @param {AdminHandlers} h */
export const createAdminPanel = (overlay, h) => {
  const panel = createPanel(overlay);
  const { dialog } = panel;
  const $ = (/** @type {string} */ sel) => /** @type {HTMLElement} */ (dialog.querySelector(sel));
  const inviteForm = /** @type {HTMLFormElement} */ ($('[data-form="invite"]'));
  const made = $('[data-testid="invite-made"]');
  const code = /** @type {HTMLInputElement} */ ($('[data-testid="invite-code"]'));
  const inviteList = $('[data-testid="invite-list"]');
  const userList = $('[data-testid="user-list"]');
  const moreUsers = /** @type {HTMLButtonElement} */ ($('[data-action="more-users"]'));
  const resetTo = /** @type {HTMLInputElement} */ ($('[data-testid="reset-password-value"]'));
  /** The users listed, by username, in the relay's order. @type {Map<string, Account>} */
  let users = new Map();

  const drawInvites = (/** @type {Invite[]} */ invites) => {
    inviteList.replaceChildren(
      ...invites.map((i) => {
        const li = row(inviteText(i), active(i) ? [["revoke", "Revoke", "invite-revoke"]] : []);
        li.dataset.id = i.id;
        li.dataset.testid = "invite-item";
        return li;
      }),
    );
  };

  /** @param {Account} a */
  const userRow = (a) => {
    const li = row(userText(a), [
      a.disabled ? ["enable", "Enable", "user-enable"] : ["disable", "Disable", "user-disable"],
      a.role === "admin" ? ["demote", "Make member", "user-demote"] : ["promote", "Make admin", "user-promote"],
      ["reset", "Reset password", "user-reset"],
      ["delete", "Delete", "user-delete"],
    ]);
    li.dataset.username = a.user.username;
    li.dataset.testid = "user";
    return li;
  };
  const drawUsers = () => userList.replaceChildren(...[...users.values()].map(userRow));

  const loadInvites = async () => drawInvites(await h.invites());
  /** @param {boolean} more the next page, after the last user listed */
  const loadUsers = async (more) => {
    const after = more ? [...users.keys()].at(-1) : undefined;
    const page = await h.users(after);
    if (!more) users = new Map();
    for (const a of page.users) users.set(a.user.username, a);
    moreUsers.hidden = !page.more;
    drawUsers();
  };

  inviteForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const field = (/** @type {string} */ name) => /** @type {HTMLInputElement} */ (inviteForm.querySelector(`[name="${name}"]`));
    const uses = Number.parseInt(field("uses").value || "1", 10);
    const expires = Number.parseInt(field("expires").value, 10);
    const role = field("admin").checked ? "admin" : "member";
    panel.run(async () => {
      if (!(uses >= 1)) throw new Error("An invite creates at least one account.");
      const answer = await h.createInvite(uses, Number.isFinite(expires) && expires > 0 ? expires : null, role);
      code.value = answer.link;
      made.hidden = false;
      code.focus();
      code.select?.();
      await loadInvites();
    }, "Invite created: copy it now, it is not shown again.");
  });

  $('[data-action="copy"]').addEventListener("click", async () => {
    code.select?.();
    try {
      await navigator.clipboard.writeText(code.value);
      panel.say("Copied.");
    } catch {
      panel.say("Select the invite and copy it (Ctrl+C).");
    }
  });

  inviteList.addEventListener("click", (e) => {
    const li = /** @type {HTMLElement | null} */ (/** @type {HTMLElement} */ (e.target).closest("li"));
    const id = li?.dataset.id;
    if (!id || !(/** @type {HTMLElement} */ (e.target).closest('[data-action="revoke"]'))) return;
    panel.run(async () => {
      await h.revokeInvite(id);
      await loadInvites();
    }, "Invite revoked.");
  });

  userList.addEventListener("click", (e) => {
    const button = /** @type {HTMLElement | null} */ (/** @type {HTMLElement} */ (e.target).closest("[data-action]"));
    const name = /** @type {HTMLElement | null} */ (button?.closest("li") ?? null)?.dataset.username;
    if (!button || !name) return;
    /** @param {Account} a */
    const changed = (a) => {
      users.set(a.user.username, a);
      drawUsers();
    };
    switch (button.dataset.action) {
      case "disable":
      case "enable":
        panel.run(async () => changed(await h.setDisabled(name, button.dataset.action === "disable")), `${name} is ${button.dataset.action}d.`);
        break;
      case "promote":
      case "demote": {
        const role = button.dataset.action === "promote" ? "admin" : "member";
        panel.run(async () => changed(await h.setRole(name, role)), `${name} is now ${role === "admin" ? "an admin" : "a member"}.`);
        break;
      }
      case "reset": {
        // The password typed in the field (the relay holds it to a registration's rules), or,
        // with none, a random one the relay makes.
        const chosen = resetTo.value;
        panel.run(async () => {
          const password = await h.resetPassword(name, chosen || undefined);
          if (chosen) {
            resetTo.value = "";
            panel.say(`${name}'s password is now the one you typed (their sessions were ended).`);
          } else {
            panel.say(`New password for ${name}, shown only now: ${password} (their sessions were ended).`);
          }
        });
        break;
      }
      case "delete":
        // A second press confirms: nothing of an account comes back.
        if (button.dataset.armed !== "1") {
          button.dataset.armed = "1";
          button.textContent = `Really delete ${name}?`;
          panel.say(`Deleting ${name}: they can no longer sign in and leave every room; their messages stay. Press again to delete.`);
          return;
        }
        panel.run(async () => {
          await h.deleteUser(name);
          users.delete(name);
          drawUsers();
        }, `${name} was deleted.`);
        break;
      default:
    }
  });

  moreUsers.addEventListener("click", () => panel.run(() => loadUsers(true)));

  return {
    open() {
      panel.open();
      made.hidden = true;
      code.value = "";
      resetTo.value = "";
      inviteList.replaceChildren();
      userList.replaceChildren();
      return panel.run(() => Promise.all([loadInvites(), loadUsers(false)]));
    },
    close: panel.close,
    get isOpen() {
      return panel.isOpen;
    },
  };
};
