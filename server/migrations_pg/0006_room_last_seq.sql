-- A room's last seq is read from its messages' (room_num, seq) key instead of kept on its row.
-- Every commit batch rewrote the row of each room it appended to; under load (2,500 sends/s
-- over 50 rooms) the 51-row table grew to 62 pages of dead versions, and every lookup of a
-- room (the commit's own lock, each inserted message's foreign-key check, each join) walked
-- them: 10% of PostgreSQL's CPU in heap_hot_search_buffer. The commit stage still locks the
-- room row (FOR NO KEY UPDATE, which writes no new version) to take seqs one batch at a time.
ALTER TABLE rooms DROP COLUMN last_seq;

-- The one home of "a room's last seq" (0 for a room without messages), for each room number
-- given: one step down the primary key each. A single-SELECT SQL function returning a table,
-- so the planner inlines it into the query that uses it (a scalar function would run as a
-- nested statement for each room: a fifth of the commit stage's time in PostgreSQL).
CREATE FUNCTION room_last_seqs(rooms BIGINT[]) RETURNS TABLE (num BIGINT, last_seq BIGINT)
LANGUAGE sql STABLE AS $$
    SELECT r.num, COALESCE((SELECT max(x.seq) FROM messages x WHERE x.room_num = r.num), 0)
    FROM unnest(rooms) AS r(num)
$$;
