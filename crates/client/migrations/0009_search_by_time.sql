-- Offline search pages in time order (issue 20: ≤ 20 ms over 100,000 cached messages). The
-- index of 0005 keyed each message in the order it was filed, so a search read every match and
-- sorted them all by `sent_at` before cutting a page. Now a message's key grows with the instant
-- its `sent_at` names: a search walks the index newest first and stops at its page
-- (`cache/search.rs`), however the message arrived (live, a gap fill, an older history page).
--
-- The key is the millisecond of `sent_at` since 1970 (0 when it is not a time SQLite reads;
-- clamped to [0, 2^42), the years 1970 to 2109) times 2^20, plus the message's slot in that
-- millisecond: the next one free there (2^20 messages of one millisecond would run into the
-- next one's keys; no cache holds that many). Messages of one millisecond are ordered by the
-- search, not the key. Same rules as 0005 for what is indexed and when (`searchable`, the
-- triggers); only the keys change, so the index is rebuilt from the messages. The old index's
-- pages are zeroed as they are freed (the cache runs with `secure_delete`).
DROP TRIGGER messages_search_insert;
DROP TRIGGER messages_search_update;
DROP TRIGGER messages_search_delete;
DROP TABLE message_search;
DROP TABLE search_keys;

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

-- What is searchable, as in 0005 (a message, no change in its state, not deleted; the one place
-- this is decided), now with its time: `first_key`, its millisecond's first key (the one place
-- the key's time part is computed; 2^20 = 1048576 slots a millisecond, 2^42 - 1 =
-- 4398046511103), by which a search that reads the rows orders them too.
DROP VIEW searchable;
CREATE VIEW searchable AS
SELECT room_id, seq, body, sent_at,
       MIN(MAX(COALESCE(CAST(round((julianday(sent_at) - 2440587.5) * 86400000) AS INTEGER), 0),
               0), 4398046511103) * 1048576 AS first_key
FROM messages
WHERE state IS NULL
   OR (json_valid(state)
       AND json_extract(state, '$.change') IS NULL
       AND NOT COALESCE(json_extract(state, '$.deleted'), 0));

-- A searchable message's key if it were indexed now: the next free slot of its millisecond.
CREATE VIEW search_new_keys AS
SELECT t.room_id, t.seq,
       (SELECT COALESCE(MAX(k.key) + 1, t.first_key) FROM search_keys k
        WHERE k.key BETWEEN t.first_key AND t.first_key + 1048575) AS key
FROM searchable t;

-- The rebuild numbers each millisecond's messages at once (an INSERT … SELECT reading the table
-- it fills would see none of its own rows, so `search_new_keys` would give one slot to all).
INSERT INTO search_keys (key, room_id, seq)
SELECT first_key + ROW_NUMBER() OVER (PARTITION BY first_key ORDER BY room_id, seq) - 1,
       room_id, seq
FROM searchable;
INSERT INTO message_search (rowid, body)
SELECT k.key, s.body FROM search_keys k JOIN searchable s ON s.room_id = k.room_id AND s.seq = k.seq;

CREATE TRIGGER messages_search_insert AFTER INSERT ON messages
BEGIN
    INSERT INTO search_keys (key, room_id, seq)
    SELECT key, room_id, seq FROM search_new_keys WHERE room_id = NEW.room_id AND seq = NEW.seq;
    INSERT INTO message_search (rowid, body)
    SELECT key, NEW.body FROM search_keys WHERE room_id = NEW.room_id AND seq = NEW.seq;
END;

CREATE TRIGGER messages_search_update AFTER UPDATE OF body, state ON messages
BEGIN
    INSERT INTO message_search (message_search, rowid, body)
    SELECT 'delete', key, OLD.body FROM search_keys WHERE room_id = OLD.room_id AND seq = OLD.seq;
    DELETE FROM search_keys WHERE room_id = OLD.room_id AND seq = OLD.seq;
    INSERT INTO search_keys (key, room_id, seq)
    SELECT key, room_id, seq FROM search_new_keys WHERE room_id = NEW.room_id AND seq = NEW.seq;
    INSERT INTO message_search (rowid, body)
    SELECT key, NEW.body FROM search_keys WHERE room_id = NEW.room_id AND seq = NEW.seq;
END;

CREATE TRIGGER messages_search_delete AFTER DELETE ON messages
BEGIN
    INSERT INTO message_search (message_search, rowid, body)
    SELECT 'delete', key, OLD.body FROM search_keys WHERE room_id = OLD.room_id AND seq = OLD.seq;
    DELETE FROM search_keys WHERE room_id = OLD.room_id AND seq = OLD.seq;
END;
