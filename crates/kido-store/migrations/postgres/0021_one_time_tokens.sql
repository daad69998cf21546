-- One-time tokens (Logto's magic links): issued through the Management API for an email
-- address, spent once by the Experience API or `POST /api/one-time-tokens/verify`. The token
-- is a secret: only its SHA-256 digest is stored; the clear value leaves once, in the answer
-- that creates it. `context` holds what the token carries (`jitOrganizationIds`,
-- `interactionEvent`). Status `active` past `expires_at` reads as `expired`.

CREATE TABLE one_time_tokens (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    email TEXT NOT NULL,
    token_digest TEXT NOT NULL,
    context JSONB NOT NULL DEFAULT '{}',
    status TEXT NOT NULL DEFAULT 'active',
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX one_time_tokens__token ON one_time_tokens (tenant_id, token_digest);
CREATE INDEX one_time_tokens__created ON one_time_tokens (tenant_id, created_at);
CREATE INDEX one_time_tokens__email ON one_time_tokens (tenant_id, lower(email), created_at);
