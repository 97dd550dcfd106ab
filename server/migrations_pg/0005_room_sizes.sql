-- Rooms of any size (issue 17), as SQLite's 0011: each room's member count kept by a trigger
-- (not counted at every room view), and an index that finds the furthest read position of a
-- room's members without reading them all.
CREATE INDEX members_by_read ON members (room_id, read_seq);

CREATE TABLE room_sizes (
    room_id TEXT PRIMARY KEY REFERENCES rooms (id) ON DELETE CASCADE,
    members BIGINT NOT NULL
);
INSERT INTO room_sizes (room_id, members) SELECT room_id, COUNT(*) FROM members GROUP BY room_id;

CREATE FUNCTION room_sizes_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO room_sizes (room_id, members) VALUES (NEW.room_id, 1)
        ON CONFLICT (room_id) DO UPDATE SET members = room_sizes.members + 1;
        RETURN NEW;
    END IF;
    UPDATE room_sizes SET members = members - 1 WHERE room_id = OLD.room_id;
    RETURN OLD;
END;
$$;

CREATE TRIGGER room_sizes_count AFTER INSERT OR DELETE ON members
FOR EACH ROW EXECUTE FUNCTION room_sizes_count();
