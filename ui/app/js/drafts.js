// Keeps each room's unsent composer text in the account's cache (`save_draft`), so a draft
// survives a restart: one write per room after typing pauses, never one per keystroke.

/** How long typing must pause before a room's draft is written. */
export const SAVE_AFTER_MS = 400;

/** @param {{saveDraft: (roomId: string, body: string) => Promise<void>}} bridge */
export const createDraftKeeper = (bridge) => {
  /** Drafts waiting for their write, by room. @type {Map<string, ReturnType<typeof setTimeout>>} */
  const waiting = new Map();

  return {
    /** @param {string} roomId @param {string} text "" drops the room's draft */
    save(roomId, text) {
      clearTimeout(waiting.get(roomId));
      waiting.set(
        roomId,
        setTimeout(() => {
          waiting.delete(roomId);
          bridge.saveDraft(roomId, text).catch(() => {}); // signed out meanwhile: nothing to keep
        }, SAVE_AFTER_MS),
      );
    },
    /** Signing out: no write of the last account's text may land after it. */
    forget() {
      for (const timer of waiting.values()) clearTimeout(timer);
      waiting.clear();
    },
  };
};
