-- Offline search (issue 20): a trigram index of the cached messages' current text, like the
-- relay's (server/migrations/0010_search.sql): any substring of 3 or more characters, ignoring
-- case, in any script. Change entries and deleted messages are never indexed; an edit or a
-- delete applied to a cached message (its body and state change) re-indexes it in the same
-- transaction, so a search never finds pre-edit or deleted text.
--
-- `messages` has no integer key (WITHOUT ROWID, keyed by room and seq), so each indexed message
-- gets one here; the index itself keeps no text (contentless) and its deletes erase the
-- trigrams from its pages at once (secure-delete). A delete names the text it takes out, which
-- is the row's body as it was (`OLD.body`): every change of a body passes the update trigger.
-- Not `contentless_delete`: its deletes are tombstones, the trigrams would stay in the pages.
CREATE TABLE search_keys (
    key     INTEGER PRIMARY KEY,
    room_id TEXT NOT NULL,
    seq     INTEGER NOT NULL,
    UNIQUE (room_id, seq)
);
CREATE VIRTUAL TABLE message_search USING fts5 (
    body,
    content = '',
    tokenize = 'trigram'
);
INSERT INTO message_search (message_search, rank) VALUES ('secure-delete', 1);

-- What is searchable: a message (no change in its state) not deleted. The one place this is
-- decided: searches read `search_keys`.
CREATE VIEW searchable AS
SELECT room_id, seq, body FROM messages
WHERE state IS NULL
   OR (json_valid(state)
       AND json_extract(state, '$.change') IS NULL
       AND NOT COALESCE(json_extract(state, '$.deleted'), 0));

INSERT INTO search_keys (room_id, seq) SELECT room_id, seq FROM searchable;
INSERT INTO message_search (rowid, body)
SELECT k.key, s.body FROM search_keys k JOIN searchable s ON s.room_id = k.room_id AND s.seq = k.seq;

CREATE TRIGGER messages_search_insert AFTER INSERT ON messages
BEGIN
    INSERT INTO search_keys (room_id, seq)
    SELECT room_id, seq FROM searchable WHERE room_id = NEW.room_id AND seq = NEW.seq;
    INSERT INTO message_search (rowid, body)
    SELECT key, NEW.body FROM search_keys WHERE room_id = NEW.room_id AND seq = NEW.seq;
END;

CREATE TRIGGER messages_search_update AFTER UPDATE OF body, state ON messages
BEGIN
    INSERT INTO message_search (message_search, rowid, body)
    SELECT 'delete', key, OLD.body FROM search_keys WHERE room_id = OLD.room_id AND seq = OLD.seq;
    DELETE FROM search_keys WHERE room_id = OLD.room_id AND seq = OLD.seq;
    INSERT INTO search_keys (room_id, seq)
    SELECT room_id, seq FROM searchable WHERE room_id = NEW.room_id AND seq = NEW.seq;
    INSERT INTO message_search (rowid, body)
    SELECT key, NEW.body FROM search_keys WHERE room_id = NEW.room_id AND seq = NEW.seq;
END;

CREATE TRIGGER messages_search_delete AFTER DELETE ON messages
BEGIN
    INSERT INTO message_search (message_search, rowid, body)
    SELECT 'delete', key, OLD.body FROM search_keys WHERE room_id = OLD.room_id AND seq = OLD.seq;
    DELETE FROM search_keys WHERE room_id = OLD.room_id AND seq = OLD.seq;
END;
