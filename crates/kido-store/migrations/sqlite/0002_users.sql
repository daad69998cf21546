-- Users, their global roles, the sign-in experience and the audit log.

CREATE TABLE users (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    username TEXT,
    primary_email TEXT,
    primary_phone TEXT,
    password_encrypted TEXT,
    password_encryption_method TEXT,
    name TEXT,
    avatar TEXT,
    application_id TEXT,
    profile TEXT NOT NULL,
    identities TEXT NOT NULL,
    custom_data TEXT NOT NULL,
    is_suspended INTEGER NOT NULL DEFAULT 0,
    last_sign_in_at INTEGER,
    password_updated_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
-- Identifiers are unique per tenant, case-insensitively for username and email. The same
-- expression indexes serve exact and prefix searches (range on lower(x)).
CREATE UNIQUE INDEX users__username ON users (tenant_id, lower(username));
CREATE UNIQUE INDEX users__primary_email ON users (tenant_id, lower(primary_email));
CREATE UNIQUE INDEX users__primary_phone ON users (tenant_id, primary_phone);
CREATE INDEX users__name ON users (tenant_id, lower(name));
CREATE INDEX users__created_at ON users (tenant_id, created_at, id);

CREATE TABLE users_roles (
    tenant_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    role_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, user_id, role_id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, role_id) REFERENCES roles (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX users_roles__role ON users_roles (tenant_id, role_id);

CREATE TABLE sign_in_experiences (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    config TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE logs (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    key TEXT NOT NULL,
    user_id TEXT,
    application_id TEXT,
    payload TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX logs__created_at ON logs (tenant_id, created_at);
CREATE INDEX logs__user ON logs (tenant_id, user_id, created_at);
CREATE INDEX logs__application ON logs (tenant_id, application_id, created_at);
CREATE INDEX logs__key ON logs (tenant_id, key, created_at);
