-- What a person leaves in a room between visits: the unsent text of each room's composer, and
-- how far the other members have read (the relay's `others_read_seq`, moved on by `receipt`
-- events), so the drafts and "read" on one's own messages survive an app restart. Account data:
-- signing out deletes both.

-- One draft per room; an empty draft is no row.
CREATE TABLE drafts (
    room_id TEXT PRIMARY KEY,
    body    TEXT NOT NULL
) WITHOUT ROWID;

-- The furthest read position of any other member (only moves forward).
ALTER TABLE rooms ADD COLUMN others_read_seq INTEGER NOT NULL DEFAULT 0;
