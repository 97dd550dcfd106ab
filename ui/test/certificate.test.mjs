// An https relay's certificate on the sign-in screen: the fingerprint prompt with "Trust this
// certificate" (which pins it and signs in again), and the changed-certificate warning with both
// fingerprints and nothing to accept; all shown as text.
import { test } from "node:test";
import assert from "node:assert/strict";
import { boot, settle, signedIn, XSS } from "./page.mjs";

const FP = "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89";
const OTHER = "10:32:54:76:98:BA:DC:FE:10:32:54:76:98:BA:DC:FE:10:32:54:76:98:BA:DC:FE:10:32:54:76:98:BA:DC:FE";
const URL = "https://192.168.1.20:7447";

const firstRun = (extra) => ({
  ...signedIn(),
  resume: null,
  connection_state: { state: "offline", reason: "signed_out" },
  host_locally: { address: "127.0.0.1:7447", url: "http://127.0.0.1:7447", others_can_connect: false },
  ...extra,
});

const signIn = async (ui) => {
  ui.$('[data-testid="login-server"]').value = URL;
  ui.$('[data-testid="login-username"]').value = "alice";
  ui.$('[data-testid="login-password"]').value = "correct horse";
  ui.$('[data-testid="login-submit"]').click();
  await settle();
};

test("an untrusted certificate: its fingerprint, then Trust pins it and signs in", async () => {
  let pinned = null;
  const ui = await boot(
    firstRun({
      login: ({ username }) =>
        pinned === FP
          ? { id: "u1", username }
          : { reject: { code: "certificate_untrusted", message: "not trusted", fingerprint: FP } },
      trust_certificate: ({ fingerprint }) => {
        pinned = fingerprint;
        return null;
      },
    }),
  );
  const prompt = ui.$('[data-testid="login-certificate"]');
  assert.equal(prompt.hidden, true, "nothing before a problem");
  await signIn(ui);
  assert.equal(prompt.hidden, false);
  assert.equal(ui.$('[data-testid="certificate-fingerprint"]').textContent, FP);
  assert.match(ui.$("#login-certificate-text").textContent, /does not trust.*fingerprint/);
  assert.equal(ui.$('[data-testid="trust-certificate"]').hidden, false);
  assert.equal(ui.$("#chat-screen").hidden, true, "not signed in yet");
  assert.deepEqual(ui.called("trust_certificate"), [], "nothing trusted without the click");

  ui.$('[data-testid="trust-certificate"]').click();
  await settle();
  assert.deepEqual(ui.called("trust_certificate"), [{ server_url: URL, fingerprint: FP }]);
  assert.equal(ui.called("login").length, 2, "the same sign-in again");
  assert.deepEqual(ui.called("login")[1], { server_url: URL, username: "alice", password: "correct horse" });
  assert.equal(ui.$("#chat-screen").hidden, false);
  assert.equal(ui.$('[data-testid="login-password"]').value, "", "the password is not kept in the form");
});

test("a changed certificate: a warning naming both fingerprints, and no way to accept it", async () => {
  const ui = await boot(
    firstRun({
      login: { reject: { code: "certificate_changed", message: "changed", pinned: FP, presented: XSS } },
    }),
  );
  await signIn(ui);
  const prompt = ui.$('[data-testid="login-certificate"]');
  assert.equal(prompt.hidden, false);
  assert.match(ui.$("#login-certificate-text").textContent, /Warning: the relay's certificate changed/);
  assert.equal(ui.$('[data-testid="certificate-fingerprint"]').textContent, FP);
  const presented = ui.$('[data-testid="certificate-presented"]');
  assert.equal(presented.textContent, XSS, "relay-supplied text stays text");
  assert.equal(prompt.querySelectorAll("img").length + prompt.querySelectorAll("script").length, 0);
  assert.equal(ui.$('[data-testid="trust-certificate"]').hidden, true);
  ui.$('[data-testid="trust-certificate"]').click();
  await settle();
  assert.deepEqual(ui.called("trust_certificate"), [], "never re-pinned");
  assert.equal(ui.$("#chat-screen").hidden, true);

  // Typing another address clears the warning: it was about the old one.
  const server = ui.$('[data-testid="login-server"]');
  server.value = "https://chat.example.org";
  server.dispatch("input");
  assert.equal(prompt.hidden, true);
});

test("a running session whose relay changed its certificate returns to sign-in with the warning", async () => {
  const ui = await boot(signedIn());
  await ui.emit([
    {
      type: "connection",
      state: { state: "offline", reason: "certificate", certificate: { kind: "changed", pinned: FP, presented: OTHER } },
    },
  ]);
  assert.equal(ui.$("#login-screen").hidden, false);
  assert.equal(ui.$("#chat-screen").hidden, true);
  assert.equal(ui.$('[data-testid="certificate-fingerprint"]').textContent, FP);
  assert.equal(ui.$('[data-testid="certificate-presented"]').textContent, OTHER);
  assert.equal(ui.$('[data-testid="trust-certificate"]').hidden, true);
});
