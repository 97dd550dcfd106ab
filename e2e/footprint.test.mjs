// The desktop footprint benchmark, run with tiny sizes so that it cannot rot unnoticed: every
// measure must be there and plausible. Correctness only; its numbers are never compared to goals
// here (that is docs/benchmarks.md's job, on the shipped binaries).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const SCRIPT = join(import.meta.dirname, "footprint.mjs");
const ROOM = 20;
const BIG = 30;

test("the footprint benchmark runs end to end and reports every measure", { timeout: 600_000 }, async () => {
  assert.ok(process.env.NATTER_EMPTY_BIN && existsSync(process.env.NATTER_EMPTY_BIN), "NATTER_EMPTY_BIN: the empty window example, built");
  const dir = mkdtempSync(join(tmpdir(), "natter-footprint-"));
  const out = join(dir, "desktop.json");
  const child = spawn(process.execPath, [SCRIPT, out], {
    env: {
      ...process.env,
      NATTER_FOOTPRINT_RUNS: "1",
      NATTER_FOOTPRINT_ROOM: String(ROOM),
      NATTER_FOOTPRINT_BIG: String(BIG),
      NATTER_FOOTPRINT_IDLE_MS: "500",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  const code = await new Promise((resolve) => child.on("exit", resolve));
  assert.equal(code, 0, `footprint.mjs failed:\n${output.slice(-4000)}`);

  const r = JSON.parse(readFileSync(out, "utf8"));
  rmSync(dir, { recursive: true, force: true });
  assert.ok(r.binary_bytes.natter > r.binary_bytes.empty && r.binary_bytes.empty > 0, "binary sizes");
  for (const starts of [r.cold_start_ms.natter, r.cold_start_ms.empty]) {
    assert.equal(starts.length, 1);
    // After the process started, and well within the harness's own 60 s wait.
    assert.ok(starts[0] > 0 && starts[0] < 60_000, `a start of ${starts[0]} ms`);
  }
  assert.ok(r.idle_pss_bytes.processes >= 2, "the app and at least one WebKit process");
  assert.ok(r.idle_pss_bytes.natter > 10 * 2 ** 20 && r.idle_pss_bytes.empty > 10 * 2 ** 20, "PSS of whole process trees");
  assert.equal(r.first_paint_ms.room_messages, BIG);
  assert.equal(r.first_paint_ms.all.length, 1);
  assert.deepEqual([r.first_paint_changed_ms.room_messages, r.first_paint_changed_ms.changed], [BIG, BIG / 5]);
  assert.equal(r.first_paint_changed_ms.all.length, 1);
  assert.equal(r.partial, undefined, "every step finished");
  assert.equal(r.typing_ms.all.length, 3);
  for (const ms of [...r.first_paint_ms.all, ...r.first_paint_changed_ms.all, ...r.typing_ms.all]) assert.ok(ms >= 0 && ms < 60_000, `${ms} ms`);
  // The display server maps Mesa too; the list must be there for a reader to judge the PSS by.
  assert.ok(Array.isArray(r.natter_pss_sharers) && Array.isArray(r.empty_pss_sharers));
  assert.ok(Object.keys(r.natter_pss_kib_by_mapping).length >= 2);
});
