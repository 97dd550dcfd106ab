// Static checks of the page and modules: the test hooks exist, user text can't become markup,
// the CSP's rules hold (no inline code), only bridge.js touches Tauri, and imports resolve.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

// The page as it ships (frontendDist).
const ui = resolve(dirname(fileURLToPath(import.meta.url)), "../app");
const html = readFileSync(join(ui, "index.html"), "utf8");
const jsFiles = [
  ...readdirSync(join(ui, "js")).filter((f) => f.endsWith(".js")).map((f) => join(ui, "js", f)),
  ...readdirSync(join(ui, "js", "views")).filter((f) => f.endsWith(".js")).map((f) => join(ui, "js", "views", f)),
];
const sources = Object.fromEntries(jsFiles.map((f) => [f, readFileSync(f, "utf8")]));
const allJs = Object.values(sources).join("\n");

// DESIGN.md "UI hooks for tests".
const HOOKS = [
  "login-server", "login-username", "login-password", "login-submit", "register-submit", "room-list",
  "room-item", "new-room", "message-list", "message", "composer", "send", "typing-indicator",
  "connection-status", "unread-badge",
];

test("every DESIGN.md test hook is in the page or set by a view", () => {
  for (const hook of HOOKS) {
    const inHtml = html.includes(`data-testid="${hook}"`);
    const inJs = allJs.includes(`dataset.testid = "${hook}"`);
    assert.ok(inHtml || inJs, `missing data-testid ${hook}`);
  }
  assert.match(allJs, /dataset\.roomId = /, "room-item carries data-room-id");
  assert.match(allJs, /dataset\.seq = /, "message carries data-seq");
  assert.match(html, /data-testid="connection-status" data-state=/);
});

test("no HTML parsing of strings anywhere in the UI code", () => {
  for (const [file, src] of Object.entries(sources)) {
    assert.doesNotMatch(src, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|DOMParser|createContextualFragment/, file);
    assert.doesNotMatch(src, /\beval\(|new Function\(/, file);
  }
});

test("the page has no inline scripts, styles or handlers (the CSP forbids them)", () => {
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, "inline <script>");
  assert.doesNotMatch(html, /<style/, "inline <style>");
  assert.doesNotMatch(html, /\sstyle=/, "style attribute");
  assert.doesNotMatch(html, /\son[a-z]+=/, "inline event handler");
  assert.doesNotMatch(html, /https?:\/\//, "remote origin");
});

test("only bridge.js touches window.__TAURI__", () => {
  for (const [file, src] of Object.entries(sources)) {
    if (file.endsWith(`${"js"}/bridge.js`)) continue;
    assert.doesNotMatch(src, /__TAURI__/, file);
  }
});

test("no module-level mutable state outside the controller, and main.js only wires", () => {
  for (const [file, text] of Object.entries(sources)) {
    if (file.endsWith(join("js", "controller.js"))) continue;
    assert.doesNotMatch(text, /^(let|var)\s/m, `${file} keeps state at module level`);
  }
  const main = sources[join(ui, "js", "main.js")];
  assert.ok(main.split("\n").length <= 12, "main.js is wiring only");
});

test("the pure modules stay pure: no DOM, no Tauri", () => {
  for (const name of ["store.js", "format.js", "layout.js", "paging.js"]) {
    const src = sources[join(ui, "js", name)];
    assert.doesNotMatch(src, /\b(document|window)\b\./, name);
    assert.doesNotMatch(src, /from "\.\/bridge\.js"/, name);
  }
});

test("every named import resolves to an export of the imported module", async () => {
  for (const [file, src] of Object.entries(sources)) {
    for (const [, names, spec] of src.matchAll(/import\s*\{([^}]*)\}\s*from\s*"([^"]+)"/g)) {
      const mod = await import(pathToFileURL(resolve(dirname(file), spec)).href);
      for (const name of names.split(",").map((n) => n.trim().split(/\s+as\s+/)[0]).filter(Boolean)) {
        assert.ok(name in mod, `${file}: ${spec} has no export ${name}`);
      }
    }
    for (const [, spec] of src.matchAll(/import\s*\*\s*as\s+\w+\s+from\s*"([^"]+)"/g)) {
      await import(pathToFileURL(resolve(dirname(file), spec)).href);
    }
  }
});

test("the page preloads exactly the modules main.js imports, directly or not", () => {
  const seen = new Set();
  const visit = (file) => {
    for (const [, spec] of sources[file].matchAll(/^import\b[^"]*"([^"]+)"/gm)) {
      const dep = resolve(dirname(file), spec);
      if (!seen.has(dep)) {
        seen.add(dep);
        visit(dep);
      }
    }
  };
  visit(join(ui, "js", "main.js"));
  const preloaded = [...html.matchAll(/<link rel="modulepreload" href="([^"]+)" \/>/g)].map(([, href]) => join(ui, href));
  assert.deepEqual(new Set(preloaded), seen);
  assert.equal(preloaded.length, seen.size, "each module preloaded once");
});

test("the page loads main.js as a module and the stylesheet from the app", () => {
  assert.match(html, /<script type="module" src="js\/main\.js"><\/script>/);
  assert.match(html, /<link rel="stylesheet" href="css\/app\.css" \/>/);
});

// Tauri embeds every file of frontendDist in the binary: only the page's own files belong there.
test("the shipped folder holds the page and nothing else, and is what Tauri embeds", () => {
  const conf = JSON.parse(readFileSync(join(ui, "..", "..", "src-tauri", "tauri.conf.json"), "utf8"));
  assert.equal(resolve(ui, "..", "..", "src-tauri", conf.build.frontendDist), ui);
  const files = (dir) =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? files(join(dir, e.name)) : [relative(ui, join(dir, e.name))],
    );
  for (const file of files(ui)) {
    assert.match(file, /^(index\.html|css\/[\w-]+\.css|js\/([\w-]+\/)?[\w-]+\.js)$/, `${file} would ship`);
  }
});
