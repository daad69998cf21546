-- Just-in-time provisioning: the email domains and SSO connectors whose new users join an
-- organization, and the organization roles they receive there; the SSO connectors themselves.

CREATE TABLE sso_connectors (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    provider_name TEXT NOT NULL,
    connector_name TEXT NOT NULL,
    config JSONB NOT NULL,
    domains JSONB NOT NULL,
    branding JSONB NOT NULL,
    sync_profile BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, connector_name)
);

CREATE TABLE organization_jit_email_domains (
    tenant_id TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    email_domain TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, organization_id, email_domain),
    FOREIGN KEY (tenant_id, organization_id) REFERENCES organizations (tenant_id, id) ON DELETE CASCADE
);
-- Provisioning looks organizations up by domain.
CREATE INDEX organization_jit_email_domains__domain ON organization_jit_email_domains (tenant_id, email_domain);

CREATE TABLE organization_jit_roles (
    tenant_id TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    organization_role_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, organization_id, organization_role_id),
    FOREIGN KEY (tenant_id, organization_id) REFERENCES organizations (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, organization_role_id) REFERENCES organization_roles (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE organization_jit_sso_connectors (
    tenant_id TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    sso_connector_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, organization_id, sso_connector_id),
    FOREIGN KEY (tenant_id, organization_id) REFERENCES organizations (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, sso_connector_id) REFERENCES sso_connectors (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX organization_jit_sso_connectors__connector
    ON organization_jit_sso_connectors (tenant_id, sso_connector_id);
