// Starts and stops everything an end-to-end run needs, all owned by the test: an Xvfb display,
// a notification daemon (dunst) with dbus-monitor recording Notify calls, one natter-relay on a
// fixed loopback port (so it can be killed and restarted on the same data), and per app window a
// tauri-driver (its own --port / --native-port) starting natter-desktop with its own data home.
// Runs inside `dbus-run-session` (the session bus the apps and dunst share).
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, mkdirSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Session, waitFor } from "./webdriver.mjs";

const ROOT = resolve(import.meta.dirname, "..");
const TARGET = process.env.CARGO_TARGET_DIR ?? join(process.env.HOME ?? "/root", ".cache/natter/target");
export const DESKTOP_BIN = process.env.NATTER_DESKTOP_BIN ?? join(TARGET, "debug/natter-desktop");
export const RELAY_BIN = process.env.NATTER_RELAY_BIN ?? join(TARGET, "debug/natter-relay");
export const SHOTS = join(ROOT, "target/e2e");

/** A free loopback port (bound, then released). */
export const freePort = () =>
  new Promise((res, rej) => {
    const srv = createServer();
    srv.once("error", rej);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = /** @type {import("node:net").AddressInfo} */ (srv.address());
      srv.close(() => res(port));
    });
  });

/** Everything started, stopped in reverse order by `stopAll`. */
const started = [];

/**
 * Starts `cmd` as part of the run (stopped by `stopAll`), its output kept for `logs`.
 * @param {string} cmd @param {string[]} args @param {{env?: Record<string, string>, log?: string}} [opts]
 */
export const start = (cmd, args, { env = {}, log } = {}) => {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const out = { text: "" };
  const keep = (/** @type {Buffer} */ b) => {
    out.text += b.toString();
    if (out.text.length > 2_000_000) out.text = out.text.slice(-1_000_000);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  child.on("error", (e) => (out.text += `\nspawn error: ${e.message}\n`));
  const entry = { name: log ?? cmd, child, out };
  started.push(entry);
  return entry;
};

export const stopAll = async () => {
  for (const { child } of started.reverse()) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
  }
  await Promise.all(
    started.map(
      ({ child }) =>
        new Promise((r) => {
          if (child.exitCode !== null || child.signalCode !== null) return r(undefined);
          const t = setTimeout(() => (child.kill("SIGKILL"), r(undefined)), 5000);
          child.once("exit", () => (clearTimeout(t), r(undefined)));
        }),
    ),
  );
  // A grandchild that outlived its parent (a daemon a session started) may hold the other end
  // of these pipes: close ours, or the test process never ends.
  for (const { child } of started) {
    child.stdout?.destroy();
    child.stderr?.destroy();
  }
  started.length = 0;
  if (!process.env.NATTER_E2E_KEEP) for (const dir of homes.splice(0)) rmSync(dir, { recursive: true, force: true });
};

/** The apps' temporary data homes, removed by `stopAll` (kept with NATTER_E2E_KEEP=1). */
const homes = [];

/** The apps' own log files (WebKitWebDriver does not pass their output on). */
const appLogs = [];

/** Logs of everything started, for a failing test's message. */
export const logs = () =>
  [
    ...started.map(({ name, out }) => `---- ${name}\n${out.text.slice(-4000)}`),
    ...appLogs.map((file) => `---- ${file}\n${existsSync(file) ? readFileSync(file, "utf8").slice(-6000) : "(none)"}`),
  ].join("\n");

/** An Xvfb display; resolves to its DISPLAY string. */
export const startDisplay = async () => {
  const x = start("Xvfb", ["-displayfd", "1", "-screen", "0", "1600x900x24", "-nolisten", "tcp"], { log: "Xvfb" });
  const num = await waitFor(async () => /^(\d+)\s*$/m.exec(x.out.text)?.[1], "Xvfb to report its display", 15_000);
  return `:${num}`;
};

/** dunst as the notification daemon, and dbus-monitor recording every Notify call. */
export const startNotifications = async (display) => {
  if (!process.env.DBUS_SESSION_BUS_ADDRESS) throw new Error("run inside dbus-run-session: no session bus");
  const monitor = start("dbus-monitor", ["--session", "type='method_call',interface='org.freedesktop.Notifications',member='Notify'"], { log: "dbus-monitor" });
  start("dunst", [], { env: { DISPLAY: display }, log: "dunst" });
  await waitFor(async () => monitor.out.text.includes("signal") || monitor.out.text.length > 0, "dbus-monitor to start", 10_000).catch(() => {});
  return {
    /** What dbus-monitor printed of each Notify call so far (its string arguments), in order. */
    calls: () => monitor.out.text.split(/^method call /m).filter((c) => c.includes("member=Notify")),
  };
};

/**
 * The relay: `start()` (again after `kill()`) on one port and one data dir.
 * @param {string[]} [extra] more relay flags (e.g. raised rate limits for a benchmark)
 */
export const relay = async (extra = []) => {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), "natter-e2e-relay-"));
  let proc = null;
  const url = `http://127.0.0.1:${port}`;
  const healthy = async () => (await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) })).ok;
  return {
    url,
    dataDir,
    async start() {
      // Open registration unless the test names its own policy.
      const registration = extra.includes("--registration") ? [] : ["--registration", "open"];
      proc = start(RELAY_BIN, ["--bind", `127.0.0.1:${port}`, "--data-dir", dataDir, "--log", "warn", ...registration, ...extra], { log: "natter-relay" });
      await waitFor(healthy, "the relay's /healthz", 30_000);
    },
    /** kill -9: no goodbye to anyone. */
    async kill() {
      if (!proc) return;
      const child = proc.child;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGKILL");
      await exited;
      proc = null;
    },
    cleanup: () => rmSync(dataDir, { recursive: true, force: true }),
  };
};

/**
 * One app window: a tauri-driver on its own ports starting natter-desktop with a fresh data home
 * (so the profile, the cache and the outbox are this test's alone), or `home` again to restart it.
 * @param {string} name @param {string} display
 * @param {{bin?: string, home?: string}} [opts]
 */
export const app = async (name, display, { bin = DESKTOP_BIN, home: again } = {}) => {
  const port = await freePort();
  const nativePort = await freePort();
  const home = again ?? mkdtempSync(join(tmpdir(), `natter-e2e-${name}-`));
  if (!again) homes.push(home);
  start("tauri-driver", ["--port", String(port), "--native-port", String(nativePort)], {
    env: {
      DISPLAY: display,
      XDG_DATA_HOME: join(home, "data"),
      XDG_CONFIG_HOME: join(home, "config"),
      XDG_CACHE_HOME: join(home, "cache"),
      NATTER_LOG: process.env.NATTER_LOG ?? "info,natter_client=debug",
      // A software-rendered WebKit under Xvfb: no GPU here.
      WEBKIT_DISABLE_DMABUF_RENDERER: "1",
    },
    log: `tauri-driver ${name}`,
  });
  // The system opener the app hands links to (xdg-open, found first on PATH): one that writes
  // down what it was given, so a test sees the hand-over and no browser starts on the machine.
  const binDir = join(home, "bin");
  const openedLog = join(home, "opened.log");
  mkdirSync(binDir, { recursive: true });
  writeFileSync(join(binDir, "xdg-open"), `#!/bin/sh\nprintf '%s\\n' "$@" >>"${openedLog}"\n`);
  chmodSync(join(binDir, "xdg-open"), 0o755);
  // A wrapper keeps the app's log: WebKitWebDriver starts the app with its output discarded.
  const log = join(home, "app.log");
  const wrapper = join(home, "natter-desktop.sh");
  writeFileSync(wrapper, `#!/bin/sh\nPATH="${binDir}:$PATH" exec "${bin}" "$@" 2>>"${log}" >>"${log}"\n`);
  chmodSync(wrapper, 0o755);
  appLogs.push(log);
  const session = await Session.start(port, wrapper, ["--profile", name]);
  /** What the app handed to the system opener so far, one argument per entry. */
  const opened = () => (existsSync(openedLog) ? readFileSync(openedLog, "utf8").split("\n").filter(Boolean) : []);
  return { name, session, home, log, port, nativePort, wrapper, opened };
};

/** Saves a PNG under target/e2e/. @param {string} file @param {Buffer} png */
export const saveShot = (file, png) => {
  mkdirSync(SHOTS, { recursive: true });
  writeFileSync(join(SHOTS, file), png);
};

/** The password every e2e account registers with. */
export const PASSWORD = "correct horse battery";

/** A `data-testid` selector. */
export const tid = (id) => `[data-testid="${id}"]`;

/**
 * Waits for the sign-in screen, types the relay's address over the offered one, a name and
 * {@link PASSWORD}, and presses Register, with no pause in between. Does not wait for the result.
 */
export const fillRegister = async (s, name, url, timeout = 30_000) => {
  await waitFor(() => s.exec(`return !document.querySelector('#login-screen').hidden`), `${name}'s sign-in screen`, timeout);
  const server = await s.find(tid("login-server"));
  await s.clear(server);
  await s.type(server, url);
  await s.type(await s.find(tid("login-username")), name);
  await s.type(await s.find(tid("login-password")), PASSWORD);
  await s.click(await s.find(tid("register-submit")));
};
