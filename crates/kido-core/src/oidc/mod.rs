//! The OIDC / OAuth 2.0 engine, one module per concern, each reached from `Core` by its own
//! accessor: `authorization` (authorize.rs: the authorization endpoint, its interactions and
//! sessions), `client_credentials` (token.rs), `user_grants` (grants.rs), `issued_tokens`
//! (userinfo, introspection, revocation), `logout`, `management_auth`, `user_sessions` (a user's
//! sessions and grants listed and revoked from outside the browser); below them keys, JWTs,
//! the client cache, client authentication, sessions, claims and organization tokens.

pub mod authorize;
pub mod claims;
mod client_auth;
pub mod clients;
pub mod cookie_key;
pub mod grants;
pub mod issued_tokens;
pub mod jwt;
pub mod keys;
pub mod logout;
pub mod management_auth;
pub mod organizations;
pub mod params;
mod sessions;
mod token;
mod token_error;
pub mod user_sessions;

pub use client_auth::ClientAuth;
pub use management_auth::ManagementAuthError;
pub use token::{ClientCredentials, ClientCredentialsRequest, IssuedToken};
pub use token_error::TokenError;
