-- The account center (Logto's `account_centers`): whether the Account API is on and, per
-- profile field, Off | ReadOnly | Edit. One row per tenant; a tenant without a row has
-- Logto's seed (off for `default`, every field editable for `admin`).
CREATE TABLE account_centers (
    tenant_id TEXT NOT NULL PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    enabled INTEGER NOT NULL,
    fields TEXT NOT NULL DEFAULT '{}',
    webauthn_related_origins TEXT NOT NULL DEFAULT '[]',
    updated_at INTEGER NOT NULL
);

-- Verification records of the Verification API (`/api/verifications`): a proof (password,
-- a code to an email or phone, a passkey registration) made by a signed-in user for a
-- sensitive Account API change. Bound to the user and to the grant of the access token that
-- made it (revoking the grant drops them), 10 minutes each; `data` holds the kind's state
-- (identifier, code id, template, challenge…), never a secret in clear.
CREATE TABLE verification_records (
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    grant_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    data TEXT NOT NULL DEFAULT '{}',
    verified INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, grant_id) REFERENCES oidc_grants (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX verification_records__user ON verification_records (tenant_id, user_id, created_at);
CREATE INDEX verification_records__grant ON verification_records (tenant_id, grant_id);
CREATE INDEX verification_records__expires_at ON verification_records (expires_at);
