// The desktop packages as a user gets them (`cargo xtask dist`): the .deb's and the .rpm's
// metadata, files and size; then the .deb installed with apt, the app started from its
// installed path under Xvfb (its window shows, its hosted relay answers, a second start of the
// same profile hands over to the first and exits), and the package removed again with every
// package its install pulled in, so the machine is left as it was.
//
// NATTER_DEB and NATTER_RPM name the packages (xtask passes them). Installing needs root, or
// sudo without a password. Run inside `dbus-run-session` (the session bus the app uses; xtask
// does). Every wait is bounded.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { logs, start, startDisplay, stopAll } from "../../e2e/harness.mjs";
import { waitFor } from "../../e2e/webdriver.mjs";
import { apt, asRoot, debField, debFile, debFiles, installed, run } from "./dpkg.mjs";

const DEB = process.env.NATTER_DEB;
const RPM = process.env.NATTER_RPM;
const BIN = "/usr/bin/natter-desktop";
const DESKTOP_ENTRY = "usr/share/applications/Natter.desktop";
const MAX_BYTES = 8_000_000;

after(stopAll);

test("the .deb: control fields, files, desktop entry, size", () => {
  assert.ok(DEB, "NATTER_DEB names the .deb (cargo xtask dist builds it)");
  const field = (name) => debField(DEB, name);
  assert.equal(field("Package"), "natter");
  assert.equal(field("Architecture"), "amd64");
  assert.equal(field("Section"), "net");
  assert.match(field("Version"), /^\d+\.\d+\.\d+/);
  const depends = field("Depends");
  for (const lib of ["libwebkit2gtk-4.1-0", "libgtk-3-0"]) assert.ok(depends.includes(lib), `Depends names ${lib}: ${depends}`);
  assert.ok(!/appindicator/.test(depends), `the tray library is not a hard dependency: ${depends}`);
  assert.match(field("Recommends"), /libayatana-appindicator3-1/);
  assert.match(field("Description"), /\S/);

  const files = debFiles(DEB);
  for (const f of [BIN.slice(1), DESKTOP_ENTRY, "usr/share/icons/hicolor/32x32/apps/natter-desktop.png", "usr/share/icons/hicolor/64x64/apps/natter-desktop.png", "usr/share/icons/hicolor/128x128/apps/natter-desktop.png", "usr/share/icons/hicolor/512x512/apps/natter-desktop.png"]) {
    assert.ok(files.includes(f), `the package holds ${f}; it holds:\n${files.join("\n")}`);
  }
  assert.ok(!files.some((f) => f?.includes("/ui/") || f?.endsWith(".html")), "the UI is embedded in the binary, not shipped beside it");

  const entry = debFile(DEB, DESKTOP_ENTRY);
  assert.match(entry, /^Categories=Network;Chat;InstantMessaging;$/m);
  assert.match(entry, /^Exec=natter-desktop$/m);
  assert.match(entry, /^Icon=natter-desktop$/m);
  assert.match(entry, /^StartupWMClass=natter-desktop$/m);

  const bytes = statSync(DEB).size;
  console.log(`# ${DEB}: ${(bytes / 1e6).toFixed(2)} MB`);
  assert.ok(bytes <= MAX_BYTES, `the .deb is ${bytes} bytes, over ${MAX_BYTES}`);
});

test("the .rpm: name, requirements, files, size", () => {
  assert.ok(RPM, "NATTER_RPM names the .rpm (cargo xtask dist builds it)");
  const query = (format) => run("rpm", ["-qp", "--queryformat", format, RPM]).trim();
  assert.equal(query("%{NAME}"), "natter");
  assert.equal(query("%{ARCH}"), "x86_64");
  const requires = run("rpm", ["-qp", "--requires", RPM]);
  assert.ok(!/appindicator/.test(requires), `the tray library is not required: ${requires}`);
  assert.match(run("rpm", ["-qp", "--recommends", RPM]), /appindicator/);
  const files = run("rpm", ["-qpl", RPM]).split("\n");
  for (const f of [BIN, `/${DESKTOP_ENTRY}`]) assert.ok(files.includes(f), `the rpm holds ${f}`);
  const bytes = statSync(RPM).size;
  console.log(`# ${RPM}: ${(bytes / 1e6).toFixed(2)} MB`);
  assert.ok(bytes <= MAX_BYTES, `the .rpm is ${bytes} bytes, over ${MAX_BYTES}`);
});

test("installed with apt: the app starts from /usr/bin, shows its window, hosts a relay, runs once per profile; removed without a trace", { timeout: 300_000 }, async (t) => {
  assert.ok(DEB, "NATTER_DEB names the .deb");
  assert.ok(process.env.DBUS_SESSION_BUS_ADDRESS, "run inside dbus-run-session: no session bus");
  const before = installed();
  assert.ok(!before.has("natter"), "natter is not installed before the test (remove it first: dpkg --purge natter)");
  const home = mkdtempSync(join(tmpdir(), "natter-pkg-"));
  t.after(() => {
    const pulled = [...installed()].filter((p) => !before.has(p));
    if (pulled.length) asRoot("dpkg", ["--purge", ...pulled]);
    rmSync(home, { recursive: true, force: true });
  });

  apt(["install", "-y", "--no-install-recommends", DEB.startsWith("/") ? DEB : `./${DEB}`]);
  assert.ok(installed().has("natter"), "dpkg lists natter as installed");
  assert.ok(statSync(BIN).isFile(), `${BIN} is installed`);

  const display = await startDisplay();
  const env = {
    DISPLAY: display,
    HOME: home,
    XDG_DATA_HOME: join(home, "data"),
    XDG_CONFIG_HOME: join(home, "config"),
    XDG_CACHE_HOME: join(home, "cache"),
    NATTER_LOG: "info",
    WEBKIT_DISABLE_DMABUF_RENDERER: "1",
    // No accessibility bus: it would outlive the app as a daemon of its own.
    NO_AT_BRIDGE: "1",
  };
  // From anywhere but the checkout: the installed app needs nothing from the repository.
  const first = start(BIN, ["--profile", "packaged"], { env, log: "installed natter-desktop" });
  try {
    const window = await waitFor(
      async () => spawnSync("xdotool", ["search", "--onlyvisible", "--name", "^Natter$"], { env: { ...process.env, DISPLAY: display }, encoding: "utf8" }).stdout.trim().split("\n")[0],
      "the installed app's window to show",
      60_000,
    );
    const wmClass = run("xprop", ["-id", window, "WM_CLASS"], { env: { ...process.env, DISPLAY: display } });
    assert.match(wmClass, /"natter-desktop"/, `the window's class matches the desktop entry's StartupWMClass: ${wmClass}`);

    const addr = await waitFor(async () => /hosting the relay on this computer.*addr=(\S+)/.exec(first.out.text.replace(/\x1b\[[0-9;]*m/g, ""))?.[1], "the hosted relay to start", 30_000);
    const health = await waitFor(async () => (await fetch(`http://${addr}/healthz`)).status === 200, `GET http://${addr}/healthz`, 10_000);
    assert.ok(health);

    // A second start of the same profile brings the first to the front and exits at once.
    const second = spawnSync(BIN, ["--profile", "packaged"], { env: { ...process.env, ...env }, encoding: "utf8", timeout: 20_000 });
    assert.equal(second.status, 0, `the second start exits 0 (signal ${second.signal}):\n${second.stderr}`);
    assert.match(second.stderr + second.stdout, /already open/);
    assert.equal(first.child.exitCode, null, "the first app is still running");
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : error}\n${logs()}`);
  } finally {
    await stopAll();
  }

  asRoot("dpkg", ["--purge", "natter"]);
  assert.ok(!installed().has("natter"), "natter is gone");
  assert.throws(() => statSync(BIN), `${BIN} is removed`);
});
