-- Who a message mentions (issue 19): members of its room named as @username in its body, as
-- they spell their usernames, separated by spaces (usernames have none); NULL for none.
ALTER TABLE messages ADD COLUMN mentions TEXT;
