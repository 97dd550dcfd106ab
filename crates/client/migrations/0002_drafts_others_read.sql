-- What a person leaves between visits: the unsent text of each room's composer, the room that
-- was open last, and how far the other members have read (the relay's `others_read_seq`, moved on by `receipt`
-- events), so the drafts and "read" on one's own messages survive an app restart. Account data:
-- signing out deletes them.

-- One draft per room; an empty draft is no row.
CREATE TABLE drafts (
    room_id TEXT PRIMARY KEY,
    body    TEXT NOT NULL
) WITHOUT ROWID;

-- The furthest read position of any other member (only moves forward).
ALTER TABLE rooms ADD COLUMN others_read_seq INTEGER NOT NULL DEFAULT 0;

-- The room open last (one row), opened again at the next start.
CREATE TABLE last_room (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    room_id TEXT NOT NULL
);
