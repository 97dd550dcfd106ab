// The sign-in screen: server, username, password; Log in and Register. The address typed is
// completed (format.js `serverAddress`), and http:// to another computer shows a warning before
// anything is sent. When this computer hosts a relay, a checkbox lets other computers connect
// to it: the only way the page asks the shell to host beyond loopback. An https relay whose
// certificate this computer does not trust shows its fingerprint with "Trust this certificate";
// one whose pinned certificate changed shows both fingerprints and no way to accept it here.
// An invite pasted into its field (or into the server field) is read by the shell (`onInvite`:
// the protocol's one parser, no second one here): its server fills the server field, its code
// stays in the invite field, and Register sends it. Opened to add an account while others are
// signed in, or when the shown account's saved sign-in is refused while others are signed in, it
// has a way back to them (login-cancel).
import { errorText, serverAddress } from "../format.js";

/**
 * @typedef {{server_url: string, username: string, password: string, invite?: string}} Credentials
 * @typedef {{address: string, url: string, others_can_connect: boolean}} Hosted
 * @param {HTMLElement} screen
 * @param {{
 *   onSubmit: (mode: "login" | "register", creds: Credentials) => Promise<boolean>,
 *   onLetOthersConnect: (allow: boolean) => Promise<Hosted>,
 *   onInvite: (text: string) => Promise<{server_url: string | null, code: string}>,
 *   onCancel: () => void,
 * }} handlers onSubmit resolves true when signed in (the password is then cleared from the form);
 *   onLetOthersConnect re-hosts and says where; onCancel goes back to the accounts signed in
 */
export const createLoginView = (screen, { onSubmit, onLetOthersConnect, onInvite, onCancel }) => {
  const form = /** @type {HTMLFormElement} */ (screen.querySelector("#login-form"));
  const server = /** @type {HTMLInputElement} */ (screen.querySelector('[data-testid="login-server"]'));
  const username = /** @type {HTMLInputElement} */ (screen.querySelector('[data-testid="login-username"]'));
  const password = /** @type {HTMLInputElement} */ (screen.querySelector('[data-testid="login-password"]'));
  const invite = /** @type {HTMLInputElement} */ (screen.querySelector('[data-testid="login-invite"]'));
  const cleartext = /** @type {HTMLElement} */ (screen.querySelector("#login-cleartext"));
  const hosting = /** @type {HTMLElement} */ (screen.querySelector("#hosting"));
  const share = /** @type {HTMLElement} */ (screen.querySelector("#hosting-share"));
  const shareBox = /** @type {HTMLInputElement} */ (screen.querySelector('[data-testid="hosting-share"]'));
  const error = /** @type {HTMLElement} */ (screen.querySelector("#login-error"));
  const buttons = /** @type {HTMLButtonElement[]} */ ([...screen.querySelectorAll("button")]);
  const certificate = /** @type {HTMLElement} */ (screen.querySelector("#login-certificate"));
  const certificateText = /** @type {HTMLElement} */ (screen.querySelector("#login-certificate-text"));
  const fingerprint = /** @type {HTMLElement} */ (screen.querySelector("#certificate-fingerprint"));
  const presented = /** @type {HTMLElement} */ (screen.querySelector("#certificate-presented"));
  const trustButton = /** @type {HTMLButtonElement} */ (screen.querySelector('[data-testid="trust-certificate"]'));
  const cancel = /** @type {HTMLButtonElement} */ (screen.querySelector('[data-testid="login-cancel"]'));
  cancel.addEventListener("click", () => onCancel());
  /** What "Trust this certificate" does; resolves true once signed in. @type {(() => Promise<boolean>) | null} */
  let onTrust = null;

  const hideCertificate = () => {
    certificate.hidden = true;
    onTrust = null;
    certificateText.textContent = fingerprint.textContent = presented.textContent = "";
  };

  /** Shows the cleartext warning for what the server field holds; says whether it applies. */
  const warnIfCleartext = () => {
    const { url, cleartext: clear } = serverAddress(server.value);
    cleartext.textContent = clear
      ? `${url} is not encrypted (http://): your password and messages would cross the network in clear. ` +
        "Use https://, or press again to connect anyway on a network you trust."
      : "";
    cleartext.hidden = !clear;
    return clear;
  };

  /** @param {Hosted | undefined} hosted */
  const showHosting = (hosted) => {
    share.hidden = !hosted;
    if (!hosted) {
      hosting.textContent = "";
      return;
    }
    shareBox.checked = hosted.others_can_connect;
    const port = hosted.url.slice(hosted.url.lastIndexOf(":") + 1);
    hosting.textContent = hosted.others_can_connect
      ? `This computer hosts a relay at ${hosted.url}; other computers on this network can connect to it at this computer's address, port ${port}.`
      : `This computer hosts a relay at ${hosted.url}: register there, or enter another server.`;
  };

  /** Which reading of a pasted invite is the latest (an older answer arriving late is dropped). */
  let inviteRead = 0;
  /**
   * Reads the text of `field` as an invite: an invite string fills the server field and leaves
   * its code in the invite field, unless the field changed meanwhile (still being typed). Says
   * whether it was one; `quiet`: a text that is not stays as typed, without a word.
   * @param {HTMLInputElement} field @param {boolean} quiet
   */
  const readInvite = async (field, quiet) => {
    const mine = ++inviteRead;
    const text = field.value;
    try {
      const read = await onInvite(text);
      if (mine !== inviteRead) return false;
      // A bare code stays as typed (rewriting the field would move the caret).
      if (read.server_url && field.value === text) {
        server.value = read.server_url;
        invite.value = read.code;
        warnIfCleartext();
        hideCertificate();
      }
      return true;
    } catch (e) {
      if (mine === inviteRead && !quiet) error.textContent = errorText(e);
      return false;
    }
  };

  /** @param {"login" | "register"} mode */
  const submit = async (mode) => {
    error.textContent = "";
    hideCertificate();
    // The cleartext warning counts only if it was on screen, for this address, before the press.
    const [warnedBefore, serverBefore] = [!cleartext.hidden, server.value];
    // Registering with an invite typed or pasted just now: its server first, whatever came
    // of reading it as it was typed.
    if (server.value.trim().startsWith("natter:") && !(await readInvite(server, false))) return;
    if (mode === "register" && invite.value.trim() && !(await readInvite(invite, false))) return;
    const { url } = serverAddress(server.value);
    /** @type {Credentials} */
    const creds = { server_url: url, username: username.value.trim(), password: password.value };
    if (mode === "register" && invite.value.trim()) creds.invite = invite.value.trim();
    if (!server.value.trim() || !creds.username || !creds.password) {
      error.textContent = "Server address, username and password are all needed.";
      return;
    }
    if (!url) {
      error.textContent = "The server address is a web address, like https://chat.example.org or 192.168.1.20:7447.";
      return;
    }
    server.value = url;
    // In clear to another computer: only once the warning was on screen before this press.
    const warned = warnedBefore && serverAddress(serverBefore).url === url;
    if (warnIfCleartext() && !warned) return;
    buttons.forEach((b) => (b.disabled = true));
    try {
      if (await onSubmit(mode, creds)) password.value = invite.value = "";
    } finally {
      buttons.forEach((b) => (b.disabled = false));
    }
  };

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    submit("login");
  });
  screen.querySelector('[data-testid="register-submit"]')?.addEventListener("click", () => submit("register"));
  server.addEventListener("input", () => {
    // An invite pasted where the address goes: the shell reads it (the prefix is only a cue).
    if (server.value.trim().startsWith("natter:")) readInvite(server, true);
    warnIfCleartext();
    hideCertificate(); // it was about the address that was there
  });
  invite.addEventListener("input", () => {
    error.textContent = "";
    if (invite.value.trim()) readInvite(invite, true);
  });
  trustButton.addEventListener("click", async () => {
    const trust = onTrust;
    if (!trust) return;
    buttons.forEach((b) => (b.disabled = true));
    try {
      if (await trust()) password.value = "";
    } finally {
      buttons.forEach((b) => (b.disabled = false));
    }
  });
  shareBox.addEventListener("change", async () => {
    const allow = shareBox.checked;
    shareBox.disabled = true;
    error.textContent = "";
    try {
      showHosting(await onLetOthersConnect(allow));
    } catch (e) {
      shareBox.checked = !allow;
      error.textContent = errorText(e);
    } finally {
      shareBox.disabled = false;
    }
  });

  return {
    /**
     * `adding`: another account, with a way back to those signed in; `back`: this account signed
     * in again, with a way back to the others. @param {{server?: string, hosted?: Hosted, error?: string, adding?: boolean, back?: boolean, certificate?: {kind: "untrusted", fingerprint: string} | {kind: "changed", pinned: string, presented: string}}} [opts] */
    show(opts = {}) {
      if (opts.server && !server.value) server.value = opts.server;
      cancel.hidden = !opts.adding && !opts.back;
      // Another account: the last one's name and any text left in the form are not its.
      if (opts.adding) username.value = password.value = invite.value = "";
      showHosting(opts.hosted);
      warnIfCleartext();
      error.textContent = opts.error ?? "";
      if (opts.certificate) this.showCertificate(opts.certificate);
      screen.hidden = false;
      (server.value ? username : server).focus();
    },
    hide() {
      screen.hidden = true;
      hideCertificate();
    },
    /**
     * Shows a relay certificate problem (all text as text, never markup): `untrusted` with its
     * fingerprint and "Trust this certificate" (which calls `trust`), or `changed` with the
     * pinned and the presented fingerprints and nothing to press.
     * @param {{kind: "untrusted", fingerprint: string} | {kind: "changed", pinned: string, presented: string}} problem
     * @param {() => Promise<boolean>} [trust] without it (a problem met by the running session),
     *   there is nothing to press: signing in again asks
     */
    showCertificate(problem, trust) {
      error.textContent = "";
      certificate.hidden = false;
      if (problem.kind === "untrusted") {
        certificateText.textContent =
          "This computer does not trust the relay's certificate. If it is a relay you know (your own, or one on " +
          "this network), check that its SHA-256 fingerprint below is the one its owner gives you, then trust it:";
        fingerprint.textContent = problem.fingerprint;
        presented.textContent = "";
        presented.hidden = true;
        trustButton.hidden = !trust;
        onTrust = trust ?? null;
      } else {
        certificateText.textContent =
          "Warning: the relay's certificate changed since you trusted it. Someone may be intercepting the " +
          "connection, or the relay's owner replaced the certificate: ask them before going on. Nothing was " +
          "sent. Trusted before, then shown now:";
        fingerprint.textContent = problem.pinned;
        presented.textContent = problem.presented;
        presented.hidden = false;
        trustButton.hidden = true;
        onTrust = null;
      }
    },
    /** @param {string} text */
    setError(text) {
      error.textContent = text;
    },
  };
};
