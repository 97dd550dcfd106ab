-- Files a send carries (issue 20). Each is copied into the profile's `files/` folder when the
-- user sends (`local_path`, relative to the profile), uploaded before the send goes, and its
-- relay `Attachment` (JSON) kept once uploaded, so a retry after a restart uploads only what is
-- missing. Deleting the send (cancel, discard) deletes these rows.
CREATE TABLE outbox_files (
    client_id    TEXT NOT NULL REFERENCES outbox (client_id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    name         TEXT NOT NULL,
    content_type TEXT,
    size         INTEGER NOT NULL,
    local_path   TEXT NOT NULL,
    attachment   TEXT,
    PRIMARY KEY (client_id, position)
) WITHOUT ROWID;
