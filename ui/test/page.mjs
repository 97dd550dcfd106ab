// The page under test, shared by the UI test files: a tiny stand-in for the browser DOM (no
// dependencies) that parses index.html and lays rows out in fixed-height strips, a fake Tauri,
// and `boot`, which loads a fresh main.js against both. It has no tests of its own.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

/**
 * The action button `name` (reply, react, more-reactions, edit, delete) of a message row as a
 * person reaches it: the row takes the focus first, which brings the one action bar into it.
 * Null when that action is not offered on this message (the bar has it hidden).
 */
export const action = (row, name) => {
  row.focus();
  const button = row.querySelector(`[data-testid="message-action-${name}"]`);
  return button && !button.hidden ? button : null;
};

// ---- A tiny stand-in for the browser DOM, just enough to run main.js and the views under Node
// (no dependencies). It parses index.html, supports the selectors the UI uses, and bubbles events.

const VOID = new Set(["meta", "link", "input", "br", "img"]);

class Text {
  constructor(text) {
    this.data = text;
    this.parent = null;
  }
  get textContent() {
    return this.data;
  }
}

/** The fake layout: every element child is ROW px tall, stacked; the message list shows LIST_PX. */
const ROW = 20;
const LIST_PX = 400;

const camelToData = (key) => `data-${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

class Element {
  constructor(tag, attrs = {}) {
    this.tagName = tag.toUpperCase();
    this.attributes = { ...attrs };
    this.children = [];
    this.parent = null;
    this.listeners = {};
    this.value = attrs.value ?? "";
    this.top = 0;
    this.clientHeight = attrs["data-testid"] === "message-list" ? LIST_PX : 0;
    this.dataset = new Proxy(
      {},
      {
        get: (_, key) => this.attributes[camelToData(String(key))],
        set: (_, key, value) => ((this.attributes[camelToData(String(key))] = String(value)), true),
        has: (_, key) => camelToData(String(key)) in this.attributes,
      },
    );
  }
  get id() { return this.attributes.id ?? ""; }
  // Like a browser: setting the text puts the caret at its end.
  get value() { return this.text; }
  set value(v) { this.text = v; this.selectionStart = this.selectionEnd = String(v).length; }
  get title() { return this.attributes.title ?? ""; }
  set title(v) { this.attributes.title = String(v); }
  get offsetTop() { return this.parent ? this.parent.elements.indexOf(this) * ROW : 0; }
  get offsetHeight() { return ROW; }
  get scrollHeight() { return this.elements.length * ROW; }
  get scrollTop() { return this.top; }
  set scrollTop(v) { this.top = Math.max(0, Math.min(v, this.scrollHeight - this.clientHeight)); }
  get className() { return this.attributes.class ?? ""; }
  set className(v) { this.attributes.class = v; }
  get type() { return this.attributes.type ?? ""; }
  set type(v) { this.attributes.type = v; }
  get hidden() { return "hidden" in this.attributes; }
  set hidden(v) { if (v) this.attributes.hidden = ""; else delete this.attributes.hidden; }
  get disabled() { return "disabled" in this.attributes; }
  set disabled(v) { if (v) this.attributes.disabled = ""; else delete this.attributes.disabled; }
  set dateTime(v) { this.attributes.datetime = v; }
  setAttribute(k, v) { this.attributes[k] = String(v); }
  getAttribute(k) { return this.attributes[k] ?? null; }
  removeAttribute(k) { delete this.attributes[k]; }
  get classList() {
    const names = () => this.className.split(/\s+/).filter(Boolean);
    return {
      add: (c) => { if (!names().includes(c)) this.className = [...names(), c].join(" "); },
      remove: (c) => { this.className = names().filter((n) => n !== c).join(" "); },
      contains: (c) => names().includes(c),
    };
  }
  select() {}
  get textContent() { return this.children.map((c) => c.textContent).join(""); }
  set textContent(v) { this.replaceChildren(...(v === "" ? [] : [new Text(String(v))])); }
  append(...nodes) {
    for (const n of nodes) {
      const node = typeof n === "string" ? new Text(n) : n;
      if (node.parent) node.parent.children = node.parent.children.filter((c) => c !== node);
      node.parent = this;
      this.children.push(node);
    }
  }
  replaceChildren(...nodes) {
    // Like a browser: the focus inside a child taken out is lost, even if it is put back.
    const active = globalThis.document?.activeElement;
    if (active && this.children.some((c) => c instanceof Element && active.closest && (c === active || [...c.descendants()].includes(active)))) {
      globalThis.document.activeElement = null;
    }
    for (const c of this.children) c.parent = null;
    this.children = [];
    this.append(...nodes);
  }
  get elements() { return this.children.filter((c) => c instanceof Element); }
  *descendants() {
    for (const c of this.elements) {
      yield c;
      yield* c.descendants();
    }
  }
  matches(sel) {
    let m;
    if ((m = /^#([\w-]+)$/.exec(sel))) return this.id === m[1];
    if ((m = /^\[([\w-]+)(?:="([^"]*)")?\]$/.exec(sel))) return m[2] === undefined ? m[1] in this.attributes : this.attributes[m[1]] === m[2];
    if ((m = /^\.([\w-]+)$/.exec(sel))) return this.className.split(/\s+/).includes(m[1]);
    if (/^[a-z]+$/.test(sel)) return this.tagName === sel.toUpperCase();
    throw new Error(`fake DOM: unsupported selector ${sel}`);
  }
  querySelectorAll(sel) { return [...this.descendants()].filter((e) => e.matches(sel)); }
  querySelector(sel) { return this.querySelectorAll(sel)[0] ?? null; }
  closest(sel) {
    for (let e = this; e instanceof Element; e = e.parent) if (e.matches(sel)) return e;
    return null;
  }
  addEventListener(type, fn) { (this.listeners[type] ??= []).push(fn); }
  dispatch(type, props = {}) {
    let stopped = false;
    const event = { type, target: this, defaultPrevented: false, preventDefault() { this.defaultPrevented = true; }, stopPropagation() { stopped = true; }, ...props };
    for (let e = this; e && !stopped; e = e.parent) for (const fn of e.listeners?.[type] ?? []) fn(event);
    return event;
  }
  click() {
    this.dispatch("click");
    if (this.tagName === "BUTTON" && (this.attributes.type ?? "submit") === "submit") this.closest("form")?.dispatch("submit");
  }
  get parentNode() { return this.parent; }
  /**
   * Like a browser: a disabled or hidden-by-attribute control does not take the focus; one that
   * does is told `focusin`, which bubbles.
   */
  focus() {
    if (this.disabled) return;
    for (let e = this; e instanceof Element; e = e.parent) if (e.hidden) return;
    globalThis.document.activeElement = this;
    this.dispatch("focusin");
  }
  /** Markup parsed into elements, as a browser would (so a test can see what it would make). */
  set innerHTML(markup) {
    this.replaceChildren(...documentFrom(markup).root.children);
  }
  insertAdjacentHTML(_, markup) {
    this.append(...documentFrom(markup).root.children);
  }
  reset() { for (const e of this.querySelectorAll("input")) e.value = ""; }
}

/** Parses the (well-formed, script-free) index.html into Elements; returns a document stand-in. */
export const documentFrom = (html) => {
  const root = new Element("html");
  const stack = [root];
  const body = html.replace(/<!doctype[^>]*>/i, "").replace(/<!--[\s\S]*?-->/g, "");
  for (const [, close, tag, rawAttrs, selfClose, text] of body.matchAll(/<(\/?)([a-z0-9]+)((?:\s+[\w-]+(?:=(?:"[^"]*"|[^\s>"]+))?)*)\s*(\/?)>|([^<]+)/gi)) {
    if (text !== undefined) {
      if (text.trim()) stack.at(-1).append(new Text(text.trim()));
      continue;
    }
    if (close) {
      if (stack.length > 1) stack.pop(); // a stray closing tag (user text) never closes the root
      continue;
    }
    const attrs = {};
    for (const [, k, quoted, bare] of rawAttrs.matchAll(/([\w-]+)(?:=(?:"([^"]*)"|([^\s>"]+)))?/g)) attrs[k] = quoted ?? bare ?? "";
    const el = new Element(tag, attrs);
    stack.at(-1).append(el);
    if (!selfClose && !VOID.has(tag.toLowerCase())) stack.push(el);
  }
  return {
    root,
    visibilityState: "visible",
    focused: true,
    hasFocus() { return this.focused; },
    /** The window: `focus` and `blur` are told to its listeners (`fire`). */
    defaultView: {
      listeners: {},
      addEventListener(type, fn) { (this.listeners[type] ??= []).push(fn); },
      fire(type) { for (const fn of this.listeners[type] ?? []) fn({ type }); },
    },
    listeners: {},
    activeElement: null,
    createElement: (tag) => new Element(tag),
    querySelector: (sel) => root.querySelector(sel),
    querySelectorAll: (sel) => root.querySelectorAll(sel),
    addEventListener(type, fn) { (this.listeners[type] ??= []).push(fn); },
    /** A key press on the page (after any element listeners), as the browser would bubble it. */
    key(props) {
      const event = { type: "keydown", defaultPrevented: false, preventDefault() { this.defaultPrevented = true; }, ctrlKey: false, metaKey: false, altKey: false, ...props };
      for (const fn of this.listeners.keydown ?? []) fn(event);
      return event;
    },
  };
};

// ---- booting the page ----

const html = readFileSync(new URL("../app/index.html", import.meta.url), "utf8");
const realSetInterval = globalThis.setInterval;
globalThis.setInterval = (fn, ms) => realSetInterval(fn, ms).unref();

let run = 0;
/** Loads a fresh main.js against a fresh page; `answers` maps a command to a value, a function of its args, or {reject}. */
export const boot = async (answers) => {
  const calls = [];
  const listeners = {};
  sends = 0;
  globalThis.document = documentFrom(html);
  globalThis.window = {
    __TAURI__: {
      core: {
        invoke: async (cmd, args, options) => {
          calls.push([cmd, args, options]);
          let a = answers[cmd];
          if (typeof a === "function")
            a = await a(args, {
              emit: (batch) => listeners["natter://event"](batch),
              emitAccounts: (list) => listeners["natter://accounts"]?.(list),
            });
          if (a && typeof a === "object" && "reject" in a) throw a.reject;
          return a === undefined ? null : structuredClone(a);
        },
      },
      event: {
        listen: async (name, fn) => {
          assert.ok(["natter://event", "natter://open-room", "natter://accounts"].includes(name), `unexpected listen ${name}`);
          listeners[name] = (payload) => fn({ payload });
        },
      },
    },
  };
  await import(`../app/js/main.js?run=${++run}`);
  await settle();
  const $ = (sel) => document.querySelector(sel);
  const all = (sel) => document.querySelectorAll(sel);
  return {
    calls,
    called: (cmd) => calls.filter(([c]) => c === cmd).map(([, a]) => a),
    /** The options (headers) each call of `cmd` had. */
    options: (cmd) => calls.filter(([c]) => c === cmd).map(([, , o]) => o),
    emit: async (batch) => {
      listeners["natter://event"](batch);
      await settle();
    },
    openRoomEvent: async (room_id, account) => {
      listeners["natter://open-room"](account ? { room_id, account } : { room_id });
      await settle();
    },
    /** The shell's `natter://accounts`: the signed-in accounts as they are now. */
    accountsEvent: async (list) => {
      listeners["natter://accounts"](list);
      await settle();
    },
    $,
    all,
    seqs: () => all('[data-testid="message"]').map((m) => m.dataset.seq ?? "pending"),
  };
};
export const settle = () => new Promise((r) => setTimeout(r, 15));

/** A localStorage stand-in. */
export const memoryStorage = () => {
  const map = new Map();
  return { getItem: (k) => map.get(k) ?? null, setItem: (k, v) => void map.set(k, String(v)), map };
};

export const msg = (room_id, seq, sender = "bob", body = `message ${seq}`) => ({
  id: `${room_id}-${seq}`, room_id, seq, sender, body, client_id: `c-${room_id}-${seq}`, sent_at: "2026-11-25T10:00:00Z",
});
// As the session states a room: its unread count (messages from others past read_seq) with it.
export const room = (id, last_seq, read_seq, unread = last_seq - read_seq) => ({ id, name: id, kind: "group", members: ["alice", "bob"], last_seq, read_seq, unread });
export const XSS = '<img src=x onerror=alert(1)></div><script>alert(2)</script>';

let sends = 0;
export const signedIn = () => ({
  resume: { server_url: "http://127.0.0.1:7447", username: "alice" },
  connection_state: { state: "connected", transport: "websocket" },
  rooms: [room("random", 2, 2), room("general", 3, 1)],
  messages: ({ room_id, before_seq }) =>
    room_id === "general" && before_seq === undefined ? [msg("general", 1, "bob", XSS), msg("general", 2), msg("general", 3, "alice")] : [],
  history: [],
  // As the shell does: the pending message goes out as an event; the command answers its id only.
  send_message: ({ room_id, body }, { emit }) => {
    const client_id = sends++ === 0 ? "c-new" : `c-new-${sends}`;
    emit([{ type: "message_state", client_id, room_id, state: { state: "pending", body, created_at: "2026-11-25T10:05:00Z" } }]);
    return client_id;
  },
  // As the session does: a read moves the room's count (here, read to the newest: none left).
  mark_read: ({ room_id }, { emit }) => emit([{ type: "unread", room_id, count: 0 }]),
  create_room: ({ name }) => ({ id: "r-new", name, kind: "group", members: ["alice"], last_seq: 0, read_seq: 0 }),
});

