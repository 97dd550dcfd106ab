-- Membership with consent (issue 22 item 7): who made a group room (only they may remove
-- members), who left or was removed (nobody else may put them back; someone who left may come
-- back by themselves, someone removed may not), and who blocked whom (a blocked user cannot put
-- the blocker in a room or open a DM with them).

ALTER TABLE rooms ADD COLUMN creator_id TEXT REFERENCES users (id) ON DELETE SET NULL;
-- Rooms made before: the creator was the first member inserted (create_group adds them
-- first), if they are still a member. `general` and direct rooms have none.
UPDATE rooms SET creator_id = (
    SELECT m.user_id FROM members m WHERE m.room_id = rooms.id ORDER BY m.rowid LIMIT 1
) WHERE kind = 'group' AND id <> 'general';

CREATE TABLE departures (
    room_id TEXT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    left_at TEXT NOT NULL,
    -- 1: removed by the room's creator; 0: left by themselves
    removed INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (room_id, user_id)
);

CREATE TABLE blocks (
    blocker_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    blocked_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id)
);
