//! Kido's HTTP tier: axum routers, extractors, the error mapping, the OpenAPI document,
//! configuration and server start-up. Handlers extract, validate, call `kido-core` and map
//! the answer; they never write SQL.

pub mod backup;
mod body_limit;
pub mod config;
mod cookies;
pub mod data_dir;
pub mod errors;
mod events;
pub mod extract;
mod interaction_cookie;
mod interaction_guard;
pub mod logging;
mod memory;
mod metrics;
pub mod openapi;
mod openapi_v30;
mod pages;
pub mod pagination;
mod request_id;
mod routes;
mod search;
mod serve;
pub mod server;
pub mod state;
mod strict_json;
mod unknown_keys;
pub mod vault;

pub use config::Config;
pub use server::{RunningServer, start};
