-- What a message is beyond its text (issue 19), as the relay sends it: for a change entry what
-- it changes; for a message its reply preview, last edit, deletion, reactions and mentions. JSON
-- of those fields of `Message` that are not empty; NULL for a plain message. Change entries are
-- applied to their target row as they are stored, so a row always holds its current state.
ALTER TABLE messages ADD COLUMN state TEXT;

-- A send that answers a message: the id of the message it replies to (NULL: none).
ALTER TABLE outbox ADD COLUMN reply_to TEXT;
