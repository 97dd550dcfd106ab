-- Rooms of any size (issue 17): a room's member count, kept by triggers rather than counted at
-- every room view (COUNT over general's 100,000 members cost ~7 ms of CPU on each room list),
-- and an index that finds the furthest read position of a room's members without reading them
-- all (`others_read_seq`; a MAX over 100,000 rows was ~30 ms).
CREATE INDEX members_by_read ON members (room_id, read_seq);

CREATE TABLE room_sizes (
    room_id TEXT PRIMARY KEY REFERENCES rooms (id) ON DELETE CASCADE,
    members INTEGER NOT NULL
);
INSERT INTO room_sizes (room_id, members) SELECT room_id, COUNT(*) FROM members GROUP BY room_id;

CREATE TRIGGER room_sizes_join AFTER INSERT ON members
BEGIN
    INSERT INTO room_sizes (room_id, members) VALUES (NEW.room_id, 1)
    ON CONFLICT (room_id) DO UPDATE SET members = members + 1;
END;

CREATE TRIGGER room_sizes_leave AFTER DELETE ON members
BEGIN
    UPDATE room_sizes SET members = members - 1 WHERE room_id = OLD.room_id;
END;
