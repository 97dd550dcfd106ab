-- Files and images (issue 20). An upload is a `files` row; its bytes live in the file store by
-- content address (`hash`, SHA-256 hex), so two uploads of the same bytes share them. A message
-- carries its files through `message_files`; an upload no message carries is an orphan, removed
-- after a while (`--orphan-file-secs`).
CREATE TABLE files (
    id           TEXT PRIMARY KEY,
    uploader_num INTEGER NOT NULL REFERENCES users (num),
    hash         TEXT NOT NULL,
    name         TEXT NOT NULL,
    size         BIGINT NOT NULL,
    -- Sniffed from the bytes for images; the uploader's claim otherwise.
    content_type TEXT NOT NULL,
    width        INTEGER,
    height       INTEGER,
    uploaded_at  TEXT NOT NULL
);
-- Whether any upload still uses some bytes.
CREATE INDEX files_by_hash ON files (hash);
-- Orphans, oldest first.
CREATE INDEX files_by_time ON files (uploaded_at);

-- Which files a message carries, in the order its sender named them. Messages are named as
-- reactions name them: by room number and seq.
CREATE TABLE message_files (
    room_num    INTEGER NOT NULL REFERENCES rooms (num) ON DELETE CASCADE,
    message_seq BIGINT NOT NULL,
    position    INTEGER NOT NULL,
    file_id     TEXT NOT NULL REFERENCES files (id),
    PRIMARY KEY (room_num, message_seq, position)
);
-- Who may read a file (members of the rooms it was posted in); whether it is still used.
CREATE INDEX message_files_by_file ON message_files (file_id);
