-- Appending a message becomes one INSERT … SELECT (seq from rooms.last_seq + 1); this trigger
-- moves rooms.last_seq in the same transaction, so seq stays gap-free.
CREATE TRIGGER messages_advance_last_seq AFTER INSERT ON messages
BEGIN
    UPDATE rooms SET last_seq = NEW.seq WHERE id = NEW.room_id;
END;
