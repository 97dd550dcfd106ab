-- Replies, edits, deletes and reactions (issue 19). A change to a message is an entry of its
-- room like a message, with the room's next seq, so sync, history and the live event carry it.
-- Targets are named by seq: a change and a reply stay in the target's room.

-- NULL for a message; 'edit', 'delete' or 'reaction' for a change entry.
ALTER TABLE messages ADD COLUMN change_kind TEXT CHECK (change_kind IN ('edit', 'delete', 'reaction'));
-- A change entry's target, and a reply's target, by seq in the same room.
ALTER TABLE messages ADD COLUMN target_seq BIGINT;
ALTER TABLE messages ADD COLUMN reply_seq BIGINT;
-- A reaction entry: which emoji, added (1) or taken back (0).
ALTER TABLE messages ADD COLUMN emoji TEXT;
ALTER TABLE messages ADD COLUMN reaction_on INTEGER;
-- A message's current state: `body` is its latest text; a deleted one keeps no text.
ALTER TABLE messages ADD COLUMN edited_at TEXT;
ALTER TABLE messages ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;

-- Requests name their target by id.
CREATE UNIQUE INDEX messages_by_id ON messages (id);
-- A delete erases its target's edits' text too.
CREATE INDEX messages_by_target ON messages (room_num, target_seq) WHERE target_seq IS NOT NULL;

-- Who has which emoji on a message now; `seq` is the entry that put it there (orders them).
CREATE TABLE reactions (
    room_num    INTEGER NOT NULL REFERENCES rooms (num) ON DELETE CASCADE,
    message_seq BIGINT NOT NULL,
    user_num    INTEGER NOT NULL REFERENCES users (num),
    username    TEXT NOT NULL,
    emoji       TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    PRIMARY KEY (room_num, message_seq, emoji, user_num)
);
