-- Large user tables: the unfiltered user list's total comes from a per-tenant counter kept
-- by triggers (a COUNT(*) over a million rows costs ~50 ms a page), the list order has an
-- index of its own, and substring search over the identifiers is served by a trigram index.

CREATE TABLE user_counts (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    users BIGINT NOT NULL
);
INSERT INTO user_counts (tenant_id, users)
    SELECT tenant_id, COUNT(*) FROM users GROUP BY tenant_id;

-- Statement-level triggers: a bulk insert or delete updates each tenant's counter once.
CREATE FUNCTION user_counts_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO user_counts (tenant_id, users)
        SELECT tenant_id, COUNT(*) FROM added GROUP BY tenant_id
        ON CONFLICT (tenant_id) DO UPDATE SET users = user_counts.users + EXCLUDED.users;
    RETURN NULL;
END $$;
CREATE FUNCTION user_counts_remove() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE user_counts c SET users = c.users - r.n
        FROM (SELECT tenant_id, COUNT(*) AS n FROM removed GROUP BY tenant_id) r
        WHERE c.tenant_id = r.tenant_id;
    RETURN NULL;
END $$;
CREATE TRIGGER users__count_added AFTER INSERT ON users
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION user_counts_add();
CREATE TRIGGER users__count_removed AFTER DELETE ON users
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION user_counts_remove();

-- The list is newest first; ties by id, in the index's direction.
DROP INDEX users__created_at;
CREATE INDEX users__created_at ON users (tenant_id, created_at DESC, id DESC);

-- Substring search (`search=%…%`) over id, username, email, phone and name: one trigram
-- index over their concatenation (the same expression as `users::SEARCH_TEXT`). pg_trgm
-- ships with PostgreSQL but may be withheld by a hosting provider: then search scans.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
    CREATE INDEX users__search_text ON users USING gin ((lower(
        id || ' ' || COALESCE(username, '') || ' ' || COALESCE(primary_email, '') || ' '
        || COALESCE(primary_phone, '') || ' ' || COALESCE(name, '')
    )) gin_trgm_ops);
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'pg_trgm is not available (%): user search will scan the users table', SQLERRM;
END $$;
