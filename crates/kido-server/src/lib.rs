//! Kido's HTTP tier: axum routers, extractors, the error mapping, the OpenAPI document,
//! configuration and server start-up. Handlers extract, validate, call `kido-core` and map
//! the answer; they never write SQL.

mod body_limit;
pub mod config;
mod cookies;
pub mod data_dir;
pub mod errors;
pub mod extract;
mod interaction_guard;
mod memory;
pub mod openapi;
mod pages;
pub mod pagination;
mod request_id;
mod routes;
mod search;
mod serve;
pub mod server;
pub mod state;
mod strict_json;

pub use config::Config;
pub use server::{RunningServer, start};
