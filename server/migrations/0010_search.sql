-- Search (issue 20): a trigram index of every message's current text. Trigrams find any
-- substring of 3 or more characters, ignoring case, in any script: inside words, in Chinese and
-- Japanese text (no spaces between words), emoji sequences; shorter terms are checked on the
-- rows themselves (store/sqlite/search.rs). One index, not a word index beside it: a word is a
-- substring too, and a second index would double the indexing work.
--
-- New messages are indexed outside their commit, in chunks, between the commit stage's batches
-- (store/sqlite/indexer.rs): as a trigger inside each commit the index cost a message about 8
-- times as much (docs/benchmarks.md, "Search"). Every message up to this rowid is indexed;
-- searches scan the rows above it.
CREATE TABLE search_indexed (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    upto INTEGER NOT NULL
);
INSERT INTO search_indexed (id, upto) SELECT 1, COALESCE(MAX(rowid), 0) FROM messages;

-- External content: the text lives once, in `messages`; the index keeps only its trigrams,
-- keyed by the message's rowid. Its content is exactly what it indexes: messages (never change
-- entries), not deleted, reached by the indexer. So `PRAGMA integrity_check` (which compares
-- an FTS5 index with its content) holds, and `INSERT INTO message_search(message_search)
-- VALUES ('rebuild')` rebuilds it (needed after a VACUUM, which may renumber rowids; the relay
-- never runs one).
CREATE VIEW searchable AS
SELECT rowid AS num, body FROM messages
WHERE change_kind IS NULL AND deleted = 0 AND rowid <= (SELECT upto FROM search_indexed);
CREATE VIRTUAL TABLE message_search USING fts5 (
    body,
    content = 'searchable',
    content_rowid = 'num',
    tokenize = 'trigram'
);
-- 'secure-delete': a deleted or edited message's trigrams are erased from the index's pages in
-- the same transaction (issue 19: a delete removes the text from the relay's storage); without
-- it they stay in older segments, marked deleted, until FTS5 merges them. (Not with
-- `contentless_delete`: its deletes are tombstones, the trigrams stay.) One known flaw of the
-- bundled SQLite 3.46.0: once a delete empties a segment (an edit's re-indexed text, deleted
-- later), `PRAGMA integrity_check` reports "malformed inverted index for FTS5 table
-- main.message_search" though searches answer right; `INSERT INTO message_search(message_search)
-- VALUES ('rebuild')` clears it (docs/self-hosting.md).
INSERT INTO message_search (message_search, rank) VALUES ('secure-delete', 1);

-- Existing messages.
INSERT INTO message_search (rowid, body) SELECT num, body FROM searchable;

-- An edit (new body) or a delete (body '', deleted = 1) of an indexed message changes the index
-- in the same transaction, so a search never finds pre-edit or deleted text. A message not
-- indexed yet needs nothing: the indexer takes its text as it is then.
CREATE TRIGGER messages_search_update AFTER UPDATE OF body, deleted ON messages
WHEN OLD.change_kind IS NULL AND OLD.deleted = 0
    AND OLD.rowid <= (SELECT upto FROM search_indexed)
BEGIN
    INSERT INTO message_search (message_search, rowid, body) VALUES ('delete', OLD.rowid, OLD.body);
    INSERT INTO message_search (rowid, body) SELECT NEW.rowid, NEW.body WHERE NEW.deleted = 0;
END;

CREATE TRIGGER messages_search_delete AFTER DELETE ON messages
WHEN OLD.change_kind IS NULL AND OLD.deleted = 0
    AND OLD.rowid <= (SELECT upto FROM search_indexed)
BEGIN
    INSERT INTO message_search (message_search, rowid, body) VALUES ('delete', OLD.rowid, OLD.body);
END;
