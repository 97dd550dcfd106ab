// The relay package as a self-hoster gets it (`cargo xtask dist`): the .deb's control fields,
// files and size; its systemd unit verified and scored by `systemd-analyze security`; then the
// package installed with apt, the unit's ExecStart run as the unit would (a user without
// privileges, umask 077, the installed binary and config file; only the address and the data
// directory overridden), GET /healthz; then the package purged and the machine as before.
//
// NATTER_RELAY_DEB names the package (xtask passes it). Installing needs root, or sudo without
// a password. No systemd runs as PID 1 here, so the unit itself is not started. Every wait is
// bounded.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, logs, start, stopAll } from "../../e2e/harness.mjs";
import { waitFor } from "../../e2e/webdriver.mjs";
import { apt, asRoot, debField, debFile, debFiles, installed, run } from "./dpkg.mjs";

const DEB = process.env.NATTER_RELAY_DEB;
const BIN = "/usr/bin/natter-relay";
const UNIT = "/usr/lib/systemd/system/natter-relay.service";
const CONFIG = "/etc/natter-relay/relay.toml";
const DOCS = "/usr/share/doc/natter-relay";
const MAX_BYTES = 6_000_000;
const MAX_EXPOSURE = 2.0;
/** The unit's command line, as packaged. */
const EXEC_START = `${BIN} --config ${CONFIG} --data-dir /var/lib/natter-relay`;

after(stopAll);

/** `systemd-analyze security --offline=yes` on `unit`: its overall exposure score. */
const exposure = (unit) => {
  const out = run("systemd-analyze", ["security", "--offline=yes", "--no-pager", unit]);
  const score = /Overall exposure level for \S+: (\d+(?:\.\d+)?)/.exec(out)?.[1];
  assert.ok(score, `systemd-analyze printed an overall exposure level:\n${out}`);
  return Number(score);
};

test("the relay .deb: control fields, files, conffile, size", () => {
  assert.ok(DEB, "NATTER_RELAY_DEB names the relay .deb (cargo xtask dist relay builds it)");
  const field = (name) => debField(DEB, name);
  assert.equal(field("Package"), "natter-relay");
  assert.match(field("Version"), /^\d+\.\d+\.\d+(-\d+)?$/);
  assert.equal(field("Architecture"), run("dpkg", ["--print-architecture"]).trim());
  assert.equal(field("Section"), "net");
  assert.match(field("Maintainer"), /^[^<>]+ <[^<>@\s]+@[^<>\s]+>$/);
  assert.match(field("Description"), /\S/);
  const depends = field("Depends");
  assert.match(depends, /\blibc6\b/, `Depends names libc6: ${depends}`);
  assert.ok(!/gtk|webkit|appindicator|systemd\b/.test(depends), `a server depends on no desktop library nor on systemd: ${depends}`);

  const files = debFiles(DEB);
  for (const f of [BIN, UNIT, CONFIG, `${DOCS}/README.md`, `${DOCS}/self-hosting.md`, `${DOCS}/copyright`]) {
    assert.ok(files.includes(f.slice(1)), `the package holds ${f}; it holds:\n${files.join("\n")}`);
  }
  assert.match(run("dpkg-deb", ["-I", DEB, "conffiles"]), new RegExp(`^${CONFIG}$`, "m"), "the config file is a conffile");
  assert.match(debFile(DEB, CONFIG.slice(1)), /^bind = "127\.0\.0\.1:7447"$/m, "the example config keeps the relay on loopback");

  const bytes = statSync(DEB).size;
  console.log(`# ${DEB}: ${(bytes / 1e6).toFixed(2)} MB`);
  assert.ok(bytes <= MAX_BYTES, `the .deb is ${bytes} bytes, over ${MAX_BYTES}`);
});

test("the unit: the packaged command line, hardened (systemd-analyze security)", (t) => {
  assert.ok(DEB, "NATTER_RELAY_DEB names the relay .deb");
  const dir = mkdtempSync(join(tmpdir(), "natter-relay-unit-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const unit = join(dir, "natter-relay.service");
  writeFileSync(unit, debFile(DEB, UNIT.slice(1)));
  const text = readFileSync(unit, "utf8");
  assert.match(text, new RegExp(`^ExecStart=${EXEC_START}$`, "m"));
  for (const line of ["DynamicUser=yes", "StateDirectory=natter-relay", "StateDirectoryMode=0700", "UMask=0077", "CapabilityBoundingSet=", "ProtectSystem=strict", "Restart=on-failure"]) {
    assert.match(text, new RegExp(`^${line}$`, "m"), `the unit sets ${line}`);
  }
  const score = exposure(unit);
  console.log(`# systemd-analyze security --offline=yes natter-relay.service: exposure ${score}`);
  assert.ok(score <= MAX_EXPOSURE, `exposure ${score}, over ${MAX_EXPOSURE}`);
});

test("installed with apt: the unit's command line serves /healthz as an unprivileged user; purged without a trace", { timeout: 300_000 }, async (t) => {
  assert.ok(DEB, "NATTER_RELAY_DEB names the relay .deb");
  const before = installed();
  assert.ok(!before.has("natter-relay"), "natter-relay is not installed before the test (remove it first: dpkg --purge natter-relay)");
  const leftovers = () => [BIN, UNIT, "/etc/natter-relay", DOCS].filter((p) => existsSync(p));
  assert.deepEqual(leftovers(), [], "nothing of the package is on the machine before");
  // Where installing a service leaves traces: enablement links, deb-systemd-helper's state.
  const traces = () => run("sh", ["-c", "find /etc/systemd /var/lib/systemd/deb-systemd-helper-enabled /var/lib/systemd/deb-systemd-user-helper-enabled 2>/dev/null | sort; true"]);
  const tracesBefore = traces();
  const dataDir = mkdtempSync(join(tmpdir(), "natter-relay-pkg-"));
  t.after(() => {
    const pulled = [...installed()].filter((p) => !before.has(p));
    if (pulled.length) asRoot("dpkg", ["--purge", ...pulled]);
    rmSync(dataDir, { recursive: true, force: true });
  });

  apt(["install", "-y", "--no-install-recommends", DEB.startsWith("/") ? DEB : `./${DEB}`]);
  assert.ok(installed().has("natter-relay"), "dpkg lists natter-relay as installed");
  assert.ok(existsSync("/etc/systemd/system/multi-user.target.wants/natter-relay.service"), "installing enabled the service");
  // verify checks the unit's syntax and that its ExecStart binary exists and is executable.
  const verify = run("sh", ["-c", `systemd-analyze verify "$1" 2>&1`, "sh", UNIT]);
  assert.equal(verify.trim(), "", `systemd-analyze verify ${UNIT} reports nothing`);
  assert.ok(exposure(UNIT) <= MAX_EXPOSURE, "the installed unit is the hardened one");

  const execStart = /^ExecStart=(.+)$/m.exec(readFileSync(UNIT, "utf8"))?.[1];
  assert.equal(execStart, EXEC_START);
  const port = await freePort();
  // As the unit would run it: an unprivileged user (DynamicUser: here `nobody`), umask 077, no
  // new privileges, the installed config file; the flags appended override the address and
  // the data directory (a flag given twice takes its last value).
  const argv = [...execStart.split(/\s+/), "--bind", `127.0.0.1:${port}`, "--data-dir", join(dataDir, "state")];
  const asUnit = process.getuid?.() === 0;
  if (asUnit) chownSync(dataDir, 65534, 65534);
  const relay = asUnit
    ? start("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "--no-new-privs", "sh", "-c", 'umask 077 && exec "$@"', "sh", ...argv], { log: "installed natter-relay" })
    : start(argv[0], argv.slice(1), { log: "installed natter-relay" });
  try {
    const line = await waitFor(async () => /natter-relay listening on (\S+)/.exec(relay.out.text)?.[1], "the relay's listening line", 30_000);
    assert.equal(line, `127.0.0.1:${port}`, "the appended --bind wins over the config file's");
    const health = await waitFor(async () => {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2000) });
      return res.status === 200 && (await res.json());
    }, `GET http://127.0.0.1:${port}/healthz`, 15_000);
    assert.equal(health.status, "ok");
    const exited = new Promise((r) => relay.child.once("exit", (code) => r(code)));
    relay.child.kill("SIGTERM");
    const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r("still running after 20 s"), 20_000))]);
    assert.equal(code, 0, "SIGTERM stops the relay gracefully, exit code 0");
    if (asUnit) assert.equal(statSync(join(dataDir, "state", "natter.db")).uid, 65534, "the database belongs to the unprivileged user");
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : error}\n${logs()}`);
  } finally {
    await stopAll();
  }

  asRoot("dpkg", ["--purge", "natter-relay"]);
  assert.ok(!installed().has("natter-relay"), "natter-relay is gone");
  assert.deepEqual(leftovers(), [], "purge leaves no binary, unit, config or docs");
  assert.equal(traces(), tracesBefore, "purge leaves no enablement link or systemd helper state");
  assert.deepEqual([...installed()].filter((p) => !before.has(p)), [], "no package the install pulled in stays");
});
