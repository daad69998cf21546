-- Passwordless delivery: configured connectors (at most one Email and one Sms per tenant),
-- per-language email templates, one-time verification codes (stored as digests, never in
-- clear) and the send log behind the per-identifier and per-IP rate limits.

CREATE TABLE connectors (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    connector_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    config JSONB NOT NULL,
    metadata JSONB NOT NULL,
    sync_profile BOOLEAN NOT NULL DEFAULT FALSE,
    enable_token_storage BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX connectors__one_passwordless ON connectors (tenant_id, kind) WHERE kind IN ('Email', 'Sms');

CREATE TABLE email_templates (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    language_tag TEXT NOT NULL,
    template_type TEXT NOT NULL,
    details JSONB NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX email_templates__language_type ON email_templates (tenant_id, language_tag, template_type);

CREATE TABLE verification_codes (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    identifier TEXT NOT NULL,
    template_type TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    try_count INTEGER NOT NULL DEFAULT 0,
    expires_at BIGINT NOT NULL,
    consumed_at BIGINT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX verification_codes__identifier ON verification_codes (tenant_id, identifier, template_type);
CREATE INDEX verification_codes__expires_at ON verification_codes (expires_at);

CREATE TABLE message_sends (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    bucket TEXT NOT NULL,
    sent_at BIGINT NOT NULL
);
CREATE INDEX message_sends__bucket ON message_sends (tenant_id, bucket, sent_at);
CREATE INDEX message_sends__sent_at ON message_sends (sent_at);
