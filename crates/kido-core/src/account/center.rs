//! The account center settings (`/api/account-center`): per tenant whether the Account API
//! answers and, per field, Off | ReadOnly | Edit. A tenant that never saved its settings
//! has Logto's seed: off in `default` (and any other tenant), everything editable in
//! `admin` (the console's profile page uses the Account API).

use kido_proto::account::{AccountCenter, AccountCenterControl, AccountCenterFields, UpdateAccountCenter};
use kido_proto::{ADMIN_TENANT, TenantId};
use kido_store::Json;
use kido_store::account_centers::{self as store, StoredAccountCenter};

use super::error::{AccountError, Result};
use super::service::Account;
use crate::clock;

/// Related origins a tenant may list for passkeys, and the length of each.
pub const MAX_RELATED_ORIGINS: usize = 20;
const MAX_ORIGIN_LEN: usize = 256;

/// Logto's seed for a tenant without saved settings.
pub fn default_center(tenant: &TenantId) -> AccountCenter {
    let admin = tenant.as_str() == ADMIN_TENANT;
    let edit = admin.then_some(AccountCenterControl::Edit);
    AccountCenter {
        tenant_id: tenant.as_str().to_owned(),
        id: "default".to_owned(),
        enabled: admin,
        fields: AccountCenterFields {
            name: edit,
            avatar: edit,
            profile: edit,
            email: edit,
            phone: edit,
            password: edit,
            username: edit,
            social: edit,
            custom_data: edit,
            mfa: edit,
            ..AccountCenterFields::default()
        },
        webauthn_related_origins: Vec::new(),
    }
}

fn of_row(tenant: &TenantId, row: StoredAccountCenter) -> AccountCenter {
    AccountCenter {
        tenant_id: tenant.as_str().to_owned(),
        id: "default".to_owned(),
        enabled: row.enabled,
        // A value this build does not know reads as no setting (Off), never as an error.
        fields: serde_json::from_value(row.fields.0).unwrap_or_default(),
        webauthn_related_origins: row.webauthn_related_origins.0,
    }
}

/// What a field allows: a field not set is `Off`.
pub fn control(field: Option<AccountCenterControl>) -> AccountCenterControl {
    field.unwrap_or(AccountCenterControl::Off)
}

/// Whether the Account API shows a field.
pub fn readable(field: Option<AccountCenterControl>) -> bool {
    control(field) != AccountCenterControl::Off
}

/// `account_center.field_not_editable` unless the field is `Edit`.
pub fn require_edit(field: Option<AccountCenterControl>) -> Result<()> {
    if control(field) == AccountCenterControl::Edit { Ok(()) } else { Err(AccountError::FieldNotEditable) }
}

/// `account_center.field_not_enabled` unless the field can be read.
pub fn require_readable(field: Option<AccountCenterControl>) -> Result<()> {
    if readable(field) { Ok(()) } else { Err(AccountError::FieldNotEnabled) }
}

/// A passkey's switch: `passkey` when set, else `mfa` (Logto's fallback).
pub fn passkey_control(fields: &AccountCenterFields) -> Option<AccountCenterControl> {
    fields.passkey.or(fields.mfa)
}

fn check_origins(origins: &[String]) -> Result<Vec<String>> {
    if origins.len() > MAX_RELATED_ORIGINS {
        return Err(AccountError::Invalid(format!(
            "`webauthnRelatedOrigins` holds at most {MAX_RELATED_ORIGINS} origins"
        )));
    }
    origins
        .iter()
        .map(|o| o.trim())
        .filter(|o| !o.is_empty())
        .map(|o| {
            let url = url::Url::parse(o).ok().filter(|u| {
                o.len() <= MAX_ORIGIN_LEN && matches!(u.scheme(), "https" | "http") && u.host_str().is_some()
            });
            url.map(|u| u.origin().ascii_serialization())
                .ok_or_else(|| AccountError::Invalid(format!("`{o}` is not an http(s) origin")))
        })
        .collect()
}

impl Account<'_> {
    /// The tenant's account center (its seed when never saved).
    pub async fn center(&self, tenant: &TenantId) -> Result<AccountCenter> {
        let mut c = self.core.store.conn().await?;
        Ok(match store::find(&mut c, tenant).await? {
            Some(row) => of_row(tenant, row),
            None => default_center(tenant),
        })
    }

    /// Changes what is given (`fields` replaced as a whole, as Logto); returns the result.
    pub async fn update_center(&self, tenant: &TenantId, update: UpdateAccountCenter) -> Result<AccountCenter> {
        let origins = update.webauthn_related_origins.as_deref().map(check_origins).transpose()?;
        let mut tx = self.core.store.begin().await?;
        let mut center = match store::find(&mut tx, tenant).await? {
            Some(row) => of_row(tenant, row),
            None => default_center(tenant),
        };
        if let Some(enabled) = update.enabled {
            center.enabled = enabled;
        }
        if let Some(fields) = update.fields {
            center.fields = fields;
        }
        if let Some(origins) = origins {
            center.webauthn_related_origins = origins;
        }
        let row = StoredAccountCenter {
            enabled: center.enabled,
            fields: Json(serde_json::to_value(&center.fields).map_err(|e| AccountError::Internal(e.to_string()))?),
            webauthn_related_origins: Json(center.webauthn_related_origins.clone()),
            updated_at: clock::now_ms(),
        };
        store::put(&mut tx, tenant, &row).await?;
        tx.commit().await?;
        Ok(center)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_is_off_for_user_tenants_and_editable_for_admin() {
        let default = default_center(&TenantId::new("default"));
        assert!(!default.enabled);
        assert_eq!(default.fields, AccountCenterFields::default());
        let admin = default_center(&TenantId::new(ADMIN_TENANT));
        assert!(admin.enabled);
        assert_eq!(admin.fields.mfa, Some(AccountCenterControl::Edit));
        assert_eq!(admin.fields.session, None);
    }

    #[test]
    fn field_rules() {
        use AccountCenterControl::*;
        assert!(require_edit(Some(Edit)).is_ok());
        assert!(matches!(require_edit(Some(ReadOnly)), Err(AccountError::FieldNotEditable)));
        assert!(matches!(require_edit(None), Err(AccountError::FieldNotEditable)));
        assert!(require_readable(Some(ReadOnly)).is_ok());
        assert!(matches!(require_readable(Some(Off)), Err(AccountError::FieldNotEnabled)));
        let fields = AccountCenterFields { mfa: Some(Edit), ..Default::default() };
        assert_eq!(passkey_control(&fields), Some(Edit));
        let fields = AccountCenterFields { mfa: Some(Edit), passkey: Some(Off), ..Default::default() };
        assert_eq!(passkey_control(&fields), Some(Off));
    }

    #[test]
    fn related_origins_are_bounded_http_origins() {
        assert_eq!(check_origins(&[" https://a.example/path ".into()]).unwrap(), ["https://a.example"]);
        assert!(check_origins(&["ftp://a.example".into()]).is_err());
        assert!(check_origins(&vec!["https://a.example".to_owned(); 21]).is_err());
    }
}
