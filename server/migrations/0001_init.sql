-- Natter relay schema v1. Portable SQL: the same statements are meant to run on PostgreSQL.
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL,
    -- lower-cased username: names are unique ignoring case
    username_key  TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    last_seen     TEXT
);

CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    -- SHA-256 of the bearer token; the token itself is never stored
    token_hash TEXT NOT NULL UNIQUE,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE rooms (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('group', 'direct')),
    -- "<user id>:<user id>" (sorted) for direct rooms: one room per pair
    dm_key     TEXT UNIQUE,
    last_seq   BIGINT NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);

CREATE TABLE members (
    room_id   TEXT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    read_seq  BIGINT NOT NULL DEFAULT 0,
    joined_at TEXT NOT NULL,
    PRIMARY KEY (room_id, user_id)
);
CREATE INDEX members_by_user ON members (user_id);

CREATE TABLE messages (
    id         TEXT PRIMARY KEY,
    room_id    TEXT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    seq        BIGINT NOT NULL,
    sender_id  TEXT NOT NULL REFERENCES users (id),
    -- usernames never change, so the message carries it and reads need no join
    sender     TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    body       TEXT NOT NULL,
    sent_at    TEXT NOT NULL,
    UNIQUE (room_id, seq),
    UNIQUE (sender_id, client_id)
);

INSERT INTO rooms (id, name, kind, last_seq, created_at)
VALUES ('general', 'general', 'group', 0, '1970-01-01T00:00:00.000Z');
