//! The Account API (`/api/my-account`), the Verification API (`/api/verifications`) and the
//! account center settings that gate them: a signed-in user reads and changes their own
//! account with an opaque access token (`openid`), sensitive changes proven by a verification
//! record named in `logto-verification-id`.
//!
//! `service` the `Account` service, `error` its error enum, `caller` who a request speaks
//! for (token → user, grant, scopes; the record that proves identity), `center` the
//! settings and their per-field rules, `records` verification records, `profile` the
//! profile/password/identifier changes, `factors` the second factors, `sessions` the user's
//! sessions and grants, `identities` social identities and their tokens, `pages` what the
//! account pages do in one form post.

pub mod caller;
pub mod center;
pub mod error;
pub mod factors;
pub mod identities;
pub mod pages;
pub mod profile;
pub mod record_kind;
pub mod records;
pub mod service;
pub mod sessions;

pub use caller::AccountCaller;
pub use error::AccountError;
pub use service::Account;
