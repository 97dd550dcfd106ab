-- The search index moves to a database file of its own beside this one (`natter-search.db`,
-- store/sqlite/indexer.rs), written by its own thread: the commit stage, whose one thread
-- bounds durable sends/s, no longer indexes, and the indexer never takes this file's write
-- lock. The indexer rebuilds the index there from `messages` on its first start.
DROP TRIGGER messages_search_update;
DROP TRIGGER messages_search_delete;
DROP TABLE message_search;
DROP VIEW searchable;
DROP TABLE search_indexed;
