//! Store rows as the wire shows them: the one mapping of each row every module returning it
//! shares (so modules returning the same entity need not depend on each other).

use kido_proto::applications::Application;
use kido_proto::organizations::{IdName, Organization, OrganizationRole, OrganizationScope};
use kido_proto::resources::{Resource, Scope};
use kido_proto::roles::{FeaturedUser, Role};
use kido_proto::sso_connectors::SsoConnector;
use kido_proto::users::User;
use kido_store::StoredIdName;
use kido_store::applications::StoredApplication;
use kido_store::organization_template::{StoredOrganizationRole, StoredOrganizationScope};
use kido_store::organizations::StoredOrganization;
use kido_store::resources::{StoredResource, StoredScope};
use kido_store::roles::StoredRole;
use kido_store::sso_connectors::StoredSsoConnector;
use kido_store::users::{StoredFeaturedUser, StoredUser};

/// A page of rows (and the total) as a page of wire objects.
pub(crate) fn page<R, T>((rows, total): (Vec<R>, i64), map: impl FnMut(R) -> T) -> (Vec<T>, i64) {
    (rows.into_iter().map(map).collect(), total)
}

pub fn user(u: StoredUser) -> User {
    User {
        has_password: u.password_encrypted.is_some(),
        id: u.id,
        username: u.username,
        primary_email: u.primary_email,
        primary_phone: u.primary_phone,
        name: u.name,
        avatar: u.avatar,
        custom_data: u.custom_data.0,
        identities: u.identities.0,
        last_sign_in_at: u.last_sign_in_at,
        created_at: u.created_at,
        updated_at: u.updated_at,
        profile: u.profile.0,
        application_id: u.application_id,
        is_suspended: u.is_suspended,
    }
}

pub(crate) fn featured_user(u: StoredFeaturedUser) -> FeaturedUser {
    FeaturedUser { id: u.id, avatar: u.avatar, name: u.name }
}

pub(crate) fn sso_connector(row: StoredSsoConnector) -> SsoConnector {
    SsoConnector {
        tenant_id: row.tenant_id,
        id: row.id,
        provider_name: row.provider_name,
        connector_name: row.connector_name,
        config: row.config.0,
        domains: row.domains.0,
        branding: serde_json::from_value(row.branding.0).unwrap_or_default(),
        sync_profile: row.sync_profile,
        created_at: row.created_at,
    }
}

pub(crate) fn application(a: StoredApplication) -> Application {
    Application {
        tenant_id: a.tenant_id,
        id: a.id,
        name: a.name,
        description: a.description,
        app_type: a.app_type,
        oidc_client_metadata: a.oidc_client_metadata.0,
        custom_client_metadata: a.custom_client_metadata.0,
        protected_app_metadata: None,
        custom_data: a.custom_data.0,
        is_third_party: a.is_third_party,
        created_at: a.created_at,
    }
}

pub(crate) fn resource(r: StoredResource) -> Resource {
    Resource {
        tenant_id: r.tenant_id,
        id: r.id,
        name: r.name,
        indicator: r.indicator,
        is_default: r.is_default,
        access_token_ttl: r.access_token_ttl,
    }
}

pub(crate) fn scope(s: StoredScope) -> Scope {
    Scope {
        tenant_id: s.tenant_id,
        id: s.id,
        resource_id: s.resource_id,
        name: s.name,
        description: s.description,
        created_at: s.created_at,
    }
}

pub(crate) fn role(r: StoredRole) -> Role {
    Role {
        tenant_id: r.tenant_id,
        id: r.id,
        name: r.name,
        description: r.description,
        role_type: r.role_type,
        is_default: r.is_default,
    }
}

pub(crate) fn organization(o: StoredOrganization) -> Organization {
    Organization {
        tenant_id: o.tenant_id,
        id: o.id,
        name: o.name,
        description: o.description,
        custom_data: o.custom_data.0,
        is_mfa_required: o.is_mfa_required,
        color: o.color.0,
        branding: o.branding.0,
        custom_css: o.custom_css,
        created_at: o.created_at,
    }
}

pub(crate) fn organization_role(r: StoredOrganizationRole) -> OrganizationRole {
    OrganizationRole {
        tenant_id: r.tenant_id,
        id: r.id,
        name: r.name,
        description: r.description,
        role_type: r.role_type,
    }
}

pub(crate) fn organization_scope(s: StoredOrganizationScope) -> OrganizationScope {
    OrganizationScope { tenant_id: s.tenant_id, id: s.id, name: s.name, description: s.description }
}

pub(crate) fn id_name(r: StoredIdName) -> IdName {
    IdName { id: r.id, name: r.name }
}
