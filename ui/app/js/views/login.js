// The sign-in screen: server, username, password; Log in and Register.

/**
 * @typedef {{server_url: string, username: string, password: string}} Credentials
 * @param {HTMLElement} screen
 * @param {{onSubmit: (mode: "login" | "register", creds: Credentials) => Promise<boolean>}} handlers
 *   onSubmit resolves true when signed in (the password is then cleared from the form)
 */
export const createLoginView = (screen, { onSubmit }) => {
  const form = /** @type {HTMLFormElement} */ (screen.querySelector("#login-form"));
  const server = /** @type {HTMLInputElement} */ (screen.querySelector('[data-testid="login-server"]'));
  const username = /** @type {HTMLInputElement} */ (screen.querySelector('[data-testid="login-username"]'));
  const password = /** @type {HTMLInputElement} */ (screen.querySelector('[data-testid="login-password"]'));
  const hosting = /** @type {HTMLElement} */ (screen.querySelector("#hosting"));
  const error = /** @type {HTMLElement} */ (screen.querySelector("#login-error"));
  const buttons = /** @type {HTMLButtonElement[]} */ ([...screen.querySelectorAll("button")]);

  /** @param {"login" | "register"} mode */
  const submit = async (mode) => {
    error.textContent = "";
    const creds = { server_url: server.value.trim(), username: username.value.trim(), password: password.value };
    if (!creds.server_url || !creds.username || !creds.password) {
      error.textContent = "Server address, username and password are all needed.";
      return;
    }
    buttons.forEach((b) => (b.disabled = true));
    try {
      if (await onSubmit(mode, creds)) password.value = "";
    } finally {
      buttons.forEach((b) => (b.disabled = false));
    }
  };

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    submit("login");
  });
  screen.querySelector('[data-testid="register-submit"]')?.addEventListener("click", () => submit("register"));

  return {
    /** @param {{server?: string, hostingNote?: string, error?: string}} [opts] */
    show(opts = {}) {
      if (opts.server && !server.value) server.value = opts.server;
      hosting.textContent = opts.hostingNote ?? "";
      error.textContent = opts.error ?? "";
      screen.hidden = false;
      (server.value ? username : server).focus();
    },
    hide() {
      screen.hidden = true;
    },
    /** @param {string} text */
    setError(text) {
      error.textContent = text;
    },
  };
};
