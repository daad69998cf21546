//! Store rows as the wire shows them: the one mapping of each row every module returning it
//! shares (so modules returning the same entity need not depend on each other).

use kido_proto::sso_connectors::SsoConnector;
use kido_proto::users::User;
use kido_store::sso_connectors::StoredSsoConnector;
use kido_store::users::StoredUser;

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
