-- End-user sign-in: pending interactions, browser sessions, grants and the tokens issued
-- under them (stored as SHA-256 digests, never in clear), and the per-identifier failure
-- counters behind the sign-in lockout.

CREATE TABLE oidc_interactions (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    cookie_hash TEXT NOT NULL,
    client_id TEXT NOT NULL,
    params TEXT NOT NULL,
    state TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, client_id) REFERENCES applications (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX oidc_interactions__cookie ON oidc_interactions (tenant_id, cookie_hash);
CREATE INDEX oidc_interactions__expires_at ON oidc_interactions (expires_at);

CREATE TABLE oidc_sessions (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    cookie_hash TEXT NOT NULL,
    user_id TEXT NOT NULL,
    auth_time INTEGER NOT NULL,
    xsrf TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX oidc_sessions__cookie ON oidc_sessions (tenant_id, cookie_hash);
CREATE INDEX oidc_sessions__user ON oidc_sessions (tenant_id, user_id);
CREATE INDEX oidc_sessions__expires_at ON oidc_sessions (expires_at);

CREATE TABLE oidc_grants (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    session_id TEXT,
    scope TEXT NOT NULL,
    resources TEXT NOT NULL,
    auth_time INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, client_id) REFERENCES applications (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX oidc_grants__user ON oidc_grants (tenant_id, user_id);
CREATE INDEX oidc_grants__expires_at ON oidc_grants (expires_at);

CREATE TABLE oidc_tokens (
    tenant_id TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    kind TEXT NOT NULL,
    grant_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    data TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    consumed_at INTEGER,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, token_hash),
    FOREIGN KEY (tenant_id, grant_id) REFERENCES oidc_grants (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX oidc_tokens__grant ON oidc_tokens (tenant_id, grant_id);
CREATE INDEX oidc_tokens__expires_at ON oidc_tokens (expires_at);

CREATE TABLE sign_in_failures (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    identifier TEXT NOT NULL,
    failures INTEGER NOT NULL,
    window_started_at INTEGER NOT NULL,
    locked_until INTEGER,
    PRIMARY KEY (tenant_id, identifier)
);
