-- Organizations (multi-tenant B2B apps): the organization template (roles, scopes), members
-- (users and machine-to-machine applications) with their organization roles, invitations.
-- Every relation is a composite foreign key on (tenant_id, …), so nothing can point into
-- another tenant; a membership's roles hang off the membership (removing the member removes
-- them).

CREATE TABLE organizations (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    custom_data JSONB NOT NULL,
    is_mfa_required BOOLEAN NOT NULL DEFAULT FALSE,
    color JSONB NOT NULL,
    branding JSONB NOT NULL,
    custom_css TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX organizations__created_at ON organizations (tenant_id, created_at, id);

CREATE TABLE organization_roles (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    type TEXT NOT NULL CHECK (type IN ('User', 'MachineToMachine')),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, name)
);

CREATE TABLE organization_scopes (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, name)
);

CREATE TABLE organization_role_scope_relations (
    tenant_id TEXT NOT NULL,
    organization_role_id TEXT NOT NULL,
    organization_scope_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, organization_role_id, organization_scope_id),
    FOREIGN KEY (tenant_id, organization_role_id) REFERENCES organization_roles (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, organization_scope_id) REFERENCES organization_scopes (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX organization_role_scope_relations__scope
    ON organization_role_scope_relations (tenant_id, organization_scope_id);

-- API-resource scopes granted through organization roles.
CREATE TABLE organization_role_resource_scope_relations (
    tenant_id TEXT NOT NULL,
    organization_role_id TEXT NOT NULL,
    scope_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, organization_role_id, scope_id),
    FOREIGN KEY (tenant_id, organization_role_id) REFERENCES organization_roles (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, scope_id) REFERENCES scopes (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX organization_role_resource_scope_relations__scope
    ON organization_role_resource_scope_relations (tenant_id, scope_id);

CREATE TABLE organization_user_relations (
    tenant_id TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, organization_id, user_id),
    FOREIGN KEY (tenant_id, organization_id) REFERENCES organizations (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX organization_user_relations__user ON organization_user_relations (tenant_id, user_id);

CREATE TABLE organization_role_user_relations (
    tenant_id TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    organization_role_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, organization_id, organization_role_id, user_id),
    FOREIGN KEY (tenant_id, organization_id, user_id)
        REFERENCES organization_user_relations (tenant_id, organization_id, user_id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, organization_role_id) REFERENCES organization_roles (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX organization_role_user_relations__user
    ON organization_role_user_relations (tenant_id, user_id, organization_id);
CREATE INDEX organization_role_user_relations__role
    ON organization_role_user_relations (tenant_id, organization_role_id);

CREATE TABLE organization_application_relations (
    tenant_id TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    application_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, organization_id, application_id),
    FOREIGN KEY (tenant_id, organization_id) REFERENCES organizations (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, application_id) REFERENCES applications (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX organization_application_relations__application
    ON organization_application_relations (tenant_id, application_id);

CREATE TABLE organization_role_application_relations (
    tenant_id TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    organization_role_id TEXT NOT NULL,
    application_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, organization_id, organization_role_id, application_id),
    FOREIGN KEY (tenant_id, organization_id, application_id)
        REFERENCES organization_application_relations (tenant_id, organization_id, application_id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, organization_role_id) REFERENCES organization_roles (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX organization_role_application_relations__application
    ON organization_role_application_relations (tenant_id, application_id, organization_id);
CREATE INDEX organization_role_application_relations__role
    ON organization_role_application_relations (tenant_id, organization_role_id);

CREATE TABLE organization_invitations (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    inviter_id TEXT,
    invitee TEXT NOT NULL,
    accepted_user_id TEXT,
    organization_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('Pending', 'Accepted', 'Expired', 'Revoked')),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, organization_id) REFERENCES organizations (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, inviter_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, accepted_user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX organization_invitations__organization ON organization_invitations (tenant_id, organization_id);
CREATE INDEX organization_invitations__invitee ON organization_invitations (tenant_id, lower(invitee));
-- At most one pending invitation per organization and invitee.
CREATE UNIQUE INDEX organization_invitations__pending
    ON organization_invitations (tenant_id, organization_id, lower(invitee)) WHERE status = 'Pending';

CREATE TABLE organization_invitation_role_relations (
    tenant_id TEXT NOT NULL,
    organization_invitation_id TEXT NOT NULL,
    organization_role_id TEXT NOT NULL,
    PRIMARY KEY (tenant_id, organization_invitation_id, organization_role_id),
    FOREIGN KEY (tenant_id, organization_invitation_id)
        REFERENCES organization_invitations (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, organization_role_id) REFERENCES organization_roles (tenant_id, id) ON DELETE CASCADE
);
