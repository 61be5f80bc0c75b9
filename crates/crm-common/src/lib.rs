//! The contract every BANTU CRM service shares.
//!
//! Only code that two or more services use lives here, and nothing domain-specific: the response
//! envelope and error type, authentication, configuration, caching, telemetry and the common HTTP
//! middleware. Heavy parts sit behind features so that each binary links only what it uses.

pub mod api;
pub mod auth;
pub mod cache;
pub mod config;
pub mod contracts;
pub mod http;
pub mod net;
#[cfg(feature = "test-collector")]
pub mod otlp_collector;
pub mod pii;
pub mod shard;
pub mod stats;
pub mod telemetry;

#[cfg(feature = "db")]
pub mod db;

#[cfg(all(feature = "db", feature = "cache"))]
pub mod service;

#[cfg(feature = "logstore")]
pub mod logstore;

#[cfg(feature = "testing")]
pub mod testing;

pub use api::{ApiError, ApiResult};
