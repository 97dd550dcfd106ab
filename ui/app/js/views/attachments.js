// Files in the message list (issue 20): a message's images inline as thumbnails (full size in
// an overlay on click, Esc closes), other files as a card with name, size and Download; our
// pending sends' files with an upload bar and Cancel. Also how files come in: the attach button
// (the system's picker, opened by the shell), a drop on the room, an image pasted into the
// composer. Text nodes only: a file's name is user text. Images arrive as `data:` URLs from
// the shell (the CSP allows no other source), fetched once per page and kept here.
import { trapTab } from "./trap.js";

/** Thumbnails kept as data URLs; past this many, the oldest kept goes first. */
const KEEP_THUMBNAILS = 200;

/** @typedef {{id: string, name: string, size: number, type: string, width?: number, height?: number}} Attachment */
/** @typedef {{name: string, size: number, type?: string}} PendingFile */

/** "1.2 MB", "340 KB", "12 bytes". @param {number} bytes */
export const sizeText = (bytes) => {
  if (bytes < 1000) return `${bytes} byte${bytes === 1 ? "" : "s"}`;
  const units = ["KB", "MB", "GB"];
  let n = bytes / 1000;
  let unit = 0;
  while (n >= 1000 && unit < units.length - 1) {
    n /= 1000;
    unit += 1;
  }
  return `${n < 10 ? n.toFixed(1) : Math.round(n)} ${units[unit]}`;
};

/** Whether the relay shows it as an image (only these four are ever served inline). @param {Attachment} a */
export const isImage = (a) => ["image/png", "image/jpeg", "image/gif", "image/webp"].includes(a.type);

/**
 * The files' part of the message list.
 * @param {{image: (fileId: string, thumbnail: boolean) => Promise<string>,
 *   download: (fileId: string, name: string) => void, cancel: (clientId: string) => void}} h
 * @param {HTMLElement} overlay the full-size viewer (class "overlay", holding an <img> and a close button)
 */
export const createAttachments = (h, overlay) => {
  /** @type {Map<string, string>} */
  const thumbnails = new Map();
  const full = /** @type {HTMLImageElement} */ (overlay.querySelector("img"));
  const closeButton = /** @type {HTMLButtonElement} */ (overlay.querySelector("button"));
  let returnTo = /** @type {HTMLElement | null} */ (null);

  const close = () => {
    overlay.hidden = true;
    full.removeAttribute("src");
    returnTo?.focus();
  };
  closeButton.addEventListener("click", close);
  overlay.addEventListener("click", (e) => {
    if (e.target === overlay) close();
  });
  overlay.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      e.preventDefault();
      close();
    } else {
      trapTab(overlay, e);
    }
  });

  /** @param {Attachment} a @param {HTMLElement} from */
  const showFull = async (a, from) => {
    returnTo = from;
    full.alt = a.name;
    overlay.hidden = false;
    closeButton.focus();
    try {
      full.src = await h.image(a.id, false);
    } catch {
      full.alt = `${a.name} could not be loaded`;
    }
  };

  /** @param {Attachment} a */
  const imageNode = (a) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "attachment image";
    button.dataset.testid = "attachment";
    button.dataset.fileId = a.id;
    button.setAttribute("aria-label", `Image ${a.name}, ${sizeText(a.size)}: show full size`);
    const img = document.createElement("img");
    img.alt = a.name;
    if (a.width && a.height) {
      // Room kept for it before it loads, so the list does not jump.
      const scale = Math.min(1, 320 / Math.max(a.width, a.height));
      img.width = Math.round(a.width * scale);
      img.height = Math.round(a.height * scale);
    }
    const known = thumbnails.get(a.id);
    if (known) img.src = known;
    else
      h.image(a.id, true).then(
        (url) => {
          if (thumbnails.size >= KEEP_THUMBNAILS) thumbnails.delete(thumbnails.keys().next().value ?? "");
          thumbnails.set(a.id, url);
          img.src = url;
          button.dataset.loaded = "true";
        },
        () => {
          img.alt = `${a.name} (no preview)`;
        },
      );
    if (known) button.dataset.loaded = "true";
    button.append(img);
    button.addEventListener("click", () => showFull(a, button));
    return button;
  };

  /** @param {Attachment} a */
  const fileCard = (a) => {
    const card = document.createElement("div");
    card.className = "attachment file";
    card.dataset.testid = "attachment";
    card.dataset.fileId = a.id;
    const name = document.createElement("span");
    name.className = "file-name";
    name.textContent = a.name;
    const size = document.createElement("span");
    size.className = "file-size";
    size.textContent = sizeText(a.size);
    const download = document.createElement("button");
    download.type = "button";
    download.className = "secondary";
    download.dataset.testid = "attachment-download";
    download.textContent = "Download";
    download.setAttribute("aria-label", `Download ${a.name}`);
    download.addEventListener("click", () => h.download(a.id, a.name));
    card.append(name, size, download);
    return card;
  };

  /** A committed message's files. @param {Attachment[]} list */
  const committed = (list) => {
    const box = document.createElement("div");
    box.className = "attachments";
    box.append(...list.map((a) => (isImage(a) ? imageNode(a) : fileCard(a))));
    return box;
  };

  /**
   * One of our sends still uploading (or failed): its files by name and size, and while it
   * is pending the bar and Cancel.
   * @param {PendingFile[]} files @param {{sent: number, total: number} | null} progress
   * @param {string} clientId @param {boolean} pending
   */
  const uploading = (files, progress, clientId, pending) => {
    const box = document.createElement("div");
    box.className = "attachments pending";
    for (const f of files) {
      const line = document.createElement("div");
      line.className = "attachment file";
      const name = document.createElement("span");
      name.className = "file-name";
      name.textContent = f.name;
      const size = document.createElement("span");
      size.className = "file-size";
      size.textContent = sizeText(f.size);
      line.append(name, size);
      box.append(line);
    }
    if (!pending) return box;
    const total = progress?.total ?? files.reduce((sum, f) => sum + f.size, 0);
    const sent = Math.min(progress?.sent ?? 0, total);
    const bar = document.createElement("progress");
    bar.dataset.testid = "upload-progress";
    bar.max = Math.max(total, 1);
    bar.value = sent;
    bar.setAttribute("aria-label", `Uploading: ${sizeText(sent)} of ${sizeText(total)}`);
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "link";
    cancel.dataset.testid = "upload-cancel";
    cancel.textContent = "Cancel";
    cancel.setAttribute("aria-label", "Cancel this upload");
    cancel.addEventListener("click", () => h.cancel(clientId));
    box.append(bar, cancel);
    return box;
  };

  return { committed, uploading };
};

/**
 * How files come in: the attach button (the shell opens the system's picker), a drop on the
 * room, an image pasted into the composer; the files of one drop or paste are handed over
 * together, as bytes (one message).
 * @param {{button: HTMLButtonElement, room: HTMLElement, box: HTMLTextAreaElement}} parts
 * @param {{pick: () => void, files: (files: File[]) => void}} h
 */
export const wireAttach = ({ button, room, box }, h) => {
  button.addEventListener("click", () => h.pick());
  room.addEventListener("dragover", (e) => {
    const drag = /** @type {DragEvent} */ (e);
    if (drag.dataTransfer?.types?.includes("Files")) e.preventDefault();
  });
  room.addEventListener("drop", (e) => {
    const files = [.../** @type {DragEvent} */ (e).dataTransfer?.files ?? []];
    if (files.length === 0) return;
    e.preventDefault();
    h.files(files);
  });
  box.addEventListener("paste", (e) => {
    const files = [.../** @type {ClipboardEvent} */ (e).clipboardData?.files ?? []].filter((f) => f.type.startsWith("image/"));
    if (files.length === 0) return; // text pastes as text
    e.preventDefault();
    h.files(files);
  });
};
