// Files in the window (issue 20): an image as a thumbnail from the shell's data: URL, full size
// in a viewer that Esc closes; another file as a card whose name stays text, with Download; our
// pending send's files with an upload bar and Cancel; the attach button, a paste and a drop.
import { test } from "node:test";
import assert from "node:assert/strict";
import { action, boot, msg, settle, signedIn, XSS } from "./page.mjs";

const PNG_URL = "data:image/png;base64,iVBORw0KGgo=";
const image = { id: "f-img", name: "cat.png", size: 48213, type: "image/png", width: 640, height: 480 };
const pdf = { id: "f-doc", name: XSS, size: 1_200_000, type: "application/pdf" };

/** The last message row. */
const last = (ui) => ui.all('[data-testid="message"]').at(-1);

test("an image shows as a thumbnail, full size on click, Esc closes", async () => {
  const ui = await boot({ ...signedIn(), image: ({ thumbnail }) => (thumbnail ? PNG_URL : `${PNG_URL}full`) });
  await ui.emit([{ type: "message", message: { ...msg("general", 4, "bob", ""), attachments: [image] } }]);
  const thumb = last(ui).querySelector('[data-testid="attachment"]');
  assert.equal(thumb.dataset.fileId, "f-img");
  assert.deepEqual(ui.called("image"), [{ file_id: "f-img", thumbnail: true }]);
  assert.equal(thumb.querySelector("img").src, PNG_URL);
  assert.equal(thumb.querySelector("img").alt, "cat.png");
  assert.match(thumb.getAttribute("aria-label"), /cat\.png.*full size/);

  thumb.click();
  await settle();
  const viewer = ui.$('[data-testid="image-viewer"]');
  assert.equal(viewer.hidden, false);
  assert.equal(viewer.querySelector("img").src, `${PNG_URL}full`);
  assert.equal(document.activeElement, ui.$('[data-testid="image-viewer-close"]'), "the viewer takes the focus");
  viewer.dispatch("keydown", { key: "Escape" });
  assert.equal(viewer.hidden, true);
  assert.equal(document.activeElement, thumb, "the focus goes back");

  // Drawn again (another message came): the thumbnail is not fetched again.
  await ui.emit([{ type: "message", message: msg("general", 5) }]);
  assert.equal(ui.called("image").filter((a) => a.thumbnail).length, 1);
});

test("another file is a card: its name as text, its size, and Download", async () => {
  const ui = await boot({ ...signedIn(), save_file: true });
  await ui.emit([{ type: "message", message: { ...msg("general", 4, "bob", "the report"), attachments: [pdf] } }]);
  const card = last(ui).querySelector('[data-testid="attachment"]');
  assert.equal(card.dataset.fileId, "f-doc");
  assert.equal(card.querySelector(".file-name").textContent, XSS, "the name is text");
  assert.equal(card.querySelector("img"), null, "no element from the name");
  assert.equal(card.querySelector(".file-size").textContent, "1.2 MB");
  assert.equal(ui.called("image").length, 0, "not an image: never fetched for display");
  card.querySelector('[data-testid="attachment-download"]').click();
  await settle();
  assert.deepEqual(ui.called("save_file"), [{ file_id: "f-doc", name: XSS }]);
});

test("a pending send's files show with an upload bar; Cancel takes it back", async () => {
  const ui = await boot({ ...signedIn(), cancel_upload: true });
  const files = [{ name: "clip.mp4", size: 8_000_000 }];
  await ui.emit([
    { type: "message_state", client_id: "c-up", room_id: "general", state: { state: "pending", body: "", created_at: "2026-11-25T10:05:00Z", files } },
  ]);
  let row = last(ui);
  assert.equal(row.querySelector(".file-name").textContent, "clip.mp4");
  await ui.emit([{ type: "upload", client_id: "c-up", room_id: "general", sent: 2_000_000, total: 8_000_000 }]);
  row = last(ui);
  const bar = row.querySelector('[data-testid="upload-progress"]');
  assert.equal(bar.value, 2_000_000);
  assert.equal(bar.max, 8_000_000);
  assert.match(bar.getAttribute("aria-label"), /2\.0 MB of 8\.0 MB/);

  row.querySelector('[data-testid="upload-cancel"]').click();
  await settle();
  assert.deepEqual(ui.called("cancel_upload"), [{ client_id: "c-up" }]);
  assert.equal(ui.seqs().includes("pending"), false, "the pending row is gone");
});

test("a cancel the shell refuses (the files are all up) leaves the send and says why", async () => {
  const ui = await boot({ ...signedIn(), cancel_upload: { reject: { code: "invalid", message: "too late" } } });
  await ui.emit([
    { type: "message_state", client_id: "c-up", room_id: "general", state: { state: "pending", body: "", created_at: "2026-11-25T10:05:00Z", files: [{ name: "a.bin", size: 3 }] } },
  ]);
  last(ui).querySelector('[data-testid="upload-cancel"]').click();
  await settle();
  assert.ok(ui.seqs().includes("pending"));
  assert.match(ui.$("#composer-error").textContent, /too late/);
});

test("the attach button asks the shell to pick files for the open room", async () => {
  const ui = await boot({ ...signedIn(), attach_files: "c-picked" });
  const button = ui.$('[data-testid="attach-button"]');
  assert.equal(button.getAttribute("aria-label"), "Attach files");
  button.click();
  await settle();
  assert.deepEqual(ui.called("attach_files"), [{ room_id: "general", body: "" }]);
});

/** Types `text` into the composer as a person would (the draft is reported). */
const type = (ui, text) => {
  const box = ui.$('[data-testid="composer"]');
  box.value = text;
  box.dispatch("input");
  return box;
};

test("the composer's text goes with the picked files as one message's caption", async () => {
  const ui = await boot({ ...signedIn(), attach_files: "c-picked" });
  const box = type(ui, "the slides");
  ui.$('[data-testid="attach-button"]').click();
  await settle();
  assert.deepEqual(ui.called("attach_files"), [{ room_id: "general", body: "the slides" }]);
  assert.equal(box.value, "", "the caption left the composer");
});

test("nothing picked, or the attach refused: the caption comes back into the composer", async () => {
  let answer = null;
  const ui = await boot({ ...signedIn(), attach_files: () => answer });
  const box = type(ui, "the slides");
  ui.$('[data-testid="attach-button"]').click();
  await settle();
  assert.equal(box.value, "the slides", "nothing picked");
  answer = { reject: { code: "invalid", message: "cannot read it" } };
  ui.$('[data-testid="attach-button"]').click();
  await settle();
  assert.equal(box.value, "the slides", "refused");
  assert.match(ui.$("#composer-error").textContent, /cannot read it/);
});

test("a pasted image takes the composer's text as its caption, in reply mode the reply", async () => {
  const ui = await boot({ ...signedIn(), attach_bytes: "c-bytes" });
  await ui.emit([{ type: "message", message: { ...msg("general", 4, "bob", "show me"), id: "m-4" } }]);
  action(last(ui), "reply").click();
  await settle();
  const box = type(ui, "here, ünï 🎉");
  const png = new File([new Uint8Array([0x89, 0x50, 0x4e, 0x47])], "shot.png", { type: "image/png" });
  box.dispatch("paste", { clipboardData: { files: [png] } });
  await settle();
  const [headers] = ui.options("attach_bytes").map((o) => o.headers);
  assert.equal(decodeURIComponent(headers["natter-body"]), "here, ünï 🎉");
  assert.equal(decodeURIComponent(headers["natter-reply-to"]), "m-4");
  assert.equal(box.value, "");
  assert.equal(ui.$('[data-testid="composer-mode"]').hidden, true, "out of reply mode");
});

test("a pasted image and a dropped file go to the shell as bytes; text pastes stay text", async () => {
  const ui = await boot({ ...signedIn(), attach_bytes: "c-bytes" });
  const box = ui.$('[data-testid="composer"]');
  const png = new File([new Uint8Array([0x89, 0x50, 0x4e, 0x47])], "shot.png", { type: "image/png" });
  const pasted = box.dispatch("paste", { clipboardData: { files: [png] } });
  await settle();
  assert.equal(pasted.defaultPrevented, true);
  const sent = ui.called("attach_bytes");
  assert.equal(sent.length, 1);
  assert.deepEqual([...sent[0]], [0x89, 0x50, 0x4e, 0x47], "the bytes are the call's body");

  const text = box.dispatch("paste", { clipboardData: { files: [] } });
  assert.equal(text.defaultPrevented, false);

  const doc = new File(["hello"], "notes.txt", { type: "text/plain" });
  const room = ui.$(".room");
  const over = room.dispatch("dragover", { dataTransfer: { types: ["Files"] } });
  assert.equal(over.defaultPrevented, true, "the room takes drops");
  room.dispatch("drop", { dataTransfer: { files: [doc] } });
  await settle();
  assert.equal(ui.called("attach_bytes").length, 2);
});

test("a dropped file over the bound is refused here, pointing at the button", async () => {
  const ui = await boot({ ...signedIn(), attach_bytes: "c-bytes" });
  const huge = { name: "huge.iso", size: 26 * 1024 * 1024, type: "", arrayBuffer: async () => new ArrayBuffer(0) };
  ui.$(".room").dispatch("drop", { dataTransfer: { files: [huge] } });
  await settle();
  assert.equal(ui.called("attach_bytes").length, 0);
  assert.match(ui.$("#composer-error").textContent, /attach button/);
});

/** The files an `attach_bytes` call lists in its header, in the body's order. */
const listed = (options) => JSON.parse(decodeURIComponent(options.headers["natter-files"]));

test("three dropped files go to the shell in one call: one message, in order, bytes one after another", async () => {
  const ui = await boot({ ...signedIn(), attach_bytes: "c-bytes" });
  const box = type(ui, "the trip");
  const photos = [
    new File([new Uint8Array([1, 2, 3])], "a.png", { type: "image/png" }),
    new File([new Uint8Array([4])], "b.jpg", { type: "image/jpeg" }),
    new File(["hi"], "notes.txt"),
  ];
  ui.$(".room").dispatch("drop", { dataTransfer: { files: photos } });
  await settle();
  const calls = ui.called("attach_bytes");
  assert.equal(calls.length, 1, "one call, one message");
  assert.deepEqual([...calls[0]], [1, 2, 3, 4, 0x68, 0x69], "the files' bytes, in order");
  const [options] = ui.options("attach_bytes");
  assert.deepEqual(listed(options), [
    { name: "a.png", type: "image/png", size: 3 },
    { name: "b.jpg", type: "image/jpeg", size: 1 },
    { name: "notes.txt", type: "", size: 2 },
  ]);
  assert.equal(decodeURIComponent(options.headers["natter-body"]), "the trip");
  assert.equal(box.value, "");
});

test("twelve dropped files are two messages, of 10 and 2, in order; the caption and reply go with the first", async () => {
  const ui = await boot({ ...signedIn(), attach_bytes: "c-bytes" });
  await ui.emit([{ type: "message", message: { ...msg("general", 4, "bob", "photos?"), id: "m-4" } }]);
  action(last(ui), "reply").click();
  await settle();
  type(ui, "all of them");
  const photos = Array.from({ length: 12 }, (_, i) => new File([new Uint8Array([i])], `p${i}.jpg`, { type: "image/jpeg" }));
  ui.$(".room").dispatch("drop", { dataTransfer: { files: photos } });
  await settle();
  const options = ui.options("attach_bytes");
  assert.deepEqual(
    options.map((o) => listed(o).map((f) => f.name)),
    [photos.slice(0, 10).map((f) => f.name), photos.slice(10).map((f) => f.name)],
  );
  assert.deepEqual(ui.called("attach_bytes").map((bytes) => [...bytes]), [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [10, 11]]);
  assert.equal(decodeURIComponent(options[0].headers["natter-body"]), "all of them");
  assert.equal(decodeURIComponent(options[0].headers["natter-reply-to"]), "m-4");
  assert.equal(options[1].headers["natter-body"], "", "no caption on the second");
  assert.equal("natter-reply-to" in options[1].headers, false, "the second answers nothing");
});

test("files past the bytes one call carries start another message; a refused one stops the rest", async () => {
  const big = (name) => ({ name, size: 24 * 1024 * 1024, type: "", arrayBuffer: async () => new ArrayBuffer(0) });
  let calls = 0;
  const ui = await boot({
    ...signedIn(),
    attach_bytes: () => (++calls === 2 ? { reject: { code: "invalid", message: "cannot read it" } } : `c-${calls}`),
  });
  const files = ["a", "b", "c", "d", "e", "f", "g", "h", "i"].map(big);
  ui.$(".room").dispatch("drop", { dataTransfer: { files } });
  await settle();
  // 4 × 24 MiB fit the 100 MiB a call carries; the fifth starts the second call, refused.
  assert.deepEqual(ui.options("attach_bytes").map((o) => listed(o).map((f) => f.name)), [["a", "b", "c", "d"], ["e", "f", "g", "h"]]);
  assert.match(ui.$("#composer-error").textContent, /5 of the files were not sent: .*cannot read it/);
});
