-- Second factors a user has bound: one TOTP secret (sealed under the server's secret key, never
-- in clear; `last_step` refuses a code's step twice), one set of backup codes (salted digests,
-- each used once) at a time, and later WebAuthn credentials (`details`).

CREATE TABLE user_mfa_verifications (
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    type TEXT NOT NULL,
    name TEXT,
    sealed_secret TEXT,
    details JSONB NOT NULL DEFAULT '{}',
    last_step BIGINT,
    last_used_at BIGINT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX user_mfa_verifications__user ON user_mfa_verifications (tenant_id, user_id, created_at);
CREATE UNIQUE INDEX user_mfa_verifications__one_totp ON user_mfa_verifications (tenant_id, user_id) WHERE type = 'Totp';
CREATE UNIQUE INDEX user_mfa_verifications__one_backup_code_set ON user_mfa_verifications (tenant_id, user_id) WHERE type = 'BackupCode';

CREATE TABLE user_backup_codes (
    tenant_id TEXT NOT NULL,
    verification_id TEXT NOT NULL,
    code_digest TEXT NOT NULL,
    used_at BIGINT,
    PRIMARY KEY (tenant_id, verification_id, code_digest),
    FOREIGN KEY (tenant_id, verification_id) REFERENCES user_mfa_verifications (tenant_id, id) ON DELETE CASCADE
);
