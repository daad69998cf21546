//! Verification by a one-time code sent to an email address or phone number
//! (`POST /api/experience/verification/verification-code[/verify]`).

use kido_proto::connectors::TemplateType;
use kido_store::users as user_store;
use serde_json::json;

use super::{
    Experience, ExperienceError, Identifier, IdentifierType, Interaction, InteractionCookie, InteractionEvent, Result,
    VerificationKind, VerificationRecord, blocked, event_of, sentinel,
};
use crate::interaction::{audit_keys, rules};
use crate::verification_codes::{CodeError, Delivery, Recipient, SendRequest};
use crate::{TenantContext, clock};

/// Where the request came from, for the message and the per-IP limit.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub locale: Option<String>,
    pub ip: Option<String>,
}

/// A code to send: the record it makes, where it goes, with which message.
pub(super) struct CodeRequest {
    pub kind: VerificationKind,
    pub identifier: Identifier,
    /// The event the code is for (audited as).
    pub event: InteractionEvent,
    pub template: TemplateType,
    pub delivery: Delivery,
    /// The identified user the code is a second factor of.
    pub user_id: Option<String>,
}

/// A code identifier's record type and recipient (usernames receive no codes).
fn channel(identifier: &Identifier) -> Result<(VerificationKind, Recipient)> {
    let (kind, recipient) = match identifier.kind {
        IdentifierType::Email => (VerificationKind::EmailVerificationCode, Recipient::email(&identifier.value)),
        IdentifierType::Phone => (VerificationKind::PhoneVerificationCode, Recipient::phone(&identifier.value)),
        IdentifierType::Username => return Err(ExperienceError::Invalid("codes go to an `email` or a `phone`".into())),
    };
    Ok((kind, recipient.map_err(|e| ExperienceError::Invalid(e.to_string()))?))
}

impl Experience<'_> {
    /// Sends a code for `event` and records an unverified verification of its type,
    /// replacing an earlier one (a resend makes the old id useless). For a password reset
    /// the answer is the same whether or not an account has the identifier: the code is
    /// sent after answering, and not at all when there is no account.
    pub async fn send_code(
        &self,
        tenant: &TenantContext,
        cookie: &InteractionCookie,
        identifier: Identifier,
        event: InteractionEvent,
        origin: Origin,
    ) -> Result<String> {
        let identifier = identifier.canonical();
        let mut interaction = self.load(tenant, cookie).await?;
        event_of(&interaction)?;
        let (kind, _) = channel(&identifier)?;
        let sie = self.sign_in_experience(tenant).await?;
        // An identified user binding an email or phone as a second factor (one the sign-up
        // does not ask for) gets Logto's `BindMfa` message.
        let binds_mfa = interaction.state.user_id.is_some()
            && event != InteractionEvent::ForgotPassword
            && rules::binds_mfa_channel(&sie, identifier.kind);
        if !binds_mfa && !rules::channel_used(&sie, identifier.kind, event) {
            return Err(if event == InteractionEvent::ForgotPassword {
                ExperienceError::ResetChannelNotEnabled
            } else {
                ExperienceError::SignInMethodNotEnabled
            });
        }
        let delivery = if event == InteractionEvent::ForgotPassword {
            let mut c = self.core.store.conn().await?;
            let usernames = crate::users::username_case(&sie);
            let known = user_store::find_by_identifier(
                &mut c,
                &tenant.id,
                identifier.kind.store(),
                &identifier.value,
                usernames,
            )
            .await?;
            if known.is_some() { Delivery::Detached } else { Delivery::Withheld }
        } else {
            Delivery::Now
        };
        let template = if binds_mfa { TemplateType::BindMfa } else { event.template() };
        let request = CodeRequest { kind, identifier, event, template, delivery, user_id: None };
        self.send_code_of(tenant, cookie, &mut interaction, request, origin).await
    }

    /// Sends a code and records an unverified verification of its kind (replacing an earlier
    /// one: a resend makes the old id useless), audited as the interaction's event; saves.
    pub(super) async fn send_code_of(
        &self,
        tenant: &TenantContext,
        cookie: &InteractionCookie,
        interaction: &mut Interaction,
        request: CodeRequest,
        origin: Origin,
    ) -> Result<String> {
        let CodeRequest { kind, identifier, event, template, delivery, user_id } = request;
        let (_, to) = channel(&identifier)?;
        // The language the app asked for, else the browser's.
        let ui_locale = interaction.params.ui_locales.as_deref().and_then(|l| l.split(' ').next()).map(str::to_owned);
        let locale = ui_locale.or(origin.locale);
        let request = SendRequest { template, locale: locale.as_deref(), ip: origin.ip.as_deref(), delivery };
        let id = self.core.verification_codes().send(&tenant.id, &to, request).await?;
        interaction.state.verification_records.retain(|r| r.kind != kind);
        interaction.state.verification_records.push(VerificationRecord {
            id: id.clone(),
            kind,
            identifier: identifier.clone(),
            verified: false,
            user_id,
            template: Some(template),
            credential_stamp: None,
            password_encrypted: None,
            one_time_token_context: None,
        });
        let mut c = self.core.store.conn().await?;
        let key = audit_keys::verification_create(event, kind);
        let details = json!({"identifier": identifier, "interactionEvent": event});
        self.audit(&mut c, tenant, interaction, &key, None, details).await?;
        drop(c);
        self.save(tenant, interaction, cookie).await?;
        Ok(id)
    }

    /// Checks a code against the interaction's verification record; wrong codes count
    /// towards the identifier's lockout as wrong passwords do.
    pub async fn verify_code(
        &self,
        tenant: &TenantContext,
        cookie: &InteractionCookie,
        identifier: Identifier,
        verification_id: &str,
        code: &str,
    ) -> Result<String> {
        let mut interaction = self.load(tenant, cookie).await?;
        let identifier = identifier.canonical();
        let verified = match channel(&identifier) {
            Ok((kind, _)) => self.check_code(tenant, &mut interaction, kind, identifier, verification_id, code).await,
            Err(e) => Err(e),
        };
        if let Err(e) = &verified {
            self.report_sign_in(tenant, &interaction, None, Err(e));
        }
        let id = verified?;
        self.save(tenant, &interaction, cookie).await?;
        Ok(id)
    }

    /// Checks a code against the interaction's record `verification_id` of `kind` (sent to
    /// `identifier`) and marks it verified, without the report; the caller saves.
    pub(super) async fn check_code(
        &self,
        tenant: &TenantContext,
        interaction: &mut Interaction,
        kind: VerificationKind,
        identifier: Identifier,
        verification_id: &str,
        code: &str,
    ) -> Result<String> {
        let event = event_of(interaction)?;
        let index = interaction
            .state
            .verification_records
            .iter()
            .position(|r| r.id == verification_id && r.kind == kind)
            .ok_or(ExperienceError::VerificationNotFound)?;
        let record = interaction.state.verification_records[index].clone();
        if !record.identifier.value.eq_ignore_ascii_case(&identifier.value) {
            return Err(ExperienceError::IdentifierMismatch(identifier.kind));
        }
        let (_, to) = channel(&record.identifier)?;
        let template = record.template.unwrap_or_else(|| event.template());
        let sie = self.sign_in_experience(tenant).await?;
        let limits = sentinel::Limits::from(&sie.sentinel_policy);
        let key = sentinel::key(identifier.kind.as_str(), &identifier.value);
        let now = clock::now_ms();
        let mut c = self.core.store.conn().await?;
        let attempt = match sentinel::begin(&mut c, &tenant.id, &key, limits, now).await? {
            Ok(attempt) => attempt,
            Err(until) => return Err(blocked(until, now)),
        };
        drop(c);
        let audit_key = audit_keys::verification_submit(event, kind);
        let audit_details = json!({"identifier": record.identifier, "verificationId": record.id});
        let outcome =
            self.core.verification_codes().verify(&tenant.id, &to, template, code, Some(verification_id)).await;
        let mut c = self.core.store.conn().await?;
        if let Err(e) = outcome {
            let mut details = audit_details;
            if let Some(map) = details.as_object_mut() {
                map.insert("result".into(), "Error".into());
                map.insert("error".into(), e.to_string().into());
            }
            self.audit(&mut c, tenant, interaction, &audit_key, None, details).await?;
            if !matches!(e, CodeError::Mismatch | CodeError::ExceedMaxTry) {
                sentinel::not_a_failure(&mut c, &tenant.id, &key, attempt).await?;
            } else if let Some(until) = sentinel::failed(&mut c, &tenant.id, &key, attempt, limits, now).await? {
                return Err(self.locked_out(tenant, interaction, None, until, now));
            }
            return Err(e.into());
        }
        sentinel::not_a_failure(&mut c, &tenant.id, &key, attempt).await?;
        self.audit(&mut c, tenant, interaction, &audit_key, None, audit_details).await?;
        drop(c);
        interaction.state.verification_records[index].verified = true;
        Ok(record.id)
    }
}
