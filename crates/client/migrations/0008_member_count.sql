-- Rooms of any size (issue 17): a big room comes with its member count and no names (the
-- relay lists names only up to 64 members); the count is kept beside the names it sent.
ALTER TABLE rooms ADD COLUMN member_count INTEGER NOT NULL DEFAULT 0;
