-- Unread counts (issue 19: new messages from others, not edits or reactions), also for messages
-- this cache never held. `unread` is the relay's count of the room's unread messages as of its
-- `last_seq` then, `unread_seq`; messages from others the cache holds above that seq are counted
-- from `messages` (`cache/rooms.rs`), and reading lowers `unread` by what it passes.
ALTER TABLE rooms ADD COLUMN unread INTEGER NOT NULL DEFAULT 0;
ALTER TABLE rooms ADD COLUMN unread_seq INTEGER NOT NULL DEFAULT 0;
