// The account and the relay's people (issue 18), the controller's side: our role (asked at
// sign-in and whenever the connection comes back, so a promotion or demotion shows at the
// latest on reconnect), the account settings' and the admin panel's commands. Each refusal
// becomes an Error whose message the panel shows.
import * as store from "./store.js";
import { errorText } from "./format.js";

/**
 * @param {{
 *   bridge: typeof import("./bridge.js"),
 *   get: () => import("./store.js").State,
 *   set: (state: import("./store.js").State) => void,
 *   render: () => void,
 *   signedOut: () => void,
 * }} deps
 */
export const createPeople = ({ bridge, get, set, render, signedOut }) => {
  /** A command whose refusal is an Error with the text to show. @template T @param {Promise<T>} call */
  const shown = (call) => call.catch((error) => Promise.reject(new Error(errorText(error))));

  /** Asks the relay who we are now; offline, the role stays what it was. */
  const refreshRole = async () => {
    const asked = get().me;
    try {
      const account = await bridge.ownAccount();
      if (get().me === asked && asked) set(store.setAdmin(get(), account.role === "admin"));
    } catch (error) {
      // A relay from before `account:me` answers `invalid` (an unknown request): a member.
      const code = /** @type {{code?: string}} */ (error ?? {}).code;
      if (code === "invalid" || code === "forbidden") set(store.setAdmin(get(), false));
    }
    render();
  };

  /** @type {import("./views/settings.js").SettingsHandlers} */
  const settings = {
    load: async () => {
      const [account, sessions] = await shown(Promise.all([bridge.ownAccount(), bridge.sessions()]));
      set(store.setAdmin(get(), account.role === "admin"));
      render();
      return { account, sessions };
    },
    setDisplayName: (name) => shown(bridge.setDisplayName(name)),
    changePassword: (current, next) => shown(bridge.changePassword(current, next)),
    endSession: (id) => shown(bridge.endSession(id)),
    deleteAccount: async (password) => {
      await shown(bridge.deleteAccount(password));
      signedOut();
    },
  };

  /** @type {import("./views/admin.js").AdminHandlers} */
  const admin = {
    invites: () => shown(bridge.invites()),
    createInvite: (uses, expires, role) => shown(bridge.createInvite(uses, expires, role)),
    revokeInvite: (id) => shown(bridge.revokeInvite(id)),
    users: (after) => shown(bridge.users(after)),
    setDisabled: (username, disabled) => shown(bridge.setDisabled(username, disabled)),
    setRole: async (username, role) => {
      const account = await shown(bridge.setRole(username, role));
      // Demoting ourselves: the panel goes with the power.
      if (username === get().me) await refreshRole();
      return account;
    },
    resetPassword: (username, password) => shown(bridge.resetPassword(username, password)),
    deleteUser: (username) => shown(bridge.deleteUser(username)),
  };

  return { refreshRole, settings, admin };
};
