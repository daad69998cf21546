-- Rate limits on password verification (per client IP, per identifier): one counter per
-- bucket and fixed window, raised by one atomic upsert, shared by every node.

CREATE TABLE rate_limit_hits (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    bucket TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    hits INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, bucket, window_start)
);
CREATE INDEX rate_limit_hits__expires_at ON rate_limit_hits (expires_at);
