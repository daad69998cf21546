-- Usernames are case-sensitive as in Logto (`ABC` and `abc` are two users) unless the sign-in
-- experience's `usernamePolicy.caseSensitive` is false, which the application enforces by
-- comparing lower-cased (refused while names differing only by case exist). The unique index
-- moves to the exact name; the lower-cased one stays for case-insensitive lookups and the
-- user search's ranges.
DROP INDEX users__username;
CREATE UNIQUE INDEX users__username ON users (tenant_id, username);
CREATE INDEX users__username_lower ON users (tenant_id, lower(username));
