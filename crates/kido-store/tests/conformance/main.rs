//! kido-store's conformance suite: each repository module's contract (insert/find/update/
//! delete/list, which `StoreError` a uniqueness or reference violation is, tenant isolation,
//! cascades, the conditional updates that make counters and single-use rows race-free),
//! tested against the store itself. Every test runs on a fresh SQLite file, or on a fresh
//! PostgreSQL database when `KIDO_TEST_POSTGRES_URL` is set (as the server's tests do).

// The whole crate is test code: failing loudly is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod harness;

mod applications;
mod bench;
mod changes;
mod connectors;
mod logs;
mod mfa_verifications;
mod migrations;
mod oidc;
mod one_time_tokens;
mod organization_invitations;
mod organization_jit;
mod organization_template;
mod organizations;
mod rate_limits;
mod resources;
mod roles;
mod settings;
mod sign_in_experiences;
mod signing_keys;
mod sso_connectors;
mod statements;
mod tenants;
mod user_sessions;
mod users;
mod verification_codes;
