-- A run of plain messages (no reply, no files, no change) of a commit batch, appended by one
-- call (`plain.rs`). A batch of plain messages only is then one round trip, committed on its
-- own; it was six (the pool's check of the connection, BEGIN, the rooms' lock, their last
-- seqs, the insert, COMMIT), and on two busy cores each waited to be scheduled on both sides:
-- 70% of a batch's time before its COMMIT. A batch that also holds replies, files or changes
-- calls this inside its transaction, where the last seqs read include its own earlier rows.
--
-- Seqs: the rooms' rows are locked in id order (two batches never wait on each other
-- crosswise; NO KEY, so rows naming a room can still be inserted meanwhile); the insert, a
-- statement of its own, takes its snapshot once the locks are held and so sees what another
-- node committed into these rooms meanwhile. Each row whose sender is a member and that is the
-- first of its (sender, client_id) in the run takes its room's next seq, in run order.
--
-- A repeat of a committed (sender, client_id) (a retry whose ack was lost, or the same send
-- committing on another node at that moment) is only seen by the insert itself (ON CONFLICT
-- … DO NOTHING, which waits for a transaction in flight, then skips the row): its seq would
-- be a gap, so the run's rows are deleted again, never seen by anyone, and `whole` is false:
-- the caller then goes message by message, which is exact. Repeats are rare; looking each row
-- up first cost every send instead. With `every`, the same happens unless every row went in
-- (none a repeat within the run, every sender a member): a batch committed by this call alone
-- then needs nothing read after its commit.
--
-- Ids are compared as COLLATE "C", the id columns' collation, so that every join is a
-- primary-key lookup (with the arrays' default collation no index on an id could serve them).
CREATE FUNCTION append_plain(
    ords BIGINT[], new_ids TEXT[], room_ids TEXT[], sender_ids TEXT[], usernames TEXT[],
    client_ids TEXT[], bodies TEXT[], sent_ats TEXT[], mention_lists TEXT[], every BOOLEAN,
    OUT inserted_ids TEXT[], OUT inserted_seqs BIGINT[], OUT whole BOOLEAN
) LANGUAGE plpgsql AS $$
DECLARE
    nums BIGINT[];
    wanted BIGINT;
BEGIN
    SELECT array_agg(l.num) INTO nums
        FROM (SELECT r.num FROM rooms r WHERE r.id = ANY(room_ids)
              ORDER BY r.id FOR NO KEY UPDATE) l;
    WITH input AS (
        SELECT t.ord, t.id, t.room_id COLLATE "C" AS room_id,
            t.sender_id COLLATE "C" AS sender_id, t.sender, t.client_id, t.body, t.sent_at,
            t.mentions
        FROM unnest(ords, new_ids, room_ids, sender_ids, usernames, client_ids, bodies,
            sent_ats, mention_lists)
            AS t(ord, id, room_id, sender_id, sender, client_id, body, sent_at, mentions)
    ),
    fresh AS (
        SELECT DISTINCT ON (u.num, i.client_id) i.*, u.num AS sender_num, r.num AS room_num
        FROM input i
        JOIN users u ON u.id = i.sender_id
        JOIN rooms r ON r.id = i.room_id
        WHERE EXISTS (SELECT 1 FROM members m
                      WHERE m.room_id = i.room_id AND m.user_id = i.sender_id)
        ORDER BY u.num, i.client_id, i.ord
    ),
    inserted AS (
        INSERT INTO messages (id, room_num, seq, sender_num, sender, client_id, body, sent_at,
            mentions)
        SELECT f.id, f.room_num,
            b.last_seq + row_number() OVER (PARTITION BY f.room_num ORDER BY f.ord),
            f.sender_num, f.sender, f.client_id, f.body, f.sent_at, f.mentions
        FROM fresh f
        -- Given a variable, not a subquery, so that the planner inlines the function
        -- (otherwise parsed and planned at each call: a tenth of PostgreSQL's CPU in the
        -- two-node fan-out bench).
        JOIN room_last_seqs(nums) b ON b.num = f.room_num
        ORDER BY f.ord
        ON CONFLICT (sender_num, client_id) DO NOTHING
        RETURNING messages.id, messages.seq
    )
    SELECT array_agg(n.id), array_agg(n.seq),
            CASE WHEN every THEN cardinality(ords) ELSE (SELECT count(*) FROM fresh) END
        INTO inserted_ids, inserted_seqs, wanted
        FROM inserted n;
    whole := COALESCE(cardinality(inserted_ids), 0) = wanted;
    IF NOT whole THEN
        DELETE FROM messages WHERE messages.id = ANY(inserted_ids);
        inserted_ids := NULL;
        inserted_seqs := NULL;
    END IF;
END
$$;
