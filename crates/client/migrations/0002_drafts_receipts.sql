-- What a person leaves in a room between visits: the unsent text of each room's composer, and
-- how far the other members have read (from `receipt` events), so "read" on one's own messages
-- and the drafts survive an app restart. Account data: signing out deletes both.

-- One draft per room; an empty draft is no row.
CREATE TABLE drafts (
    room_id TEXT PRIMARY KEY,
    body    TEXT NOT NULL
) WITHOUT ROWID;

-- The furthest read position heard of each other member, per room (only moves forward).
CREATE TABLE receipts (
    room_id  TEXT NOT NULL,
    username TEXT NOT NULL,
    seq      INTEGER NOT NULL,
    PRIMARY KEY (room_id, username)
) WITHOUT ROWID;
