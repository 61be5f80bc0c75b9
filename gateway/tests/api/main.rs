//! The gateway's integration tests: real processes and sockets on loopback, one test binary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod client;
mod helpers;
mod system;
mod upstream;

mod audit;
mod auth;
mod cli;
mod direct;
mod docs;
mod e2e;
mod edge;
mod failures;
mod faults;
mod health;
mod identity;
mod live_push;
mod ratelimit;
mod routing;
mod streaming;
mod tls;
mod traces;
mod websocket;
