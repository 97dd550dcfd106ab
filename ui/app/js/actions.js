// What a person does to a message (issue 19): reply to it, react to it, edit or delete one of
// their own (a relay admin: delete someone else's too). Reply and edit put the composer in a
// mode (a bar above it says which, with a way out); the next send is then the reply or the
// edit (Up arrow in an empty composer edits our newest message; Esc leaves a mode). Reactions toggle: an emoji we already put on the message is taken back. Deleting asks
// first. All of it goes through the shell; what the room sees comes back as events.
/** @typedef {import("./bridge.js").Message} Message @typedef {import("./store.js").State} State */

/**
 * @param {{
 *   state: () => State,
 *   bridge: typeof import("./bridge.js"),
 *   view: {composerMode: (text: string | null) => void, setDraft: (text: string) => void,
 *     focusComposer: () => void, composerError: (text: string) => void,
 *     confirmDelete: (detail: string) => void},
 *   errorText: (error: unknown) => string,
 *   excerpt: (m: Message) => string,
 * }} deps
 */
export const createActions = ({ state, bridge, view, errorText, excerpt }) => {
  /** @type {{kind: "reply" | "edit", roomId: string, message: Message} | null} */
  let mode = null;
  /** The message a confirmed delete takes back. @type {Message | null} */
  let deleting = null;

  /** The open room's message at `seq`, if loaded and not deleted. @param {number} seq */
  const find = (seq) => {
    const s = state();
    const m = s.selected ? (s.messages[s.selected] ?? []).find((x) => x.seq === seq) : undefined;
    return m && !m.deleted && m.change == null ? m : null;
  };

  const setMode = (/** @type {typeof mode} */ next) => {
    mode = next;
    if (!next) view.composerMode(null);
    else if (next.kind === "reply") view.composerMode(`Replying to ${excerpt(next.message)}`);
    else view.composerMode("Editing your message");
    view.focusComposer();
  };

  /** @param {number} seq */
  const edit = (seq) => {
    const m = find(seq);
    if (!m || m.sender !== state().me) return;
    setMode({ kind: "edit", roomId: m.room_id, message: m });
    view.setDraft(m.body);
  };

  return {
    /** @param {number} seq */
    reply(seq) {
      const m = find(seq);
      if (m) setMode({ kind: "reply", roomId: m.room_id, message: m });
    },
    edit,
    /** Up arrow in an empty composer: edits our newest message of the open room. Answers whether there was one. */
    editLast() {
      const s = state();
      const loaded = s.selected ? (s.messages[s.selected] ?? []) : [];
      const last = loaded.filter((m) => m.sender === s.me && m.seq != null && find(m.seq)).at(-1);
      if (!last?.seq) return false;
      edit(last.seq);
      return true;
    },
    /**
     * What files attached now go with: the composer's text unless it is an edit (its text is
     * the edited message's), and in reply mode the message they answer.
     * @returns {{caption: boolean, replyTo?: string}}
     */
    attaching() {
      const current = mode && mode.roomId === state().selected ? mode : null;
      if (current?.kind === "edit") return { caption: false };
      return current ? { caption: true, replyTo: current.message.id } : { caption: true };
    },
    /** Leaves reply or edit mode (the bar's Cancel, Esc). Answers whether a mode was on. */
    cancel() {
      const was = mode !== null;
      if (mode?.kind === "edit") view.setDraft("");
      setMode(null);
      return was;
    },
    /** Another room opened: a reply or edit belongs to the room it started in. */
    roomChanged() {
      mode = null;
      view.composerMode(null);
    },
    /** @param {number} seq @param {string} emoji */
    async react(seq, emoji) {
      const m = find(seq);
      if (!m) return;
      const me = state().me;
      const mine = (m.reactions ?? []).some((r) => r.emoji === emoji && r.users.includes(me ?? ""));
      await bridge.react(m.room_id, m.id, emoji, !mine).catch((error) => view.composerError(errorText(error)));
    },
    /** @param {number} seq */
    askDelete(seq) {
      const m = find(seq);
      const s = state();
      const own = m?.sender === s.me;
      // Someone else's: only a relay admin may (moderation); the relay checks it again.
      if (!m || !(own || s.admin)) return;
      deleting = m;
      view.confirmDelete(
        own
          ? `“${excerpt(m)}” is taken back for everyone in the room.`
          : `As an admin, you delete ${m.sender}'s message “${excerpt(m)}” for everyone in the room; its text is erased.`,
      );
    },
    /** The dialog's answer; rejects with what it shows. */
    async confirmDelete() {
      const m = deleting;
      deleting = null;
      if (m) await bridge.deleteMessage(m.room_id, m.id).catch((error) => Promise.reject(new Error(errorText(error))));
    },
    /**
     * The composer's text, in the current mode: the answer of the send handler (true: handled),
     * or null when no mode is on and it is a plain send.
     * @param {string} body @returns {Promise<boolean> | null}
     */
    submit(body) {
      const current = mode;
      if (!current || current.roomId !== state().selected) return null;
      const done = current.kind === "edit"
        ? bridge.editMessage(current.roomId, current.message.id, body)
        : bridge.sendMessage(current.roomId, body, current.message.id);
      return done.then(
        () => {
          setMode(null);
          return true;
        },
        (error) => {
          view.composerError(errorText(error));
          return false;
        },
      );
    },
  };
};
