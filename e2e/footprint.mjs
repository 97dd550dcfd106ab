// The desktop footprint benchmark (numbers, not a test): run with the shipped (`dist` profile)
// binaries under `dbus-run-session`, it measures beside an empty Tauri 2 window built from the
// same Tauri (`cargo build --profile dist -p natter-desktop --example empty_window`), in one run:
// binary size, cold start to interactive, idle memory (PSS of the app and its WebKit processes)
// with a room of 1,000 messages open, first paint of a room with 10,000 cached messages, and the
// typing indicator's delay from a keystroke in one window to the line in the other.
// Usage: see docs/benchmarks.md ("Desktop footprint").
import { readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Keys, waitFor } from "./webdriver.mjs";
import * as h from "./harness.mjs";

const TARGET = process.env.CARGO_TARGET_DIR ?? join(process.env.HOME ?? "/root", ".cache/natter/target");
// The binaries as shipped (`[profile.dist]`), not the e2e tests' debug build.
const DESKTOP_BIN = process.env.NATTER_DESKTOP_BIN ?? join(TARGET, "dist/natter-desktop");
const EMPTY_BIN = process.env.NATTER_EMPTY_BIN ?? join(TARGET, "dist/examples/empty_window");
const OUT = process.argv[2] ?? resolve(import.meta.dirname, "../docs/bench/desktop.json");
const RUNS = Number(process.env.NATTER_FOOTPRINT_RUNS ?? 5);
const BIG = Number(process.env.NATTER_FOOTPRINT_BIG ?? 10_000);
/** The room open while idle memory is measured. */
const ROOM = Number(process.env.NATTER_FOOTPRINT_ROOM ?? 1_000);
const IDLE_MS = Number(process.env.NATTER_FOOTPRINT_IDLE_MS ?? 10_000);
/** Where and how large the measured window is (bob's sits beside it). */
const WINDOW_RECT = { x: 0, y: 0, width: 790, height: 640 };

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- processes: the app, its WebKit children, their memory and start time ----

const statFields = (pid) => readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /, "").split(" ");
const pids = () => readdirSync("/proc").filter((d) => /^\d+$/.test(d)).map(Number);
const children = (pid) => pids().filter((p) => { try { return Number(statFields(p)[1]) === pid; } catch { return false; } });
const tree = (pid) => [pid, ...children(pid).flatMap(tree)];
const pssBytes = (pid) => {
  try {
    return Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"))?.[1] ?? 0) * 1024;
  } catch {
    return 0; // gone meanwhile
  }
};
/** The app process: argv[0] is the binary (the wrapper execs it). */
const appPid = (bin, profileArg) =>
  waitFor(async () => pids().find((p) => {
    try {
      const argv = readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0");
      return argv[0] === bin && (profileArg === null || argv.includes(profileArg));
    } catch {
      return false;
    }
  }), `the process of ${bin}`);
/**
 * When the machine booted, in ms since the epoch. Not /proc/stat's `btime`: that is whole seconds,
 * so start times taken from it came out up to 1 s early (0.59 s on the machine that found it,
 * which had made every cold start look 0.59 s slower). /proc/uptime counts 10 ms steps and is
 * never ahead, so now − uptime is never early: the lowest over a few steps is within ~1 ms.
 */
const bootedAt = (() => {
  let best = Infinity;
  for (const until = Date.now() + 50; Date.now() < until; ) {
    const uptime = Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]) * 1000;
    best = Math.min(best, Date.now() - uptime);
  }
  return best;
})();
/** When a process started, in ms since the epoch (clock ticks of 10 ms, so up to 10 ms early). */
const startedAt = (pid) => bootedAt + Number(statFields(pid)[19]) * 10;
const treePss = (pid) => tree(pid).reduce((sum, p) => sum + pssBytes(p), 0);
/** Where one process's PSS sits: the largest mappings by file (or [heap], [anon]), in KiB. */
const pssByMapping = (pid, top = 8) => {
  const sums = new Map();
  let name = "[anon]";
  try {
    for (const line of readFileSync(`/proc/${pid}/smaps`, "utf8").split("\n")) {
      const range = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
      if (range) name = range[1] || "[anon]";
      const pss = /^Pss:\s+(\d+) kB/.exec(line);
      if (pss) sums.set(name, (sums.get(name) ?? 0) + Number(pss[1]));
    }
  } catch {
    return {}; // gone meanwhile
  }
  return Object.fromEntries([...sums].sort((a, b) => b[1] - a[1]).slice(0, top));
};
/** The mappings of every process in the tree, by command name. */
const mappingsByProcess = (pid) =>
  Object.fromEntries(tree(pid).map((p) => [readFileSync(`/proc/${p}/comm`, "utf8").trim(), pssByMapping(p)]));
/** PSS per process of the tree, by its command name (main, WebKitWebProcess, …), in bytes. */
const pssByProcess = (pid) =>
  Object.fromEntries(tree(pid).map((p) => [`${readFileSync(`/proc/${p}/comm`, "utf8").trim()} (${p})`, pssBytes(p)]));
/**
 * Processes outside `pid`'s tree that map the big shared libraries: each takes a share of their
 * pages, so they lower the measured PSS. The harness's Xvfb (Mesa's LLVM) is always one; any
 * other (a stray X server, another WebKit app) makes the absolute numbers too low.
 */
const SHARED_LIBS = ["libLLVM", "libwebkit2gtk", "libjavascriptcoregtk"];
const sharers = (pid) => {
  const mine = new Set(tree(pid));
  return pids()
    .filter((p) => !mine.has(p))
    .flatMap((p) => {
      try {
        const maps = readFileSync(`/proc/${p}/maps`, "utf8");
        const libs = SHARED_LIBS.filter((lib) => maps.includes(lib));
        return libs.length ? [`${readFileSync(`/proc/${p}/comm`, "utf8").trim()} (${p}): ${libs.join(", ")}`] : [];
      } catch {
        return []; // gone meanwhile, or not ours to read
      }
    });
};

// ---- the page ----

const interactiveAt = (s) =>
  waitFor(() => s.exec(`const m = performance.getEntriesByName("natter:interactive")[0]; return m ? performance.timeOrigin + m.startTime : null`), "the UI's interactive mark", 60_000);
const loadedAt = (s) =>
  waitFor(() => s.exec(`const n = performance.getEntriesByType("navigation")[0]; return n && n.loadEventEnd > 0 ? performance.timeOrigin + n.loadEventEnd : null`), "the empty page's load", 60_000);

const register = async (s, name, url) => {
  await h.fillRegister(s, name, url, 60_000);
  await waitFor(async () => (await s.exec(`return document.querySelector('[data-testid="connection-status"]').dataset.state`)) === "connected", `${name} connected`, 60_000);
};

/** Creates a room through the app's own command and fills it through the app's outbox. */
const fillRoom = async (s, name, members, count) => {
  const room = await s.execAsync(
    `const [name, members, done] = arguments; window.__TAURI__.core.invoke("create_room", { name, members }).then((r) => done(r.id), (e) => done("error " + JSON.stringify(e)))`,
    [name, members],
  );
  if (String(room).startsWith("error")) throw new Error(`create_room: ${room}`);
  // Started in the page, not awaited: the loop outlasts one WebDriver call.
  await s.exec(
    `const [room_id, count] = arguments;
     window.__fill = (async () => { for (let i = 1; i <= count; i++) await window.__TAURI__.core.invoke("send_message", { room_id, body: "message " + i + " — some words to make it look like chat" }); })();`,
    [room, count],
  );
  // Sent once each room's last seq reaches count in the app's own view.
  await waitFor(async () => (await s.execAsync(`const [id, done] = arguments; window.__TAURI__.core.invoke("rooms").then((rs) => done(rs.find((r) => r.id === id)?.last_seq ?? 0))`, [room])) >= count, `${count} messages committed in ${name}`, 600_000);
  return room;
};

/**
 * Changes one message in five of a filled room through the app's own commands, half with a 👍
 * and half with an edit (issue 19's "20% carry reactions or edits"); their entries follow the
 * messages, as the newest seqs of the room.
 */
const changeRoom = async (s, room, count) => {
  await s.exec(
    `const [room_id, count] = arguments;
     const invoke = window.__TAURI__.core.invoke;
     window.__change = (async () => {
       const ids = new Map();
       for (let before = count + 1; before > 1; before -= 100) {
         for (const m of await invoke("messages", { room_id, before_seq: before, limit: 100 })) ids.set(m.seq, m.id);
       }
       for (let seq = 5; seq <= count; seq += 5) {
         const message_id = ids.get(seq);
         if (seq % 10 === 0) await invoke("react", { room_id, message_id, emoji: "👍", on: true });
         else await invoke("edit_message", { room_id, message_id, body: "message " + seq + " — edited" });
       }
     })();`,
    [room, count],
  );
  const total = count + Math.floor(count / 5);
  await waitFor(async () => (await s.execAsync(`const [id, done] = arguments; window.__TAURI__.core.invoke("rooms").then((rs) => done(rs.find((r) => r.id === id)?.last_seq ?? 0))`, [room])) >= total, `${count / 5} changes committed`, 600_000);
};

/** Click → the newest message drawn and a frame painted, timed in the page. */
const openTimed = (s, roomId, lastSeq) =>
  s.execAsync(
    `const [id, last, done] = arguments; const t0 = performance.now();
     document.querySelector('[data-room-id="' + id + '"]').click();
     const check = () => { const l = document.querySelectorAll('[data-testid="message"]'); const m = l[l.length - 1];
       if (m && m.dataset.seq === String(last)) requestAnimationFrame(() => done(performance.now() - t0)); else setTimeout(check, 1); };
     check();`,
    [roomId, lastSeq],
  );

/** Writes what is measured so far; a run cut short leaves `partial` in the file, saying how far it got. */
const save = (result) => writeFileSync(OUT, `${JSON.stringify(result, null, 2)}\n`);

const main = async () => {
  const result = { machine: `${process.platform} ${readFileSync("/proc/cpuinfo", "utf8").match(/model name\s*:\s*(.*)/)?.[1]}, ${readFileSync("/proc/cpuinfo", "utf8").match(/^processor/gm)?.length} CPUs`, runs: RUNS };
  result.binary_bytes = { natter: statSync(DESKTOP_BIN).size, empty: statSync(EMPTY_BIN).size };
  const display = await h.startDisplay();
  await h.startNotifications(display); // else D-Bus would activate a daemon with no display
  const relay = await h.relay(["--send-burst", "1000000", "--send-per-second", "1000000", "--typing-per-second", "1000"]);
  await relay.start();

  // The floor: an empty Tauri window, cold start and idle memory.
  const emptyStarts = [];
  const emptyPss = [];
  for (let i = 0; i < RUNS; i++) {
    const empty = await h.app("empty", display, { bin: EMPTY_BIN });
    const pid = await appPid(EMPTY_BIN, null);
    emptyStarts.push((await loadedAt(empty.session)) - startedAt(pid));
    if (i === 0) {
      // The size Natter's window is measured at: the window's pixels are part of the memory.
      await empty.session.setRect(WINDOW_RECT);
      await sleep(IDLE_MS);
      emptyPss.push(treePss(pid));
      result.empty_pss_sharers = sharers(pid);
      result.empty_pss_by_process = pssByProcess(pid);
      result.empty_pss_kib_by_mapping = mappingsByProcess(pid);
    }
    await empty.session.end();
  }

  // Natter: alice and bob, a 1,000-message room and a BIG one, all through the app itself.
  const alice = await h.app("alice", display, { bin: DESKTOP_BIN });
  const bob = await h.app("bob", display, { bin: DESKTOP_BIN });
  await alice.session.setRect(WINDOW_RECT);
  await bob.session.setRect({ x: 800, y: 0, width: 790, height: 640 });
  await register(alice.session, "alice", relay.url);
  await register(bob.session, "bob", relay.url);
  const thousand = await fillRoom(alice.session, "thousand", ["bob"], ROOM);
  const big = await fillRoom(alice.session, "big", [], BIG);
  const changed = await fillRoom(alice.session, "changed", [], BIG);
  await changeRoom(alice.session, changed, BIG);

  // Cold start to interactive: quit alice and start her again (a returning user: resume).
  const natterStarts = [];
  let session = alice.session;
  for (let i = 0; i < RUNS; i++) {
    const before = await appPid(DESKTOP_BIN, "alice");
    await session.end();
    await waitFor(async () => !pids().includes(before), "alice to quit", 30_000);
    const again = await h.app("alice", display, { bin: DESKTOP_BIN, home: alice.home });
    session = again.session;
    await session.setRect(WINDOW_RECT);
    const pid = await appPid(DESKTOP_BIN, "alice");
    natterStarts.push((await interactiveAt(session)) - startedAt(pid));
  }
  // Kept at once: a later step failing must not lose the starts (the installed app's run once did).
  result.cold_start_ms = { natter_median: median(natterStarts), natter: natterStarts, empty_median: median(emptyStarts), empty: emptyStarts };
  save({ ...result, partial: "up to the cold start: a later step did not finish" });
  const alicePid = await appPid(DESKTOP_BIN, "alice");
  await waitFor(async () => (await session.exec(`return document.querySelector('[data-testid="connection-status"]').dataset.state`)) === "connected", "alice connected again", 60_000);

  // First paint of the BIG rooms: first open after start, then repeats (general in between).
  // The changed room's newest message is seq BIG: its entries after it are not drawn.
  const paints = [];
  const changedPaints = [];
  for (let i = 0; i < RUNS; i++) {
    for (const [room, list] of [[big, paints], [changed, changedPaints]]) {
      await session.execAsync(`const done = arguments[0]; document.querySelector('[data-room-id="general"]').click(); setTimeout(() => done(true), 300);`);
      list.push(await openTimed(session, room, BIG));
    }
  }

  // Typing: keystroke in alice's window → line in bob's window, same clock (one machine).
  await session.execAsync(`const [id, done] = arguments; document.querySelector('[data-room-id="' + id + '"]').click(); setTimeout(() => done(true), 300);`, [thousand]);
  await bob.session.execAsync(`const [id, done] = arguments; document.querySelector('[data-room-id="' + id + '"]').click(); setTimeout(() => done(true), 300);`, [thousand]);
  await bob.session.exec(`window.__seen = []; const el = document.querySelector('[data-testid="typing-indicator"]');
    new MutationObserver(() => { if (el.textContent) window.__seen.push(Date.now()); }).observe(el, { childList: true, characterData: true, subtree: true });`);
  await session.exec(`window.__keys = []; document.querySelector('[data-testid="composer"]').addEventListener("keydown", () => window.__keys.push(Date.now()), true);`);
  const box = await session.find('[data-testid="composer"]');
  const typing = [];
  for (let i = 0; i < RUNS * 3; i++) {
    const seen = await bob.session.exec(`return window.__seen.length`);
    await session.type(box, "a");
    await waitFor(async () => (await bob.session.exec(`return window.__seen.length`)) > seen, "bob to see alice typing", 20_000);
    const [key, shown] = await Promise.all([session.exec(`return window.__keys[window.__keys.length - 1]`), bob.session.exec(`return window.__seen[window.__seen.length - 1]`)]);
    typing.push(shown - key);
    await session.type(box, "\uE003"); // backspace: empty composer → typing stops
    await waitFor(async () => (await bob.session.exec(`return document.querySelector('[data-testid="typing-indicator"]').textContent`)) === "", "bob's line to clear", 20_000);
  }

  // Idle memory with the 1,000-message room open, alone as the empty window was (PSS splits
  // shared pages among every process mapping them: bob's WebKit would halve alice's share).
  const bobPid = await appPid(DESKTOP_BIN, "bob");
  await bob.session.end();
  await waitFor(async () => !pids().includes(bobPid), "bob to quit", 30_000);
  await sleep(IDLE_MS);
  const natterPss = treePss(alicePid);
  result.natter_pss_sharers = sharers(alicePid);
  result.natter_pss_by_process = pssByProcess(alicePid);
  result.natter_pss_kib_by_mapping = mappingsByProcess(alicePid);

  result.first_paint_ms = { room_messages: BIG, first: paints[0], median: median(paints), all: paints };
  result.first_paint_changed_ms = { room_messages: BIG, changed: BIG / 5, first: changedPaints[0], median: median(changedPaints), all: changedPaints };
  result.typing_ms = { median: median(typing), max: Math.max(...typing), all: typing };
  result.idle_pss_bytes = { natter: natterPss, empty: emptyPss[0], ratio: natterPss / emptyPss[0], processes: tree(alicePid).length };
  save(result);
  const mib = (b) => (b / 1048576).toFixed(1);
  console.log(`| measure | Natter | empty Tauri window | ratio |
|---|---|---|---|
| release binary | ${mib(result.binary_bytes.natter)} MiB | ${mib(result.binary_bytes.empty)} MiB | ${(result.binary_bytes.natter / result.binary_bytes.empty).toFixed(2)} |
| cold start to interactive, median of ${RUNS} | ${Math.round(median(natterStarts))} ms | ${Math.round(median(emptyStarts))} ms (page loaded) | ${(median(natterStarts) / median(emptyStarts)).toFixed(2)} |
| idle PSS, all processes (${result.idle_pss_bytes.processes} for Natter) | ${mib(natterPss)} MiB | ${mib(emptyPss[0])} MiB | ${result.idle_pss_bytes.ratio.toFixed(2)} |
| open a room of ${BIG} cached messages, click → painted | first ${Math.round(paints[0])} ms, median ${Math.round(median(paints))} ms | | |
| the same with ${BIG / 5} of them reacted to or edited | first ${Math.round(changedPaints[0])} ms, median ${Math.round(median(changedPaints))} ms | | |
| typing indicator, keystroke → other window, median of ${typing.length} | ${Math.round(median(typing))} ms (max ${Math.round(Math.max(...typing))}) | | |`);
  for (const [who, list] of [["Natter", result.natter_pss_sharers], ["the empty window", result.empty_pss_sharers]]) {
    console.log(`PSS of ${who} was shared with: ${list.join("; ") || "nothing else"} (the harness's Xvfb is expected)`);
  }
  await session.end();
  await h.stopAll();
  relay.cleanup();
};

main().catch(async (error) => {
  console.error(error);
  console.error(h.logs());
  await h.stopAll();
  process.exit(1);
});
