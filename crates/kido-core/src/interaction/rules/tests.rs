use kido_proto::sign_in_experience::{
    AgreeToTermsPolicy, ForgotPasswordMethod, SignInExperience, SignInIdentifier, SignInMethod, SignInMode,
    SignUpIdentifier,
};
use kido_store::Json;
use serde_json::json;

use super::*;
use crate::interaction::Identifier;

fn sie() -> SignInExperience {
    SignInExperience::default_for("t")
}

fn user(suspended: bool, password_updated_at: Option<i64>) -> StoredUser {
    StoredUser {
        tenant_id: "t".into(),
        id: "u".into(),
        username: Some("alice".into()),
        primary_email: None,
        primary_phone: None,
        password_encrypted: None,
        password_encryption_method: None,
        name: None,
        avatar: None,
        application_id: None,
        profile: Json(Default::default()),
        identities: Json(json!({})),
        custom_data: Json(json!({})),
        is_suspended: suspended,
        last_sign_in_at: None,
        password_updated_at,
        created_at: 0,
        updated_at: 0,
        logto_config: Default::default(),
    }
}

fn record(kind: VerificationKind, identifier: IdentifierType) -> VerificationRecord {
    VerificationRecord {
        id: "v".into(),
        kind,
        identifier: Identifier { kind: identifier, value: "x".into() },
        verified: true,
        user_id: None,
        template: None,
        credential_stamp: None,
        password_encrypted: None,
        one_time_token_context: None,
    }
}

#[test]
fn suspended_users_may_not_sign_in() {
    assert!(may_sign_in(&user(false, None)));
    assert!(!may_sign_in(&user(true, None)));
}

#[test]
fn sign_in_mode_limits_events() {
    let mut s = sie();
    s.sign_in_mode = SignInMode::SignIn;
    assert_eq!(mode_allows(&s, InteractionEvent::Register), Err(Refusal::ModeForbids));
    assert_eq!(mode_allows(&s, InteractionEvent::ForgotPassword), Ok(()));
    s.sign_in_mode = SignInMode::Register;
    assert_eq!(mode_allows(&s, InteractionEvent::SignIn), Err(Refusal::ModeForbids));
    assert_eq!(mode_allows(&s, InteractionEvent::ForgotPassword), Err(Refusal::ModeForbids));
    assert_eq!(mode_allows(&s, InteractionEvent::Register), Ok(()));
    s.sign_in_mode = SignInMode::SignInAndRegister;
    assert_eq!(mode_allows(&s, InteractionEvent::Register), Ok(()));
}

#[test]
fn a_verified_one_time_token_may_register_where_registration_is_closed() {
    let mut s = sie();
    s.sign_in_mode = SignInMode::SignIn;
    let mut state = ExperienceState::default();
    assert_eq!(mode_allows_in(&s, InteractionEvent::Register, &state), Err(Refusal::ModeForbids));
    let mut token = record(VerificationKind::OneTimeToken, IdentifierType::Email);
    token.verified = false;
    state.verification_records.push(token);
    assert_eq!(mode_allows_in(&s, InteractionEvent::Register, &state), Err(Refusal::ModeForbids), "unverified");
    state.verification_records[0].verified = true;
    assert_eq!(mode_allows_in(&s, InteractionEvent::Register, &state), Ok(()));
    // Only registration is opened: a register-only tenant still has no sign-in.
    s.sign_in_mode = SignInMode::Register;
    assert_eq!(mode_allows_in(&s, InteractionEvent::SignIn, &state), Err(Refusal::ModeForbids));
    // A code record opens nothing.
    s.sign_in_mode = SignInMode::SignIn;
    let codes = ExperienceState {
        verification_records: vec![record(VerificationKind::EmailVerificationCode, IdentifierType::Email)],
        ..ExperienceState::default()
    };
    assert_eq!(mode_allows_in(&s, InteractionEvent::Register, &codes), Err(Refusal::ModeForbids));
    // What it opens is the invited email's account, not another one.
    assert_eq!(invited_email_staged(&s, &state), Err(Refusal::ModeForbids), "no email staged");
    state.profile.primary_email = Some("X".into());
    assert_eq!(invited_email_staged(&s, &state), Ok(()));
    state.profile.primary_email = Some("y".into());
    assert_eq!(invited_email_staged(&s, &state), Err(Refusal::ModeForbids));
    s.sign_in_mode = SignInMode::SignInAndRegister;
    assert_eq!(invited_email_staged(&s, &state), Ok(()), "open registration asks nothing");
}

#[test]
fn forgot_password_cannot_be_switched_to_or_from() {
    use InteractionEvent::*;
    assert_eq!(may_switch(SignIn, Register), Ok(()));
    assert_eq!(may_switch(Register, SignIn), Ok(()));
    assert_eq!(may_switch(ForgotPassword, ForgotPassword), Ok(()));
    assert_eq!(may_switch(SignIn, ForgotPassword), Err(Refusal::ForgotPasswordSwitch));
    assert_eq!(may_switch(ForgotPassword, Register), Err(Refusal::ForgotPasswordSwitch));
}

#[test]
fn a_changed_password_voids_the_verification() {
    let u = user(false, Some(5));
    assert_eq!(credentials_unchanged(None, &u), Ok(()));
    assert_eq!(credentials_unchanged(Some(5), &u), Ok(()));
    assert_eq!(credentials_unchanged(Some(4), &u), Err(Refusal::CredentialsChanged));
    assert_eq!(credentials_unchanged(Some(0), &user(false, None)), Ok(()));
}

#[test]
fn terms_are_required_only_when_there_are_terms_and_the_policy_asks() {
    let mut s = sie();
    s.agree_to_terms_policy = AgreeToTermsPolicy::Manual;
    assert!(!terms_required(&s, InteractionEvent::SignIn), "no terms to agree to");
    s.terms_of_use_url = Some("https://example.com/terms".into());
    assert!(terms_required(&s, InteractionEvent::SignIn));
    assert_eq!(terms_satisfied(&s, InteractionEvent::SignIn, false), Err(Refusal::TermsNotAgreed));
    assert_eq!(terms_satisfied(&s, InteractionEvent::SignIn, true), Ok(()));
    s.agree_to_terms_policy = AgreeToTermsPolicy::ManualRegistrationOnly;
    assert!(!terms_required(&s, InteractionEvent::SignIn));
    assert!(terms_required(&s, InteractionEvent::Register));
    s.agree_to_terms_policy = AgreeToTermsPolicy::Automatic;
    assert!(!terms_required(&s, InteractionEvent::Register));
}

#[test]
fn which_records_sign_in_and_reset() {
    let mut s = sie();
    s.sign_in.methods = vec![SignInMethod {
        identifier: SignInIdentifier::Email,
        password: true,
        verification_code: false,
        is_password_primary: true,
    }];
    s.forgot_password_methods = vec![ForgotPasswordMethod::EmailVerificationCode];
    let password = record(VerificationKind::Password, IdentifierType::Email);
    let code = record(VerificationKind::EmailVerificationCode, IdentifierType::Email);
    assert!(sign_in_method_enabled(&s, &password));
    assert!(!sign_in_method_enabled(&s, &code), "no code sign-in by email");
    assert!(!password_sign_in_enabled(&s, IdentifierType::Username));
    assert!(reset_method_enabled(&s, &code));
    assert!(!reset_method_enabled(&s, &password), "a password proves nothing for a reset");
    assert!(!sends_codes(&s, InteractionEvent::ForgotPassword, IdentifierType::Phone));
    assert!(!sends_codes(&s, InteractionEvent::SignIn, IdentifierType::Username));
    // A one-time token signs in whatever the methods, and resets nothing.
    let token = record(VerificationKind::OneTimeToken, IdentifierType::Email);
    s.sign_in.methods.clear();
    assert!(sign_in_method_enabled(&s, &token));
    assert!(!reset_method_enabled(&s, &token));
}

#[test]
fn code_channels_are_shared_by_sign_in_and_registration() {
    let mut s = sie();
    s.sign_in.methods.clear();
    s.sign_up.identifiers = vec![SignUpIdentifier::Email];
    assert!(sign_up_accepts(&s, IdentifierType::Email));
    assert!(!sign_up_accepts(&s, IdentifierType::Phone));
    assert!(channel_used(&s, IdentifierType::Email, InteractionEvent::SignIn));
    assert!(!channel_used(&s, IdentifierType::Email, InteractionEvent::ForgotPassword));
    assert!(!sign_up_takes_username(&s));
}

#[test]
fn missing_profile_follows_the_sign_up_settings() {
    let mut s = sie();
    s.sign_up.identifiers = vec![SignUpIdentifier::Username];
    s.sign_up.password = true;
    let mut profile = InteractionProfile::default();
    assert_eq!(missing_profile(&s, &profile), vec!["username", "password"]);
    profile.username = Some("alice".into());
    profile.password_encrypted = Some("hash".into());
    assert!(missing_profile(&s, &profile).is_empty());
    // Email and phone as primary identifiers mean either one.
    s.sign_up.identifiers = vec![SignUpIdentifier::Email, SignUpIdentifier::Phone];
    assert_eq!(missing_profile(&s, &profile), vec!["emailOrPhone"]);
    profile.primary_phone = Some("123".into());
    assert!(missing_profile(&s, &profile).is_empty());
}

#[test]
fn verification_kinds_keep_their_stored_names() {
    for (kind, name) in [
        (VerificationKind::Password, "Password"),
        (VerificationKind::EmailVerificationCode, "EmailVerificationCode"),
        (VerificationKind::PhoneVerificationCode, "PhoneVerificationCode"),
    ] {
        assert_eq!(serde_json::to_value(kind).unwrap(), json!(name));
        assert_eq!(kind.as_str(), name);
    }
}
