//! Kido's integration tests: each test starts its own in-process server on port 0 against
//! a fresh SQLite file, or a fresh PostgreSQL database when `KIDO_TEST_POSTGRES_URL` is set.

// The whole crate is test code: failing loudly is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod harness;

mod abuse_fixation;
mod abuse_limits;
mod abuse_nodes;
mod abuse_passwords;
mod account;
mod account_more;
mod applications;
mod backup;
mod bootstrap;
mod consent;
mod demo_app;
mod experience_mfa;
mod interaction_cookie;
mod jit;
mod logs;
mod mail;
mod management_auth;
mod observability;
mod oidc_wire;
mod one_time_tokens;
mod openapi;
mod organizations;
mod pages;
mod pages_account;
mod pages_magic_link;
mod pages_mfa;
mod pages_passkey;
mod passkey_sign_in;
mod passwordless;
mod process;
mod resources;
mod roles;
mod sign_in_experience;
mod sign_up;
mod signin;
mod startup_errors;
mod statement_count;
mod tenancy;
mod token;
mod two_nodes;
mod user_identities;
mod user_mfa;
mod user_sessions;
mod users;
mod vault;
mod webauthn;
mod wire;
