// What the package tests share: running commands (as root where installing needs it), the
// packages dpkg lists as installed, and a .deb's control fields and files.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** `cmd args`, its stdout; throws on a non-zero exit. */
export const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { encoding: "utf8", maxBuffer: 64 << 20, ...opts });

/** Root's commands: as root, or through `sudo -n`. */
export const asRoot = (cmd, args) => (process.getuid?.() === 0 ? run(cmd, args) : run("sudo", ["-n", cmd, ...args]));

/** The names of the packages dpkg lists as installed. */
export const installed = () =>
  new Set(
    run("dpkg-query", ["-W", "-f", "${db:Status-Abbrev} ${Package}\n"])
      .split("\n")
      .filter((l) => l.startsWith("ii"))
      .map((l) => l.split(/\s+/)[1]),
  );

/** One control field of the .deb `deb`. */
export const debField = (deb, name) => run("dpkg-deb", ["-f", deb, name]).trim();

/** The paths in the .deb `deb`, without the leading "./" (directories end in "/"). */
export const debFiles = (deb) =>
  run("dpkg-deb", ["-c", deb])
    .split("\n")
    .map((l) => l.split(/\s+/).pop()?.replace(/^\.\//, ""))
    .filter(Boolean);

/** One file's text from the .deb `deb` (`path` without the leading "/"), unpacked aside (packagers
 * differ on whether the archive's names start with "./"). */
export const debFile = (deb, path) => {
  const dir = mkdtempSync(join(tmpdir(), "natter-deb-"));
  try {
    run("dpkg-deb", ["-x", deb, dir]);
    return readFileSync(join(dir, path), "utf8");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

/** `apt-get ARGS` as root, waiting up to two minutes for dpkg's lock (another package test's install). */
export const apt = (args) => asRoot("apt-get", ["-o", "DPkg::Lock::Timeout=120", ...args]);
