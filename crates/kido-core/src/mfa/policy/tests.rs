use kido_proto::mfa::UserLogtoConfig;
use kido_proto::sign_in_experience::{
    Mfa, MfaFactor as F, MfaPolicy as P, OrganizationRequiredMfaPolicy, SignInExperience, SignUpIdentifier,
};
use kido_store::Json;
use kido_store::mfa_verifications::StoredMfaVerification;
use serde_json::json;

use super::*;

fn row(kind: &str, last_used_at: Option<i64>, remaining_codes: i64) -> StoredMfaVerification {
    StoredMfaVerification {
        tenant_id: "t".into(),
        id: format!("id-{kind}"),
        user_id: "u".into(),
        kind: kind.into(),
        name: None,
        sealed_secret: None,
        details: Json(json!({})),
        last_step: None,
        last_used_at,
        created_at: 0,
        remaining_codes,
        credential_id: None,
    }
}

fn settings(factors: &[F], policy: P) -> Mfa {
    Mfa { factors: factors.to_vec(), policy, organization_required_mfa_policy: None }
}

fn sie(factors: &[F], policy: P) -> SignInExperience {
    let mut sie = SignInExperience::default_for("t");
    sie.mfa = settings(factors, policy);
    sie
}

fn state<'a>(event: InteractionEvent, user_factors: &'a [F], pending: &'a [F]) -> BindingState<'a> {
    BindingState {
        event,
        organization_requires: false,
        skipped: false,
        suggestion_skipped: false,
        user_factors,
        pending,
        email: None,
        phone: None,
    }
}

#[test]
fn user_factors_follow_the_experience_and_usable_codes() {
    let all = settings(&[F::Totp, F::BackupCode, F::WebAuthn, F::EmailVerificationCode], P::Mandatory);
    let bound = [row("BackupCode", Some(9), 3), row("Totp", Some(5), 0), row("WebAuthn", Some(1), 0)];
    assert_eq!(
        user_factors(&all, &bound, Some("a@b.c"), Some("+1")),
        vec![F::WebAuthn, F::Totp, F::BackupCode, F::EmailVerificationCode]
    );
    // Used-up backup codes and factors the experience does not enable do not count.
    let totp_only = settings(&[F::Totp, F::BackupCode], P::Mandatory);
    assert_eq!(user_factors(&totp_only, &[row("BackupCode", None, 0), row("WebAuthn", None, 0)], None, None), vec![]);
    assert_eq!(user_factors(&totp_only, &[row("Totp", None, 0)], Some("a@b.c"), None), vec![F::Totp]);
}

#[test]
fn skip_on_sign_in_yields_to_mandatory_policies() {
    let mut config = UserLogtoConfig::default();
    config.mfa.skip_mfa_on_sign_in = true;
    assert!(!verification_required(&settings(&[F::Totp], P::PromptAtSignInAndSignUp), &config, &[F::Totp]));
    assert!(verification_required(&settings(&[F::Totp], P::Mandatory), &config, &[F::Totp]));
    assert!(verification_required(&settings(&[F::Totp], P::PromptAtSignInAndSignUpMandatory), &config, &[F::Totp]));
    assert!(!verification_required(&settings(&[F::Totp], P::Mandatory), &UserLogtoConfig::default(), &[]));
}

#[test]
fn binding_by_policy() {
    let factors = [F::Totp, F::BackupCode];
    let none: [F; 0] = [];
    let bind = |skippable| Err(MfaDemand::Bind { available: vec![F::Totp], skippable });
    assert_eq!(
        binding_demand(&sie(&factors, P::Mandatory), &state(InteractionEvent::SignIn, &none, &none)),
        bind(false)
    );
    assert_eq!(
        binding_demand(
            &sie(&factors, P::PromptAtSignInAndSignUpMandatory),
            &state(InteractionEvent::Register, &none, &none)
        ),
        bind(false)
    );
    assert_eq!(
        binding_demand(&sie(&factors, P::PromptAtSignInAndSignUp), &state(InteractionEvent::SignIn, &none, &none)),
        bind(true)
    );
    assert_eq!(
        binding_demand(&sie(&factors, P::UserControlled), &state(InteractionEvent::SignIn, &none, &none)),
        bind(true)
    );
    assert_eq!(binding_demand(&sie(&factors, P::NoPrompt), &state(InteractionEvent::SignIn, &none, &none)), Ok(()));
    assert_eq!(
        binding_demand(&sie(&factors, P::PromptOnlyAtSignIn), &state(InteractionEvent::Register, &none, &none)),
        Ok(())
    );
    assert_eq!(
        binding_demand(&sie(&factors, P::PromptOnlyAtSignIn), &state(InteractionEvent::SignIn, &none, &none)),
        bind(true)
    );
    // Declined: fine unless the policy or an organization insists.
    let mut skipped = state(InteractionEvent::SignIn, &none, &none);
    skipped.skipped = true;
    assert_eq!(binding_demand(&sie(&factors, P::PromptAtSignInAndSignUp), &skipped), Ok(()));
    assert_eq!(binding_demand(&sie(&factors, P::Mandatory), &skipped), bind(false));
    skipped.organization_requires = true;
    assert_eq!(binding_demand(&sie(&factors, P::NoPrompt), &skipped), bind(false));
    // No factor enabled: nothing to ask.
    assert_eq!(binding_demand(&sie(&[], P::Mandatory), &state(InteractionEvent::SignIn, &none, &none)), Ok(()));
}

#[test]
fn backup_codes_follow_another_factor() {
    let factors = [F::Totp, F::BackupCode];
    let totp = [F::Totp];
    let both = [F::Totp, F::BackupCode];
    let none: [F; 0] = [];
    let s = sie(&factors, P::Mandatory);
    assert_eq!(binding_demand(&s, &state(InteractionEvent::SignIn, &totp, &none)), Err(MfaDemand::BackupCodes));
    assert_eq!(binding_demand(&s, &state(InteractionEvent::SignIn, &none, &totp)), Err(MfaDemand::BackupCodes));
    assert_eq!(binding_demand(&s, &state(InteractionEvent::SignIn, &totp, &both[1..])), Ok(()));
    assert_eq!(binding_demand(&s, &state(InteractionEvent::SignIn, &both, &none)), Ok(()));
    // Backup codes alone do not satisfy the policy.
    assert_eq!(
        binding_demand(&s, &state(InteractionEvent::SignIn, &both[1..], &none)),
        Err(MfaDemand::Bind { available: vec![F::Totp], skippable: false })
    );
}

#[test]
fn registration_by_email_is_offered_another_factor() {
    let mut s = sie(&[F::Totp, F::EmailVerificationCode], P::PromptAtSignInAndSignUp);
    s.sign_up.identifiers = vec![SignUpIdentifier::Email];
    let email = [F::EmailVerificationCode];
    let none: [F; 0] = [];
    let mut st = state(InteractionEvent::Register, &email, &none);
    st.email = Some("jane.doe@example.com");
    let demand = binding_demand(&s, &st);
    assert_eq!(
        demand,
        Err(MfaDemand::Suggest {
            available: vec![F::Totp, F::EmailVerificationCode],
            masked: MaskedIdentifiers { email: Some("jane****@example.com".into()), phone: None },
        })
    );
    st.suggestion_skipped = true;
    assert_eq!(binding_demand(&s, &st), Ok(()));
    // Signing in is never a suggestion.
    st.suggestion_skipped = false;
    st.event = InteractionEvent::SignIn;
    assert_eq!(binding_demand(&s, &st), Ok(()));
}

#[test]
fn organization_policy_and_skipping() {
    let mut s = settings(&[F::Totp], P::PromptAtSignInAndSignUp);
    assert!(!organizations_enforced(&s));
    assert!(may_skip(&s, false));
    s.organization_required_mfa_policy = Some(OrganizationRequiredMfaPolicy::Mandatory);
    assert!(organizations_enforced(&s));
    assert!(!may_skip(&s, true));
    s.policy = P::Mandatory;
    assert!(!may_skip(&s, false));
}

#[test]
fn masks() {
    assert_eq!(mask_email("jane.doe@example.com"), "jane****@example.com");
    assert_eq!(mask_email("ab@example.com"), "****@example.com");
    assert_eq!(mask_phone("+15555550123"), "****0123");
    assert_eq!(mask_phone("12"), "****12");
    assert_eq!(
        sorted(&[F::BackupCode, F::EmailVerificationCode, F::Totp, F::PhoneVerificationCode]),
        vec![F::Totp, F::PhoneVerificationCode, F::EmailVerificationCode, F::BackupCode]
    );
}
