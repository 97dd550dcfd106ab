-- Natter client cache, one database per profile. The relay is the source of truth; this is what
-- the app shows before the network answers, plus the outbox, which only lives here.

-- Rooms as this user sees them (the last `rooms:list`, `sync` or `room` event).
CREATE TABLE rooms (
    id       TEXT PRIMARY KEY,
    name     TEXT NOT NULL,
    kind     TEXT NOT NULL CHECK (kind IN ('group', 'direct')),
    last_seq INTEGER NOT NULL DEFAULT 0,
    read_seq INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE room_members (
    room_id  TEXT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    -- members keep the relay's order (sorted case-insensitively)
    position INTEGER NOT NULL,
    username TEXT NOT NULL,
    PRIMARY KEY (room_id, position)
);

-- Each (room, seq) is kept once: inserts use ON CONFLICT DO NOTHING.
CREATE TABLE messages (
    room_id   TEXT NOT NULL,
    seq       INTEGER NOT NULL,
    id        TEXT NOT NULL,
    sender    TEXT NOT NULL,
    body      TEXT NOT NULL,
    client_id TEXT NOT NULL,
    sent_at   TEXT NOT NULL,
    PRIMARY KEY (room_id, seq)
) WITHOUT ROWID;

-- Per-room cursor: every seq in (base, cursor] is held. Messages above the cursor with missing
-- seqs between are gaps. No foreign key: a message may arrive before its room does.
CREATE TABLE cursors (
    room_id TEXT PRIMARY KEY,
    cursor  INTEGER NOT NULL DEFAULT 0
);

-- Sends, written before any network I/O and retried in `position` order until acked.
CREATE TABLE outbox (
    position      INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id     TEXT NOT NULL UNIQUE,
    room_id       TEXT NOT NULL,
    body          TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
    seq           INTEGER,
    error_code    TEXT,
    error_message TEXT
);
CREATE INDEX outbox_pending ON outbox (state, position);

-- The signed-in session (one row); the token itself lives in the profile's token file.
CREATE TABLE session (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    server_url TEXT NOT NULL,
    username   TEXT NOT NULL
);
