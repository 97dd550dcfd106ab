-- Issue 22, item 11: a session expires when it has not been used (logged in, or a socket
-- connected with its token) for a while, and a user's sessions past a cap end, the one used
-- longest ago first. NULL reads as created_at (sessions from before this migration).
ALTER TABLE sessions ADD COLUMN last_used_at TEXT;
UPDATE sessions SET last_used_at = created_at;
CREATE INDEX sessions_by_user_use ON sessions (user_id, last_used_at);
