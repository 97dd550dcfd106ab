// TLS interop: the official socket.io client against `natter-relay --tls-cert/--tls-key`, over
// WSS and HTTPS long-polling; a certificate from another CA refused; SIGHUP rotation with
// clients staying connected; a bad file at SIGHUP keeping the old certificate.
//
// Not a *.test.mjs file: it needs certificates, which the Rust test server/tests/tls/main.rs
// makes (rcgen) and passes in $NATTER_TLS_DIR, trusting their CA through NODE_EXTRA_CA_CERTS.
// Run by it as `node --test tls_flow.mjs`.

import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { connect as tlsConnect } from "node:tls";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";

import {
  api,
  closeAll,
  connect,
  connectRefused,
  newClientId,
  nextEvent,
  ok,
  register,
  startRelay,
  uniqueName,
  WAIT_MS,
  withTimeout,
} from "./relay.mjs";

const DIR = process.env.NATTER_TLS_DIR;
if (!DIR) throw new Error("NATTER_TLS_DIR is not set: run this file through `cargo test -p natter-relay --test tls`");
const pem = (name) => join(DIR, name);

/** The SHA-256 fingerprint (AB:CD:… as node prints it) of the certificate in `file`. */
async function fingerprintOf(file) {
  return new X509Certificate(await readFile(file)).fingerprint256;
}

/** The fingerprint of the certificate a NEW connection to `port` is shown (not verified here). */
function servedFingerprint(port) {
  const seen = new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: "127.0.0.1", port, servername: "localhost", rejectUnauthorized: false }, () => {
      const fp = socket.getPeerCertificate().fingerprint256;
      socket.end();
      resolve(fp);
    });
    socket.once("error", reject);
  });
  return withTimeout(seen, WAIT_MS, "TLS handshake for the served certificate");
}

/** Starts a relay on copies of `stem`'s files (the test may overwrite them); `{relay, cert, key, dir}`. */
async function startTlsRelay(stem) {
  const dir = await mkdtemp(join(tmpdir(), "natter-tls-"));
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  await copyFile(pem(`${stem}-cert.pem`), cert);
  await copyFile(pem(`${stem}-key.pem`), key);
  const relay = await startRelay({
    scheme: "https",
    // info: the reload lines the rotation test waits for.
    args: ["--tls-cert", cert, "--tls-key", key, "--log", "warn,natter_relay::tls=info"],
  });
  return { relay, cert, key, dir };
}

/** alice sends in general; bob's socket must receive it (both directions of both sockets move). */
async function exchange(aliceSocket, bobSocket, body) {
  const bobHears = nextEvent(bobSocket, "message", (p) => p.message.body === body);
  const ack = await ok(aliceSocket, "message:send", { room_id: "general", client_id: newClientId(), body });
  assert.deepEqual((await bobHears).message, ack.message);
}

const TRANSPORTS = [
  { label: "WSS", transports: ["websocket"] },
  // Long-polling only: no upgrade, every packet is an HTTPS request.
  { label: "HTTPS long-polling", transports: ["polling"] },
];

describe("TLS: the official client over WSS and HTTPS long-polling", { timeout: 60_000 }, () => {
  let tls;
  const sockets = [];
  before(async () => {
    tls = await startTlsRelay("a");
  });
  after(async () => {
    closeAll(...sockets);
    await tls?.relay.stop();
    await rm(tls?.dir ?? "", { recursive: true, force: true });
  });

  for (const { label, transports } of TRANSPORTS) {
    it(`${label}: register over HTTPS, connect, and a message crosses`, async () => {
      const url = tls.relay.url;
      assert.ok(url.startsWith("https://"));
      const health = await api(url, "/healthz", { method: "GET" });
      assert.equal(health.status, 200);
      const [alice, bob] = await Promise.all([
        register(url, uniqueName("alice")),
        register(url, uniqueName("bob")),
      ]);
      const [a, b] = await Promise.all([connect(url, alice.token, transports), connect(url, bob.token, transports)]);
      sockets.push(a, b);
      assert.equal(a.io.engine.transport.name, transports[0]);
      await exchange(a, b, `hello over ${label}`);
      await exchange(b, a, `and back over ${label}`);
    });
  }

  it("plain HTTP on the TLS port gets no answer", async () => {
    const res = await fetch(`http://127.0.0.1:${tls.relay.port}/healthz`, { signal: AbortSignal.timeout(WAIT_MS) }).then(
      (r) => r.status,
      (e) => e,
    );
    assert.ok(res instanceof Error, `expected a failure, got status ${res}`);
  });
});

describe("TLS: a certificate from another CA is refused", { timeout: 30_000 }, () => {
  let tls;
  before(async () => {
    tls = await startTlsRelay("other");
  });
  after(async () => {
    await tls?.relay.stop();
    await rm(tls?.dir ?? "", { recursive: true, force: true });
  });

  it("HTTPS API calls fail certificate verification", async () => {
    const err = await fetch(`${tls.relay.url}/healthz`, { signal: AbortSignal.timeout(WAIT_MS) }).then(
      (r) => assert.fail(`expected a TLS failure, got status ${r.status}`),
      (e) => e,
    );
    assert.match(String(err.cause?.code), /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|CERT/, String(err.cause));
  });

  for (const { label, transports } of TRANSPORTS) {
    it(`${label}: the socket does not connect`, async () => {
      const message = await connectRefused(tls.relay.url, { token: "x" }, transports);
      assert.match(message, /error/);
    });
  }

  it("the same relay is accepted by a client that trusts the other CA (the refusal was the certificate)", async () => {
    const ca = await readFile(pem("other-ca.pem"));
    const authorized = await withTimeout(
      new Promise((resolve, reject) => {
        const s = tlsConnect({ host: "127.0.0.1", port: tls.relay.port, servername: "localhost", ca }, () => {
          resolve(s.authorized);
          s.end();
        });
        s.once("error", reject);
      }),
      WAIT_MS,
      "handshake trusting the other CA",
    );
    assert.equal(authorized, true);
  });
});

describe("TLS: SIGHUP rotates the certificate for new connections; open ones stay", { timeout: 60_000 }, () => {
  let tls;
  const sockets = [];
  before(async () => {
    tls = await startTlsRelay("a");
  });
  after(async () => {
    closeAll(...sockets);
    await tls?.relay.stop();
    await rm(tls?.dir ?? "", { recursive: true, force: true });
  });

  it("rotation, then a bad file that is not taken", async () => {
    const { relay } = tls;
    const [fpA, fpB] = [await fingerprintOf(pem("a-cert.pem")), await fingerprintOf(pem("b-cert.pem"))];
    assert.notEqual(fpA, fpB);
    assert.equal(await servedFingerprint(relay.port), fpA);

    const [alice, bob] = await Promise.all([
      register(relay.url, uniqueName("alice")),
      register(relay.url, uniqueName("bob")),
    ]);
    // One of each transport, both opened before the rotation.
    const [a, b] = await Promise.all([
      connect(relay.url, alice.token, ["websocket"]),
      connect(relay.url, bob.token, ["polling"]),
    ]);
    sockets.push(a, b);
    await exchange(a, b, "before the rotation");

    await copyFile(pem("b-cert.pem"), tls.cert);
    await copyFile(pem("b-key.pem"), tls.key);
    const reloaded = relay.waitForStderr(/TLS certificate reloaded/);
    process.kill(relay.pid, "SIGHUP");
    await reloaded;

    assert.equal(await servedFingerprint(relay.port), fpB, "a new connection sees the new certificate");
    await exchange(a, b, "after the rotation, on the old connections");
    await exchange(b, a, "and the other way");
    assert.ok(a.connected && b.connected);
    const c = await connect(relay.url, alice.token, ["websocket"]);
    sockets.push(c);
    await exchange(c, b, "a new socket under the new certificate");

    // A bad pair at the next SIGHUP: logged, the previous certificate kept.
    await writeFile(tls.cert, "not a certificate\n");
    const refused = relay.waitForStderr(/TLS certificate not reloaded/);
    process.kill(relay.pid, "SIGHUP");
    const line = await refused;
    assert.match(line, /no certificate/);
    assert.equal(await servedFingerprint(relay.port), fpB, "the previous certificate stays");
    await exchange(a, b, "after the bad reload");
  });
});

describe("TLS: unusable files stop the relay at start with the reason", { timeout: 30_000 }, () => {
  it("a key that is not the certificate's", async () => {
    const err = await startRelay({
      args: ["--tls-cert", pem("a-cert.pem"), "--tls-key", pem("b-key.pem")],
    }).then(
      async (relay) => {
        await relay.stop();
        assert.fail("the relay started with a key that does not match its certificate");
      },
      (e) => e,
    );
    assert.match(err.message, /exited before listening/);
    assert.match(err.message, /TLS: the certificate .* and the key .* cannot be used together/);
  });
});
