// Helpers for the interop tests: start the real relay binary, talk to its HTTP API with fetch,
// and drive the official socket.io client with bounded waits (no sleeps anywhere).

import { spawn } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

import { io } from "socket.io-client";

/** Where `cargo build -p natter-relay` leaves the binary in this project's usual target dir. */
const FALLBACK_BIN = "/root/.cache/natter/target/debug/natter-relay";
const READY_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5_000;
/** Default bound for one wait: an ack, an event, a connect, an HTTP call. */
export const WAIT_MS = 5_000;
const READY_LINE = /^natter-relay listening on (\S+):(\d+)\s*$/;
const STDERR_KEEP = 64 * 1024;

/** Both transports the relay must serve: each test file runs its flow once per entry. */
export const TRANSPORTS = [
  { label: "websocket", transports: ["websocket"] },
  { label: "long-polling", transports: ["polling"] },
];

/** The relay binary: $NATTER_RELAY_BIN, else the usual debug build if it is there. */
export function relayBin() {
  const fromEnv = process.env.NATTER_RELAY_BIN;
  if (fromEnv) {
    if (!existsSync(fromEnv)) {
      throw new Error(`NATTER_RELAY_BIN=${fromEnv} does not exist; build it with cargo build -p natter-relay`);
    }
    return fromEnv;
  }
  if (existsSync(FALLBACK_BIN)) return FALLBACK_BIN;
  throw new Error(
    "NATTER_RELAY_BIN is not set and no relay binary at " +
      `${FALLBACK_BIN}: build it (CARGO_TARGET_DIR=/root/.cache/natter/target cargo build -p natter-relay) ` +
      "and set NATTER_RELAY_BIN to its absolute path",
  );
}

/**
 * Starts `natter-relay --bind 127.0.0.1:0` on a fresh data dir and waits (bounded) for its
 * "listening" line. Resolves to `{url, port, pid, stop, stderr, waitForStderr}`; `stop()` kills
 * it and removes the dir. `args` are added after the defaults (a repeated flag takes the last
 * value); `scheme` is the URL's ("https" when `args` turn TLS on).
 */
export async function startRelay({ args: extraArgs = [], scheme = "http" } = {}) {
  const bin = relayBin();
  const dataDir = await mkdtemp(join(tmpdir(), "natter-interop-"));
  const args = [
    "--bind", "127.0.0.1:0",
    "--data-dir", dataDir,
    // The flows register freely; registration itself is tested in server/tests/relay.
    "--registration", "open",
    "--login-per-minute", "1000",
    // Offline at once: the flow waits for it within one bounded wait.
    "--presence-grace-ms", "0",
    "--log", "warn",
    ...extraArgs,
  ];
  const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
  // If this test process dies first, do not leave the relay behind.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);

  let stderr = "";
  // Everything written to stderr since the start (uncut), for `waitForStderr`.
  let stderrSeen = 0;
  const stderrWaiters = new Set();
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk) => {
    stderr = (stderr + chunk).slice(-STDERR_KEEP);
    stderrSeen += chunk.length;
    for (const w of stderrWaiters) w();
  });
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  let exitInfo = null;
  exited.then((info) => {
    exitInfo = info;
  });

  const cleanup = async () => {
    if (exitInfo === null) {
      child.kill("SIGTERM");
      const stopped = await withTimeout(exited, STOP_TIMEOUT_MS, "relay stop").catch(() => null);
      if (stopped === null) {
        child.kill("SIGKILL");
        await withTimeout(exited, STOP_TIMEOUT_MS, "relay SIGKILL").catch(() => {});
      }
    }
    process.removeListener("exit", killOnExit);
    await rm(dataDir, { recursive: true, force: true });
  };

  let port;
  try {
    port = await new Promise((resolve, reject) => {
      let stdout = "";
      const timer = setTimeout(
        () => reject(new Error(`relay printed no "listening" line within ${READY_TIMEOUT_MS} ms; stderr:\n${stderr}`)),
        READY_TIMEOUT_MS,
      );
      child.once("error", (e) => {
        clearTimeout(timer);
        reject(new Error(`cannot start ${bin}: ${e.message}`));
      });
      exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`relay exited before listening (code ${code}, signal ${signal}); stderr:\n${stderr}`));
      });
      child.stdout.setEncoding("utf8");
      child.stdout.on("data", (chunk) => {
        stdout += chunk;
        let nl;
        while ((nl = stdout.indexOf("\n")) >= 0) {
          const line = stdout.slice(0, nl);
          stdout = stdout.slice(nl + 1);
          const m = READY_LINE.exec(line);
          if (m) {
            clearTimeout(timer);
            resolve(Number(m[2]));
          }
        }
      });
    });
  } catch (e) {
    await cleanup();
    throw e;
  }

  /**
   * Resolves when stderr written after this call matches `pattern` (within `ms`); lines
   * already written do not count, so a test can wait for the next occurrence of a log line.
   */
  const waitForStderr = (pattern, ms = WAIT_MS) => {
    const from = stderrSeen;
    let check;
    const seen = new Promise((resolve) => {
      check = () => {
        const fresh = stderr.slice(Math.max(0, stderr.length - (stderrSeen - from)));
        if (pattern.test(fresh)) resolve(fresh);
      };
      stderrWaiters.add(check);
    });
    return withTimeout(seen, ms, `relay stderr matching ${pattern}`).finally(() =>
      stderrWaiters.delete(check),
    );
  };

  return {
    port,
    pid: child.pid,
    url: `${scheme}://127.0.0.1:${port}`,
    stderr: () => stderr,
    waitForStderr,
    stop: cleanup,
  };
}

/** How long the cluster launcher may take: initdb, PostgreSQL, Redis, two nodes, nginx. */
const CLUSTER_READY_TIMEOUT_MS = 120_000;

/** The cluster launcher (natter-testkit's `natter-cluster`): $NATTER_CLUSTER_BIN, else beside the relay binary. */
export function clusterBin() {
  const bin = process.env.NATTER_CLUSTER_BIN ?? join(dirname(relayBin()), "natter-cluster");
  if (!existsSync(bin)) {
    throw new Error(
      `no cluster launcher at ${bin}: build it (cargo build -p natter-testkit --bin natter-cluster, ` +
        "in the relay binary's target dir) or set NATTER_CLUSTER_BIN",
    );
  }
  return bin;
}

/**
 * Two relay nodes on a PostgreSQL and a Redis of their own with the shipped nginx site in front,
 * started by `natter-cluster` (the relay binary must be built with `--features postgres,redis`).
 * Resolves to `{nodes: [urlA, urlB], nginx, stop}`; `stop()` closes the launcher's stdin, which
 * stops everything it started, and waits (bounded) for it to exit.
 */
export async function startCluster() {
  const child = spawn(clusterBin(), ["--relay", relayBin()], { stdio: ["pipe", "pipe", "pipe"] });
  const killOnExit = () => child.kill("SIGTERM");
  process.once("exit", killOnExit);
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk) => {
    stderr = (stderr + chunk).slice(-STDERR_KEEP);
  });
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  const stop = async () => {
    child.stdin.end();
    const gone = await withTimeout(exited, CLUSTER_READY_TIMEOUT_MS / 2, "cluster stop").catch(() => null);
    if (gone === null) child.kill("SIGKILL");
    process.removeListener("exit", killOnExit);
  };
  try {
    const ready = await new Promise((resolve, reject) => {
      let stdout = "";
      const timer = setTimeout(
        () => reject(new Error(`natter-cluster not ready within ${CLUSTER_READY_TIMEOUT_MS} ms; stderr:\n${stderr}`)),
        CLUSTER_READY_TIMEOUT_MS,
      );
      child.once("error", (e) => {
        clearTimeout(timer);
        reject(new Error(`cannot start natter-cluster: ${e.message}`));
      });
      exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`natter-cluster exited (code ${code}, signal ${signal}); stderr:\n${stderr}`));
      });
      child.stdout.setEncoding("utf8");
      child.stdout.on("data", (chunk) => {
        stdout += chunk;
        const nl = stdout.indexOf("\n");
        if (nl >= 0) {
          clearTimeout(timer);
          try {
            resolve(JSON.parse(stdout.slice(0, nl)));
          } catch (e) {
            reject(new Error(`natter-cluster printed ${stdout.slice(0, nl)}: ${e.message}`));
          }
        }
      });
    });
    return { ...ready, stop, stderr: () => stderr };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Rejects with a clear message if `promise` does not settle within `ms`. */
export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// ---------------------------------------------------------------- HTTP API

/** One JSON call; resolves to `{status, body}` (body parsed when there is one, else null). */
export async function api(url, path, { method = "POST", body, token, raw } = {}) {
  const headers = {};
  if (body !== undefined || raw !== undefined) headers["content-type"] = "application/json";
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const res = await fetch(url + path, {
    method,
    headers,
    body: raw !== undefined ? raw : body !== undefined ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(WAIT_MS * 2),
  });
  const text = await res.text();
  let parsed = null;
  if (text.length > 0) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  return { status: res.status, body: parsed, text };
}

/** A username no earlier run of the same relay has used (3–32 chars of [A-Za-z0-9_.-]). */
export function uniqueName(prefix) {
  return `${prefix}_${randomBytes(4).toString("hex")}`;
}

export const PASSWORD = "correct horse battery staple";

/** Registers a user; resolves to `{user, token, username, password}`. */
export async function register(url, username, password = PASSWORD) {
  const res = await api(url, "/api/register", { body: { username, password } });
  if (res.status !== 201) {
    throw new Error(`register ${username}: expected 201, got ${res.status} ${res.text}`);
  }
  return { ...res.body, username, password };
}

/** Logs in; resolves to the raw `{status, body}` so callers can check refusals too. */
export function login(url, username, password = PASSWORD) {
  return api(url, "/api/login", { body: { username, password } });
}

export function logout(url, token) {
  return api(url, "/api/logout", { token });
}

// ---------------------------------------------------------------- Socket.IO

function socketFor(url, auth, transports) {
  return io(url, {
    transports,
    auth,
    forceNew: true, // one Engine.IO connection per socket, like separate devices
    reconnection: false, // a test decides when to reconnect
    timeout: WAIT_MS,
  });
}

/**
 * Connects with the official client. Resolves to the socket on "connect"; rejects on
 * "connect_error" (the error's message is the relay's reason) or after `timeoutMs`.
 * `token === undefined` sends no auth at all. `setup(socket)` runs before the connection is
 * made: attach listeners there for events the relay sends right after connecting (they can
 * arrive in the same batch as the connect itself, before an `await connect(…)` resumes).
 */
export function connect(url, token, transports, { timeoutMs = WAIT_MS, setup } = {}) {
  const auth = token === undefined ? undefined : { token };
  const socket = socketFor(url, auth, transports);
  setup?.(socket);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      done();
      socket.close();
      reject(new Error(`connect (${transports}) timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    const onConnect = () => {
      done();
      resolve(socket);
    };
    const onError = (err) => {
      done();
      socket.close();
      const e = new Error(err?.message ?? String(err));
      e.cause = err;
      reject(e);
    };
    const done = () => {
      clearTimeout(timer);
      socket.off("connect", onConnect);
      socket.off("connect_error", onError);
    };
    socket.on("connect", onConnect);
    socket.on("connect_error", onError);
  });
}

/** Expects the connect to be refused; resolves to the `connect_error` message. */
export async function connectRefused(url, auth, transports, timeoutMs = WAIT_MS) {
  const socket = socketFor(url, auth, transports);
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`neither connect nor connect_error within ${timeoutMs} ms`)),
        timeoutMs,
      );
      socket.once("connect", () => {
        clearTimeout(timer);
        reject(new Error("connect succeeded, expected connect_error"));
      });
      socket.once("connect_error", (err) => {
        clearTimeout(timer);
        resolve(err.message);
      });
    });
  } finally {
    socket.close();
  }
}

/** Emits with an ack callback; resolves to the ack, rejects after `timeoutMs`. */
export async function request(socket, event, payload, timeoutMs = WAIT_MS) {
  try {
    return await socket.timeout(timeoutMs).emitWithAck(event, payload);
  } catch (e) {
    throw new Error(`no ack for "${event}" within ${timeoutMs} ms (${e.message})`);
  }
}

/** Like `request`, but the ack must be `{ok:true, …}`; resolves to it. */
export async function ok(socket, event, payload, timeoutMs = WAIT_MS) {
  const ack = await request(socket, event, payload, timeoutMs);
  if (!ack || ack.ok !== true) {
    throw new Error(`"${event}" ${JSON.stringify(payload)} was refused: ${JSON.stringify(ack)}`);
  }
  return ack;
}

/**
 * The next `name` event on `socket` whose payload satisfies `predicate`. Attach it BEFORE
 * causing the event. Rejects after `timeoutMs`.
 */
export function nextEvent(socket, name, predicate = () => true, timeoutMs = WAIT_MS) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(name, listener);
      reject(new Error(`no "${name}" event matching ${predicate} within ${timeoutMs} ms`));
    }, timeoutMs);
    const listener = (payload) => {
      let hit;
      try {
        hit = predicate(payload);
      } catch (e) {
        hit = false;
      }
      if (hit) {
        clearTimeout(timer);
        socket.off(name, listener);
        resolve(payload);
      }
    };
    socket.on(name, listener);
  });
}

/** Resolves when `socket` fires "disconnect" (to the reason), rejects after `timeoutMs`. */
export function nextDisconnect(socket, timeoutMs = WAIT_MS) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no "disconnect" within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.once("disconnect", (reason) => {
      clearTimeout(timer);
      resolve(reason);
    });
  });
}

/**
 * Records every relay → client event the socket receives, in order: `[{event, payload}]`.
 * Used to check that something did NOT arrive before a later "barrier" event did.
 */
export function recordEvents(socket) {
  const log = [];
  socket.onAny((event, payload) => log.push({ event, payload }));
  return log;
}

/**
 * The first `name` event matching `predicate` that `log` (from `recordEvents`) already holds,
 * or else the next one `socket` receives (bounded like `nextEvent`).
 */
export function seenOrNext(socket, log, name, predicate = () => true, timeoutMs = WAIT_MS) {
  const seen = log.find((e) => e.event === name && predicate(e.payload));
  return seen ? Promise.resolve(seen.payload) : nextEvent(socket, name, predicate, timeoutMs);
}

/** Closes sockets (closing one that is already closed does nothing). */
export function closeAll(...sockets) {
  for (const s of sockets) s?.close();
}

export const newClientId = () => randomUUID();
