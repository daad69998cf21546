-- Large user tables: the unfiltered user list's total comes from a per-tenant counter kept
-- by triggers, and the list order has an index of its own (see the PostgreSQL twin; SQLite
-- has no trigram index, so substring search scans).

CREATE TABLE user_counts (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    users INTEGER NOT NULL
);
INSERT INTO user_counts (tenant_id, users)
    SELECT tenant_id, COUNT(*) FROM users GROUP BY tenant_id;

CREATE TRIGGER users__count_added AFTER INSERT ON users BEGIN
    INSERT INTO user_counts (tenant_id, users) VALUES (NEW.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET users = users + 1;
END;
CREATE TRIGGER users__count_removed AFTER DELETE ON users BEGIN
    UPDATE user_counts SET users = users - 1 WHERE tenant_id = OLD.tenant_id;
END;

DROP INDEX users__created_at;
CREATE INDEX users__created_at ON users (tenant_id, created_at DESC, id DESC);
