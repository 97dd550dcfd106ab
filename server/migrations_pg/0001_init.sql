-- The PostgreSQL schema of the relay's store: the SQLite schema as migrations 0001-0007 left it
-- (server/migrations/), in one file. Times are RFC 3339 text, as in SQLite, so both backends
-- compare and return them alike. Ids and name keys sort bytewise (COLLATE "C"), as SQLite's
-- do, whatever the database's locale. Applied by sqlx's migrator (`_sqlx_migrations`), which holds
-- an advisory lock while it runs: nodes starting together migrate once.

CREATE TABLE users (
    num           BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    id            TEXT COLLATE "C" PRIMARY KEY,
    username      TEXT NOT NULL,
    -- lower-cased username: names are unique ignoring case
    username_key  TEXT COLLATE "C" NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    last_seen     TEXT
);

CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    -- SHA-256 of the bearer token; the token itself is never stored
    token_hash   TEXT NOT NULL UNIQUE,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   TEXT NOT NULL,
    last_used_at TEXT
);
CREATE INDEX sessions_by_user_use ON sessions (user_id, last_used_at);

CREATE TABLE rooms (
    num        BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    id         TEXT COLLATE "C" PRIMARY KEY,
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('group', 'direct')),
    -- "<user id>:<user id>" (sorted) for direct rooms: one room per pair
    dm_key     TEXT UNIQUE,
    -- the room's last seq: the commit stage locks this row (FOR UPDATE) to take the next ones
    last_seq   BIGINT NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    creator_id TEXT REFERENCES users (id) ON DELETE SET NULL
);

CREATE TABLE members (
    room_id   TEXT COLLATE "C" NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id   TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    read_seq  BIGINT NOT NULL DEFAULT 0,
    joined_at TEXT NOT NULL,
    PRIMARY KEY (room_id, user_id)
);
CREATE INDEX members_by_user ON members (user_id);

CREATE TABLE messages (
    id          TEXT NOT NULL UNIQUE,
    room_num    BIGINT NOT NULL REFERENCES rooms (num) ON DELETE CASCADE,
    seq         BIGINT NOT NULL,
    sender_num  BIGINT NOT NULL REFERENCES users (num),
    -- usernames never change, so the message carries it and reads need no join
    sender      TEXT NOT NULL,
    client_id   TEXT NOT NULL,
    body        TEXT NOT NULL,
    sent_at     TEXT NOT NULL,
    change_kind TEXT CHECK (change_kind IN ('edit', 'delete', 'reaction')),
    target_seq  BIGINT,
    reply_seq   BIGINT,
    emoji       TEXT,
    reaction_on BOOLEAN,
    edited_at   TEXT,
    deleted     BOOLEAN NOT NULL DEFAULT FALSE,
    -- mentioned usernames joined by spaces; NULL for none
    mentions    TEXT,
    PRIMARY KEY (room_num, seq),
    UNIQUE (sender_num, client_id)
);
CREATE INDEX messages_by_target ON messages (room_num, target_seq) WHERE target_seq IS NOT NULL;

CREATE TABLE reactions (
    room_num    BIGINT NOT NULL REFERENCES rooms (num) ON DELETE CASCADE,
    message_seq BIGINT NOT NULL,
    user_num    BIGINT NOT NULL REFERENCES users (num),
    username    TEXT NOT NULL,
    emoji       TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    PRIMARY KEY (room_num, message_seq, emoji, user_num)
);

CREATE TABLE departures (
    room_id TEXT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    left_at TEXT NOT NULL,
    -- removed by the room's creator, or left by themselves
    removed BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (room_id, user_id)
);

CREATE TABLE blocks (
    blocker_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    blocked_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id)
);

INSERT INTO rooms (id, name, kind, last_seq, created_at)
VALUES ('general', 'general', 'group', 0, '1970-01-01T00:00:00.000Z');
