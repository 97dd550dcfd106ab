-- Entries may reach the cache in any order (a live edit before its target, filled from a gap
-- later). So a message row keeps what the relay last said it was, `base` (JSON: its body and the
-- fields of `state`) as of `base_seq`, and its `body` and `state` are that base with the room's
-- change entries above base_seq folded in, in seq order. A change entry names its target in
-- `target_id` (NULL for messages).
ALTER TABLE messages ADD COLUMN base TEXT;
ALTER TABLE messages ADD COLUMN base_seq INTEGER;
ALTER TABLE messages ADD COLUMN target_id TEXT;

UPDATE messages SET target_id = json_extract(state, '$.change.target') WHERE state IS NOT NULL;

-- Rows cached before: their entries were folded in as they came, so each is its own base, as of
-- the room's newest cached seq.
UPDATE messages
SET base = json_patch(json_object('body', body), COALESCE(state, '{}')),
    base_seq = (SELECT MAX(seq) FROM messages m WHERE m.room_id = messages.room_id)
WHERE target_id IS NULL;

CREATE INDEX messages_by_target ON messages (room_id, target_id, seq) WHERE target_id IS NOT NULL;
