-- Issue 18: who may come in. Roles, disabled and deleted accounts, display names, invites, and
-- the device a session signed in from. Portable SQL, like 0001.
ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'member' CHECK (role IN ('member', 'admin'));
-- Set while an admin has disabled the account: it cannot sign in and has no sessions.
ALTER TABLE users ADD COLUMN disabled_at TEXT;
-- Set once the account is deleted: the row stays as a tombstone so the username is never
-- taken again by someone else (messages carry it), but it has no password, sessions or rooms.
ALTER TABLE users ADD COLUMN deleted_at TEXT;
ALTER TABLE users ADD COLUMN display_name TEXT NOT NULL DEFAULT '';

ALTER TABLE sessions ADD COLUMN device TEXT NOT NULL DEFAULT '';

CREATE TABLE invites (
    id         TEXT PRIMARY KEY,
    -- SHA-256 of the code, like session tokens: the code itself is never stored
    code_hash  TEXT NOT NULL UNIQUE,
    role       TEXT NOT NULL CHECK (role IN ('member', 'admin')),
    uses       INTEGER NOT NULL CHECK (uses > 0),
    used       INTEGER NOT NULL DEFAULT 0 CHECK (used <= uses),
    expires_at TEXT,
    -- the admin who made it; NULL for the relay's first-admin invite and the command line
    created_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX invites_by_created ON invites (created_at);
