-- Search (issue 20): each message's position in insert order, for newest-first pages across
-- rooms, and a trigram index on the current text for substring terms (ILIKE '%term%').
-- pg_trgm is a trusted extension: the database's owner may create it.
ALTER TABLE messages ADD COLUMN pos BIGINT GENERATED ALWAYS AS IDENTITY;
CREATE UNIQUE INDEX messages_by_pos ON messages (pos);
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX messages_body_trgm ON messages USING gin (body gin_trgm_ops);
